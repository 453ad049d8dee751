"""Every IR op, declared once. Importing this package declares them all (explicitly, family by family)."""
from . import activation, algebra, layers, merge, normalization, pool, spatial, tensor  # noqa: F401  (each declares its ops)
from . import recurrent  # noqa: F401  (recurrent layers)
from . import attention  # noqa: F401  (transformer ops)
from . import math  # noqa: F401  (element-wise math)
from . import compare, index  # noqa: F401  (comparisons and logic; sizes, integers and indexing)
from .schema import OPS, REQUIRED, Attr, OpSchema, Weight, get

__all__ = ["OPS", "REQUIRED", "Attr", "OpSchema", "Weight", "get"]
