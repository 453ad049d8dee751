"""The Python API: export, build, convert, save, load, run."""
from __future__ import annotations

import os
import sys
from typing import Any

from .errors import InterlayerError, SourceError
from .ir import archive
from .ir.graph import Graph
from .reference import run as _run

TARGETS = ("torch", "keras", "onnx")


def framework_of(model: Any) -> str:
    """'torch', 'keras' or 'onnx' for a live model (an ``onnx.ModelProto`` for ONNX), without importing a framework
    the caller has not imported."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return "torch"
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, keras.Model):
        return "keras"
    onnx = sys.modules.get("onnx")
    if onnx is not None and isinstance(model, onnx.ModelProto):
        return "onnx"
    raise SourceError(f"export: not a model interlayer can read. Expected a torch.nn.Module, a keras.Model, an "
                      f"onnx.ModelProto, an "
                      f"interlayer Graph or a file path. Received: {type(model).__module__}.{type(model).__name__}.")


def export(model: Any, example_inputs: Any = None, **options: Any) -> Graph:
    """Capture ``model`` (a live PyTorch or Keras model, a Graph, or a file path) as an IR graph.

    ``example_inputs`` are needed for PyTorch models (a tensor, a tuple of tensors, or input shapes).
    """
    if isinstance(model, Graph):
        return model
    if isinstance(model, (str, os.PathLike)):
        from .sources import open_source

        return open_source(model, example_inputs=example_inputs, **options)
    framework = framework_of(model)
    if framework == "torch":
        from .frontends.torch import capture
    elif framework == "onnx":
        from .frontends.onnx import capture
    else:
        from .frontends.keras import capture
    return capture(model, example_inputs=example_inputs, **options)


def build(graph: Graph | str | os.PathLike, target: str, **options: Any) -> Any:
    """Build ``graph`` as a native model of ``target`` with its weights assigned: a ``torch.fx.GraphModule``
    ('torch'), a ``keras.Model`` ('keras') or an ``onnx.ModelProto`` ('onnx').

    ``graph`` may be an archive's path: its checksum is then verified while the model is built (not before), and
    a damaged archive raises before the model is returned."""
    if isinstance(graph, (str, os.PathLike)):
        loaded, confirm = archive.load_checking(graph)
        model = build(loaded, target, **options)
        confirm()
        return model
    if target == "torch":
        from .backends.torch import build as build_torch

        return build_torch(graph, **options)
    if target == "keras":
        from .backends.keras import build as build_keras

        return build_keras(graph, **options)
    if target == "onnx":
        from .backends.onnx import build as build_onnx

        return build_onnx(graph, **options)
    raise InterlayerError(f"build: unknown target. Expected one of {TARGETS}. Received: target={target!r}.")


def convert(model: Any, to: str, example_inputs: Any = None, **options: Any) -> Any:
    """``build(export(model, example_inputs), to)``."""
    return build(export(model, example_inputs), to, **options)


def save(graph: Graph, path: str | os.PathLike, *, overwrite: bool = False):
    """Write ``graph`` as one ``.safetensors`` archive, atomically; an existing file is kept unless ``overwrite``."""
    return archive.save(graph, path, overwrite=overwrite)


def load(path: str | os.PathLike) -> Graph:
    """Read an archive, verifying its format version and checksum."""
    return archive.load(path)


def run(graph: Graph, inputs: Any, **options: Any):
    """Execute ``graph`` with the numpy reference interpreter; returns the outputs by name."""
    return _run(graph, inputs, **options)
