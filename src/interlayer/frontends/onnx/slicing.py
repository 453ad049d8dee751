"""Joining and cutting: Concat, Split, Slice, Gather (and Gather on a constant table: ``embedding``).

Cutting a computed value along a static axis is an IR ``split`` whose unused parts are dropped; it works through
a view as well (a step of a time-major sequence). Any other slice is the IR's ``slice`` (the batch's axis, a
symbolic one, a step), any other Gather its ``gather``. Split reads its sizes from an input since opset 13
(``num_outputs`` since 18), Slice its bounds since opset 10.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...ir import dims
from ...registry import register
from . import values as views
from .context import NodeContext
from .values import Const, Held


@register("onnx", "frontend", ("Concat", 1))
def concat(ctx: NodeContext, node):
    """Computed values and constants joined along an axis; a constant of one row joined beside a batch along
    another axis is repeated over the batch (``batch_constant``: a class token), any other is joined as it is (a
    ``constant``). Values read through one view (time-major steps) are joined behind it."""
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
        if axis == 0 or not _batched(ctx.ir_shape(reference)) or not _one_row(value):
            parts.append(ctx.tensor(index, role=f"constant{index}"))  # joined as it is
            continue
        array = ctx.constant(index, f"input {index} (batch broadcast)")
        if array is None:
            return None
        if array.dtype.kind != "f":
            array = array.astype(np.float32)
        parts.append(ctx.add("batch_constant", [reference], {"shape": list(array.shape[1:])}, {"value": array},
                             sources={"value": ctx.source(index)}, role=f"constant{index}"))
    if any(p is None for p in parts):
        return None
    return parts[0] if len(parts) == 1 else ctx.add("concat", parts, {"axis": axis})


def _batched(shape) -> bool:
    """Whether axis 0 of an IR value is a size the model is given (the batch), not one the file fixes."""
    return bool(shape) and isinstance(shape[0], str)


def _one_row(value) -> bool:
    """A constant of one row along axis 0, to be repeated over the batch (a class token)."""
    if isinstance(value, Const):
        return value.array.ndim > 0 and value.array.shape[0] == 1
    return value.batch_free() is not None


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
    count = len(ctx.node.output)
    if isinstance(length, str) and sizes is None:
        return ctx.unsupported(f"equal parts of a symbolic axis have sizes the file does not give. Expected a "
                               f"static axis or the sizes. Received: shape={list(shape)}, axis={axis}")
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
    """Consecutive elements of static axes are taken by ``take`` (through any view); anything else (the batch's
    axis, a symbolic one, a step > 1) by the IR's slice, its range resolved to positions (size expressions on a
    symbolic axis)."""
    held = ctx.held(0)
    if held is None:
        return None
    shape = held.shape
    axes = list(range(len(starts))) if axes is None else [a % len(shape) for a in axes]
    steps = steps or [1] * len(starts)
    ranges = []
    for axis, start, end, step in zip(axes, starts, ends, steps):
        if step < 1:
            return ctx.unsupported(f"the IR's slice steps forward. Expected steps >= 1. Received: axis={axis}, "
                                   f"step={step}")
        begin, stop = _position(start, shape[axis]), _position(end, shape[axis])
        if (begin, stop, step) == (0, shape[axis], 1):
            continue  # the whole axis
        if isinstance(begin, int) and isinstance(stop, int) and stop <= begin:
            return ctx.unsupported(f"the slice is empty, and the IR has no empty tensors. Received: axis={axis}, "
                                   f"starts={start}, ends={end}")
        ranges.append((axis, begin, stop, step))
    if all(_takes(held, axis, step) for axis, _, _, step in ranges):
        for axis, begin, stop, _ in ranges:
            held = take(ctx, held, axis, begin, stop, role=None if axis == ranges[-1][0] else f"axis{axis}")
            if held is None:
                return None
        return ctx.settle(held)
    x = ctx.materialize(held)
    attrs = {"axes": [r[0] for r in ranges], "starts": [r[1] for r in ranges], "ends": [r[2] for r in ranges],
             "steps": [r[3] for r in ranges]}
    return None if x is None else ctx.add("slice", [x], attrs)


def _position(index: int, length):
    """ONNX's slice bound ``index`` on an axis of ``length`` as a position in [0, length]: from the end when
    negative, clamped; a size expression on a symbolic axis."""
    if not isinstance(length, str):
        return min(max(index + length if index < 0 else index, 0), length)
    if index >= 2 ** 31 - 1:
        return length
    if index <= -(2 ** 31):
        return 0
    if index < 0:
        return dims.maximum(dims.add(length, index), 0)
    return dims.minimum(index, length) if index > 1 else index  # sizes are >= 1: min(1, L) is 1


def _takes(held: Held, axis: int, step: int) -> bool:
    """Whether ``take`` cuts ONNX axis ``axis``: step 1 along one static axis of the IR value, not axis 0."""
    atoms = held.atoms()[axis]
    return step == 1 and len(atoms) == 1 and atoms[0] != 0 and not isinstance(held.split[atoms[0]], str)


@register("onnx", "frontend", ("Gather", 1))
def gather(ctx: NodeContext, node):
    """A constant 2-D table read at computed indices along axis 0 is an ``embedding``; a computed value read at
    constant indices that form one run along a static axis (``x[:, -1]``, ``x[:, 2:5]`` as indices) is a
    ``split`` (then a ``reshape`` for a scalar index, unless the result is a view that a later node reads); any
    other is the IR's ``gather``."""
    data, indices = ctx.input(0), ctx.input(1)
    axis = ctx.attr("axis", 0)
    if isinstance(data, Const) and isinstance(indices, Held) and axis == 0 and data.array.ndim == 2:
        return _embedding(ctx)
    if isinstance(data, Held) and isinstance(indices, Const):
        run = _run(data, axis, indices.array)
        if run is not None:
            return ctx.settle(take(ctx, data, run[0], run[1], run[2], squeeze=indices.array.ndim == 0))
    values = [ctx.tensor(0), ctx.tensor(1)]
    if any(v is None for v in values):
        return None
    axis = ctx.axis(axis, len(ctx.ir_shape(values[0])))
    return None if axis is None else ctx.add("gather", values, {"axis": axis})


def _run(held: Held, axis: int, indices: np.ndarray) -> tuple[int, int, int] | None:
    """(axis, begin, end) when constant ``indices`` (a scalar or 1-D) pick consecutive increasing entries of a
    static axis that ``take`` cuts; None otherwise."""
    axis = axis + held.rank if axis < 0 else axis
    length = held.shape[axis] if 0 <= axis < held.rank else None
    picked = indices.reshape(-1)
    if not isinstance(length, int) or indices.ndim > 1 or picked.size == 0 or not _takes(held, axis, 1):
        return None
    picked = np.where(picked < 0, picked + length, picked)
    begin = int(picked[0])
    if not np.array_equal(picked, np.arange(begin, begin + picked.size)) or not 0 <= begin < length:
        return None
    return axis, begin, begin + picked.size


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
