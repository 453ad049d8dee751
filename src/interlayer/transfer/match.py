"""Pair the layers of two IR graphs by structure: which source node's weights go into which destination node.

Only *parameter nodes* take part (``parameter_nodes``): layers with weights, and arithmetic constants that are
trained or tensors; scalar literals (``x * 0.5``) are structure, not weights. Each
graph is reduced to a DAG over its parameter nodes, its inputs and its outputs: an edge u -> v when a path of
parameter-free nodes leads from u to v, labelled with the order-sensitive multi-input ops the paths enter and the
slot they enter by (``concat`` slot 0 or 1), and with the output index of a node whose several outputs are
read (the parts of a ``split``), so branches that a concat keeps apart stay apart, while whatever
the frameworks do differently between layers (fused activations, transposes, flatten or reshape) is ignored.

The pairing is an isomorphism of the two reduced DAGs (networkx ``DiGraphMatcher``), tried at decreasing
strictness; names and construction order never enter:

1. nodes equal in op and in every weight's name and shape, edges equal in labels;
2. the same without edge labels (the models merge branches by different ops).
   Among the isomorphisms found (at most ``CAP``), those whose paired nodes agree in the most attributes win;
   a node that the winners pair differently is ambiguous, and named in the error unless hints pin it.
3. nodes equal in op and weight names: the layers correspond but some shapes differ, and every such pair is
   named with both sides' shapes;
4. an alignment of the parameter nodes in graph order by op (longest common subsequence): nodes left without a
   partner and pairs whose shapes differ are named. An alignment without such problems is accepted, noted in
   the report, and left to the verification to judge.

Hints (``{"source node or parameter": "destination node or parameter"}``) pin pairs in every step.
"""
from __future__ import annotations

import itertools
import json
import warnings
from dataclasses import dataclass, field

import networkx as nx
from networkx.algorithms.isomorphism import DiGraphMatcher

from ..ir.graph import Graph, Node
from .hints import resolve_hints

CAP = 64
"""isomorphisms examined at most; more than one that differ already means ambiguity"""
COMMUTATIVE = frozenset({"add", "mul", "maximum", "minimum"})
CONSTANTS = frozenset({"add", "sub", "mul", "div", "pow", "matmul", "batch_constant"})
"""ops whose weight may be a constant the frontend made up rather than a parameter"""
NO_EFFECT = frozenset({"momentum", "dropout", "trainable", "padding_idx", "constant_shape"})
"""attributes that do not change what a trained layer computes at inference (``constant_shape`` differs only by
leading 1s once the weight shapes match)"""


@dataclass
class Matching:
    pairs: dict[str, str] = field(default_factory=dict)
    """source node -> destination node"""
    method: str = "structure"
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parameter_nodes(graph: Graph) -> list[Node]:
    """Nodes whose weights belong to the model: every layer with weights, and the constants of arithmetic and
    batch constants that are trained (``trainable``) or tensors rather than scalars (a position embedding
    table a frontend sliced). Scalar literals (``x * 0.5``) are structure: one framework may hold them as
    variables and the other not. Such nodes are counted the same way on both sides, whatever the name_map says."""
    return [node for node in graph.nodes if node.weights and (
        node.op not in CONSTANTS or node.attrs.get("trainable") or any(a.size > 1 for a in node.weights.values()))]


def broadcast_shape(node: Node, array) -> tuple[int, ...]:
    """A weight's shape for matching: a constant's leading 1s dropped, as broadcasting ignores them
    (PyTorch's (1, 16, 32) position table and Keras's (16, 32) are one constant)."""
    shape = tuple(array.shape)
    if node.op in CONSTANTS:
        while shape and shape[0] == 1:
            shape = shape[1:]
    return shape


def describe(node: Node, op: bool = True) -> str:
    """``conv: bias (8,), weight (8, 3, 3, 3)``"""
    shapes = ", ".join(f"{w} {tuple(a.shape)}" for w, a in sorted(node.weights.items()))
    return f"{node.op}: {shapes}" if op else shapes


def match_graphs(source: Graph, destination: Graph, hints: dict[str, str] | None = None) -> Matching:
    """Pair every parameter node of ``source`` with one of ``destination``; problems instead where it cannot."""
    counts = [(len(g.inputs), len(g.outputs)) for g in (source, destination)]
    if counts[0] != counts[1]:
        return Matching(problems=[
            f"transfer: the models take or return different numbers of tensors. Expected the same inputs and "
            f"outputs. Received: source (inputs, outputs)={counts[0]}, destination (inputs, outputs)={counts[1]}."])
    nodes = parameter_nodes(source), parameter_nodes(destination)
    holders = {node.name for node in nodes[0]}, {node.name for node in nodes[1]}
    pins, problems = resolve_hints(hints or {}, source, destination, holders)
    if problems:
        return Matching(method="hints", problems=problems)
    for labels, method in ((True, "structure"), (False, "structure (branch order not compared)")):
        found = _isomorphisms(source, destination, nodes, _strict, labels, pins)
        if found:
            return _choose(found, source, destination, method)
    found = _isomorphisms(source, destination, nodes, _loose, False, pins)
    matching = _mismatched(found, source, destination) if found else _aligned(nodes[0], nodes[1], pins)
    if pins and matching.problems:
        matching.problems.append(f"hints: {pins} were in force; a pin the structure does not allow leads to pairs "
                                 f"like the ones above. Expected pins between layers in the same place. Check them.")
    return matching


# the reduced DAG and its isomorphisms ---------------------------------------------------------------------


def _strict(node: Node) -> tuple:
    return node.op, tuple(sorted((w, broadcast_shape(node, a)) for w, a in node.weights.items()))


def _loose(node: Node) -> tuple:
    return node.op, tuple(sorted(node.weights))


def reduced(graph: Graph, holders: list[Node], key) -> nx.DiGraph:
    """The DAG over parameter nodes, inputs (``<input k>``) and outputs (``<output k>``), edges labelled with the
    (op, slot) of every order-sensitive multi-input op on the parameter-free paths between them."""
    weighted = {node.name for node in holders}
    read = set(graph.consumers()) | {spec.name for spec in graph.outputs}
    dag = nx.DiGraph()
    reach: dict[str, dict[str, frozenset]] = {}
    for index, spec in enumerate(graph.inputs):
        anchor = f"<input {index}>"
        dag.add_node(anchor, name=anchor, key=("input", index))
        reach[spec.name] = {anchor: frozenset()}
    for node in graph.nodes:
        ordered = len(node.inputs) > 1 and node.op not in COMMUTATIVE
        arriving: dict[str, frozenset] = {}
        for slot, value in enumerate(node.inputs):
            for anchor, labels in reach.get(value, {}).items():
                labels = labels | {(node.op, slot)} if ordered else labels
                arriving[anchor] = arriving.get(anchor, frozenset()) | labels
        if node.name in weighted:
            dag.add_node(node.name, name=node.name, key=key(node))
            for anchor, labels in arriving.items():
                dag.add_edge(anchor, node.name, labels=labels)
            arriving = {node.name: frozenset()}
        several = sum(value in read for value in node.outputs) > 1  # which part of a split goes where
        for index, value in enumerate(node.outputs):
            reach[value] = {a: labels | {(node.op, "output", index)} for a, labels in arriving.items()} \
                if several else arriving
    for index, spec in enumerate(graph.outputs):
        anchor = f"<output {index}>"
        dag.add_node(anchor, name=anchor, key=("output", index))
        for source, labels in reach.get(spec.name, {}).items():
            dag.add_edge(source, anchor, labels=labels)
    for _, data in dag.nodes(data=True):
        data["hash"] = repr(data["key"])
    for _, _, data in dag.edges(data=True):
        data["hash"] = repr(sorted(data["labels"], key=repr))
    return dag


def _isomorphisms(source: Graph, destination: Graph, nodes, key, labels: bool, pins: dict[str, str]):
    """Up to CAP isomorphisms source DAG -> destination DAG respecting the pins, parameter nodes only."""
    dags = reduced(source, nodes[0], key), reduced(destination, nodes[1], key)
    sizes = [(dag.number_of_nodes(), dag.number_of_edges()) for dag in dags]
    if sizes[0] != sizes[1] or len({_hash(dag, labels) for dag in dags}) != 1:
        return []
    taken = set(pins.values())

    def node_match(a, b) -> bool:
        if a["key"] != b["key"]:
            return False
        wanted = pins.get(a["name"])
        return b["name"] == wanted if wanted is not None else b["name"] not in taken

    edge_match = (lambda a, b: a["labels"] == b["labels"]) if labels else None
    matcher = DiGraphMatcher(dags[0], dags[1], node_match=node_match, edge_match=edge_match)
    real = {node.name for node in nodes[0]}
    return [{s: d for s, d in found.items() if s in real}
            for found in itertools.islice(matcher.isomorphisms_iter(), CAP)]


def _hash(dag: nx.DiGraph, labels: bool) -> str:
    """A Weisfeiler-Lehman hash: graphs that differ in it are not isomorphic, and the search is skipped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # networkx 3.5 notes that directed hashes changed; both sides use one version
        return nx.weisfeiler_lehman_graph_hash(dag, edge_attr="hash" if labels else None, node_attr="hash")


# choosing among isomorphisms ------------------------------------------------------------------------------


def _attrs(node: Node) -> str:
    return json.dumps({k: v for k, v in node.attrs.items() if k not in NO_EFFECT}, sort_keys=True, default=repr)


def _choose(found: list[dict[str, str]], source: Graph, destination: Graph, method: str) -> Matching:
    s_nodes = {node.name: node for node in source.nodes}
    d_nodes = {node.name: node for node in destination.nodes}

    def score(pairs):
        return sum(_attrs(s_nodes[s]) == _attrs(d_nodes[d]) for s, d in pairs.items())

    best = max(score(pairs) for pairs in found)
    winners = [pairs for pairs in found if score(pairs) == best]
    chosen = winners[0]
    matching = Matching(dict(chosen), method)
    for s in chosen:
        options = sorted({pairs[s] for pairs in winners})
        if len(options) > 1:
            matching.problems.append(
                f"source node '{s}' ({describe(s_nodes[s])}) pairs equally well with destination nodes {options}: "
                f"the structure cannot tell them apart. Expected one pairing. Received: "
                f"{len(winners)}{'+' if len(found) == CAP else ''} pairings that differ. Settle it with "
                f"hints={{{s!r}: {options[0]!r}}} (node or parameter names of each model).")
    for s, d in chosen.items():
        differences = _differences(s_nodes[s], d_nodes[d])
        if differences:
            matching.notes.append(f"'{s}' -> '{d}' ({s_nodes[s].op}) differ in {differences}; the verification "
                                  f"says whether the models still agree")
    return matching


def _differences(a: Node, b: Node) -> str:
    keys = sorted((set(a.attrs) | set(b.attrs)) - NO_EFFECT)
    return ", ".join(f"{k}={a.attrs.get(k)!r} vs {b.attrs.get(k)!r}" for k in keys if a.attrs.get(k) != b.attrs.get(k))


def _same_shapes(a: Node, b: Node) -> bool:
    return _strict(a) == _strict(b)


def _mismatch(s: Node, d: Node) -> str:
    return (f"source node '{s.name}' and destination node '{d.name}' ({s.op}) take the same place but their weights "
            f"differ in shape. Expected equal shapes. Received: source {describe(s, False)}; destination "
            f"{describe(d, False)}. "
            f"Make the two layers the same size.")


def _mismatched(found: list[dict[str, str]], source: Graph, destination: Graph) -> Matching:
    s_nodes = {node.name: node for node in source.nodes}
    d_nodes = {node.name: node for node in destination.nodes}
    chosen = max(found, key=lambda pairs: sum(_same_shapes(s_nodes[s], d_nodes[d]) for s, d in pairs.items()))
    problems = [_mismatch(s_nodes[s], d_nodes[d]) for s, d in chosen.items()
                if not _same_shapes(s_nodes[s], d_nodes[d])]
    return Matching(dict(chosen), "structure", [], problems)


def _aligned(sources: list[Node], destinations: list[Node], pins: dict[str, str]) -> Matching:
    """Pinned pairs, then a longest common subsequence of the rest by op, in graph order."""
    by_name = {node.name: node for node in destinations}
    pairs = {s.name: pins[s.name] for s in sources if s.name in pins}
    rest_s = [s for s in sources if s.name not in pins]
    rest_d = [d for d in destinations if d.name not in set(pins.values())]
    pairs.update(_lcs(rest_s, rest_d))
    matching = Matching(pairs, "node order")
    matching.notes.append("the two graphs differ in structure; layers were paired along their order by op")
    s_nodes = {node.name: node for node in sources}
    for s, d in pairs.items():
        if not _same_shapes(s_nodes[s], by_name[d]):
            matching.problems.append(_mismatch(s_nodes[s], by_name[d]))
    paired = set(pairs.values())
    for s in sources:
        if s.name not in pairs:
            matching.problems.append(
                f"source node '{s.name}' ({describe(s)}) has no partner in the destination. Expected a layer of the "
                f"same kind at the same place. Received: none left. Add it to the destination or remove it from the "
                f"source.")
    for d in destinations:
        if d.name not in paired:
            matching.problems.append(
                f"destination node '{d.name}' ({describe(d)}) has no partner in the source, so nothing would fill "
                f"its weights. Expected a layer of the same kind at the same place. Received: none left.")
    return matching


def _lcs(sources: list[Node], destinations: list[Node]) -> dict[str, str]:
    n, m = len(sources), len(destinations)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if sources[i].op == destinations[j].op \
                else max(table[i + 1][j], table[i][j + 1])
    pairs, i, j = {}, 0, 0
    while i < n and j < m:
        if sources[i].op == destinations[j].op and table[i][j] == table[i + 1][j + 1] + 1:
            pairs[sources[i].name] = destinations[j].name
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs
