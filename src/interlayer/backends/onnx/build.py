"""IR -> ONNX: an ``onnx.ModelProto`` (opset 17 by default) that onnxruntime runs like the reference interpreter.

The IR is channels-first like ONNX, so graph inputs and outputs keep their canonical shapes and dtypes; each size
name (the batch ``N``, a sequence length ``T``) is a ``dim_param``, so the model runs with any sizes: a size
expression in an attribute (``N*T``, ``(H - 1)//2 + 1``) is computed in the graph from the shape of the input that
binds its names (``sizes.py``); the range of each size and the guards the sizes keep are the model's metadata
(``interlayer.sizes``, ``interlayer.guards``).
Initializers are the IR weights, named ``<node>.<weight>`` when used as is and ``<node>.<purpose>`` when
reorganised (a transposed matrix, recurrent gates in ONNX's order); nodes and values are named after the IR's.

Every node is converted first; ops without a converter and nodes that cannot be expressed exactly are all
collected and raised as one :class:`UnsupportedLayerError`, and no model is returned. The model is checked by
``onnx.checker.check_model(full_check=True)``; a model above protobuf's 2 GB limit cannot be checked in memory and
is checked by :func:`write_model` in its path form instead.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnx
from onnx import helper

from ... import __version__
from ...errors import InterlayerError, UnsupportedLayerError
from ...ir.check import bound_names, validate
from ...ir.graph import Graph, TensorSpec
from ...ir.provenance import shared_nodes
from ...registry import converters
from . import files
from .context import Emitter, Step, add_initializers, numpy_dtype, onnx_type
from .files import write_model

CONTEXT = "onnx backend"
DEFAULT_OPSET = 17
OPSETS = range(17, 22)
"""The ai.onnx opsets a model may be built for: 17 (LayerNormalization) to 21 (GroupNormalization per channel)."""

__all__ = ["DEFAULT_OPSET", "OPSETS", "build", "predict", "write_model"]


def build(graph: Graph, opset: int = DEFAULT_OPSET, check: bool = True, **options: Any) -> onnx.ModelProto:
    """An ``onnx.ModelProto`` computing ``graph`` on canonical (channels-first) inputs.

    ``opset`` is the ai.onnx opset (17 to 21); newer opsets use the native Gelu (20), Mish (18) and
    GroupNormalization (21) instead of exact decompositions. ``check`` runs ``onnx.checker.check_model`` with
    ``full_check`` on the result (in memory up to 2 GB; above, :func:`write_model` checks the written file).
    """
    if options:
        raise InterlayerError(f"{CONTEXT}: unknown option(s). Expected opset, check. Received: {sorted(options)}.")
    if opset not in OPSETS:
        raise InterlayerError(f"{CONTEXT}: unsupported opset. Expected one of {list(OPSETS)}. Received: "
                              f"opset={opset!r}. Pass opset=17 (the default) or a newer one in that range.")
    validate(graph)
    reserved = {spec.name for spec in graph.inputs} | {value for node in graph.nodes for value in node.outputs}
    readers: dict[str, list[str]] = {}
    for node in graph.nodes:
        for value in node.inputs:
            readers.setdefault(value, []).append(node.op)
    emitter = Emitter(opset, graph.shapes(), shared_nodes(graph), reserved, readers)
    inputs = [_declare_input(emitter, spec) for spec in graph.inputs]
    emitter.bound = {name: (graph.inputs[index].name, axis) for name, (index, axis) in bound_names(graph).items()}
    emitter.declared = {spec.name: numpy_dtype(spec.dtype) for spec in graph.outputs}
    table = converters("onnx", "backend")
    for node in graph.nodes:
        step = Step(emitter, node)
        converter = table.get(node.op)
        if converter is None:
            results = step.unsupported(f"op '{node.op}' has no onnx backend converter. Expected one of "
                                       f"{sorted(table)}. Received: op={node.op!r}")
        else:
            results = converter(step, node)
        if results is None:  # recorded as a problem: stand-in values let the later nodes be checked too
            for value in node.outputs:
                emitter.values[value], emitter.dtypes[value] = value, step.dtype
            continue
        step.finish([results] if isinstance(results, str) else list(results))
    if emitter.problems:
        raise UnsupportedLayerError(CONTEXT, emitter.problems)
    outputs = [_value_info(spec.name, emitter.dtypes[spec.name], spec.shape) for spec in graph.outputs]
    body = helper.make_graph(emitter.nodes, graph.name or "model", inputs, outputs)
    model = helper.make_model(body, opset_imports=[helper.make_opsetid("", opset)], producer_name="interlayer",
                              producer_version=__version__,
                              ir_version=helper.find_min_ir_version_for([helper.make_opsetid("", opset)]))
    add_initializers(model.graph, emitter.initializers)  # after make_model, which copies the graph it is given
    helper.set_model_props(model, _properties(graph))
    if check and files.serialized_size(model) <= files.PROTOBUF_LIMIT:
        onnx.checker.check_model(model, full_check=True)
    return model


def _properties(graph: Graph) -> dict[str, str]:
    """The model's metadata: the source framework, and the range of each size and the guards the sizes keep
    (JSON), which the ONNX frontend reads back: a model that accepts only some sizes says which."""
    found = {}
    if graph.source.get("framework"):
        found["interlayer.source.framework"] = str(graph.source["framework"])
    if graph.sizes:
        found["interlayer.sizes"] = json.dumps(graph.sizes, sort_keys=True)
    if graph.guards:
        found["interlayer.guards"] = json.dumps(list(graph.guards))
    return found


def _declare_input(emitter: Emitter, spec: TensorSpec) -> onnx.ValueInfoProto:
    dtype = numpy_dtype(spec.dtype)
    emitter.values[spec.name], emitter.dtypes[spec.name] = spec.name, dtype
    return _value_info(spec.name, dtype, spec.shape)


def _value_info(name: str, dtype: np.dtype, shape: Sequence[Any]) -> onnx.ValueInfoProto:
    """A tensor's type: ints as dim_values, names as dim_params, "?" (a size the IR does not know) left open."""
    dims = [None if size == "?" else size for size in shape]
    return helper.make_tensor_value_info(name, onnx_type(dtype), dims)


def predict(model: onnx.ModelProto, inputs: Sequence[np.ndarray], graph: Graph | None = None) -> list[np.ndarray]:
    """Run ``model`` with onnxruntime (CPU) on canonical ``inputs`` in graph-input order; the outputs in
    graph-output order. ``graph`` is not needed: an ONNX model built by interlayer holds the IR's layout.

    A model above protobuf's 2 GB limit is written with external data to a temporary folder and run from there.
    """
    import onnxruntime

    arrays = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    declared = list(model.graph.input)
    if len(arrays) != len(declared):
        raise InterlayerError(f"{CONTEXT}, predict: the model takes {len(declared)} input(s). Received: "
                              f"{len(arrays)}. Pass one array per graph input, in order.")
    feeds = {}
    for spec, array in zip(declared, arrays):
        dtype = helper.tensor_dtype_to_np_dtype(spec.type.tensor_type.elem_type)
        feeds[spec.name] = np.ascontiguousarray(np.asarray(array).astype(dtype, copy=False))
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if files.serialized_size(model) <= files.PROTOBUF_LIMIT:
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=providers)
        return list(session.run(None, feeds))
    with tempfile.TemporaryDirectory() as folder:
        path = write_model(model, Path(folder) / "model.onnx", external_threshold=0)
        session = onnxruntime.InferenceSession(str(path), options, providers=providers)
        return list(session.run(None, feeds))
