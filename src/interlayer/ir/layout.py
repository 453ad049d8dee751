"""Layout arithmetic shared by frontends and backends: permutations, kernel layouts, 'same' padding, flatten order.

A permutation ``perm`` relates two views of one tensor: ``held = numpy.transpose(canonical, perm)``.
"""
from __future__ import annotations

import copy
import math

import numpy as np

from .graph import Graph


def identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def channels_last(rank: int) -> tuple[int, ...]:
    """The perm that turns (N, C, *spatial) into (N, *spatial, C)."""
    return (0, *range(2, rank), 1)


def channels_first(rank: int) -> tuple[int, ...]:
    """The perm that turns (N, *spatial, C) into (N, C, *spatial)."""
    return (0, rank - 1, *range(1, rank - 1))


def compose(first, then) -> tuple[int, ...]:
    """The single perm equal to transposing by ``first`` and then by ``then``."""
    return tuple(first[i] for i in then)


def invert(perm) -> tuple[int, ...]:
    inverse = [0] * len(perm)
    for position, axis in enumerate(perm):
        inverse[axis] = position
    return tuple(inverse)


def kernel_to_channels_last(weight: np.ndarray) -> np.ndarray:
    """(out, in, *k) -> (*k, in, out): OIHW -> HWIO, as Keras stores Conv kernels."""
    rank = weight.ndim
    return np.ascontiguousarray(weight.transpose(*range(2, rank), 1, 0))


def kernel_to_channels_first(weight: np.ndarray) -> np.ndarray:
    """(*k, in, out) -> (out, in, *k): HWIO -> OIHW, as a view (the graph builder copies it into row-major order)."""
    rank = weight.ndim
    return weight.transpose(rank - 1, rank - 2, *range(rank - 2))


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow/Keras 'same' padding for one axis as (begin, end): the odd pixel goes at the end."""
    effective = (kernel - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def same_pads_all(spatial, kernel, strides, dilations=None) -> list[int]:
    """'same' pads for every spatial axis in IR order (all begins, then all ends)."""
    dilations = dilations or [1] * len(kernel)
    pairs = [same_pads(s, k, st, d) for s, k, st, d in zip(spatial, kernel, strides, dilations)]
    return [p[0] for p in pairs] + [p[1] for p in pairs]


def flatten_index(shape, order: str) -> np.ndarray:
    """For (C, *spatial), the canonical flat index of each element of a flatten in ``order``.

    ``flat_in_order = flat_channels_first[flatten_index(shape, order)]``.
    """
    index = np.arange(math.prod(shape)).reshape(shape)
    if order == "channels_last":
        index = index.transpose(*range(1, len(shape)), 0)
    return index.reshape(-1)


def refold_flatten(graph: Graph, order: str) -> Graph:
    """A copy of ``graph`` where each flatten whose only consumers are linear layers reads in ``order``.

    A flatten of a (N, C, 1, ..., 1) tensor reads in ``order`` whatever consumes it: the orders agree there.
    Otherwise the linear weights' columns are permuted to match, so the result computes exactly the same function: a
    Keras target gets a plain Flatten before Dense instead of a transpose, and PyTorch gets a plain nn.Flatten.
    Nodes that change are copied; the input graph is left as it was.
    """
    shapes = graph.shapes()
    consumers = graph.consumers()
    replaced: dict[str, object] = {}
    for node in graph.nodes:
        if node.op != "flatten" or node.attrs.get("order", "channels_first") == order:
            continue
        readers = consumers.get(node.outputs[0], [])
        feature_shape = shapes[node.inputs[0]][1:]
        if len(feature_shape) >= 2 and all(d == 1 for d in feature_shape[1:]):
            # (C, 1, 1): every order reads the same elements, whoever reads the result
            replaced[node.name] = copy.copy(node)
            replaced[node.name].attrs = {**node.attrs, "order": order}
            continue
        outputs = {spec.name for spec in graph.outputs}
        if not readers or node.outputs[0] in outputs or len(feature_shape) < 2:
            continue
        if any(reader.op != "linear" for reader in readers):
            continue
        old = flatten_index(feature_shape, node.attrs.get("order", "channels_first"))
        new = flatten_index(feature_shape, order)
        # column j of the new weight must read the element the old weight read at the same canonical index
        columns = np.argsort(old)[new]
        flat = copy.copy(node)
        flat.attrs = {**node.attrs, "order": order}
        replaced[node.name] = flat
        for reader in readers:
            dense = copy.copy(reader)
            dense.weights = {**reader.weights, "weight": np.ascontiguousarray(reader.weights["weight"][:, columns])}
            replaced[reader.name] = dense
    if not replaced:
        return graph
    result = copy.copy(graph)
    result.nodes = [replaced.get(node.name, node) for node in graph.nodes]
    return result
