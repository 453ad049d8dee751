"""The PyTorch frontend: ``capture(model, example_inputs) -> Graph``."""
from .capture import capture

__all__ = ["capture"]
