"""One column order for every linear layer that reads a flattened feature map.

The IR records the order a flatten reads (``channels_first`` for PyTorch, ``channels_last`` for Keras) and keeps
the linear weight's columns in that order, so the same trained layer has differently ordered columns in the two
frameworks. Before pairing, every such weight is read as if its flatten were ``channels_first``; when writing,
the columns go back to the destination's own order. Unlike ``layout.refold_flatten``, the flatten may reach its
linear layers through layers that leave values in place (dropout, identity), as a Keras ``Flatten -> Dropout ->
Dense`` does. A flatten of a transposed map (``x.permute(0, 2, 3, 1).flatten(1)``, as PyTorch ports of Keras
models flatten) reads in the order the transpose makes, and is read so.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..ir import layout
from ..ir.graph import Graph, Node

PASSING = frozenset({"dropout", "identity"})


@dataclass(frozen=True)
class Columns:
    """For one linear node: ``canonical = weight[:, to_canonical]`` and ``weight = canonical[:, to_native]``."""

    to_canonical: np.ndarray
    to_native: np.ndarray


def canonical_columns(graph: Graph) -> tuple[Graph, dict[str, Columns]]:
    """A copy of ``graph`` whose linear weights read channels-first flattens, and the permutation of each changed
    linear node. Nodes that do not change are shared with ``graph``."""
    shapes = graph.shapes()
    consumers = graph.consumers()
    producers = {value: node for node in graph.nodes for value in node.outputs}
    outputs = {spec.name for spec in graph.outputs}
    found: dict[str, Columns] = {}
    for node in graph.nodes:
        native = _flatten_order(node, shapes, producers) if node.op == "flatten" else None
        if native is None or np.array_equal(native, np.arange(native.size)):
            continue
        readers = _linear_readers(node.outputs[0], consumers, outputs)
        for reader in readers or []:
            found[reader.name] = Columns(np.argsort(native), native)
    if not found:
        return graph, found
    result = copy.copy(graph)
    result.nodes = [_permuted(node, found[node.name].to_canonical) if node.name in found else node
                    for node in graph.nodes]
    return result, found


def _flatten_order(node: Node, shapes: dict, producers: dict[str, Node]) -> np.ndarray | None:
    """For each feature a flatten yields, its index in a channels-first flatten of the map: from the order the
    flatten records (Keras's channels-last), or from a transpose of the map just before it (a PyTorch port of a
    Keras model that permutes to channels-last, then flattens). None when the map's sizes are not numbers."""
    order = node.attrs.get("order", "channels_first")
    before = producers.get(node.inputs[0])
    perm = before.attrs.get("perm") if before is not None and before.op == "transpose" else None
    if perm is not None and order == "channels_first" and perm[0] == 0 and len(perm) >= 3:
        feature = shapes[before.inputs[0]][1:]
        if all(isinstance(d, int) for d in feature):
            index = np.arange(int(np.prod(feature))).reshape(feature)
            return index.transpose([axis - 1 for axis in perm[1:]]).reshape(-1)
    feature = shapes[node.inputs[0]][1:]
    if len(feature) < 2 or any(isinstance(d, str) for d in feature):
        return None
    return layout.flatten_index(feature, order)


def _linear_readers(value: str, consumers: dict[str, list[Node]], outputs: set[str]) -> list[Node] | None:
    """The linear nodes reading ``value`` through passing layers; None when anything else reads it."""
    if value in outputs:
        return None
    readers: list[Node] = []
    for node in consumers.get(value, []):
        if node.op == "linear":
            readers.append(node)
        elif node.op in PASSING:
            further = _linear_readers(node.outputs[0], consumers, outputs)
            if further is None:
                return None
            readers += further
        else:
            return None
    return readers or None


def _permuted(node: Node, columns: np.ndarray) -> Node:
    changed = copy.copy(node)
    changed.weights = {**node.weights, "weight": np.ascontiguousarray(node.weights["weight"][:, columns])}
    return changed
