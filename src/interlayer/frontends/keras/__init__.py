"""The Keras 3 frontend: a Sequential or functional ``keras.Model`` -> IR graph.

Importing this package imports keras; ``import interlayer`` alone does not.
"""
from .capture import capture
from .context import Held, LayerContext, prefers

__all__ = ["Held", "LayerContext", "capture", "prefers"]
