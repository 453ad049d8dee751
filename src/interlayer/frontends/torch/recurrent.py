"""Recurrent layers (``aten.lstm``, ``aten.gru``, ``aten.rnn_tanh``, ``aten.rnn_relu``), their weights under
PyTorch's own names.

The IR's recurrent ops read batch-first sequences (N, T, F) and hold states as (N, layers*directions, H);
PyTorch holds states as (layers*directions, N, H), and a ``batch_first=False`` sequence as (T, N, F). The
converter writes the transposes that take one to the other (the Keras backend absorbs them into how it holds
each tensor), so the graph keeps the model's own layouts at its inputs and outputs. Initial states of zeros
(``forward`` without ``hx``, or zeros made for the batch) are no input at all.
"""
from __future__ import annotations

import torch

from ...registry import register
from .context import Call, to_numpy
from .shape import transposed

aten = torch.ops.aten
_OPS = {"lstm": ("lstm", "tanh"), "gru": ("gru", "tanh"), "rnn_tanh": ("rnn", "tanh"), "rnn_relu": ("rnn", "relu")}
_SWAP = [1, 0, 2]


@register("torch", "frontend", aten.lstm, aten.gru, aten.rnn_tanh, aten.rnn_relu)
def recurrent(ctx: Call):
    if ctx.overload != "input":
        return ctx.unsupported("a packed sequence. Expected a padded tensor input")
    op, activation = _OPS[ctx.op]
    x, hx, params = ctx.arg(0), ctx.arg(1), list(ctx.arg(2))
    has_biases, layers, dropout, train, bidirectional, batch_first = (ctx.literal(ctx.arg(i)) for i in range(3, 9))
    directions = 2 if bidirectional else 1
    per = 4 if has_biases else 2
    if len(params) != layers * directions * per:
        projected = getattr(ctx.module, "proj_size", None)
        return ctx.unsupported(f"projected LSTM states (proj_size > 0) have no IR equivalent. Expected proj_size=0. "
                               f"Received: proj_size={projected if projected is not None else '> 0'}")
    arrays = [ctx.const(p) for p in params]
    if any(a is None for a in arrays):
        return ctx.unsupported("its weights are computed from the inputs. Expected constant parameters")
    weights, sources = {}, {}
    for layer in range(layers):
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if has_biases else [])
            for offset, name in enumerate(names):
                const = arrays[(layer * directions + direction) * per + offset]
                weights[name + suffix] = to_numpy(const.tensor)
                sources[name + suffix] = const.source
    hidden = int(weights["weight_hh_l0"].shape[1])
    attrs = {"input_size": int(weights["weight_ih_l0"].shape[1]), "hidden_size": hidden, "num_layers": int(layers),
             "bias": bool(has_biases), "bidirectional": bool(bidirectional), "dropout": float(dropout),
             "return_state": _states_read(ctx.node), "activation": activation}
    sequence = ctx.tensor(x) if batch_first else transposed(ctx, ctx.tensor(x), _SWAP, role="batch_first")
    states = [hx] if op != "lstm" else list(hx)
    initial = [] if all(_zeros(ctx, state) for state in states) else [
        transposed(ctx, ctx.tensor(state), _SWAP, role=f"initial{index}") for index, state in enumerate(states)]
    outputs = ctx.add_node(op, [sequence, *initial], attrs, weights, sources, role=None if batch_first else "core")
    output = outputs[0] if batch_first else transposed(ctx, outputs[0], _SWAP)
    finals = [transposed(ctx, state, _SWAP, role=f"state{index}") for index, state in enumerate(outputs[1:])]
    count = 2 if op == "lstm" else 1
    return [output, *(finals or [None] * count)]


def _states_read(node) -> bool:
    """Whether the model reads a final state (``result[1]``, ``result[2]``)."""
    return any(user.args[1] != 0 for user in node.users)


def _zeros(ctx: Call, state) -> bool:
    """An initial state that is all zeros: a constant of zeros, or zeros made for the batch in ``forward``."""
    if state is None:
        return True
    const = ctx.const(state)
    if const is not None:
        return not bool(const.tensor.any())
    name = getattr(getattr(state, "target", None), "__name__", "").split(".")[0]
    if name in ("zeros", "new_zeros", "zeros_like"):
        return True
    if name in ("full", "new_full") and ctx.literal(state.args[-1]) == 0:
        return True
    return False
