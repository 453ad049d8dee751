"""Run a graph with numpy alone. Float tensors are computed in float64 and returned in the declared dtype."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import ValidationError
from ..ir import ops
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


def run(graph: Graph, inputs: Any, *, keep_all: bool = False) -> dict[str, np.ndarray]:
    """Execute ``graph`` on ``inputs`` (a dict by input name, a sequence in input order, or one array).

    Returns the graph outputs by name, in order; with ``keep_all``, every intermediate value too.
    """
    load_kernels()

    validate(graph)
    values = _bind_inputs(graph, inputs)
    symbols = _symbols(graph, values)
    for node in graph.nodes:
        schema = ops.get(node.op)
        attrs = _resolve(schema, schema.fill(node.attrs), symbols)
        weights = {name: np.asarray(array, dtype=np.float64) for name, array in node.weights.items()}
        try:
            result = KERNELS[node.op](attrs, weights, *(values[v] for v in node.inputs))
        except KeyError:
            raise ValidationError(f"reference: op '{node.op}' of node '{node.name}' has no kernel.") from None
        if len(node.outputs) == 1:
            values[node.outputs[0]] = result
        else:
            values.update(zip(node.outputs, result))
    dtypes = {spec.name: spec.dtype for spec in graph.outputs}
    chosen = values if keep_all else {spec.name: values[spec.name] for spec in graph.outputs}
    return {name: _cast(array, dtypes.get(name, "float32")) for name, array in chosen.items()}


def _bind_inputs(graph: Graph, inputs: Any) -> dict[str, np.ndarray]:
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
        bound[spec.name] = array.astype(np.float64) if array.dtype.kind == "f" else array
    return bound


def _symbols(graph: Graph, values: dict[str, np.ndarray]) -> dict[str, int]:
    """The size each symbolic dimension of the inputs has in this run."""
    return {d: values[spec.name].shape[axis] for spec in graph.inputs for axis, d in enumerate(spec.shape)
            if isinstance(d, str)}


def _resolve(schema: ops.OpSchema, attrs: dict[str, Any], symbols: dict[str, int]) -> dict[str, Any]:
    """``dims`` attributes with their symbolic sizes replaced by this run's sizes."""
    for attr in schema.attrs:
        if attr.kind == "dims" and any(isinstance(d, str) for d in attrs[attr.name]):
            attrs = {**attrs, attr.name: [symbols[d] if isinstance(d, str) else d for d in attrs[attr.name]]}
    return attrs


def _cast(array: np.ndarray, dtype: str) -> np.ndarray:
    if array.dtype.kind != "f":
        return array
    if dtype == "bfloat16":
        import ml_dtypes

        return array.astype(ml_dtypes.bfloat16)
    return array.astype(dtype)
