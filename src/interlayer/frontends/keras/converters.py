"""The built-in Keras frontend converters, one module per layer family; importing each registers it.

``interlayer.registry.converters("keras", "frontend")`` imports this module on first use.
"""
from . import (activation, applications, conv, core, custom, merge, normalization, operations, pool,  # noqa: F401
               preprocessing, reshaping)

FAMILIES = (activation, applications, conv, core, custom, merge, normalization, operations, pool, preprocessing,
            reshaping)
from . import recurrent  # noqa: E402,F401  (recurrent layers)
FAMILIES += (recurrent,)
from . import attention  # noqa: E402,F401  (attention layers)
FAMILIES += (attention,)
from . import math  # noqa: E402,F401  (element-wise math of keras.ops)
FAMILIES += (math,)
from . import compare, index, sizes  # noqa: E402,F401  (comparisons and logic; indexing; sizes computed at run time)
FAMILIES += (compare, index, sizes)
