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
from .operands import as_dtype

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
    return transposed(ctx, ctx.tensor(x), order)


def transposed(ctx: Call, value: str, perm: list[int], role: str | None = None) -> str:
    """``value`` transposed by ``perm``: nothing for the identity; a transpose of a transpose is one transpose of
    the first one's input (none when they cancel, as ``x.transpose(0, 1)`` around a time-major layer do); the
    first one stays only if something else reads it."""
    producer = next((node for node in reversed(ctx.capture.builder.nodes) if value in node.outputs), None)
    if producer is not None and producer.op == "transpose":
        perm = [producer.attrs["perm"][axis] for axis in perm]
        value = producer.inputs[0]
    if perm == list(range(len(perm))):
        return value
    return ctx.add("transpose", [value], {"perm": list(perm)}, role=role)


@register("torch", "frontend", aten.expand, aten.expand_as, aten.broadcast_to)
def expand(ctx: Call):
    x = ctx.arg(0)
    target = ctx.shape()
    if tuple(ctx.shape(x)) == tuple(target):
        return ctx.tensor(x)
    return ctx.add("expand", [ctx.tensor(x)], {"shape": list(target)})


@register("torch", "frontend", aten.repeat, aten.tile)
def repeat(ctx: Call):
    """``x.repeat(counts)``: a ``tile``; an axis repeated a number of times that is a size (the batch's: BLOOM's
    ALiBi slopes for each example) is a new axis in front of it expanded to that count, then merged with it.
    ``torch.tile(x, dims)`` is the same with fewer counts than axes meaning 1 for the leading ones."""
    x, counts = ctx.arg(0), list(ctx.literal(ctx.arg(1, "repeats" if ctx.op == "repeat" else "dims")))
    value, shape = ctx.tensor(x), list(ctx.shape(x))
    if len(counts) < len(shape):
        counts = [1] * (len(shape) - len(counts)) + counts
    if len(counts) > len(shape):
        shape = [1] * (len(counts) - len(shape)) + shape
        value = ctx.add("reshape", [value], {"shape": list(shape)}, role="rank")
    for axis, count in enumerate(counts):
        if isinstance(count, int):
            continue
        split = [*shape[:axis], 1, *shape[axis:]]
        grown = [*shape[:axis], count, *shape[axis:]]
        shape[axis] = dims.mul(count, shape[axis])
        value = ctx.add("reshape", [value], {"shape": split}, role=f"axis{axis}")
        value = ctx.add("expand", [value], {"shape": grown}, role=f"copies{axis}")
        value = ctx.add("reshape", [value], {"shape": list(shape)}, role=f"merged{axis}")
        counts[axis] = 1
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


@register("torch", "frontend", aten.repeat_interleave)
def repeat_interleave(ctx: Call):
    """``x.repeat_interleave(count, dim)``: each position of the axis repeated ``count`` times in place (a new axis
    after it expanded to the count, then merged with it); without ``dim``, of the flattened tensor. Counts given
    as a tensor (one per position) make a size that depends on their values, which torch.export refuses first."""
    x = ctx.arg(0)
    count, dim = ctx.arg(1, "repeats"), ctx.arg(2, "dim", None)
    if ctx.overload != "self_int" or hasattr(count, "meta") and not isinstance(ctx.value(count), int):
        return ctx.unsupported("repeat counts given as a tensor. Expected one count for every position (an int)")
    count = ctx.literal(count)
    value, shape = ctx.tensor(x), list(ctx.shape(x))
    if dim is None:
        value = ctx.add("reshape", [value], {"shape": [dims.product(shape)]}, role="flat")
        shape, axis = [dims.product(shape)], 0
    else:
        axis = ctx.axis(ctx.literal(dim))
    split = [*shape[:axis + 1], 1, *shape[axis + 1:]]
    grown = [*shape[:axis + 1], count, *shape[axis + 1:]]
    spread = ctx.add("reshape", [value], {"shape": split}, role="axis")
    copies = ctx.add("expand", [spread], {"shape": grown}, role="copies")
    return ctx.add("reshape", [copies], {"shape": list(ctx.shape())})


@register("torch", "frontend", aten.unfold)
def unfold(ctx: Call):
    """``x.unfold(dim, size, step)``: the windows of ``size`` positions every ``step`` along an axis, their
    positions as a new last axis: a ``gather`` of the (windows, size) positions ``start + offset`` (the starts an
    ``arange`` of the generic count), then that axis moved to the end."""
    import numpy as np

    x = ctx.arg(0)
    axis, size, step = ctx.axis(ctx.literal(ctx.arg(1, "dimension"))), int(ctx.literal(ctx.arg(2, "size"))), int(
        ctx.literal(ctx.arg(3, "step")))
    count, rank = ctx.shape()[axis], ctx.rank(x)
    starts = ctx.add("arange", [], {"start": 0, "limit": dims.mul(count, step), "step": step, "dtype": "int64"},
                     role="starts")
    column = ctx.add("reshape", [starts], {"shape": [count, 1]}, role="column")
    positions = ctx.add("add", [column], {"constant": True, "constant_shape": [1, size]},
                        {"other": np.arange(size, dtype=np.int64).reshape(1, size)}, role="positions")
    last = axis == rank - 1  # the window's positions follow its start: already the last axis
    windows = ctx.add("gather", [ctx.tensor(x), positions], {"axis": axis}, role=None if last else "windows")
    if last:
        return windows
    return ctx.add("transpose", [windows], {"perm": [*range(axis + 1), *range(axis + 2, rank + 1), axis + 1]})


@register("torch", "frontend", aten.flip)
def flip(ctx: Call):
    """``torch.flip(x, dims)``: each axis read backwards, a ``gather`` of the positions -1, -2, ... -size (from
    the end: ``-1 - arange(size)``)."""
    import numpy as np

    x = ctx.arg(0)
    axes = [ctx.axis(d) for d in ctx.literal(ctx.arg(1, "dims"))]
    value = ctx.tensor(x)
    for index, axis in enumerate(axes):
        size = ctx.shape(x)[axis]
        forwards = ctx.add("arange", [], {"start": 0, "limit": size, "dtype": "int64"}, role=f"positions{axis}")
        backwards = ctx.add("sub", [forwards], {"constant": True, "constant_first": True},
                            {"other": np.asarray(-1, np.int64)}, role=f"backwards{axis}")
        last = index == len(axes) - 1
        value = ctx.add("gather", [value, backwards], {"axis": axis}, role=None if last else f"flipped{axis}")
    return value


@register("torch", "frontend", aten.slice_scatter, aten.select_scatter)
def scatter_into_slice(ctx: Call):
    """``y[:, a:b] = src`` and ``y[:, i] = src`` made functional (``slice_scatter``, ``select_scatter``): the
    positions before the slice, ``src``, and the positions after it, joined along the axis."""
    x, src = ctx.arg(0), ctx.arg(1, "src")
    axis = ctx.axis(ctx.literal(ctx.arg(2, "dim", 0)))
    size = ctx.shape(x)[axis]
    dtype = ctx.dtype()
    values = as_dtype(ctx, src, dtype, "src")
    if ctx.op == "select_scatter":
        start = resolved(ctx, size, ctx.arg(3, "index"), 0)
        end = dims.add(start, 1)
        shape = list(ctx.shape(x))
        values = ctx.add("reshape", [values], {"shape": [*shape[:axis], 1, *shape[axis + 1:]]}, role="src_axis")
    else:
        start = resolved(ctx, size, ctx.arg(3, "start", None), 0)
        end = resolved(ctx, size, ctx.arg(4, "end", None), size)
        if int(ctx.literal(ctx.arg(5, "step", 1))) != 1:
            return ctx.unsupported("an assignment to a strided slice (x[:, ::2] = y). Expected a step of 1")
    target = ctx.tensor(x)
    parts = []
    if start != 0:
        parts.append(ctx.add("slice", [target], {"axes": [axis], "starts": [0], "ends": [start]}, role="before"))
    parts.append(values)
    if not dims.equal(end, size):
        parts.append(ctx.add("slice", [target], {"axes": [axis], "starts": [end], "ends": [size]}, role="after"))
    return parts[0] if len(parts) == 1 else ctx.add("concat", parts, {"axis": axis})


@register("torch", "frontend", aten.copy)
def copy(ctx: Call):
    """``y.copy_(src)`` made functional: ``src`` broadcast to ``y``'s shape, in ``y``'s dtype."""
    x, src = ctx.arg(0), ctx.arg(1, "src")
    value = as_dtype(ctx, src, ctx.dtype(), "cast")
    if tuple(ctx.shape(src)) == tuple(ctx.shape()):
        return value
    return ctx.add("expand", [value], {"shape": list(ctx.shape())})
