"""The built-in torch backend converters, one module per op family, each registering its own."""
from . import activations, algebra, layers, merge, normalization, pool, spatial, tensor  # noqa: F401  (each module registers its converters)
from . import recurrent  # noqa: F401  (recurrent layers)
from . import attention  # noqa: F401  (transformer ops)
from . import math  # noqa: F401  (element-wise math)
from . import compare, index  # noqa: F401  (comparisons and logic; sizes, integers and indexing)
