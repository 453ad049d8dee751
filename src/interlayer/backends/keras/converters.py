"""The built-in Keras backend converters, one module per op family; importing each registers it.

``interlayer.registry.converters("keras", "backend")`` imports this module on first use.
"""
from . import activation, conv, core, merge, normalization, pool, tensor  # noqa: F401

FAMILIES = (activation, conv, core, merge, normalization, pool, tensor)
