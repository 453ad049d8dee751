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
        from .backends.torch.build import built

        if graph is None or built(model) or graph.source.get("framework") != "torch":
            return torch_predict(model, list(inputs))
        return torch_predict(model, list(inputs), names=[spec.name for spec in graph.inputs])
    if framework == "onnx":
        from .backends.onnx import predict as onnx_predict

        return onnx_predict(model, list(inputs), graph)
    return _keras_predict(model, list(inputs), graph)


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
