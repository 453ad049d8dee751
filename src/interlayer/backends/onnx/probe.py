"""Intermediate values of an ONNX model, for layer-by-layer verification (``interlayer.verify``).

Every IR value that the ONNX graph computes under the same name (a model built by interlayer names them so;
an imported one where the frontend kept the ONNX names) becomes an extra graph output of a copy of the model,
run once with onnxruntime. ONNX tensors are in the IR's layout.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import onnx
from onnx import helper

from ...ir.graph import Graph
from .build import predict


def activations(model: onnx.ModelProto, inputs: Sequence[np.ndarray], graph: Graph) -> dict[str, np.ndarray]:
    computed = {name for node in model.graph.node for name in node.output}
    present = [output.name for output in model.graph.output]
    wanted = [value for node in graph.nodes for value in node.outputs if value in computed and value not in present]
    types = _element_types(model)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for value in wanted:
        probe.graph.output.append(helper.make_tensor_value_info(value, types.get(value, onnx.TensorProto.FLOAT), None))
    results = predict(probe, inputs)
    return dict(zip(present + wanted, results))


def _element_types(model: onnx.ModelProto) -> dict[str, int]:
    """The element type of every value shape inference can tell."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # a model above the protobuf limit, or one inference cannot follow: FLOAT is assumed
        return {}
    infos = list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input)
    return {info.name: info.type.tensor_type.elem_type for info in infos if info.type.tensor_type.elem_type}
