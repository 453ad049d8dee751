"""Ops that move data: flatten, view/reshape, dropout, pad, identity, repeat/tile; and cat (add is in algebra.py)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...ir import ops
from ...registry import register
from .algebra import constant
from .attention import batch_source, call_sizes, grown_over_batch
from .context import Call


@register("torch", "frontend", nn.Flatten, torch.flatten, "flatten")
def flatten(ctx: Call, target):
    rank = len(ctx.shape(ctx.node.args[0]))
    start_dim, end_dim = ctx.option("start_dim", 1, 0), ctx.option("end_dim", 2, -1)
    start, end = ctx.axis(start_dim, rank), ctx.axis(end_dim, rank)
    if start == 0:
        return ctx.unsupported(f"flattening the batch axis has no IR equivalent. Expected start_dim >= 1. "
                               f"Received: start_dim={start_dim}")
    if start == 1 and end == rank - 1:
        return ctx.add("flatten", [ctx.input])
    return ctx.add("reshape", [ctx.input], {"shape": list(ctx.shape()[1:])})


@register("torch", "frontend", "view", "reshape", torch.reshape)
def reshape(ctx: Call, target):
    sizes = ctx.node.args[1:] if isinstance(target, str) else [ctx.arg(1, "shape")]
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = sizes[0]
    first = sizes[0] if sizes else None
    if isinstance(first, int) and first != -1:
        return ctx.unsupported(f"the batch size must not be written into the new shape. Expected -1 or "
                               f"x.size(0) as its first entry. Received: shape[0]={first}")
    source, result = ctx.shape(ctx.node.args[0]), ctx.shape()
    if not result or result[0] != source[0]:
        return ctx.unsupported(f"the batch axis must be kept. Expected a new shape (batch, ...). "
                               f"Received: {tuple(source)} -> {tuple(result)}")
    return ctx.add("reshape", [ctx.input], {"shape": list(result[1:])})


@register("torch", "frontend", torch.unsqueeze, "unsqueeze", torch.squeeze, "squeeze")
def unsqueeze(ctx: Call, target):
    """unsqueeze and squeeze(dim) as a reshape of the IR value to the result (``h.unsqueeze(0)`` of a batch-first
    (N, H) is a recurrent state (1, N, H), held swapped: the IR's (N, 1, H))."""
    source, result = ctx.shape(ctx.node.args[0]), ctx.shape()
    squeeze = target in ("squeeze", torch.squeeze)
    if squeeze and ctx.arg(1, "dim", None) is None:
        return ctx.unsupported("squeeze() without dim removes the batch axis when the batch is 1. Expected "
                               "squeeze(dim)")
    if not result or result[0] != source[0] or (squeeze and ctx.axis(ctx.const(ctx.arg(1, "dim")), len(source)) == 0):
        return ctx.unsupported(f"the batch axis must be kept. Expected dim >= 1 (or 0, which makes a recurrent "
                               f"state of a batch-first tensor). Received: {tuple(source)} -> {tuple(result)}")
    return ctx.add("reshape", [ctx.input], {"shape": list(result[1:])})


@register("torch", "frontend", "contiguous")
def contiguous(ctx: Call, target):
    return ctx.input


@register("torch", "frontend", nn.Identity)
def identity(ctx: Call, target):
    return ctx.add("identity", [ctx.input])


@register("torch", "frontend", "repeat", "tile", torch.tile)
def tile(ctx: Call, target):
    """``x.repeat(*repeats)`` and ``torch.tile(x, dims)`` (``x.tile``) as one ``tile``, one count per axis, the
    batch's 1; tile with fewer dims than axes repeats the last axes (1s prepended, as numpy does). A constant
    repeated ``x.size(0)`` times (a class token) is a ``batch_constant``."""
    source = ctx.node.args[0]
    counts = call_sizes(ctx, "repeats" if target == "repeat" else "dims")
    rank = len(ctx.shape(source))
    if target != "repeat" and len(counts) < rank:
        counts = [1] * (rank - len(counts)) + counts
    if len(counts) != rank:
        return ctx.unsupported(f"more repeats than axes put new axes in front of the batch. Expected one repeat "
                               f"per axis of the rank {rank} input. Received: repeats={_written(counts)}")
    if ctx.is_constant(source):
        return _constant_over_batch(ctx, source, counts)
    if any(hasattr(count, "meta") for count in counts):
        return ctx.unsupported(f"a repeat count read from the batch size changes with the batch. Expected counts "
                               f"that are numbers. Received: repeats={_written(counts)}")
    repeats = [int(count) for count in counts]
    if repeats[0] != 1:
        return ctx.unsupported(f"repeating the batch axis has no IR equivalent: the batch stays the batch. Expected "
                               f"1 as the first repeat. Received: repeats={repeats}")
    return ctx.add("tile", [ctx.input], {"repeats": repeats})


def _written(counts: list) -> str:
    """The counts as written, ``batch`` where one reads the batch size."""
    return "[" + ", ".join("batch" if hasattr(count, "meta") else str(count) for count in counts) + "]"


def _constant_over_batch(ctx: Call, source, counts: list):
    """``constant.repeat(x.size(0), ...)``: the constant (its first axis 1), tiled along its other axes, repeated
    over the batch of x; trainable as the parameter was when the other counts are 1."""
    reference = batch_source(counts[:1])
    fixed = constant(ctx, source)
    rest = [ctx.const(count) for count in counts[1:]]
    if reference is None or ctx.is_constant(reference) or any(hasattr(count, "meta") for count in counts[1:]):
        return ctx.unsupported(f"a constant repeated a fixed number of times has no batch axis to follow. Expected "
                               f"the first count read from a tensor computed from the inputs (x.size(0)) and the "
                               f"others numbers. Received: repeats={_written(counts)}")
    if fixed.array.shape[0] != 1:
        return ctx.unsupported(f"only a constant with a leading axis of 1 can follow the batch. Expected size 1 "
                               f"first. Received: shape={fixed.array.shape}")
    return grown_over_batch(ctx, fixed, np.tile(fixed.array, [1, *rest]), reference)


@register("torch", "frontend", nn.Dropout, F.dropout)
def dropout(ctx: Call, target):
    if ctx.module is None and ctx.const(ctx.arg(2, "training", True)):
        return ctx.unsupported("F.dropout is active at inference. Expected training=False (e.g. "
                               "training=self.training). Received: training=True")
    return ctx.add("dropout", [ctx.input], {"rate": float(ctx.option("p", 1, 0.5))})


MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
"""PyTorch's padding modes as the IR's (numpy's) names."""

_MODULE_MODES = {
    **{cls: "constant" for cls in (nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d,
                                   nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d)},
    **{cls: "reflect" for cls in (nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d)},
    **{cls: "edge" for cls in (nn.ReplicationPad1d, nn.ReplicationPad2d, nn.ReplicationPad3d)},
    **{cls: "wrap" for cls in (nn.CircularPad1d, nn.CircularPad2d, nn.CircularPad3d)},
}


@register("torch", "frontend", *_MODULE_MODES, F.pad)
def pad(ctx: Call, target):
    if ctx.module is None:
        padding, mode = ctx.const(ctx.arg(1, "pad")), ctx.const(ctx.arg(2, "mode", "constant"))
        value = ctx.const(ctx.arg(3, "value", None))
        if mode not in MODES:
            return ctx.unsupported(f"mode must be one of {list(MODES)}. Received: mode={mode!r}")
        mode = MODES[mode]
    else:
        padding, value, mode = ctx.module.padding, getattr(ctx.module, "value", 0.0), _MODULE_MODES[ctx.layer_type]
    pads = ir_pads(list(padding), len(ctx.shape(ctx.node.args[0])))
    if pads is None:
        return ctx.unsupported(f"only spatial axes (2...) may be padded. Expected at most 2 pads per spatial axis. "
                               f"Received: pad={tuple(padding)}")
    if ctx.module is None and not any(pads):
        return ctx.input  # F.pad by zero (TF-style 'same' padding computed per layer) computes nothing
    return add_pad(ctx, ctx.input, pads, mode, float(value or 0.0) if mode == "constant" else 0.0)


def add_pad(ctx: Call, x: str, pads: list[int], mode: str, value: float = 0.0, role: str | None = None) -> str | None:
    """A ``pad`` node (named ``<call>_<role>`` for a helper node); pads the schema refuses in this mode (a
    negative pad, which crops, outside 'constant' mode) are reported with the schema's rule. PyTorch itself
    refuses to reflect or wrap past the input when the call is traced."""
    attrs = {"pads": pads, "value": value, "mode": mode}
    schema = ops.get("pad")
    problems = schema.problems(schema.fill(attrs))
    if problems:
        return ctx.unsupported(f"the IR's 'pad' cannot express it: {'; '.join(problems)}")
    if role is None:
        return ctx.add("pad", [x], attrs)
    return ctx.capture.builder.add("pad", [x], attrs, name=f"{ctx.name}_{role}")


def ir_pads(padding: list[int], ndim: int) -> list[int] | None:
    """PyTorch's pad (last axis first: left, right, top, bottom, ...) as IR pads, or None if it pads axis 0 or 1."""
    pairs = [(padding[2 * j], padding[2 * j + 1]) for j in range(len(padding) // 2)]
    rank = ndim - 2
    if len(padding) % 2 or any(pair != (0, 0) for pair in pairs[rank:]):
        return None
    per_axis = [pairs[rank - 1 - axis] if rank - 1 - axis < len(pairs) else (0, 0) for axis in range(rank)]
    return [begin for begin, _ in per_axis] + [end for _, end in per_axis]


@register("torch", "frontend", torch.cat, torch.concat, torch.concatenate)
def cat(ctx: Call, target):
    tensors = list(ctx.arg(0, "tensors"))
    dim = ctx.const(ctx.arg(1, "dim", ctx.arg(None, "axis", 0)))
    if not all(ctx.is_tensor(item) for item in tensors):
        return ctx.unsupported(f"only tensors can be joined. Expected a list of tensors. Received: {tensors!r}")
    axis = ctx.axis(dim, len(ctx.shape(tensors[0])))
    if axis == 0:
        return ctx.unsupported(f"joining along the batch axis has no IR equivalent. Expected dim >= 1 or a "
                               f"negative dim. Received: dim={dim}")
    if len(tensors) == 1:
        return ctx.add("identity", [ctx.value(tensors[0])])
    return ctx.add("concat", [ctx.value(item) for item in tensors], {"axis": axis})
