"""Layer-by-layer verification of any two models that hold the same network: ``interlayer.verify``.

Both models run on the same inputs (seeded random ones shaped from the graph, or the user's, given as the
*source* takes them: a Keras source's images NHWC). Every value of the IR graph that both models expose is
compared after mapping it to the canonical layout:

* an interlayer **Graph** or archive: every value, from the reference interpreter;
* a **PyTorch** module: a module built by interlayer records which fx node computes each IR value (every value);
  any other module exposes the output of each submodule, by module path (the name the PyTorch frontend gives
  the node);
* a **Keras** model: one built by interlayer knows the tensor and layout of every IR value; any other model
  exposes each layer's output, by layer name, brought to the canonical layout when its shape says how;
* an **ONNX** model: every value the graph names as an IR value, added as extra outputs for onnxruntime.

The report gives, in graph order, each common value's max absolute and relative error (max |a - b| over the
largest |source|), the first value beyond tolerance (where to look), and a verdict on the outputs. When given
inputs fail but seeded random inputs agree, the report says the conversion agrees and the difference comes
from the inputs (their range, dtype or preprocessing), the classic mistake.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import InterlayerError
from .ir.graph import Graph
from .tolerance import RTOL  # the floor: float32 rounding of a graph may raise it per value

ATOL = 1e-7


class Unmapped(str):
    """A value a model exposes in a layout that cannot be brought to the graph's: the reason it is not
    compared."""


@dataclass
class Row:
    """One compared value: ``relative`` = max |target - source| / max |source|. A value both models expose but
    one holds in a layout that cannot be mapped to the graph's is a row with ``reason`` set, not compared."""

    name: str
    op: str
    shape: tuple
    max_abs: float
    relative: float
    passed: bool
    reason: str | None = None

    @property
    def compared(self) -> bool:
        return self.reason is None

    def to_json(self) -> dict:
        data = {"name": self.name, "op": self.op, "shape": list(self.shape), "compared": self.compared,
                "max_abs": self.max_abs, "relative": self.relative, "passed": self.passed}
        if self.reason is not None:
            data["reason"] = self.reason
        return data


@dataclass
class Report:
    source: str
    target: str
    rtol: float
    atol: float
    inputs: str
    """'seeded random' or 'given'"""
    outputs: list[Row]
    layers: list[Row]
    random: "Report | None" = None
    """with given inputs that fail: the same comparison on seeded random inputs"""
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.outputs)

    @property
    def first_divergence(self) -> Row | None:
        """The first compared value beyond tolerance, when the verdict fails (where to look); None when it
        passes."""
        if self.passed:
            return None
        return next((row for row in self.layers if row.compared and not row.passed), None)

    @property
    def inputs_to_blame(self) -> bool:
        """The given inputs make the outputs differ, seeded random inputs agree."""
        return not self.passed and self.random is not None and self.random.passed

    def verdict(self) -> str:
        if self.passed:
            return (f"equivalent: every output within rtol {self.rtol:.0e} (atol {self.atol:.0e}) on "
                    f"{self.inputs} inputs")
        if self.inputs_to_blame:
            return (f"the conversion agrees (seeded random inputs: within rtol {self.rtol:.0e}); the difference "
                    f"comes from the given inputs: check their layout, dtype, range and preprocessing")
        first = self.first_divergence
        where = f"; first divergence at '{first.name}' ({first.op})" if first is not None else ""
        return f"NOT equivalent on {self.inputs} inputs{where}"

    def table(self) -> str:
        lines = [f"verify {self.source} -> {self.target}: rtol {self.rtol:.0e}, atol {self.atol:.0e}, "
                 f"{self.inputs} inputs", "", f"{'value':<40} {'op':<22} {'max abs':>10} {'relative':>10}  ok"]
        first = self.first_divergence
        for row in self.layers:
            if not row.compared:
                lines.append(f"{row.name[:40]:<40} {row.op[:22]:<22} {'-':>10} {'-':>10}  not compared: "
                             f"{row.reason}")
                continue
            mark = "yes" if row.passed else ("NO  <- first divergence" if row is first else "NO")
            lines.append(f"{row.name[:40]:<40} {row.op[:22]:<22} {row.max_abs:>10.2e} {row.relative:>10.2e}  {mark}")
        lines.append("")
        for index, row in enumerate(self.outputs):
            lines.append(f"output {index} '{row.name}': max abs {row.max_abs:.2e}, relative {row.relative:.2e} "
                         f"({'ok' if row.passed else 'FAILED'})")
        lines += self.notes
        lines.append(self.verdict())
        return "\n".join(lines)

    __str__ = table

    def to_json(self) -> dict:
        first = self.first_divergence
        data = {"source": self.source, "target": self.target, "rtol": self.rtol, "atol": self.atol,
                "inputs": self.inputs, "passed": self.passed, "verdict": self.verdict(),
                "first_divergence": None if first is None else first.name,
                "outputs": [row.to_json() for row in self.outputs], "layers": [row.to_json() for row in self.layers],
                "notes": list(self.notes)}
        if self.random is not None:
            data["random_inputs"] = self.random.to_json()
        return data

    def write_json(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")


def verify(source: Any, target: Any, inputs: Any = None, *, rtol: float = RTOL, atol: float = ATOL,
           example_inputs: Any = None) -> Report:
    """Compare ``target`` with ``source`` output by output and layer by layer.

    Each is a live PyTorch, Keras or ONNX model, a Graph, or a path or spec ``interlayer convert`` accepts (an
    archive, a .keras/.onnx file, a PyTorch package folder or ``package.module:factory``). ``inputs``: arrays as
    the source model takes them (a list in input order, a dict by input name, or one array); seeded random ones
    when None. ``example_inputs`` shape a PyTorch source's capture when nothing else says its input shapes.
    """
    source_model, target_model = open_model(source), open_model(target)
    graph = _common_graph(source_model, target_model, inputs, example_inputs)
    given = inputs is not None
    canonical = _canonical_inputs(graph, inputs) if given else _random_inputs(graph)
    report = _compare(graph, source_model, target_model, canonical, rtol, atol, "given" if given else "seeded random")
    report.source, report.target = describe(source), describe(target)
    if given and not report.passed:
        report.random = _compare(graph, source_model, target_model, _random_inputs(graph), rtol, atol,
                                 "seeded random")
        report.random.source, report.random.target = report.source, report.target
    return report


# opening models ---------------------------------------------------------------------------------------------


def open_model(spec: Any) -> Any:
    """A live model or Graph from what the user pointed at (live objects pass through)."""
    if not isinstance(spec, (str, os.PathLike)):
        return spec
    from .sources import is_factory, load_model

    from .ir import archive

    path = Path(spec)
    if not is_factory(spec) and archive.is_archive_path(path):
        return archive.load(path)
    return load_model(spec)


def describe(spec: Any) -> str:
    if isinstance(spec, (str, os.PathLike)):
        return str(spec)
    if isinstance(spec, Graph):
        return f"graph '{spec.name}'"
    return type(spec).__name__


def _framework(model: Any) -> str:
    if isinstance(model, Graph):
        return "graph"
    from .api import framework_of

    return framework_of(model)


def _common_graph(source: Any, target: Any, inputs: Any, example_inputs: Any) -> Graph:
    """The IR graph that names the values both models are compared on: the source's own export (its layouts
    describe how the source takes its inputs), or a Graph among the two."""
    from .api import export

    if isinstance(source, Graph):
        return source
    if _framework(source) != "torch":
        return export(source)
    if example_inputs is None and inputs is not None:
        example_inputs = [np.asarray(x) for x in (inputs if isinstance(inputs, (list, tuple)) else [inputs])]
    if example_inputs is None:
        graph = _stated_graph(target)
        if graph is None:
            raise InterlayerError("verify: a PyTorch source needs example inputs to record its shapes, and the "
                                  "target does not say them. Expected inputs= or example_inputs=. Received: neither.")
        example_inputs = _random_inputs(graph)
    return export(source, example_inputs=example_inputs)


def _stated_graph(model: Any) -> Graph | None:
    """The graph a model states its inputs by: a Graph itself, a Keras or ONNX model's export, a PyTorch module's
    when interlayer built it; None for a PyTorch module of anyone else's."""
    from .api import export

    if isinstance(model, Graph):
        return model
    if _framework(model) != "torch":
        return export(model)
    return getattr(model, "meta", {}).get("interlayer.graph")


def _random_inputs(graph: Graph) -> list[np.ndarray]:
    from .conversion import random_inputs

    return random_inputs(graph, batch=2, seed=0)


def _canonical_inputs(graph: Graph, inputs: Any) -> list[np.ndarray]:
    """The user's inputs (as the source takes them) in the IR's layout."""
    from .ir.layout import invert

    if isinstance(inputs, dict):
        missing = [spec.name for spec in graph.inputs if spec.name not in inputs]
        if missing:
            raise InterlayerError(f"verify: inputs are missing {missing}. Expected one array per graph input "
                                  f"{[spec.name for spec in graph.inputs]}. Received: {sorted(inputs)}.")
        arrays = [inputs[spec.name] for spec in graph.inputs]
    else:
        arrays = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(arrays) != len(graph.inputs):
        raise InterlayerError(f"verify: the model takes {len(graph.inputs)} input(s). Received: {len(arrays)}.")
    problems = []
    for x, spec in zip(arrays, graph.inputs):
        held = spec.shape if spec.perm is None else tuple(spec.shape[axis] for axis in spec.perm)
        shape = np.shape(x)
        if len(shape) != len(held) or any(isinstance(d, int) and d != n for d, n in zip(held, shape)):
            layout = " (a Keras model takes images channels-last, NHWC)" if spec.perm is not None else ""
            problems.append(f"'{spec.name}' of shape {tuple(shape)}, where the source takes "
                            f"({', '.join(map(str, held))}){layout}")
    if problems:
        raise InterlayerError(f"verify: the given inputs do not fit the source model: {'; '.join(problems)}. "
                              f"Expected the inputs as the source takes them.")
    return [np.asarray(x) if spec.perm is None else np.transpose(np.asarray(x), invert(spec.perm))
            for x, spec in zip(arrays, graph.inputs)]


# comparing -------------------------------------------------------------------------------------------------


def _compare(graph: Graph, source: Any, target: Any, inputs: Sequence[np.ndarray], rtol: float, atol: float,
             kind: str) -> Report:
    """Each value is held to ``rtol`` or, where float32 rounding of the graph moves it further, to the bound
    ``interlayer.tolerance`` measures for it on these inputs."""
    from .execute import predict
    from .tolerance import bounds

    expected = predict(source, inputs, graph=graph)
    actual = predict(target, inputs, graph=graph)
    if len(expected) != len(actual):
        raise InterlayerError(f"verify: the models return {len(expected)} and {len(actual)} outputs. Expected the "
                              f"same network on both sides.")
    ops = {value: node.op for node in graph.nodes for value in node.outputs}
    _, allowed = bounds(graph, inputs, rtol, keep_all=True)
    tolerance = {value: bound.allowed for value, bound in allowed.items()}
    outputs = [_row(spec.name, ops.get(spec.name, "output"), a, e, tolerance.get(spec.name, rtol), atol)
               for spec, a, e in zip(graph.outputs, actual, expected)]
    left, right = activations(source, inputs, graph), activations(target, inputs, graph)
    orders = _flatten_orders(source, graph), _flatten_orders(target, graph)
    shapes = graph.shapes()
    layers = []
    for node in graph.nodes:
        for value in node.outputs:
            if value not in left or value not in right:
                continue
            expected, actual = left[value], right[value]
            if node.op == "flatten":
                expected = _in_graph_order(expected, node, shapes, orders[0].get(node.name))
                actual = _in_graph_order(actual, node, shapes, orders[1].get(node.name))
            unmapped = next((x for x in (expected, actual) if isinstance(x, Unmapped)), None)
            if unmapped is not None:
                layers.append(Row(value, ops[value], tuple(np.shape(left[value])), float("nan"), float("nan"),
                                  True, str(unmapped)))
                continue
            layers.append(_row(value, ops[value], actual, expected, tolerance.get(value, rtol), atol))
    notes = [] if layers else ["no intermediate value is exposed by both models: outputs compared only"]
    return Report("", "", rtol, atol, kind, outputs, layers, notes=notes)


def _flatten_orders(model: Any, graph: Graph) -> dict[str, str]:
    """The order in which ``model`` flattens each flatten node of ``graph``: a model interlayer built flattens
    as its backend refolded the graph (PyTorch channels-first, Keras as its file or model records, ONNX as the
    graph); a model the graph was captured from, as the graph says."""
    from .ir import layout

    stated = _orders(graph)
    framework = _framework(model)
    if framework == "torch":
        built = getattr(model, "meta", {}).get("interlayer.graph")
        if built is not None:
            return _orders(built)
        if graph.source.get("framework") != "torch":  # a package or a twin: PyTorch's own order where it can
            return _orders(layout.refold_flatten(graph, "channels_first"))
    if framework == "keras":
        recorded = (getattr(model, "_interlayer_perms", None) or {}).get("flatten_order")
        if recorded is not None:
            return {**stated, **recorded}
    return stated


def _orders(graph: Graph) -> dict[str, str]:
    return {node.name: node.attrs.get("order", "channels_first") for node in graph.nodes if node.op == "flatten"}


def _in_graph_order(value, node, shapes: dict, order: str | None):
    """A flatten's value brought from the order ``order`` a model flattened in to the graph node's order; an
    :class:`Unmapped` when the flattened map's sizes are not known numbers."""
    from .ir import layout

    want = node.attrs.get("order", "channels_first")
    if isinstance(value, Unmapped) or order is None or order == want:
        return value
    features = tuple(shapes[node.inputs[0]][1:])
    if not all(isinstance(d, int) for d in features):
        return Unmapped(f"flattened {order.replace('_', '-')} over sizes {features} that vary")
    taken = layout.flatten_index(features, order)
    columns = np.argsort(taken)[layout.flatten_index(features, want)]
    return np.asarray(value)[..., columns]


def _row(name: str, op: str, actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> Row:
    from .tolerance import relative_error

    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape and actual.size == expected.size \
            and [d for d in actual.shape if d != 1] == [d for d in expected.shape if d != 1]:
        actual = actual.reshape(expected.shape)  # (N, C, 1, 1) against (N, C): the same values
    if actual.shape != expected.shape:
        return Row(name, op, tuple(expected.shape), float("inf"), float("inf"), False)
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    max_abs = float(difference.max(initial=0.0))
    relative = relative_error(actual, expected)
    return Row(name, op, tuple(expected.shape), max_abs, relative, relative <= rtol or max_abs <= atol)


def activations(model: Any, inputs: Sequence[np.ndarray], graph: Graph) -> dict[str, np.ndarray]:
    """The canonical value of every IR value of ``graph`` that ``model`` exposes, by IR value name."""
    framework = _framework(model)
    if framework == "graph":
        from .reference import run

        return run(model, list(inputs), keep_all=True)
    if framework == "torch":
        from .backends.torch.probe import activations as torch_activations

        return torch_activations(model, inputs, graph)
    if framework == "keras":
        from .backends.keras.probe import activations as keras_activations

        return keras_activations(model, inputs, graph)
    from .backends.onnx.probe import activations as onnx_activations

    return onnx_activations(model, inputs, graph)
