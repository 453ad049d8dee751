"""Joining and cutting: Concat, Split, Slice, Gather (and Gather on a constant table: ``embedding``).

Cutting a computed value along a static axis is an IR ``split`` whose unused parts are dropped; it works through
a view as well (a step of a time-major sequence). Split reads its sizes from an input since opset 13
(``num_outputs`` since 18), Slice its bounds since opset 10.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...registry import register
from . import values as views
from .context import NodeContext
from .values import Const, Held


@register("onnx", "frontend", ("Concat", 1))
def concat(ctx: NodeContext, node):
    """Computed values joined along a non-batch axis; a constant with batch size 1 is repeated over the batch
    (``batch_constant``: a class token). Values read through one view (time-major steps) are joined behind it."""
    rank = len(ctx.shape(0)) if ctx.input(0) is not None else 0
    inputs = [ctx.input(i) for i in range(len(node.input))]
    if all(isinstance(v, Held) for v in inputs) and not all(v.canonical(ctx.ir_shape(v.value)) for v in inputs):
        joined = _concat_views(ctx, inputs, ctx.attr("axis", 1) % rank)
        if joined is not None:
            return joined
    axis = ctx.axis(ctx.attr("axis", 1), rank)
    if axis is None:
        return None
    computed = next((i for i in range(len(node.input)) if isinstance(ctx.input(i), Held)), None)
    if computed is None:
        return ctx.unsupported("every input is a constant the walk could not fold")
    reference = ctx.value(computed)
    parts = []
    for index in range(len(node.input)):
        value = ctx.input(index)
        if isinstance(value, Held):
            parts.append(ctx.value(index))
            continue
        array = ctx.constant(index, f"input {index} (batch broadcast)")
        if array is None:
            return None
        if array.shape[0] != 1:
            return ctx.unsupported(f"a constant input must have batch size 1 to be repeated over the batch. "
                                   f"Received: input {index} shape={list(array.shape)}")
        if array.dtype.kind != "f":
            array = array.astype(np.float32)
        parts.append(ctx.add("batch_constant", [reference], {"shape": list(array.shape[1:])}, {"value": array},
                             sources={"value": ctx.source(index)}, role=f"constant{index}"))
    if any(p is None for p in parts):
        return None
    return parts[0] if len(parts) == 1 else ctx.add("concat", parts, {"axis": axis})


def _concat_views(ctx: NodeContext, inputs: list[Held], axis: int) -> Held | None:
    """Views alike but for the joined axis, one static axis of their IR values: joined by one IR concat of
    their IR values; None when they differ otherwise (the caller writes them batch-first)."""
    forms = [views.reshape(v, v.shape) for v in inputs]
    if any(isinstance(f, str) for f in forms):
        return None
    inner = forms[0].atoms()[axis]
    if len(inner) != 1 or inner[0] == 0:
        return None

    def key(form):
        return tuple(d for i, d in enumerate(form.split) if i != inner[0]), form.perm, form.groups

    if any(key(f) != key(forms[0]) or f.atoms()[axis] != inner for f in forms):
        return None
    forms = [ctx.split_form(f) for f in forms]
    if any(f is None for f in forms):
        return None
    out = ctx.add("concat", [f.value for f in forms], {"axis": inner[0]})
    if out is None:
        return None
    split = list(forms[0].split)
    split[inner[0]] = sum(f.split[inner[0]] for f in forms)
    return replace(forms[0], value=out, split=tuple(split))


@register("onnx", "frontend", ("Split", 1))
def split_attribute(ctx: NodeContext, node):
    """Opsets 1-12: the sizes are the attribute ``split`` (or input 1 in opset 1), equal parts by default."""
    sizes = ctx.attr("split")
    if sizes is None and ctx.present(1):
        sizes = ctx.ints(1, "the sizes (input 1)")
        if sizes is None:
            return None
    return _split(ctx, sizes, None)


@register("onnx", "frontend", ("Split", 13))
def split(ctx: NodeContext, node):
    """Opset 13 on: the sizes are the optional input 1; opset 18 adds ``num_outputs`` (the last part smaller)."""
    sizes = ctx.ints(1, "the sizes (input 1)") if ctx.present(1) else None
    if ctx.present(1) and sizes is None:
        return None
    return _split(ctx, sizes, ctx.attr("num_outputs"))


def _split(ctx: NodeContext, sizes, parts):
    x = ctx.value(0)
    if x is None:
        return None
    shape = ctx.ir_shape(x)
    axis = ctx.axis(ctx.attr("axis", 0), len(shape))
    if axis is None:
        return None
    length = shape[axis]
    if isinstance(length, str):
        return ctx.unsupported(f"the split axis must be static. Received: shape={list(shape)}")
    count = len(ctx.node.output)
    if sizes is None:
        parts = parts or count
        chunk = -(-length // parts)
        sizes = [chunk] * (length // chunk) + ([length % chunk] if length % chunk else [])
    if len(sizes) != count:
        return ctx.unsupported(f"the node must have one output per part. Received: sizes={list(sizes)}, "
                               f"{count} outputs")
    if len(sizes) == 1:
        return [x]
    return ctx.add_outputs("split", [x], {"axis": axis, "sizes": [int(s) for s in sizes]})


def take(ctx: NodeContext, held: Held, axis: int, start: int, stop: int, squeeze: bool = False,
         role: str | None = None) -> Held | None:
    """Elements [start, stop) of ONNX axis ``axis`` (static, one axis of the IR value, not the batch), as one
    IR ``split`` of the IR value (nothing when whole); ``squeeze`` drops the axis (one element taken)."""
    atoms = held.atoms()
    if len(atoms[axis]) != 1 or atoms[axis][0] == 0 or isinstance(held.split[atoms[axis][0]], str):
        return ctx.unsupported(f"elements can be taken along a static axis that is not the batch. Received: "
                               f"axis={axis}, shape={list(held.shape)}")
    inner = atoms[axis][0]
    length = held.split[inner]
    if (start, stop) != (0, length):
        held = ctx.split_form(held, role="view" if role is None else f"{role}_view")
        if held is None:
            return None
        sizes = [size for size in (start, stop - start, length - stop) if size > 0]
        outputs = ctx.add_outputs("split", [held.value], {"axis": inner, "sizes": sizes},
                                  role="take" if squeeze and role is None else role)
        if outputs is None:
            return None
        split = list(held.split)
        split[inner] = stop - start
        held = replace(held, value=outputs[1 if start > 0 else 0], split=tuple(split))
    if not squeeze:
        return held
    split = tuple(d for i, d in enumerate(held.split) if i != inner)
    perm = tuple(p - (p > inner) for p in held.perm if p != inner)
    groups = None if held.groups is None else tuple(g for i, g in enumerate(held.groups) if i != axis)
    return Held(held.value, split, perm, held.dtype, groups)


@register("onnx", "frontend", ("Slice", 1))
def slice_attribute(ctx: NodeContext, node):
    """Opsets 1-9: starts, ends and axes are attributes."""
    return _slice(ctx, ctx.attr("starts"), ctx.attr("ends"), ctx.attr("axes"), None)


@register("onnx", "frontend", ("Slice", 10))
def slice_inputs(ctx: NodeContext, node):
    """Opset 10 on: starts, ends, axes and steps are inputs 1-4."""
    bounds = [(ctx.ints(i, f"input {i}") if ctx.present(i) else None) for i in (1, 2, 3, 4)]
    if any(b is None for i, b in zip((1, 2, 3, 4), bounds) if ctx.present(i)):
        return None
    return _slice(ctx, *bounds)


def _slice(ctx: NodeContext, starts, ends, axes, steps):
    held = ctx.held(0)
    if held is None:
        return None
    shape = held.shape
    axes = list(range(len(starts))) if axes is None else [a % len(shape) for a in axes]
    steps = steps or [1] * len(starts)
    for axis, start, end, step in zip(axes, starts, ends, steps):
        length = shape[axis]
        if isinstance(length, str) and step == 1 and start in (0, -(2 ** 63)) and end >= 2 ** 31 - 1:
            continue  # the whole of a symbolic axis (the batch)
        if isinstance(length, str) or step != 1:
            return ctx.unsupported(f"a slice must take consecutive elements (step 1) of a static non-batch axis. "
                                   f"Received: axis={axis}, starts={start}, ends={end}, step={step}, "
                                   f"shape={list(shape)}")
        begin = min(max(start + length if start < 0 else start, 0), length)
        stop = min(max(end + length if end < 0 else end, 0), length)
        if stop <= begin:
            return ctx.unsupported(f"the slice is empty, and the IR has no empty tensors. Received: axis={axis}, "
                                   f"starts={start}, ends={end}")
        held = take(ctx, held, axis, begin, stop, role=None if axis == axes[-1] else f"axis{axis}")
        if held is None:
            return None
    return ctx.settle(held)


@register("onnx", "frontend", ("Gather", 1))
def gather(ctx: NodeContext, node):
    """A constant table read at computed indices (axis 0) is an ``embedding``; a computed value read at constant
    indices that form one run (``x[:, -1]``, ``x[:, 2:5]`` as indices) is a ``split`` (then a ``reshape`` for a
    scalar index, unless the result is a view that a later node reads)."""
    data, indices = ctx.input(0), ctx.input(1)
    if isinstance(data, Const):
        return _embedding(ctx)
    if not isinstance(indices, Const):
        return ctx.unsupported("the indices must be constant unless the data is (an embedding table). Expected "
                               "Gather(table, indices) or Gather(x, constant indices). Received: both computed")
    held = ctx.held(0)
    if held is None:
        return None
    axis = ctx.attr("axis", 0)
    axis = axis + held.rank if axis < 0 else axis
    length = held.shape[axis]
    picked = indices.array.reshape(-1)
    if isinstance(length, str) or indices.array.ndim > 1 or picked.size == 0:
        return ctx.unsupported(f"the indices must be a scalar or a run along a static axis. Received: indices "
                               f"shape={list(indices.array.shape)}, data shape={list(held.shape)}, axis={axis}")
    picked = np.where(picked < 0, picked + length, picked)
    begin = int(picked[0])
    if not np.array_equal(picked, np.arange(begin, begin + picked.size)):
        return ctx.unsupported(f"the indices must be consecutive and increasing. Received: indices={picked.tolist()}")
    return ctx.settle(take(ctx, held, axis, begin, begin + picked.size, squeeze=indices.array.ndim == 0))


def _embedding(ctx: NodeContext):
    table = ctx.constant(0, "the table")
    indices = ctx.value(1)
    if table is None or indices is None:
        return None
    if ctx.attr("axis", 0) != 0 or table.ndim != 2:
        return ctx.unsupported(f"an embedding reads rows of a 2-D table. Expected axis=0 and a 2-D table. "
                               f"Received: axis={ctx.attr('axis', 0)}, table shape={list(table.shape)}")
    attrs = {"num_embeddings": int(table.shape[0]), "embedding_dim": int(table.shape[1])}
    return ctx.add("embedding", [indices], attrs, {"weight": table}, sources={"weight": ctx.source(0)})
