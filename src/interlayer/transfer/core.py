"""``transfer``: the weights of one model into another model of the same architecture, names and order aside."""
from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir.graph import Graph
from .columns import Columns, canonical_columns
from .report import RTOL, TensorPair, TransferError, TransferReport, Verification
from .sides import Source, destination_framework, graphs, open_source, predict_source
from .state import transfer_state
from .write import Writer

if TYPE_CHECKING:
    from .match import Matching


def transfer(source: Any, destination: Any, *, hints: dict[str, str] | None = None, example_inputs: Any = None,
             verify: bool = True) -> TransferReport:
    """Copy the weights of ``source`` into ``destination`` (a live PyTorch or Keras model, changed in place).

    ``source``: a live PyTorch, Keras or ONNX model, an IR ``Graph``, a path (archive, ``.keras``/``.h5``/``.onnx``
    file, ``package.module:factory``), or weights only: a PyTorch state dict (a dict, a ``.safetensors`` file of
    tensors, a ``.pt``/``.pth`` file read with ``weights_only=True``) for a PyTorch destination.
    ``hints``: ``{"source node or parameter": "destination node or parameter"}`` pins pairs and settles
    ambiguities. ``example_inputs`` trace PyTorch models (by default: seeded inputs shaped from the other
    model's graph). With ``verify``, both models run on the same seeded inputs afterwards; a destination that does
    not reproduce the source within 1e-5 gets its weights back and a :class:`TransferError` is raised.

    Every problem is collected and raised as one :class:`TransferError` before any weight is written.
    """
    framework = destination_framework(destination)
    if hints is not None and not (isinstance(hints, dict) and all(isinstance(k, str) and isinstance(v, str)
                                                                   for k, v in hints.items())):
        raise TransferError(f"transfer: hints must map names to names. Expected {{'source node or parameter': "
                            f"'destination node or parameter'}}. Received: hints={hints!r}.")
    side = open_source(source)
    if side.state is not None:
        return transfer_state(side, destination, framework, hints)
    source_graph, destination_graph, example = graphs(side, destination, framework, example_inputs)
    writer = Writer(destination, framework, destination_graph, example)
    report, values = _plan(side, source_graph, writer, hints)
    _apply(report, writer, values, side, source_graph, verify)
    return report


def _plan(side: Source, source_graph: Graph, writer: Writer, hints: dict[str, str] | None):
    """The report and the destination's new parameter values; every problem raised at once, nothing written."""
    canonical_source, _ = canonical_columns(source_graph)
    canonical_destination, columns = canonical_columns(writer.graph)
    from .match import match_graphs  # networkx, imported when a transfer runs

    matching = match_graphs(canonical_source, canonical_destination, hints)
    writer.plan()
    problems = matching.problems + writer.problems
    new_graph, notes = writer.graph, []
    if not problems:
        new_graph, notes = _substitute(writer.graph, canonical_source, matching.pairs, columns, problems)
    if problems:
        raise TransferError(problems)
    partnered = set(matching.pairs.values())
    slots = [slot for slot in writer.slots if slot.tensor.rpartition(".")[0] in partnered]
    report = TransferReport(side.label, _label(writer.model, writer.framework), matching.method,
                            _pairs(slots, matching, source_graph), matching.notes + notes + writer.notes)
    kept = [slot.parameter for slot in writer.slots if slot not in slots]
    if kept:
        report.notes.append(f"kept the destination's own scalar constants, which are not weights: {kept}")
    if writer.skipped:
        report.notes.append(f"left as they were (integer counters, not weights): {writer.skipped}")
    return report, writer.new_values(new_graph, slots)


def _apply(report: TransferReport, writer: Writer, values: dict, side: Source, source_graph: Graph,
           verify: bool) -> None:
    """Write, verify; the destination's weights come back on any failure."""
    snapshot = writer.snapshot()
    try:
        writer.write(values)
        if verify:
            report.verification = _verify(side, source_graph, writer.model, writer.graph)
    except BaseException:
        writer.restore(snapshot)
        raise
    if not verify:
        report.unverified = "verify=False"
    elif not report.verification.passed:
        writer.restore(snapshot)
        differences = [note for note in report.notes if "differ in" in note]
        raise TransferError(
            f"transfer: the destination does not reproduce the source after the transfer, so its weights were put "
            f"back. Expected a max relative error <= {RTOL:.0e}. Received: {report.verification.relative_error:.3e}. "
            f"Check that the two models compute the same function (epsilon, padding, activations); differences "
            f"between paired layers: {differences or 'none found'}. Pass verify=False to keep the weights anyway.")


def _label(model: Any, framework: str) -> str:
    return f"{framework} model '{model.name if framework == 'keras' else type(model).__name__}'"


def _substitute(destination: Graph, source: Graph, pairs: dict[str, str], columns: dict[str, Columns],
                problems: list[str]) -> tuple[Graph, list[str]]:
    """The destination's graph with each paired node's weights replaced by its partner's, in the destination's
    column order. All of them: a tensor one frontend makes up (Keras's LSTM has no second bias, so its IR
    ``bias_hh`` is zeros) may be a trained parameter of the other model. Problems are appended."""
    partners = {d: s for s, d in pairs.items()}
    nodes = {node.name: node for node in source.nodes}
    casts: set[str] = set()
    replaced = []
    for node in destination.nodes:
        partner = nodes.get(partners.get(node.name, ""))
        if partner is None:
            replaced.append(node)
            continue
        weights = dict(node.weights)
        for weight, old in node.weights.items():
            value = partner.weights[weight]
            if weight == "weight" and node.name in columns:
                value = value[:, columns[node.name].to_native]
            value = value.reshape(old.shape)  # equal up to a constant's leading 1s: matched by broadcast shape
            if value.dtype != old.dtype:
                casts.add(f"{value.dtype} -> {old.dtype}")
            weights[weight] = np.ascontiguousarray(value, dtype=old.dtype)
        replaced.append(dataclasses.replace(node, weights=weights))
    graph = copy.copy(destination)
    graph.nodes = replaced
    _check_shared(graph, partners, problems)
    return graph, [f"cast to the destination's dtype: {sorted(casts)}"] if casts else []


def _check_shared(graph: Graph, partners: dict[str, str], problems: list[str]) -> None:
    """A destination layer called several times holds one set of weights: its calls' partners must agree."""
    arrays = dict(graph.tensors())
    for copied, original in (graph.source.get("shared") or {}).items():
        a, b = arrays.get(copied), arrays.get(original)
        if a is not None and b is not None and (a.shape != b.shape or a.tobytes() != b.tobytes()):
            nodes = copied.rpartition(".")[0], original.rpartition(".")[0]
            problems.append(
                f"destination nodes '{nodes[1]}' and '{nodes[0]}' are calls of one layer, sharing its weights, but "
                f"their source partners '{partners.get(nodes[1])}' and '{partners.get(nodes[0])}' hold different "
                f"values. Expected partners with equal weights. Received: differing '{original.rpartition('.')[2]}'. "
                f"Give the destination separate layers, or pin other partners with hints.")


def _pairs(slots: list, matching: Matching, source: Graph) -> list[TensorPair]:
    partners = {d: s for s, d in matching.pairs.items()}
    names: dict[str, str] = {}
    for name, tensor in (source.source.get("name_map") or {}).items():
        names.setdefault(tensor, name)
    found = []
    for slot in slots:
        node, _, weight = slot.tensor.rpartition(".")
        partner = partners[node]
        tensor = f"{partner}.{weight}"
        found.append(TensorPair(names.get(tensor, tensor), slot.parameter, partner, node, slot.shape))
    return found


def _verify(side: Source, source_graph: Graph, destination: Any, destination_graph: Graph) -> Verification:
    """Both models on the same seeded inputs: at sizes both accept (a size one model fixes is the other's too),
    each fed them in its own axis order (a time-major and a batch-first twin name the same sizes in another
    order), the outputs compared in the source's."""
    import numpy as np

    from ..conversion import random_inputs
    from ..execute import predict
    from ..tolerance import relative_error

    orders = [_axis_order(s.shape, d.shape) for s, d in zip(source_graph.inputs, destination_graph.inputs)]
    inputs = random_inputs(source_graph, sizes=_shared_sizes(source_graph, destination_graph, orders))
    given = [x if order is None else np.transpose(x, order) for x, order in zip(inputs, orders)]
    expected = predict_source(side, source_graph, inputs)
    actual = predict(destination, given, destination_graph)
    if len(actual) != len(expected):
        return Verification(float("inf"), RTOL, len(inputs[0]) if inputs else 0)
    source_shapes, destination_shapes = source_graph.shapes(), destination_graph.shapes()
    for index, (s, d) in enumerate(zip(source_graph.outputs, destination_graph.outputs)):
        order = _axis_order(destination_shapes[d.name], source_shapes[s.name])
        if order is not None and np.ndim(actual[index]) == len(order):
            actual[index] = np.transpose(actual[index], order)
    error = max((relative_error(a, e) for a, e in zip(actual, expected)), default=0.0)
    return Verification(error, RTOL, len(inputs[0]) if inputs else 0)


def _shared_sizes(source: Graph, destination: Graph, orders: list) -> dict[str, int] | None:
    """Sizes for the source's names that the destination accepts too: where the destination holds a number for an
    axis the source names (a Keras model built for 16x16 images), that number. ``orders``: each input's axis
    order in the destination (``_axis_order``)."""
    from ..ir import bindings

    wanted = bindings.defaults(source)
    for s, d, order in zip(source.inputs, destination.inputs, orders):
        shape = d.shape if order is None else [d.shape[order.index(axis)] for axis in range(len(order))]
        for mine, theirs in zip(s.shape, shape):
            if isinstance(mine, str) and mine in wanted and isinstance(theirs, int):
                wanted[mine] = theirs
    return bindings.choose(source, wanted)


def _axis_order(shape: tuple, other: tuple) -> tuple[int, ...] | None:
    """The axes of ``shape`` in the order ``other`` holds them (``np.transpose``'s axes), matched by size name,
    when the two name the same sizes in another order; None when they agree or cannot be matched."""
    if len(shape) != len(other) or tuple(shape) == tuple(other):
        return None
    order, free = [], list(range(len(shape)))
    for size in other:
        if isinstance(size, str) and shape.count(size) == 1 and shape.index(size) in free:
            axis = shape.index(size)
        else:
            axis = next((a for a in free if not isinstance(shape[a], str) and shape[a] == size), None)
            if axis is None:
                return None
        free.remove(axis)
        order.append(axis)
    return None if order == list(range(len(shape))) else tuple(order)
