"""max_pool, avg_pool and global pools as nn.MaxPool/AvgPool/AdaptiveAvgPool layers.

PyTorch pads pooling windows symmetrically, at most half a window. Other pads are expressed only where that is
exact (same window positions, same divisor per window as the reference kernel): an explicit pad layer in front
of an unpadded pool (max pooling: -inf; average pooling counting its padding: zeros), or, for average pooling
that does not count padding, torch padding whose windows start where the IR's do, extra windows cropped.
``ceil_mode`` is chosen so that the output length is the IR's; anything else is an UnsupportedLayerError.
"""
from __future__ import annotations

import operator

import torch
from torch import nn

from ...ir.ops.schema import spatial_out
from ...registry import register
from .context import Step, per_rank, single, torch_pads

_MAX = {3: nn.MaxPool1d, 4: nn.MaxPool2d, 5: nn.MaxPool3d}
_AVG = {3: nn.AvgPool1d, 4: nn.AvgPool2d, 5: nn.AvgPool3d}
_PAD = {3: nn.ConstantPad1d, 4: nn.ConstantPad2d, 5: nn.ConstantPad3d}
_GLOBAL = {
    "avg": {3: nn.AdaptiveAvgPool1d, 4: nn.AdaptiveAvgPool2d, 5: nn.AdaptiveAvgPool3d},
    "max": {3: nn.AdaptiveMaxPool1d, 4: nn.AdaptiveMaxPool2d, 5: nn.AdaptiveMaxPool3d},
}


def _ceil_mode(ctx: Step, sizes, padding, dilations, same_formula: bool) -> bool | None:
    """The ceil_mode giving torch's pool (``padding`` on both sides of ``sizes``) the IR output length."""
    if same_formula:
        return ctx.attrs["ceil_mode"]
    want = ctx.out_shape[2:]
    if any(isinstance(v, str) for v in (*sizes, *want)):
        return None
    attrs = ctx.attrs
    for mode in (attrs["ceil_mode"], not attrs["ceil_mode"]):
        lengths = [spatial_out(n, k, s, d, p, p, mode)
                   for n, k, s, d, p in zip(sizes, attrs["kernel_size"], attrs["strides"], dilations, padding)]
        if lengths == list(want):
            return mode
    return None


def _padded(ctx: Step) -> list:
    rank = len(ctx.attrs["kernel_size"])
    pads = ctx.attrs["pads"]
    return [n if isinstance(n, str) else n + pads[i] + pads[rank + i] for i, n in enumerate(ctx.shape()[2:])]


@register("torch", "backend", "max_pool")
def max_pool(ctx: Step, node):
    attrs = ctx.attrs
    cls = per_rank(_MAX, ctx, "max pooling")
    if cls is None:
        return None
    rank, kernel, dilations = len(attrs["kernel_size"]), attrs["kernel_size"], attrs["dilations"]
    begin, end = attrs["pads"][:rank], attrs["pads"][rank:]
    window = dict(kernel_size=single(kernel), stride=single(attrs["strides"]), dilation=single(dilations))
    if begin == end and all(p <= k // 2 for p, k in zip(begin, kernel)):  # torch: at most half the window
        return ctx.module(cls(**window, padding=single(begin), ceil_mode=attrs["ceil_mode"]), ctx.input)
    # padded positions never win: pad with -inf, then pool without padding
    mode = _ceil_mode(ctx, _padded(ctx), [0] * rank, dilations, same_formula=not attrs["ceil_mode"])
    if mode is None:
        return ctx.unsupported(f"these pads and ceil_mode give an output length no torch pooling gives. Expected "
                               f"symmetric pads of at most half the window, or ceil_mode=False. "
                               f"Received: pads={attrs['pads']}, ceil_mode=True")
    value = ctx.module(_PAD[rank + 2](torch_pads(attrs["pads"], rank), float("-inf")), ctx.input, suffix="_pad")
    return ctx.module(cls(**window, padding=0, ceil_mode=mode), value)


@register("torch", "backend", "avg_pool")
def avg_pool(ctx: Step, node):
    attrs = ctx.attrs
    cls = per_rank(_AVG, ctx, "average pooling")
    if cls is None:
        return None
    rank, kernel = len(attrs["kernel_size"]), attrs["kernel_size"]
    begin, end = attrs["pads"][:rank], attrs["pads"][rank:]
    window = dict(kernel_size=single(kernel), stride=single(attrs["strides"]))
    if not attrs["count_include_pad"]:
        return _avg_exclude(ctx, cls, window)
    if begin == end and all(2 * p <= k for p, k in zip(begin, kernel)):
        return ctx.module(cls(**window, padding=single(begin), ceil_mode=attrs["ceil_mode"]), ctx.input)
    # explicit zeros count like input positions; positions past them (ceil_mode) never count, as in the IR
    mode = _ceil_mode(ctx, _padded(ctx), [0] * rank, [1] * rank, same_formula=not attrs["ceil_mode"])
    if mode is None:
        return _no_avg_pool(ctx)
    value = ctx.module(_PAD[rank + 2](torch_pads(attrs["pads"], rank), 0.0), ctx.input, suffix="_pad")
    return ctx.module(cls(**window, padding=0, ceil_mode=mode), value)


def _avg_exclude(ctx: Step, cls, window):
    """count_include_pad=False: padding never counts, so any torch padding whose windows start where the IR's
    do is exact; extra windows at either end are cropped (Keras 'same' has begin pads 0 and ends > 0)."""
    attrs = ctx.attrs
    rank = len(attrs["kernel_size"])
    begin, end = attrs["pads"][:rank], attrs["pads"][rank:]
    if begin == end:
        plan = (begin, attrs["ceil_mode"], None)
    else:
        plan = _crop_plan(ctx, begin)
    if plan is None:
        return _no_avg_pool(ctx)
    padding, mode, crop = plan
    value = ctx.module(cls(**window, padding=single(padding), ceil_mode=mode, count_include_pad=False), ctx.input)
    if crop is not None:
        value = ctx.call(operator.getitem, value, (slice(None), slice(None), *crop), suffix="_crop")
    return value


def _crop_plan(ctx: Step, begin: list[int]):
    """Symmetric torch padding p >= begin (at most half the window) whose windows, from the
    ``(p - begin) / stride``-th on, are the IR's: ``(padding, ceil_mode, slices)``, or None."""
    attrs = ctx.attrs
    sizes, want = ctx.shape()[2:], ctx.out_shape[2:]
    if any(isinstance(v, str) for v in (*sizes, *want)):
        return None
    for mode in (attrs["ceil_mode"], not attrs["ceil_mode"]):
        padding, crop = [], []
        for n, k, s, b, w in zip(sizes, attrs["kernel_size"], attrs["strides"], begin, want):
            for p in range(b, k // 2 + 1):
                skip = (p - b) // s
                if (p - b) % s == 0 and spatial_out(n, k, s, 1, p, p, mode) >= skip + w:
                    padding.append(p)
                    crop.append(slice(skip, skip + w) if spatial_out(n, k, s, 1, p, p, mode) != skip + w or skip
                                else slice(None))
                    break
        if len(padding) == len(sizes):
            return padding, mode, None if all(c == slice(None) for c in crop) else crop
    return None


def _no_avg_pool(ctx: Step):
    attrs = ctx.attrs
    return ctx.unsupported(
        f"no torch average pooling has these windows and divisors. Expected symmetric pads of at most half the "
        f"window, or pads torch can match with ceil_mode and cropping. Received: pads={attrs['pads']}, "
        f"count_include_pad={attrs['count_include_pad']}, ceil_mode={attrs['ceil_mode']}, "
        f"input shape={ctx.shape()}"
    )


@register("torch", "backend", "global_avg_pool")
def global_avg_pool(ctx: Step, node):
    return _global(ctx, "avg")


@register("torch", "backend", "global_max_pool")
def global_max_pool(ctx: Step, node):
    return _global(ctx, "max")


def _global(ctx: Step, kind: str):
    cls = per_rank(_GLOBAL[kind], ctx, f"global {kind} pooling")
    if cls is None:
        return None
    value = ctx.module(cls(1), ctx.input)
    if not ctx.attrs["keepdims"]:
        value = ctx.call(torch.flatten, value, 1, suffix="_flatten")
    return value
