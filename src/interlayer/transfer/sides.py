"""What a transfer reads from and writes to: sources of every kind, a live destination, their graphs."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ir.graph import Graph
from .report import TransferError


@dataclass
class Source:
    label: str
    model: Any = None
    """a live model (torch, Keras, ONNX), when the source is one"""
    graph: Graph | None = None
    state: dict | None = None
    """a PyTorch state dict, when the source is weights only"""
    framework: str | None = None
    ordered: bool = True
    """whether the state dict keeps its model's registration order (a .safetensors file does not)"""


def open_source(source: Any) -> Source:
    """A model, a Graph, a state dict, or a path: an archive, a model file, a factory, a file of weights only."""
    from ..api import framework_of

    if isinstance(source, Graph):
        return Source(f"IR graph '{source.name}'", graph=source, framework=source.source.get("framework"))
    if isinstance(source, dict):
        return Source(f"state dict ({len(source)} tensors)", state=_state(source, "the state dict"))
    if isinstance(source, (str, os.PathLike)):
        return _open_path(source)
    framework = framework_of(source)
    name = getattr(source, "name", None) if framework == "keras" else type(source).__name__
    if framework == "onnx":
        name = source.graph.name
    return Source(f"{framework} model '{name}'", model=source, framework=framework)


def _open_path(spec: str | os.PathLike) -> Source:
    from ..api import framework_of
    from ..sources import TORCH_WEIGHT_SUFFIXES, _torch_state_dict, is_factory, load_model

    if is_factory(spec):
        model = load_model(spec)
        return Source(f"{framework_of(model)} model '{spec}'", model=model, framework=framework_of(model))
    path = Path(spec)
    if not path.is_file():
        raise TransferError(f"transfer: source '{spec}' is not a file. Expected a model file, an interlayer archive, "
                            f"a file of weights or a factory package.module:function. Received: {str(spec)!r}.")
    if path.name.lower().endswith(".weights.h5"):
        raise TransferError(
            f"transfer: source '{spec}' holds Keras weights without their architecture. Expected a model. Received: "
            f"a .weights.h5 file. Pass the architecture with the weights: transfer_file('model.keras' or "
            f"'package.module:factory', destination, output, weights='{spec}').")
    if path.suffix.lower() == ".safetensors":
        if _is_archive(path):
            from ..ir import archive

            graph = archive.load(path)
            return Source(f"archive '{spec}'", graph=graph, framework=graph.source.get("framework"))
        return Source(f"state dict '{spec}'", state=_state(_torch_state_dict(path), f"'{spec}'"), ordered=False)
    if path.suffix.lower() in TORCH_WEIGHT_SUFFIXES:
        return Source(f"state dict '{spec}'", state=_state(_torch_state_dict(path), f"'{spec}'"))
    model = load_model(path)
    return Source(f"{framework_of(model)} model '{spec}'", model=model, framework=framework_of(model))


def _is_archive(path: Path) -> bool:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except Exception as exc:
        raise TransferError(f"transfer: source '{path}' is not a readable safetensors file ({exc}).") from exc
    return metadata.get("format") == "interlayer"


def _state(state: dict, where: str) -> dict:
    """A state dict as torch tensors, in its order."""
    import numpy as np
    import torch

    bad = [key for key, value in state.items()
           if not isinstance(key, str) or not isinstance(value, (torch.Tensor, np.ndarray))]
    if bad:
        raise TransferError(f"transfer: {where} is not a state dict. Expected parameter name -> tensor or array. "
                            f"Received: {bad[:5]} with other keys or values.")
    return {key: value if isinstance(value, torch.Tensor) else torch.from_numpy(np.asarray(value))
            for key, value in state.items()}


def destination_framework(destination: Any) -> str:
    from ..api import framework_of

    try:
        framework = framework_of(destination)
    except Exception as exc:
        raise TransferError(f"transfer: the destination is not a live model. Expected a torch.nn.Module or a "
                            f"keras.Model. Received: {type(destination).__name__}.") from exc
    if framework not in ("torch", "keras"):
        raise TransferError(f"transfer: the destination must be a PyTorch or Keras model. Expected a "
                            f"torch.nn.Module or a keras.Model. Received: framework={framework!r}.")
    return framework


def graphs(source: Source, destination: Any, framework: str, example_inputs: Any) -> tuple[Graph, Graph, Any]:
    """The source's and the destination's graphs, and the example inputs the destination was traced with.

    A PyTorch model is traced on ``example_inputs``, or else on seeded inputs shaped from the other model's graph
    (its canonical shapes, batch 2), so that a Keras NHWC input becomes the NCHW input PyTorch reads.
    """
    from ..api import export
    from ..conversion import random_inputs

    source_traced = source.framework == "torch" and source.model is not None
    if source_traced and framework == "torch" and example_inputs is None:
        raise TransferError("transfer: both models are PyTorch modules, and neither says what it takes. Expected "
                            "example_inputs= (a tensor, a tuple of tensors or input shapes). Received: "
                            "example_inputs=None. Pass them, e.g. transfer(a, b, example_inputs=(1, 3, 32, 32)).")
    source_graph = source.graph if source.graph is not None or source_traced else export(source.model)
    destination_graph, destination_example = None, None
    if framework == "keras":
        destination_graph = export(destination)
    if source_traced:
        example = example_inputs if example_inputs is not None else random_inputs(destination_graph)
        source_graph = export(source.model, example_inputs=example)
    if framework == "torch":
        destination_example = example_inputs if example_inputs is not None else random_inputs(source_graph)
        destination_graph = export(destination, example_inputs=destination_example)
    return source_graph, destination_graph, destination_example


def predict_source(source: Source, graph: Graph, inputs: list) -> list:
    from ..execute import predict

    return predict(source.model if source.model is not None else graph, inputs, graph)
