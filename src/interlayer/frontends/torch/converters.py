"""The built-in torch frontend converters, one module per layer family, each registering its own."""
from . import activations, algebra, layers, merge, normalization, pool, spatial, tensor  # noqa: F401  (each module registers its converters)
from . import recurrent  # noqa: F401  (recurrent layers)
from . import attention  # noqa: F401  (transformer pieces)
from . import math  # noqa: F401  (element-wise math)
