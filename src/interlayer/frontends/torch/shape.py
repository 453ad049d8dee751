"""Calls that move data: views and reshapes (a reshape of a feature map into one vector per sample is a
``flatten``, which the Keras backend folds into the next Dense), permutes and transposes, (un)squeeze, expand,
repeat, cat, stack, split, chunk, unbind, slices and ``select``, narrow, roll; copies, detaches and dtype
conversions (a ``cast`` only when the dtype changes); dropout (kept as ``dropout`` with its rate).

Sizes come from the exported shapes (size expressions where torch kept them symbolic), so a reshape always
writes every axis of its result exactly, and a slice its resolved positions.
"""
from __future__ import annotations

import torch

from ...ir import dims
from ...registry import register
from .context import Call, Const

aten = torch.ops.aten
_END = 2 ** 62
"""a slice end at least this large means 'to the end' (torch writes 2**63 - 1)"""


@register("torch", "frontend", aten.view, aten.reshape, aten._unsafe_view, aten.unsqueeze, aten.squeeze,
          aten.unflatten, aten.view_as, aten.reshape_as)
def reshape(ctx: Call):
    return reshaped(ctx, ctx.arg(0), ctx.shape())


def reshaped(ctx: Call, arg, target: tuple, role: str | None = None) -> str:
    """``arg`` reshaped to ``target``: nothing when the shape is the same, a ``flatten`` when a map of rank >= 3
    becomes one vector per sample, else a ``reshape``."""
    source = ctx.shape(arg)
    value = ctx.tensor(arg)
    if tuple(source) == tuple(target):
        return value
    if len(source) >= 3 and len(target) == 2 and dims.equal(source[0], target[0]):
        return ctx.add("flatten", [value], role=role)  # torch.export has proved the element counts equal
    return ctx.add("reshape", [value], {"shape": list(target)}, role=role)


@register("torch", "frontend", aten.flatten)
def flatten(ctx: Call):
    return reshaped(ctx, ctx.arg(0), ctx.shape())


@register("torch", "frontend", aten.permute, aten.transpose, aten.t, aten.swapaxes, aten.swapdims, aten.movedim)
def transpose(ctx: Call):
    x = ctx.arg(0)
    rank = ctx.rank(x)
    order = list(range(rank))
    if ctx.op == "permute":
        order = [int(d) % rank for d in ctx.literal(ctx.arg(1, "dims"))]
    elif ctx.op == "t":
        order = order[::-1]
    elif ctx.op == "movedim":
        source, destination = (ctx.literal(ctx.arg(i)) for i in (1, 2))
        source = [source] if isinstance(source, int) else list(source)
        destination = [destination] if isinstance(destination, int) else list(destination)
        moved = [s % rank for s in source]
        rest = [axis for axis in order if axis not in moved]
        order = [None] * rank
        for s, d in zip(moved, destination):
            order[d % rank] = s
        order = [axis if axis is not None else rest.pop(0) for axis in order]
    else:
        a, b = (int(ctx.literal(ctx.arg(i))) % rank for i in (1, 2))
        order[a], order[b] = order[b], order[a]
    if order == list(range(rank)):
        return ctx.tensor(x)
    return ctx.add("transpose", [ctx.tensor(x)], {"perm": order})


@register("torch", "frontend", aten.expand, aten.expand_as, aten.broadcast_to)
def expand(ctx: Call):
    x = ctx.arg(0)
    target = ctx.shape()
    if tuple(ctx.shape(x)) == tuple(target):
        return ctx.tensor(x)
    return ctx.add("expand", [ctx.tensor(x)], {"shape": list(target)})


@register("torch", "frontend", aten.repeat)
def repeat(ctx: Call):
    x, counts = ctx.arg(0), [int(c) for c in ctx.literal(ctx.arg(1, "repeats"))]
    value, shape = ctx.tensor(x), ctx.shape(x)
    if len(counts) > len(shape):
        shape = (1,) * (len(counts) - len(shape)) + tuple(shape)
        value = ctx.add("reshape", [value], {"shape": list(shape)}, role="rank")
    if all(count == 1 for count in counts):
        return value
    return ctx.add("tile", [value], {"repeats": counts})


@register("torch", "frontend", aten.cat, aten.concat, aten.concatenate)
def cat(ctx: Call):
    tensors = [t for t in ctx.arg(0, "tensors") if not _empty(ctx, t)]
    axis = ctx.axis(ctx.literal(ctx.arg(1, "dim", 0)), ctx.rank())
    values = [ctx.tensor(t) for t in tensors]
    if len(values) == 1:
        return values[0]
    return ctx.add("concat", values, {"axis": axis})


def _empty(ctx: Call, arg) -> bool:
    """A tensor with a size 0 (torch.cat skips them)."""
    return hasattr(arg, "meta") and any(isinstance(d, int) and d == 0 for d in ctx.shape(arg))


@register("torch", "frontend", aten.stack)
def stack(ctx: Call):
    tensors = ctx.arg(0, "tensors")
    axis = ctx.axis(ctx.literal(ctx.arg(1, "dim", 0)), ctx.rank())
    return ctx.add("stack", [ctx.tensor(t) for t in tensors], {"axis": axis})


@register("torch", "frontend", aten.split, aten.split_with_sizes, aten.chunk, aten.unbind, aten.tensor_split)
def split(ctx: Call):
    x = ctx.arg(0)
    results = ctx.node.meta["val"]
    axis = ctx.axis(ctx.literal(ctx.arg(2 if ctx.op != "unbind" else 1, "dim", 0)))
    sizes = [ctx.capture.names.dim(part.shape[axis]) for part in results]
    if ctx.op == "unbind":
        sizes = [1] * len(results)
    if all(isinstance(size, int) for size in sizes) and isinstance(ctx.shape(x)[axis], int):
        parts = ctx.add_node("split", [ctx.tensor(x)], {"axis": axis, "sizes": sizes})
    else:
        parts, start = [], 0
        for index, size in enumerate(sizes):
            end = dims.add(start, size)
            parts.append(ctx.add("slice", [ctx.tensor(x)], {"axes": [axis], "starts": [start], "ends": [end]},
                                 role=f"part{index}"))
            start = end
    if ctx.op == "unbind":
        return [ctx.add("reshape", [part], {"shape": list(ctx.capture.names.shape(result.shape))}, role=f"item{i}")
                for i, (part, result) in enumerate(zip(parts, results))]
    return parts


def resolved(ctx: Call, size, position, default) -> dims.Dim:
    """A slice bound as a position in [0, size]: None is ``default``, a negative bound counts from the end, and an
    end past the size stops at it."""
    if position is None:
        return default
    position = ctx.size(position) if hasattr(position, "meta") else position
    if isinstance(position, int):
        if position >= _END:
            return size
        if position < 0:
            return dims.add(size, position) if ctx.capture.names.at_least(size, -position) \
                else dims.maximum(dims.add(size, position), 0)
        return position if ctx.capture.names.at_least(size, position) else dims.minimum(position, size)
    return dims.minimum(position, size)


@register("torch", "frontend", aten.slice)
def slice_(ctx: Call):
    x = ctx.arg(0)
    axis = ctx.axis(ctx.literal(ctx.arg(1, "dim", 0)))
    size = ctx.shape(x)[axis]
    start = resolved(ctx, size, ctx.arg(2, "start", None), 0)
    end = resolved(ctx, size, ctx.arg(3, "end", None), size)
    step = int(ctx.literal(ctx.arg(4, "step", 1)))
    if start == 0 and dims.equal(end, size) and step == 1:
        return ctx.tensor(x)
    return ctx.add("slice", [ctx.tensor(x)], {"axes": [axis], "starts": [start], "ends": [end], "steps": [step]})


@register("torch", "frontend", aten.narrow)
def narrow(ctx: Call):
    x = ctx.arg(0)
    axis = ctx.axis(ctx.literal(ctx.arg(1, "dim")))
    size = ctx.shape(x)[axis]
    start = resolved(ctx, size, ctx.arg(2, "start"), 0)
    length = ctx.size(ctx.arg(3, "length"))
    return ctx.add("slice", [ctx.tensor(x)], {"axes": [axis], "starts": [start], "ends": [dims.add(start, length)]})


@register("torch", "frontend", aten.select)
def select(ctx: Call):
    """``x[..., i, ...]``: a one-wide slice, then the axis removed."""
    x = ctx.arg(0)
    axis = ctx.axis(ctx.literal(ctx.arg(1, "dim")))
    size = ctx.shape(x)[axis]
    index = ctx.arg(2, "index")
    index = ctx.size(index) if hasattr(index, "meta") else int(index)
    start = dims.add(size, index) if isinstance(index, int) and index < 0 else index
    part = ctx.add("slice", [ctx.tensor(x)], {"axes": [axis], "starts": [start], "ends": [dims.add(start, 1)]},
                   role="slice")
    return ctx.add("reshape", [part], {"shape": list(ctx.shape())})


@register("torch", "frontend", aten.roll)
def roll(ctx: Call):
    """Each axis rolled as the join of its last ``shift`` positions and the rest (a shift of a symbolic size
    wraps by its remainder)."""
    x = ctx.arg(0)
    shifts, axes = ctx.literal(ctx.arg(1, "shifts")), ctx.literal(ctx.arg(2, "dims", []))
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    axes = [axes] if isinstance(axes, int) else list(axes)
    if not axes:
        return ctx.unsupported("a roll of the flattened tensor. Expected dims")
    value = ctx.tensor(x)
    for index, (shift, axis) in enumerate(zip(shifts, axes)):
        axis = ctx.axis(axis)
        size = ctx.shape(x)[axis]
        cut = dims.mod(dims.sub(size, dims.mod(shift, size)), size) if not isinstance(size, int) \
            else (size - shift % size) % size
        if cut == 0:
            continue
        tail = ctx.add("slice", [value], {"axes": [axis], "starts": [cut], "ends": [size]}, role=f"tail{index}")
        head = ctx.add("slice", [value], {"axes": [axis], "starts": [0], "ends": [cut]}, role=f"head{index}")
        last = index == len(axes) - 1
        value = ctx.add("concat", [tail, head], {"axis": axis}, role=None if last else f"rolled{index}")
    return value


@register("torch", "frontend", aten.contiguous, aten.clone, aten.alias, aten.detach, aten.lift_fresh_copy,
          aten.lift_fresh)
def identity(ctx: Call):
    found = ctx.value(ctx.arg(0))
    return found if isinstance(found, (str, Const)) else ctx.tensor(ctx.arg(0))


@register("torch", "frontend", aten.to, aten._to_copy, aten.type_as)
def convert_dtype(ctx: Call):
    """A dtype conversion: a ``cast`` when the dtype changes, nothing otherwise (devices and layouts aside)."""
    x = ctx.arg(0)
    if ctx.dtype(x) == ctx.dtype():
        return identity(ctx)
    return ctx.add("cast", [ctx.tensor(x)], {"dtype": ctx.dtype()})


@register("torch", "frontend", aten.dropout, aten.feature_dropout, aten.alpha_dropout, aten.feature_alpha_dropout,
          aten.native_dropout)
def dropout(ctx: Call):
    rate = float(ctx.literal(ctx.arg(1, "p", 0.5)))
    if ctx.literal(ctx.arg(2, "train", False)) and rate > 0:
        return ctx.unsupported(f"dropout is active at inference (train=True: F.dropout's default), so the output is "
                               f"random. Expected training=False (or the nn.Dropout layer, inactive in eval mode). "
                               f"Received: p={rate}, train=True")
    value = ctx.add("dropout", [ctx.tensor(ctx.arg(0))], {"rate": rate})
    return [value, None] if ctx.op == "native_dropout" else value
