"""Recurrent layers: LSTM, GRU, RNN -> ``lstm``, ``gru``, ``rnn`` on batch-first sequences.

ONNX's layout 0 reads X as (T, N, I) and writes Y as (T, D, N, H): the batch is not first. torch.onnx writes a
``Transpose`` to time-major before the node and a ``Squeeze``/``Transpose``/``Reshape`` back after it; those are
views of the IR values (``values.Held``), so the IR node reads the batch-first (N, T, I) value the model's
Transpose started from, and the ops after it read the IR's (N, T, D * H) output again, with no IR node for any of
them. Gates are reordered to the IR's (PyTorch's) order: ONNX LSTM i, o, f, c -> i, f, g, o; GRU z, r, h -> r, z,
n. B holds the input biases, then the recurrent ones. ``linear_before_reset=1`` is the IR's ``reset_after=True``.
Initial states that are zeros (``ConstantOfShape`` of the batch size) are left out; computed ones are inputs.
"""
from __future__ import annotations

import numpy as np

from ...registry import register
from . import values as views
from .context import NodeContext
from .values import Const, Dual, Held

_GATES = {"LSTM": (4, [0, 2, 3, 1]), "GRU": (3, [1, 0, 2]), "RNN": (1, [0])}
_OPS = {"LSTM": "lstm", "GRU": "gru", "RNN": "rnn"}
_DEFAULT_ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}
_ACTIVATIONS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "Relu": "relu"}
_STATES = {"LSTM": (5, 6), "GRU": (5,), "RNN": (5,)}


@register("onnx", "frontend", ("LSTM", 1), ("GRU", 1), ("RNN", 1))
def recurrent(ctx: NodeContext, node):
    kind = node.op_type
    op = _OPS[kind]
    problems = _problems(ctx, kind)
    attrs = _attrs(ctx, kind, problems)
    if problems:
        return ctx.unsupported(". ".join(problems))
    layout = int(ctx.attr("layout", 0))
    x = _sequence(ctx, layout)
    weights = _weights(ctx, kind, attrs)
    if x is None or weights is None:
        return None
    states = _initial_states(ctx, kind, layout)
    if states is None:
        return None
    reads = [ctx.is_read(i) for i in range(3)]
    attrs["return_state"] = any(reads[1:])
    sources = {name: ctx.source(index) for name, index in weights.pop("_sources").items()}
    outputs = ctx.add_outputs(op, [x, *states], attrs, weights, sources=sources)
    if outputs is None:
        return None
    directions, hidden = (2 if attrs["bidirectional"] else 1), attrs["hidden_size"]
    y = ctx.held_as(outputs[0])
    order = (1, 2, 0, 3) if layout == 0 else (0, 1, 2, 3)  # Y is (T, D, N, H), or (N, T, D, H) with layout=1
    sequence = Held(y.value, (y.split[0], y.split[1], directions, hidden), order)
    results = [ctx.settle(sequence, role="sequence") if reads[0] else None]
    for value in outputs[1:]:
        held = ctx.held_as(value)
        results.append(Held(held.value, held.split, (1, 0, 2) if layout == 0 else (0, 1, 2)))
    return results + [None] * (len(node.output) - len(results))


def _problems(ctx: NodeContext, kind: str) -> list[str]:
    found = []
    direction = ctx.attr("direction", "forward")
    if direction not in ("forward", "bidirectional"):
        found.append(f"direction must be 'forward' or 'bidirectional'. Expected the IR's forward or bidirectional "
                     f"layer (a reverse-only layer aligns its outputs to input time, which no IR op does). "
                     f"Received: direction={direction!r}")
    if ctx.attr("clip") is not None:
        found.append(f"clip must be absent: the IR does not clip cell inputs. Received: clip={ctx.attr('clip')}")
    if ctx.attr("input_forget", 0):
        found.append("input_forget must be 0: the IR does not couple the input and forget gates. "
                     "Received: input_forget=1")
    if ctx.attr("activation_alpha") or ctx.attr("activation_beta"):
        found.append("activation_alpha/activation_beta must be absent: the IR's activations take no parameters")
    if kind == "LSTM" and ctx.present(7):
        peepholes = ctx.input(7)
        if not (isinstance(peepholes, Const) and not peepholes.array.any()):
            found.append("the peephole weights P must be absent or zeros: the IR's LSTM has no peepholes")
    if ctx.present(4):
        lengths = ctx.input(4)
        steps = ctx.shape(0)[1 if int(ctx.attr("layout", 0)) else 0]
        if not (isinstance(lengths, (Const, Dual)) and _all_equal(lengths, steps)):
            found.append("sequence_lens must be absent or every sequence's full length: the IR runs every step of "
                         "every sequence")
    return found


def _all_equal(value, steps) -> bool:
    arrays = [value.array] if isinstance(value, Const) else [value.first, value.second]
    return not isinstance(steps, str) and all(np.all(a == steps) for a in arrays)


def _attrs(ctx: NodeContext, kind: str, problems: list[str]) -> dict:
    bidirectional = ctx.attr("direction", "forward") == "bidirectional"
    names = list(ctx.attr("activations", _DEFAULT_ACTIVATIONS[kind] * (2 if bidirectional else 1)))
    per_direction = len(_DEFAULT_ACTIVATIONS[kind])
    if bidirectional and names[:per_direction] != names[per_direction:]:
        problems.append(f"both directions must use the same activations. Received: activations={names}")
    names = names[:per_direction]
    unknown = [name for name in names if name not in _ACTIVATIONS]
    if unknown:
        problems.append(f"activations must be among {sorted(_ACTIVATIONS)}. Received: activations={names}")
        return {}
    attrs = {"hidden_size": int(ctx.attr("hidden_size", 0)), "bidirectional": bidirectional}
    if kind == "LSTM":
        if names[1] != names[2]:
            problems.append(f"the cell (g) and output (h) activations must be the same: the IR has one. Received: "
                            f"activations={names}")
        attrs.update(recurrent_activation=_ACTIVATIONS[names[0]], activation=_ACTIVATIONS[names[1]])
    elif kind == "GRU":
        attrs.update(recurrent_activation=_ACTIVATIONS[names[0]], activation=_ACTIVATIONS[names[1]],
                     reset_after=bool(ctx.attr("linear_before_reset", 0)))
    else:
        attrs["activation"] = _ACTIVATIONS[names[0]]
    return attrs


def _sequence(ctx: NodeContext, layout: int) -> str | None:
    """The batch-first (N, T, I) IR value of X."""
    held = ctx.held(0)
    if held is None:
        return None
    if held.rank != 3:
        return ctx.unsupported(f"X must be a 3-D sequence. Received: shape={list(held.shape)}")
    if layout == 0:
        if held.atoms()[1] != [0]:
            return ctx.unsupported(f"X is time-major (T, N, I) (layout=0), but its axis 0 is the batch of the graph "
                                   f"input. Expected X transposed from a batch-first value, as torch.onnx writes for "
                                   f"batch_first=True. Received: shape={list(held.shape)}. Export the model with "
                                   f"batch-first inputs")
        held = views.transpose(held, (1, 0, 2))
    return ctx.materialize(held, role="sequence")


def _weights(ctx: NodeContext, kind: str, attrs: dict) -> dict | None:
    gates, order = _GATES[kind]
    w = ctx.constant(1, "the input weights W")
    r = ctx.constant(2, "the recurrent weights R")
    b = ctx.constant(3, "the biases B") if ctx.present(3) else None
    if w is None or r is None or (ctx.present(3) and b is None):
        return None
    hidden = attrs["hidden_size"] or r.shape[-1]
    attrs["hidden_size"] = int(hidden)
    attrs["input_size"] = int(w.shape[-1])
    attrs["bias"] = b is not None
    directions = 2 if attrs["bidirectional"] else 1
    if w.shape[0] != directions or w.shape[1] != gates * hidden:
        return ctx.unsupported(f"W must be ({directions}, {gates} * hidden_size, input_size). Received: "
                               f"shape={list(w.shape)}")

    def reorder(matrix):
        blocks = np.split(matrix, gates, axis=0)
        return np.ascontiguousarray(np.concatenate([blocks[i] for i in order], axis=0))

    weights: dict = {"_sources": {}}
    for d in range(directions):
        suffix = "_l0" + ("_reverse" if d else "")
        weights[f"weight_ih{suffix}"] = reorder(w[d])
        weights[f"weight_hh{suffix}"] = reorder(r[d])
        weights["_sources"].update({f"weight_ih{suffix}": 1, f"weight_hh{suffix}": 2})
        if b is not None:
            weights[f"bias_ih{suffix}"] = reorder(b[d][:gates * hidden])
            weights[f"bias_hh{suffix}"] = reorder(b[d][gates * hidden:])
            weights["_sources"].update({f"bias_ih{suffix}": 3, f"bias_hh{suffix}": 3})
    return weights


def _initial_states(ctx: NodeContext, kind: str, layout: int) -> list[str] | None:
    """The IR inputs for the initial states (N, D, H): none when they are absent or zeros."""
    found = []
    for index in _STATES[kind]:
        value = ctx.input(index)
        if value is None or _zeros(value):
            found.append(None)
            continue
        if not isinstance(value, Held):
            return ctx.unsupported(f"initial state input {index} must be zeros or computed from the inputs. "
                                   f"Received: a constant that is not zeros")
        if layout == 0:
            value = views.transpose(value, (1, 0, 2))
        state = ctx.materialize(value, role=f"state{index}")
        if state is None:
            return None
        found.append(state)
    if found and found[-1] is not None and found[0] is None:
        return ctx.unsupported("the initial cell state is given without the initial hidden state, which the IR "
                               "needs first. Expected both or neither")
    return [state for state in found if state is not None]


def _zeros(value) -> bool:
    if isinstance(value, Const):
        return not value.array.any()
    if isinstance(value, Dual):
        return not value.first.any() and not value.second.any()
    return False
