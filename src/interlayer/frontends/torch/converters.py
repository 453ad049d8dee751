"""The built-in torch frontend converters, one module per family of ATen operators, each registering its own."""
from . import activations, arithmetic, attention, compare, index, layers, normalization  # noqa: F401
from . import recurrent, reduce, shape, spatial  # noqa: F401  (each module registers its converters)
