"""The built-in Keras frontend converters, one module per layer family; importing each registers it.

``interlayer.registry.converters("keras", "frontend")`` imports this module on first use.
"""
from . import activation, conv, core, custom, merge, normalization, pool, reshaping  # noqa: F401

FAMILIES = (activation, conv, core, custom, merge, normalization, pool, reshaping)
