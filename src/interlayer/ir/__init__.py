"""The framework-neutral intermediate representation."""
from .graph import BATCH, FORMAT_VERSION, Graph, Node, TensorSpec

__all__ = ["BATCH", "FORMAT_VERSION", "Graph", "Node", "TensorSpec"]
