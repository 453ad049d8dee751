"""Tensors that hold the batch on axis 1: the time-major sequences (T, N, ...) of ``batch_first=False`` layers,
and PyTorch's recurrent states (layers*directions, N, H).

The IR keeps the batch first in every value, so such a tensor is held *swapped*: its IR value is the tensor with
axes 0 and 1 exchanged, and no IR node does the exchange. ``Capture.swapped`` holds the fx nodes held that way.

* A graph input is swapped when a layer reads it as time-major, directly or through the ops below: it becomes
  the IR input (N, T, ...), whose ``perm`` (1, 0, ...) records that the source model takes (T, N, ...).
* ``nn.LSTM``/``nn.GRU``/``nn.RNN`` and ``nn.MultiheadAttention`` with ``batch_first=False`` read and write
  swapped sequences; every recurrent layer reads and writes swapped states (``h_0``, ``h_n``...).
* The calls of ``RULES`` run on the IR value: their converter sees the tensor as the IR holds it
  (``Call.shape``, ``Call.axis`` and constant operands swapped back), and the result is swapped when the batch
  stays on axis 1 (``out[-1]``, the last step of a time-major sequence, is batch-first; ``out[1:]`` is not).
  These are the element-wise ops, the ops along the last axes (Linear, LayerNorm, softmax, embeddings),
  indexing, cat, split, reductions, unsqueeze/squeeze (``h.unsqueeze(0)`` of a batch-first (N, H) is a state),
  and transpose/permute: ``h_n.transpose(0, 1)`` and ``x.transpose(0, 1)`` before a time-major layer are no IR
  node at all.
* A swapped graph output is written batch-first, with the ``perm`` that says how the source returns it.

Any other call that reads a swapped tensor, or a time-major layer that reads a batch-first one, is refused with
the call, the tensor and the rule named.
"""
from __future__ import annotations

import operator
from typing import Callable

import torch
from torch import nn

from . import activations, algebra, attention, layers, math, merge, normalization, recurrent, tensor
from .context import Call, full_index

_TIME_MAJOR = (nn.LSTM, nn.GRU, nn.RNN, nn.MultiheadAttention)
_HELD = ("a time-major sequence (T, N, ...) or a recurrent state (layers*directions, N, H)")


def swap(shape) -> tuple:
    """A shape (or index list) with its first two entries exchanged."""
    items = tuple(shape)
    return (items[1], items[0], *items[2:]) if len(items) > 1 else items


def perm(rank: int) -> tuple[int, ...]:
    """The ``TensorSpec.perm`` of a swapped tensor: the source holds ``transpose(ir_value, perm)``."""
    return swap(range(rank))


# the batch axis of a call's result, from the batch axis (0 or 1) of what it reads: an int, or why it cannot be


def _same(ctx: Call, batch: int) -> int | str:
    return batch


def _last_axes(ctx: Call, batch: int, count: int = 1) -> int | str:
    """Linear works along the last axis (LayerNorm along the last ``count``), which must not hold the batch."""
    rank = len(ctx.node.args[0].meta["tensor_meta"].shape)
    if batch == 1 and count > rank - 2:
        return (f"it works along the last {count} axes, and those hold the batch of a tensor whose batch is on "
                f"axis 1. Expected at least {count + 2} axes. Received: rank {rank}")
    return batch


def _normalized(ctx: Call, batch: int) -> int | str:
    return _last_axes(ctx, batch, len(normalization.normalized_shape(ctx)))


def _indexed(ctx: Call, batch: int) -> int | str:
    """``x[...]``: integer indices before the batch axis remove axes ahead of it."""
    source = ctx.node.args[0]
    if isinstance(source.meta.get("tensor_meta"), (list, tuple)) and not hasattr(source.meta["tensor_meta"], "shape"):
        return batch  # a part of a call with several results
    index = full_index(ctx.const(ctx.node.args[1]), len(source.meta["tensor_meta"].shape))
    if index is None or index[batch] != slice(None):
        return f"it indexes the batch axis (axis {batch}). Expected ':' there. Received: index={ctx.node.args[1]!r}"
    return batch - sum(isinstance(item, int) for item in index[:batch])


def _reduced(ctx: Call, batch: int) -> int | str:
    rank = len(ctx.node.args[0].meta["tensor_meta"].shape)
    dim, keepdim = ctx.const(ctx.arg(1, "dim", None)), ctx.const(ctx.arg(2, "keepdim", False))
    axes = {operator.index(d) % rank for d in ([dim] if isinstance(dim, int) else list(dim or range(rank)))}
    if batch in axes:
        return f"it reduces the batch axis (axis {batch}). Received: dim={dim}"
    return batch if keepdim else batch - sum(axis < batch for axis in axes)


def _unbound(ctx: Call, batch: int) -> int | str:
    rank = len(ctx.node.args[0].meta["tensor_meta"].shape)
    axis = operator.index(ctx.const(ctx.arg(1, "dim", 0))) % rank
    return f"it splits the batch axis (axis {batch})" if axis == batch else batch - (axis < batch)


def _unsqueezed(ctx: Call, batch: int) -> int | str:
    rank = len(ctx.node.args[0].meta["tensor_meta"].shape)
    dim = ctx.const(ctx.arg(1, "dim", None))
    if dim is None:
        return batch  # squeeze() is refused by its converter
    if ctx.node.target in ("squeeze", torch.squeeze):
        axis = operator.index(dim) % rank
        return f"it squeezes the batch axis (axis {batch})" if axis == batch else batch - (axis < batch)
    axis = operator.index(dim) % (rank + 1)
    return batch + (axis <= batch)


def _permuted(ctx: Call, batch: int) -> int | str:
    order = algebra.torch_perm(ctx)
    moved = order.index(batch)
    if moved > 1:
        return (f"it moves the batch to axis {moved}. Expected the batch on axis 0 or 1 of the result. "
                f"Received: perm={tuple(order)}")
    return moved


RULES: dict[Callable, Callable[[Call, int], int | str]] = {
    **{converter: _same for converter in (
        activations.relu, activations.relu6, activations.hardtanh, activations.leaky_relu, activations.elu,
        activations.gelu, activations.silu, activations.sigmoid, activations.tanh, activations.hard_swish,
        activations.hard_sigmoid, activations.mish, activations.softmax, math.plain, math.softplus, math.selu,
        math.log_softmax, math.hardshrink, math.softshrink, algebra.add, algebra.sub, algebra.mul, algebra.div, algebra.power, algebra.neg,
        algebra.split, merge.extremum, tensor.contiguous, tensor.identity, tensor.dropout, tensor.cat,
        attention.cast, recurrent.embedding)},
    layers.linear: _last_axes,
    normalization.layer_norm: _normalized,
    attention.getitem: _indexed,
    algebra.reduce: _reduced,
    algebra.unbind: _unbound,
    algebra.permute: _permuted,
    algebra.transpose: _permuted,
    tensor.unsqueeze: _unsqueezed,
}
"""converter -> the batch axis of its result; these converters read shapes and axes through ``Call``"""


def expected(ctx: Call) -> dict:
    """The tensors a call needs swapped (True) or batch-first (False), for the calls outside ``RULES``: a
    time-major layer's sequences, a recurrent layer's initial states; every other tensor batch-first."""
    if not isinstance(ctx.module, _TIME_MAJOR):
        return {}
    time_major = not ctx.module.batch_first
    if isinstance(ctx.module, nn.MultiheadAttention):
        return {ctx.arg(i, name, None): time_major for i, name in enumerate(("query", "key", "value"))}
    states = ctx.arg(1, "hx", None)
    states = list(states) if isinstance(states, (tuple, list)) else [] if states is None else [states]
    return {ctx.node.args[0]: time_major, **{state: True for state in states if hasattr(state, "meta")}}


def computed(ctx: Call) -> list:
    """The tensor arguments of a call that the model computed from its inputs (lists flattened)."""
    found = []

    def visit(item):
        if isinstance(item, (list, tuple)):
            for part in item:
                visit(part)
        elif hasattr(item, "meta") and item in ctx.capture.values:
            found.append(item)

    visit(list(ctx.node.args) + list(ctx.node.kwargs.values()))
    return found


def graph_inputs(capture) -> set:
    """The placeholders that recurrent and attention layers read as time-major sequences or as states, directly
    or through ``RULES`` calls (walked backwards from those layers)."""
    required: dict = {}
    for node in reversed(list(capture.root.graph.nodes)):
        if node.op not in ("call_module", "call_function", "call_method"):
            continue
        ctx = Call(capture, node)
        for arg, swapped in expected(ctx).items():
            required.setdefault(arg, swapped)
        want = required.get(node)
        converter = ctx.converter
        if want is None or converter not in RULES:
            continue
        if converter in (algebra.permute, algebra.transpose):
            order = algebra.torch_perm(ctx)
            if order[1 if want else 0] in (0, 1):
                required.setdefault(node.args[0], order[1 if want else 0] == 1)
        elif RULES[converter] in (_same, _last_axes, _normalized):
            for arg in node.all_input_nodes:
                if "tensor_meta" in arg.meta and not arg.meta.get("interlayer.constant"):
                    required.setdefault(arg, want)
    return {node for node, swapped in required.items() if swapped and node.op == "placeholder"}


def named(arg) -> str:
    """A tensor by the call that made it: ``'lstm'[0][1]`` for what fx names ``getitem_2``."""
    picks = []
    while arg.target is operator.getitem and isinstance(arg.args[1], int) and hasattr(arg.args[0], "meta"):
        picks.insert(0, arg.args[1])
        arg = arg.args[0]
    return f"'{arg.target if arg.op == 'call_module' else arg.name}'" + "".join(f"[{pick}]" for pick in picks)


def mismatch(ctx: Call, arg, swapped: bool) -> str:
    """Why a call cannot read ``arg`` as it is held."""
    shape, name = tuple(arg.meta["tensor_meta"].shape), named(arg)
    if not swapped:
        return (f"batch_first=False reads time-major (T, N, ...) sequences, and {name} holds the batch on axis "
                f"0. Expected a time-major tensor (a graph input read only as time-major, or x.transpose(0, 1)). "
                f"Received: shape={shape}")
    if isinstance(ctx.module, _TIME_MAJOR):
        return (f"batch_first=True reads batch-first sequences, and {name} is {_HELD}, with the batch on "
                f"axis 1. Expected a batch-first tensor (x.transpose(0, 1)). Received: shape={shape}")
    return (f"it reads {name}, which is {_HELD} with the batch on axis 1, and it converts only batch-first "
            f"tensors. Expected a batch-first tensor: transpose it first (x.transpose(0, 1)), or use element-wise "
            f"ops, ops along the last axes, indexing, cat, split, reductions or transpose/permute on it. "
            f"Received: shape={shape}")
