"""The built-in Keras backend converters, one module per op family; importing each registers it.

``interlayer.registry.converters("keras", "backend")`` imports this module on first use.
"""
from . import activation, algebra, conv, core, merge, normalization, pool, spatial, tensor  # noqa: F401
from . import attention  # noqa: F401  (transformer ops)

FAMILIES = (activation, algebra, conv, core, merge, normalization, pool, spatial, tensor)
from . import recurrent  # noqa: E402,F401  (recurrent layers)
FAMILIES += (recurrent,)
FAMILIES += (attention,)
from . import math  # noqa: E402,F401  (element-wise math)
FAMILIES += (math,)
from . import compare, index  # noqa: E402,F401  (comparisons and logic; tensors made from sizes, indexing)
FAMILIES += (compare, index)
