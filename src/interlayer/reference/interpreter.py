"""Run a graph with numpy alone. Float tensors are computed in float64 (or, to measure what float32 delivers for a
graph, in float32: ``interlayer.tolerance``) and returned in the declared dtype."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import ExecutionError, InterlayerError, ValidationError
from ..ir import dims, limits, ops
from ..ir.check import validate
from ..ir.graph import Graph

Kernel = Callable[..., np.ndarray]
KERNELS: dict[str, Kernel] = {}


def kernel(op: str) -> Callable[[Kernel], Kernel]:
    """Register the numpy function of an op: ``fn(attrs, weights, *inputs) -> output`` (a tuple of outputs for
    an op with several)."""

    def register(fn: Kernel) -> Kernel:
        if op in KERNELS:
            raise ValidationError(f"reference: op '{op}' has two kernels.")
        KERNELS[op] = fn
        return fn

    return register


def load_kernels() -> None:
    """Register every kernel: one module per op family, imported explicitly."""
    from . import algebra, kernels, merge, normalization, spatial  # noqa: F401
    from . import recurrent  # noqa: F401
    from . import attention  # noqa: F401
    from . import math  # noqa: F401
    from . import compare, index  # noqa: F401


def run(graph: Graph, inputs: Any, *, keep_all: bool = False, compute: str = "float64",
        declared: bool = True) -> dict[str, np.ndarray]:
    """Execute ``graph`` on ``inputs`` (a dict by input name, a sequence in input order, or one array).

    Returns the graph outputs by name, in order; with ``keep_all``, every intermediate value too. Floats are
    computed in ``compute`` ("float64", or "float32": weights, inputs and every node's float results rounded to
    float32, the kernels' arithmetic in float32 where numpy keeps it there) and returned in the graph's declared
    dtypes, or as computed when ``declared`` is False.
    """
    precision = _precision(compute)
    load_kernels()

    validate(graph)
    values = _bind_inputs(graph, inputs, precision)
    symbols = _symbols(graph, values)
    steps = _plan(graph, symbols, {name: array.shape for name, array in values.items()}, np.dtype(precision).itemsize)
    for node, function, attrs in steps:
        weights = {name: _computed(array, precision) for name, array in node.weights.items()}
        result = _call(node, function, attrs, weights, [values[v] for v in node.inputs])
        result = _rounded(result, precision) if precision is np.float32 else result
        if len(node.outputs) == 1:
            values[node.outputs[0]] = result
        else:
            values.update(zip(node.outputs, result))
    dtypes = {spec.name: spec.dtype for spec in graph.outputs}
    chosen = values if keep_all else {spec.name: values[spec.name] for spec in graph.outputs}
    if not declared:
        return dict(chosen)
    return {name: _cast(array, dtypes.get(name, "float32")) for name, array in chosen.items()}


def _computed(array: np.ndarray, precision: type) -> np.ndarray:
    """A weight as the kernels read it: floats in the compute precision, integers and bools as they are."""
    kind = np.asarray(array).dtype.kind
    return np.asarray(array, dtype=precision) if kind in "fV" else np.asarray(array)


def _precision(compute: str) -> type:
    if compute not in ("float64", "float32"):
        raise ValidationError(f"reference: compute must be 'float64' or 'float32'. Received: compute={compute!r}.")
    return np.float64 if compute == "float64" else np.float32


def _rounded(result, precision: type):
    """A kernel's float results in the compute precision (a float32 run rounds every node's values)."""
    if isinstance(result, tuple):
        return tuple(_rounded(item, precision) for item in result)
    array = np.asarray(result)
    return array.astype(precision, copy=False) if array.dtype.kind == "f" else array


def _bind_inputs(graph: Graph, inputs: Any, precision: type = np.float64) -> dict[str, np.ndarray]:
    if isinstance(inputs, Mapping):
        missing = [spec.name for spec in graph.inputs if spec.name not in inputs]
        if missing:
            raise ValidationError(f"reference: missing input(s) {missing}. Received: {sorted(inputs)}.")
        arrays = [inputs[spec.name] for spec in graph.inputs]
    elif isinstance(inputs, Sequence) and not isinstance(inputs, np.ndarray):
        arrays = list(inputs)
    else:
        arrays = [inputs]
    if len(arrays) != len(graph.inputs):
        raise ValidationError(f"reference: the graph takes {len(graph.inputs)} input(s). Received: {len(arrays)}.")
    bound = {}
    for spec, array in zip(graph.inputs, arrays):
        array = np.asarray(array)
        static = [(i, d) for i, d in enumerate(spec.shape) if not isinstance(d, str)]
        if array.ndim != len(spec.shape) or any(array.shape[i] != d for i, d in static):
            raise ValidationError(f"reference: input '{spec.name}' must have shape {list(spec.shape)}. "
                                  f"Received: shape={list(array.shape)}.")
        bound[spec.name] = array.astype(precision) if array.dtype.kind == "f" else array
    return bound


def _symbols(graph: Graph, values: dict[str, np.ndarray]) -> dict[str, int]:
    """The size each name the inputs bind has in this run; an input size that is an expression of them must
    come out as the array's size."""
    symbols = {d: values[spec.name].shape[axis] for spec in graph.inputs for axis, d in enumerate(spec.shape)
               if dims.is_name(d)}
    for spec in graph.inputs:
        for axis, d in enumerate(spec.shape):
            if isinstance(d, str) and not dims.is_name(d) and dims.evaluate(d, symbols) != values[spec.name].shape[axis]:
                raise ValidationError(f"reference: input '{spec.name}' must have size {d} on axis {axis}, "
                                      f"{dims.evaluate(d, symbols)} in this run. Received: "
                                      f"shape={list(values[spec.name].shape)}.")
    check_sizes(graph, symbols, "reference")
    return symbols


def check_sizes(graph: Graph, symbols: dict[str, int], where: str) -> None:
    """The input sizes of a run are in their ranges and keep the graph's guards; else one error naming them."""
    found = []
    for name, limits in graph.sizes.items():
        size, low, high = symbols.get(name), limits.get("min"), limits.get("max")
        if size is not None and ((low is not None and size < low) or (high is not None and size > high)):
            found.append(f"{name}={size} is outside [{low}, {'inf' if high is None else high}]")
    for guard in graph.guards:
        if not dims.holds(guard, symbols):
            values = ", ".join(f"{name}={symbols[name]}" for name in sorted(dims.relation_names(guard)))
            found.append(f"'{guard}' does not hold for {values}")
    if found:
        raise ValidationError(f"{where}: the inputs' sizes are not ones the model accepts: {'; '.join(found)}. "
                              f"Expected sizes in the graph's ranges and guards (graph.sizes, graph.guards), which "
                              f"the source model requires.")


def _plan(graph: Graph, symbols: dict[str, int], shapes: dict[str, tuple], itemsize: int) -> list[tuple]:
    """``(node, kernel, attributes)`` for each node of this run, in order. Before anything runs, every node's
    kernel is looked up and the size of each of its outputs and large temporaries (its op's ``scratch``) is
    computed from this run's shapes and checked against the tensor size limit (``ir/limits.py``)."""
    steps = []
    for node in graph.nodes:
        where = f"reference: node '{node.name}' ({node.op})"
        function = KERNELS.get(node.op)
        if function is None:
            raise ValidationError(f"{where}: the op has no kernel. Expected one registered with @kernel('{node.op}') "
                                  f"in interlayer.reference.")
        schema = ops.get(node.op)
        attrs = _resolve(schema, schema.fill(node.attrs), symbols, where)
        received = [shapes[value] for value in node.inputs]
        try:
            outputs = [tuple(shape) for shape in schema.infer(attrs, received)]
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc}") from exc
        temporaries = schema.scratch(attrs, received, outputs) if schema.scratch is not None else []
        for shape in outputs + temporaries:
            limits.check_tensor(where, shape, itemsize)
        shapes.update(zip(node.outputs, outputs))
        steps.append((node, function, attrs))
    return steps


def _call(node, function: Kernel, attrs: dict[str, Any], weights: dict[str, np.ndarray], inputs: list) -> Any:
    """The kernel's result; an error of the kernel's own becomes an :class:`ExecutionError` naming the node."""
    try:
        return function(attrs, weights, *inputs)
    except InterlayerError:
        raise
    except Exception as exc:  # a kernel is numpy code: whatever it raises, the node is what the user can act on
        lines = str(exc).strip().splitlines()
        raise ExecutionError(f"reference: node '{node.name}' ({node.op}) failed: {type(exc).__name__}: "
                             f"{lines[0][:300] if lines else ''}. Expected its inputs "
                             f"{[list(np.shape(x)) for x in inputs]} to suit its attributes; check the graph.") from exc


def _resolve(schema: ops.OpSchema, attrs: dict[str, Any], symbols: dict[str, int], where: str) -> dict[str, Any]:
    """Size attributes (``dim``, ``dims``) with their expressions computed for this run's sizes."""
    for attr in schema.attrs:
        if attr.kind not in ("dim", "dims"):
            continue
        value = attrs[attr.name]
        try:
            if attr.kind == "dim":
                resolved = dims.evaluate(dims.normal(value), symbols)
            else:
                resolved = [dims.evaluate(dims.normal(d), symbols) for d in value]
        except ValidationError as exc:
            raise ValidationError(f"{where}: '{attr.name}' names a size no input gives. Expected sizes of the graph "
                                  f"inputs, {sorted(symbols)}. Received: {attr.name}={value}. {exc}") from exc
        attrs = {**attrs, attr.name: resolved}
    return attrs


def _cast(array: np.ndarray, dtype: str) -> np.ndarray:
    if array.dtype.kind != "f":
        return array
    if dtype == "bfloat16":
        import ml_dtypes

        return array.astype(ml_dtypes.bfloat16)
    return array.astype(dtype)
