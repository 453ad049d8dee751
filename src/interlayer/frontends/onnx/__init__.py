"""The ONNX frontend: ``capture(model, example_inputs=None) -> Graph`` for an ``onnx.ModelProto``."""
from .capture import capture

__all__ = ["capture"]
