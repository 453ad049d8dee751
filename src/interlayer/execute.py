"""Run any model interlayer knows (Graph, PyTorch module, Keras model, ONNX model) on canonical inputs, and compare."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .ir.graph import Graph
from .ir.layout import invert


def predict(model: Any, inputs: Sequence[np.ndarray], graph: Graph | None = None) -> list[np.ndarray]:
    """Outputs of ``model`` on canonical (channels-first) ``inputs``, as canonical float arrays.

    A Keras model built by interlayer knows its own layouts; for a Keras *source* model pass the ``graph``
    exported from it, whose input and output ``perm`` say how the model holds each tensor.
    """
    if isinstance(model, Graph):
        from .reference import run

        return list(run(model, list(inputs)).values())
    from .api import framework_of

    framework = framework_of(model)
    if framework == "torch":
        from .backends.torch import predict as torch_predict

        perms = source_perms(model, graph)
        if perms is None:
            return torch_predict(model, list(inputs))
        held = [x if perm is None else np.transpose(x, perm) for x, perm in zip(inputs, perms[0])]
        outputs = torch_predict(model, held)
        return [y if perm is None else np.transpose(y, invert(perm)) for y, perm in zip(outputs, perms[1])]
    if framework == "onnx":
        from .backends.onnx import predict as onnx_predict

        return onnx_predict(model, list(inputs), graph)
    return _keras_predict(model, list(inputs), graph)


def source_perms(model: Any, graph: Graph | None) -> tuple[list, list] | None:
    """How a PyTorch module holds its inputs and outputs, when not as the IR does: as the ``perm`` of the graph
    exported from it says (a time-major sequence, a recurrent state). None for a module interlayer built."""
    from .backends.torch.build import built

    if graph is None or built(model) or graph.source.get("framework") != "torch":
        return None
    if all(spec.perm is None for spec in (*graph.inputs, *graph.outputs)):
        return None
    return [spec.perm for spec in graph.inputs], [spec.perm for spec in graph.outputs]


def _keras_predict(model: Any, inputs: list[np.ndarray], graph: Graph | None) -> list[np.ndarray]:
    from .backends.keras import run_native
    from .errors import InterlayerError

    perms = getattr(model, "_interlayer_perms", None)
    if perms is None:
        if graph is None:
            raise InterlayerError("predict: a Keras model that interlayer did not build needs the graph exported "
                                  "from it (graph=...), which records how the model holds its inputs and outputs.")
        perms = {"inputs": [spec.perm for spec in graph.inputs], "outputs": [spec.perm for spec in graph.outputs]}
    held = [x if perm is None else x.transpose(perm) for x, perm in zip(inputs, perms["inputs"])]
    outputs = run_native(model, held)
    return [y if perm is None else y.transpose(invert(perm)) for y, perm in zip(outputs, perms["outputs"])]
