"""Every IR op, declared once. Importing this package declares them all (explicitly, family by family)."""
from . import activation, layers, pool, tensor  # noqa: F401  (each module declares its ops)
from .schema import OPS, REQUIRED, Attr, OpSchema, Weight, get

__all__ = ["OPS", "REQUIRED", "Attr", "OpSchema", "Weight", "get"]
