"""Recurrent layers (``aten.lstm``, ``aten.gru``, ``aten.rnn_tanh``, ``aten.rnn_relu``), their weights under
PyTorch's own names.

The IR's recurrent ops read batch-first sequences (N, T, F) and hold states as (N, layers*directions, H);
PyTorch holds states as (layers*directions, N, H), and a ``batch_first=False`` sequence as (T, N, F). The
converter writes the transposes that take one to the other (the Keras backend absorbs them into how it holds
each tensor), so the graph keeps the model's own layouts at its inputs and outputs. Initial states of zeros
(``forward`` without ``hx``, or zeros made for the batch) are no input at all.

torch.export runs ``aten.lstm`` (and the others) through a decomposition that steps through the sequence, which
fixes its length at the example's. While exporting, ``symbolic_steps`` has ``nn.LSTM``, ``nn.GRU`` and ``nn.RNN``
compute through the opaque custom operator ``interlayer::recurrent`` instead (the same kernels, run eagerly; under
torch.export, results shaped from the input's sizes), so the length stays as generic as the model allows.
"""
from __future__ import annotations

import contextlib

import torch

from ...registry import register
from .context import Call, to_numpy
from .shape import transposed

aten = torch.ops.aten
_OPS = {"lstm": ("lstm", "tanh"), "gru": ("gru", "tanh"), "rnn_tanh": ("rnn", "tanh"), "rnn_relu": ("rnn", "relu")}
_SWAP = [1, 0, 2]
_KERNELS = {}
"""mode -> the original ``_VF`` function (``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu``)"""


@torch.library.custom_op("interlayer::recurrent", mutates_args=(), schema=(
    "(Tensor input, Tensor[] hx, Tensor[] params, str mode, bool has_biases, int num_layers, float dropout, "
    "bool train, bool bidirectional, bool batch_first) -> Tensor[]"))
def _recurrent_op(input, hx, params, mode, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    from torch import _VF

    kernel = _KERNELS.get(mode) or getattr(_VF, mode)
    states = tuple(hx) if mode == "lstm" else hx[0]
    return [t.clone() for t in kernel(input, states, params, has_biases, num_layers, dropout, train, bidirectional,
                                      batch_first)]


@_recurrent_op.register_fake
def _(input, hx, params, mode, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    directions = 2 if bidirectional else 1
    per = len(params) // (num_layers * directions)
    projected = mode == "lstm" and per in (3, 5)  # proj_size > 0: a weight_hr (proj, hidden) last in each group
    hidden = params[per - 1].shape[1] if projected else params[1].shape[1]
    state = params[per - 1].shape[0] if projected else hidden
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    output = input.new_empty((batch, steps, directions * state) if batch_first
                             else (steps, batch, directions * state))
    finals = [input.new_empty((num_layers * directions, batch, state))]
    if mode == "lstm":
        finals.append(input.new_empty((num_layers * directions, batch, hidden)))
    return [output, *finals]


class _Steps:
    """Stands in for ``torch._VF`` in ``torch.nn.modules.rnn`` while exporting: the recurrent kernels of a padded
    (tensor) sequence go through ``interlayer::recurrent``; everything else (packed sequences, cells) to ``_VF``."""

    def __init__(self, vf):
        self._vf = vf

    def __getattr__(self, name):
        found = getattr(self._vf, name)
        if name not in _OPS:
            return found

        def call(input, hx, *rest):
            if not isinstance(hx, (torch.Tensor, tuple, list)) or len(rest) != 7 or not isinstance(rest[0], list):
                return found(input, hx, *rest)  # a packed sequence: (data, batch_sizes, hx, params, ...)
            states = list(hx) if isinstance(hx, (tuple, list)) else [hx]
            return tuple(torch.ops.interlayer.recurrent(input, states, list(rest[0]), name, *rest[1:]))

        return call


@contextlib.contextmanager
def symbolic_steps():
    """Within the block, ``nn.LSTM``/``nn.GRU``/``nn.RNN`` compute through ``interlayer::recurrent``."""
    from torch import _VF
    from torch.nn.modules import rnn

    for mode in _OPS:
        _KERNELS.setdefault(mode, getattr(_VF, mode))
    before = rnn._VF
    rnn._VF = _Steps(before)
    try:
        yield
    finally:
        rnn._VF = before


@register("torch", "frontend", torch.ops.interlayer.recurrent)
def recurrent_steps(ctx: Call):
    """``interlayer::recurrent``: an LSTM, GRU or RNN layer whose sequence length stays generic."""
    x, hx, params = ctx.arg(0), list(ctx.arg(1)), list(ctx.arg(2))
    mode, has_biases, layers, dropout, train, bidirectional, batch_first = (ctx.literal(ctx.arg(i))
                                                                            for i in range(3, 10))
    return _recurrent(ctx, mode, x, hx, params, has_biases, layers, dropout, bidirectional, batch_first)


@register("torch", "frontend", aten.lstm, aten.gru, aten.rnn_tanh, aten.rnn_relu)
def recurrent(ctx: Call):
    if ctx.overload != "input":
        return ctx.unsupported("a packed sequence. Expected a padded tensor input")
    x, hx, params = ctx.arg(0), ctx.arg(1), list(ctx.arg(2))
    has_biases, layers, dropout, train, bidirectional, batch_first = (ctx.literal(ctx.arg(i)) for i in range(3, 9))
    states = list(hx) if ctx.op == "lstm" else [hx]
    return _recurrent(ctx, ctx.op, x, states, params, has_biases, layers, dropout, bidirectional, batch_first)


def _recurrent(ctx: Call, mode: str, x, states: list, params: list, has_biases, layers, dropout, bidirectional,
               batch_first):
    op, activation = _OPS[mode]
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
