"""The built-in ONNX frontend converters, one module per op family; importing each registers it.

``interlayer.registry.converters("onnx", "frontend")`` imports this module on first use.
"""
from . import (activation, algebra, conv, linear, normalization, pool, recurrent, reshaping, slicing,  # noqa: F401
               spatial, tensor)

FAMILIES = (activation, algebra, conv, linear, normalization, pool, recurrent, reshaping, slicing, spatial, tensor)
from . import math  # noqa: E402,F401  (element-wise math)
from . import compare, index  # noqa: E402,F401  (comparisons and logic; indexing, scans, ranges)
FAMILIES += (math, compare, index)
