"""Views: Reshape, Flatten, Transpose, Squeeze, Unsqueeze; and Expand and Tile.

Reshape, Flatten, Transpose, Squeeze and Unsqueeze change how the ONNX value reads its IR value
(``values.Held``): written to the IR as ``reshape`` (``flatten`` for (N, K)) and/or ``transpose`` when the batch is
first on an axis of its own, and kept without any node while it is not (a time-major sequence, the
(N * heads, T, d) of an attention). Their shape operands are constants by then (``folding.py``), the batch an
entry of its own (``"N"``) or a factor of one (``"N*k"``). Reshape reads its shape from an input since opset 5,
Squeeze and Unsqueeze their axes since opset 13. Expand's shape and Tile's repeats are constants (the batch
``"N"`` in Expand's); either may grow any axis.
"""
from __future__ import annotations

from ...ir import dims
from ...ir.graph import BATCH
from ...registry import register
from . import values as views
from .context import NodeContext
from .values import Held


@register("onnx", "frontend", ("Reshape", 1))
def reshape_attribute(ctx: NodeContext, node):
    """Opsets 1-4: the target is the attribute ``shape``."""
    held = ctx.held(0)
    return None if held is None else _reshape(ctx, held, list(ctx.attr("shape", [])), allowzero=False)


@register("onnx", "frontend", ("Reshape", 5))
def reshape(ctx: NodeContext, node):
    """Opset 5 on: the target is input 1 (0 copies the input's size unless allowzero=1, -1 takes the rest)."""
    held = ctx.held(0)
    target = ctx.shape_operand(1, "the target shape (input 1)")
    if held is None or target is None:
        return None
    return _reshape(ctx, held, target, allowzero=bool(ctx.attr("allowzero", 0)))


def _reshape(ctx: NodeContext, held: Held, target: list, allowzero: bool):
    resolved = views.resolve_target(held.shape, target, allowzero, ctx.capture.fixed_batch)
    if isinstance(resolved, str):
        return ctx.unsupported(f"{resolved}. Expected a target that keeps the batch on an axis of its own. Received: "
                               f"input shape={list(held.shape)}, target={target}")
    return ctx.reshape(held, resolved)


@register("onnx", "frontend", ("Flatten", 1))
def flatten(ctx: NodeContext, node):
    """(d0 * ... * d[axis-1], d[axis] * ...): with axis=1 on a batch-first value, the IR's flatten."""
    held = ctx.held(0)
    if held is None:
        return None
    shape = held.shape
    axis = ctx.attr("axis", 1)
    axis = axis + len(shape) if axis < 0 else axis
    before, after = shape[:axis], shape[axis:]
    if BATCH in after or any(d != 1 for d in before if d != BATCH) or BATCH not in before:
        return ctx.unsupported(f"the batch must be the only axis before axis={axis} larger than 1. Expected a "
                               f"flatten that keeps the batch. Received: shape={list(shape)}")
    if any(isinstance(d, str) for d in after):  # sizes the IR's flatten multiplies out (a map of any size)
        x = ctx.value(0) if axis == 1 else None
        return ctx.add("flatten", [x], {"axis": 1}) if x is not None else ctx.unsupported(
            f"flattened symbolic sizes need the batch alone in front. Expected axis=1. Received: axis={axis}, "
            f"shape={list(shape)}")
    return ctx.reshape(held, (BATCH, views.size(after)))


@register("onnx", "frontend", ("Transpose", 1))
def transpose(ctx: NodeContext, node):
    held = ctx.held(0)
    if held is None:
        return None
    perm = list(ctx.attr("perm", list(range(held.rank))[::-1]))
    return ctx.settle(views.transpose(held, perm))


@register("onnx", "frontend", ("Squeeze", 1))
def squeeze_attribute(ctx: NodeContext, node):
    """Opsets 1-12: the axes are an attribute."""
    return _squeeze(ctx, ctx.attr("axes"))


@register("onnx", "frontend", ("Squeeze", 13))
def squeeze(ctx: NodeContext, node):
    """Opset 13 on: the axes are the optional input 1."""
    axes = ctx.ints(1, "the axes (input 1)") if ctx.present(1) else None
    if ctx.present(1) and axes is None:
        return None
    return _squeeze(ctx, axes)


def _squeeze(ctx: NodeContext, axes):
    held = ctx.held(0)
    if held is None:
        return None
    shape = held.shape
    axes = [i for i, d in enumerate(shape) if d == 1] if axes is None else [a % len(shape) for a in axes]
    if any(shape[a] != 1 for a in axes):
        return ctx.unsupported(f"only axes of size 1 can be squeezed (the batch is never one). Received: "
                               f"axes={axes}, shape={list(shape)}")
    return ctx.reshape(held, tuple(d for i, d in enumerate(shape) if i not in axes))


@register("onnx", "frontend", ("Unsqueeze", 1))
def unsqueeze_attribute(ctx: NodeContext, node):
    """Opsets 1-12: the axes are an attribute."""
    return _unsqueeze(ctx, list(ctx.attr("axes", [])))


@register("onnx", "frontend", ("Unsqueeze", 13))
def unsqueeze(ctx: NodeContext, node):
    """Opset 13 on: the axes are input 1."""
    axes = ctx.ints(1, "the axes (input 1)")
    return None if axes is None else _unsqueeze(ctx, axes)


def _unsqueeze(ctx: NodeContext, axes: list[int]):
    held = ctx.held(0)
    if held is None:
        return None
    rank = held.rank + len(axes)
    axes = sorted(a % rank for a in axes)
    shape = list(held.shape)
    for axis in axes:
        shape.insert(axis, 1)
    return ctx.reshape(held, tuple(shape))


@register("onnx", "frontend", ("Expand", 8))
def expand(ctx: NodeContext, node):
    """Broadcast to a shape (numpy's rules, both ways: a target size of 1 keeps the input's); the IR's expand
    gives every axis of the result, new ones in front."""
    x = ctx.value(0)
    target = ctx.shape_operand(1, "the shape (input 1)")
    if x is None or target is None:
        return None
    shape = list(ctx.ir_shape(x))
    rank = max(len(shape), len(target))
    shape = [1] * (rank - len(shape)) + shape
    target = [1] * (rank - len(target)) + list(target)
    sizes = [have if want == 1 else want for have, want in zip(shape, target)]
    if sizes == list(ctx.ir_shape(x)):
        return x
    return ctx.add("expand", [x], {"shape": [dims.normal(d) if isinstance(d, str) else int(d) for d in sizes]})


@register("onnx", "frontend", ("Tile", 6))
def tile(ctx: NodeContext, node):
    """numpy.tile by the constant repeats (input 1), one per axis; the IR's tile refuses a batch repeated."""
    x = ctx.value(0)
    repeats = ctx.ints(1, "the repeats (input 1)")
    return None if x is None or repeats is None else ctx.add("tile", [x], {"repeats": repeats})
