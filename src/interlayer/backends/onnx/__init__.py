"""The ONNX backend: ``build(graph) -> onnx.ModelProto``, ``predict(model, inputs)`` with onnxruntime, and
``write_model(model, path)`` (one ``.onnx`` file, external data beside it above protobuf's 2 GB limit)."""
from .build import build, predict, write_model

__all__ = ["build", "predict", "write_model"]
