"""What differs between two models: nodes, ops, attributes, wiring, weights and graph inputs and outputs.

Nodes are matched by name. Tensors are compared bit for bit, or within ``atol``; float attributes (a batch norm's
momentum, an epsilon) within a relative tolerance, ``attr_rtol`` (the project's ``rtol``, 1e-5): an attribute
that went through float32 in another framework (ONNX stores them so) comes back rounded, 0.01 as 0.00999999, and
that is no change. Such near-equal attributes are listed apart and do not make the models differ.

When no node name is shared (the same network captured from Keras and from
PyTorch), the weighted nodes are also paired by position, in topological order, by op and weight shapes, so
their tensors can still be compared; the report labels those pairs as positional.
"""
from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InterlayerError
from .ir.graph import Graph, Node, TensorSpec
from .tolerance import RTOL

ATTR_RTOL = RTOL
"""Float attributes within this relative difference of each other count as equal. Float32 rounding of an
attribute is 6e-8 relative, and 1e-6 for one derived from it (Keras's momentum 0.99 read as PyTorch's 1 - 0.99);
a wrong value (an epsilon of 1e-3 for 1e-5) is far above."""


@dataclass
class TensorDiff:
    """One tensor present in both graphs. ``max_abs`` is None when shapes differ; ``bit_identical`` compares
    dtype, shape and raw bytes."""

    name: str
    shape_a: tuple[int, ...]
    shape_b: tuple[int, ...]
    dtype_a: str
    dtype_b: str
    max_abs: float | None
    bit_identical: bool
    equal: bool
    other: str | None = None
    """For a positional pair, the tensor's name in the second graph (``name`` is the first's)."""

    def line(self) -> str:
        name = self.name if self.other is None else f"{self.name} <-> {self.other}"
        if self.shape_a != self.shape_b:
            return f"{name}: shape {_shape(self.shape_a)} -> {_shape(self.shape_b)}"
        dtype = f", dtype {self.dtype_a} -> {self.dtype_b}" if self.dtype_a != self.dtype_b else ""
        if self.bit_identical:
            return f"{name}: bit-identical"
        bits = " (the bits differ)" if self.max_abs == 0 else ""
        return f"{name}: max |a - b| = {self.max_abs:.6g}{bits}{dtype}"

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "shape_a": list(self.shape_a), "shape_b": list(self.shape_b),
                "dtype_a": self.dtype_a, "dtype_b": self.dtype_b,
                "max_abs": _jsonable(self.max_abs),
                "bit_identical": self.bit_identical, "equal": self.equal}
        if self.other is not None:
            data["other"] = self.other
        return data


@dataclass
class GraphDiff:
    a: str
    b: str
    atol: float
    attr_rtol: float = ATTR_RTOL
    nodes_added: list[str] = field(default_factory=list)
    nodes_removed: list[str] = field(default_factory=list)
    op_changes: list[tuple[str, str, str]] = field(default_factory=list)
    """(node, op in a, op in b)"""
    attr_changes: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    """(node, attribute, value in a, value in b); a missing attribute is None"""
    attrs_within_rtol: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    """(node, attribute, value in a, value in b): float attributes not bit-equal but within ``attr_rtol``, which
    count as equal (rounded through float32)"""
    wiring_changes: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)
    """(node, 'inputs' or 'outputs', values in a, values in b)"""
    weights_added: list[str] = field(default_factory=list)
    weights_removed: list[str] = field(default_factory=list)
    tensors: list[TensorDiff] = field(default_factory=list)
    """Every tensor of a node both graphs hold, by name."""
    input_changes: list[str] = field(default_factory=list)
    output_changes: list[str] = field(default_factory=list)
    positional: list[TensorDiff] = field(default_factory=list)
    """Tensors of weighted nodes paired by position, only when no node name is shared."""
    unpaired: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed_tensors(self) -> list[TensorDiff]:
        return [t for t in self.tensors if not t.equal]

    @property
    def equal(self) -> bool:
        return not (self.nodes_added or self.nodes_removed or self.op_changes or self.attr_changes
                    or self.wiring_changes or self.weights_added or self.weights_removed or self.changed_tensors
                    or self.input_changes or self.output_changes)

    def lines(self) -> list[str]:
        tensors = ("tensors compared bit for bit" if self.atol == 0
                   else f"tensors within atol {self.atol:g} count as equal")
        out = [f"diff {self.a} -> {self.b}: {tensors}; float attributes within relative {self.attr_rtol:g} "
               f"count as equal"]
        out += _section("nodes added", self.nodes_added)
        out += _section("nodes removed", self.nodes_removed)
        out += _section("op changes", [f"{n}: {a} -> {b}" for n, a, b in self.op_changes])
        out += _section("attribute changes", [f"{n}.{k}: {_value(a)} -> {_value(b)}"
                                              for n, k, a, b in self.attr_changes])
        out += _section(f"float attributes equal within relative {self.attr_rtol:g} (rounding, not changes)",
                        [f"{n}.{k}: {_value(a)} -> {_value(b)}" for n, k, a, b in self.attrs_within_rtol])
        out += _section("wiring changes", [f"{n} {k}: {a} -> {b}" for n, k, a, b in self.wiring_changes])
        out += _section("weights added", self.weights_added)
        out += _section("weights removed", self.weights_removed)
        out += _section("tensors that differ", [t.line() for t in self.changed_tensors])
        out += _section("graph input changes", self.input_changes)
        out += _section("graph output changes", self.output_changes)
        if self.positional or self.unpaired:
            out.append("positional pairing (weighted nodes paired in topological order by op and weight shapes, "
                       "NOT by name; a = first model, b = second):")
            out += [f"  {t.line()}" for t in self.positional]
            out += [f"  unpaired: {name}" for name in self.unpaired]
        out += self.notes
        out.append(self.verdict())
        return out

    def verdict(self) -> str:
        same = sum(1 for t in self.tensors if t.equal)
        summary = f"{same} of {len(self.tensors)} shared tensors equal"
        if self.equal:
            return f"EQUAL: same structure, {summary}."
        if self.positional:
            paired = sum(1 for t in self.positional if t.equal)
            summary += f" ({paired} of {len(self.positional)} positionally paired tensors equal)"
        return f"DIFFERENT: {summary}; {self._counts()}."

    def _counts(self) -> str:
        parts = [(len(self.nodes_added), "nodes added"), (len(self.nodes_removed), "nodes removed"),
                 (len(self.op_changes), "op changes"), (len(self.attr_changes), "attribute changes"),
                 (len(self.wiring_changes), "wiring changes"),
                 (len(self.weights_added) + len(self.weights_removed), "weights added or removed"),
                 (len(self.changed_tensors), "tensors differ"),
                 (len(self.input_changes) + len(self.output_changes), "graph input/output changes")]
        return ", ".join(f"{count} {what}" for count, what in parts if count)

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "atol": self.atol, "attr_rtol": self.attr_rtol, "equal": self.equal,
                "verdict": self.verdict(),
                "nodes_added": self.nodes_added, "nodes_removed": self.nodes_removed,
                "op_changes": [{"node": n, "a": a, "b": b} for n, a, b in self.op_changes],
                "attr_changes": [{"node": n, "attr": k, "a": _jsonable(a), "b": _jsonable(b)}
                                 for n, k, a, b in self.attr_changes],
                "attrs_within_rtol": [{"node": n, "attr": k, "a": _jsonable(a), "b": _jsonable(b)}
                                      for n, k, a, b in self.attrs_within_rtol],
                "wiring_changes": [{"node": n, "what": k, "a": a, "b": b} for n, k, a, b in self.wiring_changes],
                "weights_added": self.weights_added, "weights_removed": self.weights_removed,
                "tensors": [t.to_json() for t in self.tensors],
                "input_changes": self.input_changes, "output_changes": self.output_changes,
                "positional": [t.to_json() for t in self.positional], "unpaired": self.unpaired,
                "notes": self.notes}

    def write_json(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2, allow_nan=False) + "\n")

    def __str__(self) -> str:
        return "\n".join(self.lines())


def diff(a: Any, b: Any, *, atol: float = 0.0, attr_rtol: float = ATTR_RTOL, example_inputs: Any = None,
         **options: Any) -> GraphDiff:
    """Compare two models: each a Graph, a live model or any path or spec ``interlayer.export`` opens
    (``example_inputs`` for PyTorch factories and models). Tensors differing by at most ``atol`` count as equal;
    0 (the default) asks for bit-identical tensors. Float attributes within ``attr_rtol`` of each other (relative;
    default 1e-5) count as equal: they are listed in ``attrs_within_rtol``, not as changes."""
    for name, value in (("atol", atol), ("attr_rtol", attr_rtol)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise InterlayerError(f"diff: {name} must be a finite number >= 0. Received: {name}={value!r}.")
    from .api import export
    from .verify import describe

    graph_a = _canonical(export(a, example_inputs=example_inputs, **options))
    graph_b = _canonical(export(b, example_inputs=example_inputs, **options))
    report = GraphDiff(describe(a), describe(b), float(atol), float(attr_rtol))
    _compare_nodes(report, graph_a, graph_b)
    report.input_changes = _spec_changes("input", graph_a.inputs, graph_b.inputs)
    report.output_changes = _spec_changes("output", graph_a.outputs, graph_b.outputs)
    names_b = {node.name for node in graph_b.nodes}
    if graph_a.nodes and graph_b.nodes and not any(node.name in names_b for node in graph_a.nodes):
        _pair_by_position(report, graph_a, graph_b)
    _provenance_note(report, graph_a, graph_b)
    _layout_notes(report, graph_a, graph_b)
    return report


def _canonical(graph: Graph) -> Graph:
    """``graph`` as every framework would hold the same model: flattens of transposed maps merged
    (``_flatten_orders``), and every flatten before linear layers channels-first, their weights' columns read so
    (``transfer.columns``: Keras flattens NHWC, PyTorch NCHW, the PyTorch target refolds Keras's order)."""
    import copy

    from .transfer.columns import PASSING, canonical_columns

    graph, permuted = canonical_columns(_flatten_orders(_pooled_vectors(graph)))
    if not permuted:
        return graph
    producers = {value: node for node in graph.nodes for value in node.outputs}
    flattens = set()
    for node in graph.nodes:
        if node.name in permuted:
            source = producers.get(node.inputs[0])
            while source is not None and source.op in PASSING:
                source = producers.get(source.inputs[0])
            if source is not None and source.op == "flatten":
                flattens.add(source.name)
    nodes = []
    for node in graph.nodes:
        if node.name in flattens:
            node = copy.copy(node)
            node.attrs = {**node.attrs, "order": "channels_first"}
        nodes.append(node)
    result = copy.copy(graph)
    result.nodes = nodes
    return result


def _pooled_vectors(graph: Graph) -> Graph:
    """``graph`` with each global pooling that keeps its (1, 1) axes, flattened by its only reader, written as the
    one pooling to (N, C) it is (ONNX's GlobalAveragePool and Flatten against Keras's GlobalAveragePooling2D), named
    after the flatten."""
    import copy

    producers = {value: node for node in graph.nodes for value in node.outputs}
    consumers = graph.consumers()
    dropped, replaced = set(), {}
    for node in graph.nodes:
        pool = producers.get(node.inputs[0]) if node.op == "flatten" and node.inputs else None
        if pool is None or pool.op not in ("global_avg_pool", "global_max_pool") or not pool.attrs.get("keepdims") \
                or len(consumers[pool.outputs[0]]) != 1:
            continue
        merged = copy.copy(pool)
        merged.name, merged.outputs = node.name, list(node.outputs)
        merged.attrs = {**pool.attrs, "keepdims": False}
        dropped.add(pool.name)
        replaced[node.name] = merged
    return _merged(graph, replaced, dropped)


def _flatten_orders(graph: Graph) -> Graph:
    """``graph`` with each channels-first flatten of a channels-last transpose that nothing else reads written as
    the one channels-last flatten it is (how a target that holds maps channels-first writes a Keras Flatten), so
    that the same model is the same graph whichever framework holds it."""
    import copy

    from .ir import layout

    producers = {value: node for node in graph.nodes for value in node.outputs}
    consumers = graph.consumers()
    dropped, replaced = set(), {}
    for node in graph.nodes:
        before = producers.get(node.inputs[0]) if node.op == "flatten" and node.inputs else None
        if before is None or before.op != "transpose" or node.attrs.get("order", "channels_first") != "channels_first":
            continue
        perm = list(before.attrs.get("perm") or [])
        if len(perm) < 3 or perm != list(layout.channels_last(len(perm))) or len(consumers[before.outputs[0]]) != 1:
            continue
        flat = copy.copy(node)
        flat.inputs, flat.attrs = [before.inputs[0]], {**node.attrs, "order": "channels_last"}
        dropped.add(before.name)
        replaced[node.name] = flat
    return _merged(graph, replaced, dropped)


def _merged(graph: Graph, replaced: dict, dropped: set) -> Graph:
    """A copy of ``graph`` with the nodes ``replaced`` names replaced and those ``dropped`` names left out."""
    import copy

    if not replaced:
        return graph
    result = copy.copy(graph)
    result.nodes = [replaced.get(node.name, node) for node in graph.nodes if node.name not in dropped]
    return result


def _layout_notes(report: GraphDiff, graph_a: Graph, graph_b: Graph) -> None:
    """How each side holds its inputs and outputs (a Keras model's NHWC images) is the framework's, not the
    model's: said in a note, not counted as a change."""
    for kind, specs_a, specs_b in (("input", graph_a.inputs, graph_b.inputs),
                                   ("output", graph_a.outputs, graph_b.outputs)):
        for index, (spec_a, spec_b) in enumerate(zip(specs_a, specs_b)):
            if (list(spec_a.perm) if spec_a.perm else None) != (list(spec_b.perm) if spec_b.perm else None):
                report.notes.append(f"note: {kind} {index} is held as perm {_value(spec_a.perm)} -> "
                                    f"{_value(spec_b.perm)} (each framework's layout; not a change)")


def _compare_nodes(report: GraphDiff, graph_a: Graph, graph_b: Graph) -> None:
    nodes_b = {node.name: node for node in graph_b.nodes}
    names_a = {node.name for node in graph_a.nodes}
    report.nodes_removed = [node.name for node in graph_a.nodes if node.name not in nodes_b]
    report.nodes_added = [node.name for node in graph_b.nodes if node.name not in names_a]
    for node in graph_a.nodes:
        other = nodes_b.get(node.name)
        if other is None:
            continue
        if node.op != other.op:
            report.op_changes.append((node.name, node.op, other.op))
        changes, rounded = _attr_changes(node, other, report.attr_rtol)
        report.attr_changes += changes
        report.attrs_within_rtol += rounded
        for what in ("inputs", "outputs"):
            if list(getattr(node, what)) != list(getattr(other, what)):
                report.wiring_changes.append((node.name, what, list(getattr(node, what)), list(getattr(other, what))))
        for weight in node.weights:
            if weight not in other.weights:
                report.weights_removed.append(node.tensor_name(weight))
            else:
                report.tensors.append(compare_tensor(node.tensor_name(weight), node.weights[weight],
                                                     other.weights[weight], report.atol))
        report.weights_added += [other.tensor_name(w) for w in other.weights if w not in node.weights]


def _attr_changes(node: Node, other: Node, rtol: float) -> tuple[list[tuple], list[tuple]]:
    """The attributes that differ, and those that differ only by float rounding (within ``rtol``)."""
    attrs_a, attrs_b = node.to_json()["attrs"], other.to_json()["attrs"]
    changes, rounded = [], []
    for key in list(attrs_a) + [k for k in attrs_b if k not in attrs_a]:
        old, new = attrs_a.get(key), attrs_b.get(key)
        if json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True):
            continue
        (rounded if _close(old, new, rtol) else changes).append((node.name, key, old, new))
    return changes, rounded


def _complements_close(a: float, b: float, rtol: float) -> bool:
    """Two values in (0, 1) whose complements agree within ``rtol``: a momentum stored as 1 - 0.999 in float32 is
    0.0009999871, 1.3e-5 from 0.001 relative, though 0.999 itself was rounded by 6e-8."""
    return 0.0 < a < 1.0 and 0.0 < b < 1.0 and math.isclose(1.0 - a, 1.0 - b, rel_tol=rtol, abs_tol=0.0)


def _close(a: Any, b: Any, rtol: float) -> bool:
    """Two attribute values (JSON) of the same structure whose numbers agree within ``rtol``, relative to the
    larger; integers and booleans, strings and None must be equal."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=0.0) \
            or _complements_close(a, b, rtol)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, rtol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], rtol) for k in a)
    return a == b


def compare_tensor(name: str, a: np.ndarray, b: np.ndarray, atol: float, other: str | None = None) -> TensorDiff:
    """Shape, dtype and the largest absolute difference of two tensors (NaN in both places counts as equal)."""
    a, b = np.asarray(a), np.asarray(b)
    identical = a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    max_abs = None
    if a.shape == b.shape:
        max_abs = 0.0 if identical else _max_abs(a, b)
    equal = identical or (atol > 0 and max_abs is not None and a.dtype == b.dtype and max_abs <= atol)
    return TensorDiff(name, tuple(a.shape), tuple(b.shape), str(a.dtype), str(b.dtype), max_abs, identical, equal,
                      other)


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0:
        return 0.0
    x, y = a.astype(np.float64), b.astype(np.float64)
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    with np.errstate(invalid="ignore"):
        difference = np.where(same, 0.0, np.abs(x - y))
    difference[np.isnan(difference)] = np.inf  # NaN against a number
    return float(difference.max())


def _spec_changes(kind: str, specs_a: list[TensorSpec], specs_b: list[TensorSpec]) -> list[str]:
    changes = []
    if len(specs_a) != len(specs_b):
        changes.append(f"{len(specs_a)} {kind}s -> {len(specs_b)} {kind}s")
    for index, (spec_a, spec_b) in enumerate(zip(specs_a, specs_b)):
        for what in ("name", "shape", "dtype"):
            old, new = getattr(spec_a, what), getattr(spec_b, what)
            if (list(old) if isinstance(old, tuple) else old) != (list(new) if isinstance(new, tuple) else new):
                changes.append(f"{kind} {index} {what}: {_value(old)} -> {_value(new)}")
    for index in range(len(specs_b), len(specs_a)):
        changes.append(f"{kind} {index} '{specs_a[index].name}' removed")
    for index in range(len(specs_a), len(specs_b)):
        changes.append(f"{kind} {index} '{specs_b[index].name}' added")
    return changes


def _pair_by_position(report: GraphDiff, graph_a: Graph, graph_b: Graph) -> None:
    """Weighted nodes aligned in topological order on (op, weight names and shapes)."""
    report.notes.append("note: no node name is shared between the two graphs (a model captured from another "
                        "framework?); weighted nodes were paired by position instead (above).")
    weighted_a = [node for node in graph_a.nodes if node.weights]
    weighted_b = [node for node in graph_b.nodes if node.weights]
    keys_a, keys_b = [_signature(node) for node in weighted_a], [_signature(node) for node in weighted_b]
    paired_a, paired_b = set(), set()
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            node_a, node_b = weighted_a[block.a + offset], weighted_b[block.b + offset]
            paired_a.add(node_a.name)
            paired_b.add(node_b.name)
            for weight in node_a.weights:
                report.positional.append(compare_tensor(node_a.tensor_name(weight), node_a.weights[weight],
                                                        node_b.weights[weight], report.atol,
                                                        other=node_b.tensor_name(weight)))
    report.unpaired = ([f"a: {n.name} ({n.op})" for n in weighted_a if n.name not in paired_a]
                       + [f"b: {n.name} ({n.op})" for n in weighted_b if n.name not in paired_b])


def _signature(node: Node) -> tuple:
    return node.op, tuple(sorted((weight, tuple(array.shape)) for weight, array in node.weights.items()))


def _provenance_note(report: GraphDiff, graph_a: Graph, graph_b: Graph) -> None:
    source_a, source_b = graph_a.source or {}, graph_b.source or {}
    origin_a = f"{source_a.get('framework') or 'unknown'} {source_a.get('version', '')}".strip()
    origin_b = f"{source_b.get('framework') or 'unknown'} {source_b.get('version', '')}".strip()
    if origin_a != origin_b:
        report.notes.append(f"note: captured from {origin_a} -> {origin_b} (provenance is not compared)")


def _section(title: str, items: list[str]) -> list[str]:
    return [f"{title} ({len(items)}):"] + [f"  {item}" for item in items] if items else []


def _value(value: Any) -> str:
    return json.dumps(_jsonable(value))


def _jsonable(value: Any) -> Any:
    """Strict JSON: tuples as lists, infinities and NaN as the strings 'inf', '-inf', 'nan'."""
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"
