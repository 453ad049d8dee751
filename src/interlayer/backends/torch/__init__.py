"""The PyTorch backend: ``build(graph) -> torch.fx.GraphModule``, ``predict(model, inputs)``, and
``write_package(model, folder)`` (readable model.py + model.safetensors)."""
from .build import build, predict
from .package import write_package

__all__ = ["build", "predict", "write_package"]
