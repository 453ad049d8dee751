"""Ops that move data: flatten, view/reshape, dropout, pad, identity; and cat (add is in algebra.py)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import register
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


@register("torch", "frontend", nn.Dropout, F.dropout)
def dropout(ctx: Call, target):
    if ctx.module is None and ctx.const(ctx.arg(2, "training", True)):
        return ctx.unsupported("F.dropout is active at inference. Expected training=False (e.g. "
                               "training=self.training). Received: training=True")
    return ctx.add("dropout", [ctx.input], {"rate": float(ctx.option("p", 1, 0.5))})


@register("torch", "frontend", nn.ZeroPad1d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d, F.pad)
def pad(ctx: Call, target):
    if ctx.module is None:
        padding, mode = ctx.const(ctx.arg(1, "pad")), ctx.const(ctx.arg(2, "mode", "constant"))
        value = ctx.const(ctx.arg(3, "value", None))
        if mode != "constant":
            return ctx.unsupported(f"mode must be 'constant'. Expected constant padding, the only padding the IR "
                                   f"has. Received: mode={mode!r}")
    else:
        padding, value = ctx.module.padding, ctx.module.value
    pads = ir_pads(list(padding), len(ctx.shape(ctx.node.args[0])))
    if pads is None:
        return ctx.unsupported(f"only spatial axes (2...) may be padded. Expected at most 2 pads per spatial axis. "
                               f"Received: pad={tuple(padding)}")
    if ctx.module is None and not any(pads):
        return ctx.input  # F.pad by zero (TF-style 'same' padding computed per layer) computes nothing
    return ctx.add("pad", [ctx.input], {"pads": pads, "value": float(value or 0.0)})


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
