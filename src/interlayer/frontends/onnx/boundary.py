"""The graph's boundary: its initializers and inputs become constants and IR inputs, its outputs IR outputs.

Axis 0 of a graph input is the batch, ``"N"``, where the file leaves it symbolic, or fixes the same size on
every input (a model-zoo file's batch of 1); where the inputs fix different sizes there, axis 0 keeps the file's
size (a matrix beside a batch of rows). Other sizes are the file's (its symbolic names kept, made identifiers;
an unnamed one is ``<input>_<axis>``), or those of ``example_inputs``. An initializer also listed among the graph
inputs (older exporters list them all) is a constant. The range of each size and the guards the sizes keep are
read from the metadata interlayer's ONNX backend writes. An output that is a graph input, or that another output
already is, gets an ``identity`` node.
"""
from __future__ import annotations

import json
import re

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ...errors import InterlayerError, SourceError
from ...ir import dims, json_types
from ...ir.graph import BATCH
from .context import Capture, NodeContext
from .values import Const, Failed, Held

CONTEXT = "onnx frontend"


def declare_inputs(state: Capture, graph: onnx.GraphProto, example_shapes: list | None) -> None:
    """Initializers (dense or sparse) as constants; the other graph inputs as IR inputs, batch first."""
    for initializer in graph.initializer:
        state.values[initializer.name] = Const(numpy_helper.to_array(initializer), initializer.name)
    for sparse in graph.sparse_initializer:
        state.values[sparse.values.name] = Const(_dense(sparse), sparse.values.name)
    real = [value for value in graph.input if value.name not in state.values]
    if example_shapes is not None and len(example_shapes) != len(real):
        raise SourceError(f"{CONTEXT}: example_inputs gives {len(example_shapes)} shape(s). Expected one per graph "
                          f"input ({len(real)}: {[v.name for v in real]}).")
    batched = _batched(real)
    for position, value in enumerate(real):
        tensor = value.type.tensor_type
        if not value.type.HasField("tensor_type") or not tensor.HasField("shape") or not tensor.shape.dim:
            state.builder.unsupported(f"graph input '{value.name}'", "the IR needs a tensor input of known rank "
                                      "whose axis 0 is the batch. Expected a tensor of rank >= 1. Received: a "
                                      "scalar or an input of unknown shape. Give the input a shape in the file")
            state.values[value.name] = Failed(value.name)
            continue
        shape: list = []
        for axis, dim in enumerate(tensor.shape.dim):
            if axis == 0 and value.name in batched:
                shape.append(BATCH)
            elif example_shapes is not None:
                shape.append(int(example_shapes[position][axis]))
            elif dim.HasField("dim_value"):
                shape.append(int(dim.dim_value))
            else:
                shape.append(_size_name(dim.dim_param or f"{value.name}_{axis}"))
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type)).name
        state.values[value.name] = state.declare(_clean(value.name), tuple(shape), dtype)


def declare_sizes(state: Capture, model: onnx.ModelProto) -> None:
    """The range of each size and the guards the sizes keep, from the metadata interlayer's ONNX backend writes
    (``interlayer.sizes``, ``interlayer.guards``, JSON), for the sizes the graph inputs bind here."""
    props = {entry.key: entry.value for entry in model.metadata_props}
    found = {}
    for key, field in (("interlayer.sizes", "sizes"), ("interlayer.guards", "guards")):
        if key in props:
            try:
                found[field] = json.loads(props[key])
            except ValueError as exc:
                raise SourceError(f"{CONTEXT}: the metadata '{key}' is not JSON. Expected what interlayer's ONNX "
                                  f"backend writes. Received: {props[key][:80]!r}. Remove the entry") from exc
    wrong = json_types.problems(found, {field: json_types.GRAPH[field] for field in found}, "model metadata")
    if wrong:
        raise SourceError(f"{CONTEXT}: {wrong[0]}. Remove the entry or write it as interlayer's ONNX backend does.")
    bound = {d for spec in state.builder.inputs for d in spec.shape if dims.is_name(d)}
    state.builder.sizes.update({name: dict(limits) for name, limits in found.get("sizes", {}).items()
                                if name in bound})
    state.builder.guards.extend(guard for guard in found.get("guards", []) if _reads_only(guard, bound))


def _reads_only(guard: str, bound: set[str]) -> bool:
    try:
        return dims.relation_names(dims.relation(guard)) <= bound
    except InterlayerError:
        return False


def declare_outputs(state: Capture, graph: onnx.GraphProto) -> None:
    """Each graph output as an IR output, written batch-first (a view still pending is materialized here)."""
    inputs = {spec.name for spec in state.builder.inputs}
    used: set[str] = set()
    for output in graph.output:
        value = state.values.get(output.name)
        where = f"graph output '{output.name}'"
        if isinstance(value, Failed) or value is None:
            continue
        if not isinstance(value, Held):
            state.builder.unsupported(where, "it is a constant: it does not depend on the model's inputs, and the IR "
                                      "has no node that outputs a constant. Expected an output computed from the "
                                      "inputs. Remove the output from the model")
            continue
        ctx = NodeContext(state, onnx.NodeProto(), _clean(output.name))
        ctx.where = where
        ir_value = ctx.materialize(value, role=None)
        if ir_value is None:
            continue
        if ir_value in inputs or ir_value in used:
            ir_value = ctx.add("identity", [ir_value])
        used.add(ir_value)
        state.builder.output(ir_value, state.dtypes.get(output.name, value.dtype))


def _batched(inputs: list) -> set[str]:
    """The graph inputs whose axis 0 is the batch: those the file leaves symbolic there, and every one when all
    fix the same size there (a file made for one batch size: 1 in model-zoo files). Where the files fix
    different sizes, an input's axis 0 is not a batch (a matrix beside a batch of rows) and keeps its size."""
    sizes = {value.name: (dims[0].dim_value if dims[0].HasField("dim_value") else None)
             for value in inputs if (dims := value.type.tensor_type.shape.dim)}
    static = {size for size in sizes.values() if size is not None}
    if len(static) == 1 and None not in sizes.values():
        return set(sizes)
    return {name for name, size in sizes.items() if size is None}


def fixed_batch(graph: onnx.GraphProto) -> int | None:
    """The batch size the file gives every graph input (1 in model-zoo files); None when any is symbolic."""
    initializers = {i.name for i in graph.initializer}
    sizes = set()
    for value in graph.input:
        dims = value.type.tensor_type.shape.dim
        if value.name in initializers or not dims:
            continue
        sizes.add(dims[0].dim_value if dims[0].HasField("dim_value") else None)
    return sizes.pop() if len(sizes) == 1 else None


def dtypes(inferred: onnx.ModelProto) -> dict[str, str]:
    """ONNX value name -> numpy dtype name, for every value shape inference typed."""
    found = {}
    graph = inferred.graph
    for value in list(graph.value_info) + list(graph.input) + list(graph.output):
        elem = value.type.tensor_type.elem_type
        if elem:
            found[value.name] = np.dtype(helper.tensor_dtype_to_np_dtype(elem)).name
    return found


def example_shapes(example_inputs) -> list | None:
    """The shapes ``example_inputs`` gives: one array or shape, or a sequence of them."""
    if example_inputs is None:
        return None
    items = [example_inputs] if isinstance(example_inputs, np.ndarray) or _is_shape(example_inputs) \
        else list(example_inputs)
    return [tuple(item.shape) if hasattr(item, "shape") else tuple(item) for item in items]


def _is_shape(value) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(d, int) for d in value)


def _dense(sparse) -> np.ndarray:
    values = numpy_helper.to_array(sparse.values)
    indices = numpy_helper.to_array(sparse.indices)
    dense = np.zeros(int(np.prod(sparse.dims)), values.dtype)
    flat = indices if indices.ndim == 1 else np.ravel_multi_index(indices.T, tuple(sparse.dims))
    dense[flat] = values
    return dense.reshape(tuple(sparse.dims))


def _size_name(text: str) -> str:
    """A file's symbolic size as an IR size name (an identifier): other characters become '_'."""
    name = re.sub(r"\W", "_", text.strip())
    name = name if name and not name[0].isdigit() else f"_{name}"
    return f"{name}_" if name in ("max", "min") else name  # not the size expressions' functions


def _clean(name: str) -> str:
    return name.strip().lstrip("/").replace(":", "_") or "value"
