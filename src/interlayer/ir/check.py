"""Validation in one place: structure, attributes, weights and shapes. Every problem is reported at once."""
from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from . import dims, limits, ops
from .graph import DTYPES, Graph, Shape


def problems(graph: Graph) -> list[str]:
    """Every rule the graph breaks, as ``node 'name' (op): message`` lines."""
    found: list[str] = []
    defined = {spec.name for spec in graph.inputs}
    names: set[str] = set()
    for node in graph.nodes:
        where = f"node '{node.name}' ({node.op})"
        if node.name in names:
            found.append(f"{where}: the node name is used twice")
        names.add(node.name)
        for value in node.outputs:
            if value in defined:
                found.append(f"{where}: value '{value}' is produced twice")
            defined.add(value)
        if node.op not in ops.OPS:
            found.append(f"{where}: unknown op. Expected one of {sorted(ops.OPS)}")
            continue
        found += [f"{where}: {message}" for message in _node_problems(node)]
    found += _structure_problems(graph, defined)
    found += _spec_problems(graph)
    if not found:
        found += _symbol_problems(graph)
    if not found:
        try:
            _check_sizes(infer_shapes(graph))
        except ValidationError as exc:
            found.append(str(exc))
    return found


def _spec_problems(graph: Graph) -> list[str]:
    """Graph inputs and outputs: sizes, dtype names, and the perm as a permutation of the axes."""
    found = []
    for kind, specs in (("input", graph.inputs), ("output", graph.outputs)):
        for spec in specs:
            where = f"graph {kind} '{spec.name}'"
            if not all(isinstance(d, str) or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
                       for d in spec.shape):
                found.append(f"{where}: shape takes sizes >= 0 and symbol names. Received: shape={list(spec.shape)}")
            if spec.dtype not in DTYPES:
                found.append(f"{where}: unknown dtype. Expected one of {list(DTYPES)}. Received: dtype={spec.dtype!r}")
            if spec.perm is not None and not _permutes(spec.perm, spec.shape):
                found.append(f"{where}: perm must permute the axes of its shape. Expected a permutation of "
                             f"{len(spec.shape) or 'its'} axes. Received: perm={list(spec.perm)}, "
                             f"shape={list(spec.shape)}")
    return found


def bound_names(graph: Graph) -> dict[str, tuple[int, int]]:
    """Each size name a graph input binds: its first (input index, axis) whose size is exactly that name."""
    found: dict[str, tuple[int, int]] = {}
    for index, spec in enumerate(graph.inputs):
        for axis, dim in enumerate(spec.shape):
            if dims.is_name(dim):
                found.setdefault(dim, (index, axis))
    return found


def _symbol_problems(graph: Graph) -> list[str]:
    """Every size name a graph uses (in its inputs' shapes, in size attributes) is bound by a graph input, so that
    each backend can compute it from what the model is given."""
    bound, found = bound_names(graph), []
    for spec in graph.inputs:
        for dim in spec.shape:
            try:
                missing = dims.names(dims.normal(dim)) - set(bound)
            except ValidationError as exc:
                found.append(f"graph input '{spec.name}': {exc}")
                continue
            if missing:
                found.append(f"graph input '{spec.name}': size '{dim}' reads {sorted(missing)}, which no input binds. "
                             f"Expected every name in an expression to be the size of some input axis")
    for name, limits in graph.sizes.items():
        if name not in bound:
            found.append(f"size range of '{name}': no graph input binds that size. Expected names of input sizes "
                         f"{sorted(bound)}")
        elif limits.get("max") is not None and limits.get("min", 0) > limits["max"]:
            found.append(f"size range of '{name}': min > max. Received: {limits}")
    for guard in graph.guards:
        try:
            missing = dims.relation_names(dims.relation(guard)) - set(bound)
        except ValidationError as exc:
            found.append(str(exc))
            continue
        if missing:
            found.append(f"guard '{guard}' reads {sorted(missing)}, which no graph input binds")
    for node in graph.nodes:
        schema = ops.get(node.op)
        for attr in schema.attrs:
            if attr.kind not in ("dim", "dims"):
                continue
            value = schema.fill(node.attrs)[attr.name]
            missing = set().union(*(dims.names(d) for d in (value if attr.kind == "dims" else [value]))) - set(bound)
            if missing:
                found.append(f"node '{node.name}' ({node.op}): attribute '{attr.name}' reads the size(s) "
                             f"{sorted(missing)}, which no graph input binds. Expected names of input sizes "
                             f"{sorted(bound)}. Received: {attr.name}={value}")
    return found


def _permutes(perm, shape) -> bool:
    """``perm`` is a permutation of the axes of ``shape`` (of its own length while the shape is not yet known,
    as an output's before its shape is inferred)."""
    rank = len(shape) or len(perm)
    return all(isinstance(a, int) and not isinstance(a, bool) for a in perm) and sorted(perm) == list(range(rank))


def _check_sizes(shapes: dict[str, Shape]) -> None:
    """Every value fits the tensor size limit on one sample (each symbolic size counted as 1)."""
    for value, shape in shapes.items():
        limits.check_tensor(f"value '{value}' (one sample: each symbolic size counted as 1)", shape)


def validate(graph: Graph) -> Graph:
    """Raise one :class:`ValidationError` naming every problem (on one line when there is one); return the graph
    when it is valid."""
    found = problems(graph)
    if len(found) == 1:
        raise ValidationError(f"IR graph '{graph.name}': {found[0].rstrip('.')}.")
    if found:
        raise ValidationError(f"IR graph '{graph.name}': {len(found)} problem(s):\n" + "\n".join(f"  - {p}" for p in found))
    return graph


def _node_problems(node) -> list[str]:
    schema = ops.get(node.op)
    try:
        attrs = schema.fill(node.attrs)
    except ValidationError as exc:
        return [str(exc)]
    found = schema.problems(attrs)
    if found:  # the output count and the weights' shapes below are read from the attributes
        return found
    low, high = schema.inputs
    if len(node.inputs) < low or (high is not None and len(node.inputs) > high):
        found.append(f"takes {low} to {high or 'any number of'} inputs. Received: {len(node.inputs)}")
    if len(node.outputs) != schema.output_count(attrs):
        found.append(f"has {schema.output_count(attrs)} output(s). Received: {len(node.outputs)} output names")
    if found:
        return found
    declared = {w.name: w for w in schema.weights}
    for name in sorted(set(node.weights) - set(declared)):
        found.append(f"unknown weight '{name}'. Expected one of {sorted(declared)}")
    for weight in schema.weights:
        array = node.weights.get(weight.name)
        if not weight.present(attrs):
            if array is not None:
                found.append(f"weight '{weight.name}' is present but {weight.present_if}=False")
            continue
        if array is None:
            found.append(f"weight '{weight.name}' {weight.layout} is missing")
            continue
        expected = tuple(weight.shape(attrs))
        if not isinstance(array, np.ndarray):
            found.append(f"weight '{weight.name}' must be a numpy array. Received: {type(array).__name__}")
        elif tuple(array.shape) != expected:
            found.append(f"weight '{weight.name}' must have shape {expected} {weight.layout}. "
                         f"Received: shape={tuple(array.shape)}")
        else:
            found += _weight_dtype_problems(weight, attrs, array)
    return found


def _weight_dtype_problems(weight, attrs: dict, array: np.ndarray) -> list[str]:
    """A layer's weights are floating point; a constant's may be of any dtype a graph value has, and the one its
    ``dtype`` attribute names when the weight says so (``Weight.dtypes``)."""
    name = "bfloat16" if array.dtype.name == "bfloat16" else array.dtype.name
    if weight.dtypes == "float":
        if array.dtype.kind not in "fV" and name != "bfloat16":
            return [f"weight '{weight.name}' must be floating point. Received: dtype={array.dtype}"]
        return []
    if name not in DTYPES:
        return [f"weight '{weight.name}' has a dtype no graph value has. Expected one of {list(DTYPES)}. "
                f"Received: dtype={array.dtype}"]
    if weight.dtypes.startswith("match:") and name != attrs[weight.dtypes[len("match:"):]]:
        attr = weight.dtypes[len("match:"):]
        return [f"weight '{weight.name}' must have the dtype attribute '{attr}' names. Expected dtype={attrs[attr]}. "
                f"Received: dtype={name}"]
    return []


def _structure_problems(graph: Graph, defined: set[str]) -> list[str]:
    found = []
    for node in graph.nodes:
        for value in node.inputs:
            if value not in defined:
                found.append(f"node '{node.name}' ({node.op}): input '{value}' is not defined by any node or graph input")
    for spec in graph.outputs:
        if spec.name not in defined:
            found.append(f"graph output '{spec.name}' is not defined by any node or graph input")
    if found:
        return found
    cycle = _cycle(graph)
    if cycle:
        return [f"the graph has a cycle through {cycle}"]
    position: dict[str, int] = {spec.name: -1 for spec in graph.inputs}
    for index, node in enumerate(graph.nodes):
        for value in node.inputs:
            if position.get(value, -1) >= index:
                found.append(f"node '{node.name}': input '{value}' is produced later; nodes must be in topological order")
        position.update({value: index for value in node.outputs})
    return found


def _cycle(graph: Graph) -> list[str]:
    """The node names of one cycle of the data flow, in order; empty when the graph has none."""
    producers = {value: node.name for node in graph.nodes for value in node.outputs}
    reads = {node.name: [producers[v] for v in node.inputs if v in producers] for node in graph.nodes}
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in reads:
        if start in state:
            continue
        path, stack = [start], [iter(reads[start])]
        state[start] = 1
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(following) == 1:
                return path[path.index(following):]
            elif following not in state:
                state[following] = 1
                path.append(following)
                stack.append(iter(reads[following]))
    return []


def infer_dtypes(graph: Graph) -> dict[str, str]:
    """Every value's dtype, from the graph inputs' through each op's schema (``OpSchema.output_dtypes``)."""
    types: dict[str, str] = {spec.name: spec.dtype for spec in graph.inputs}
    for node in graph.nodes:
        schema = ops.get(node.op)
        attrs = schema.fill(node.attrs)
        weights = {name: "bfloat16" if array.dtype.name == "bfloat16" else array.dtype.name
                   for name, array in node.weights.items()}
        types.update(zip(node.outputs, schema.output_dtypes(attrs, [types[value] for value in node.inputs], weights)))
    return types


def infer_shapes(graph: Graph) -> dict[str, Shape]:
    """Every value's shape, computed node by node from the graph inputs through each op's schema."""
    shapes: dict[str, Shape] = {spec.name: tuple(spec.shape) for spec in graph.inputs}
    for node in graph.nodes:
        schema = ops.get(node.op)
        attrs = schema.fill(node.attrs)
        try:
            outputs = schema.infer(attrs, [shapes[value] for value in node.inputs])
        except ValidationError as exc:
            raise ValidationError(f"node '{node.name}' ({node.op}): {exc}") from exc
        except KeyError as exc:
            raise ValidationError(f"node '{node.name}' ({node.op}): input {exc} is not defined") from exc
        outputs = [tuple(shape) for shape in outputs]
        _check_inferred(node, outputs)
        shapes.update(zip(node.outputs, outputs))
    return shapes


def _check_inferred(node, outputs: list[tuple]) -> None:
    """An op's sizes come out >= 0: a negative one (a window larger than its padded input, a crop past the
    size) is the graph's error, not a shape to run."""
    for shape in outputs:
        if any(isinstance(d, int) and d < 0 for d in shape):
            raise ValidationError(f"node '{node.name}' ({node.op}): its output would have a negative size. Expected "
                                  f"sizes >= 0. Received: shape={list(shape)}; check its attributes against its "
                                  f"input's shape")
