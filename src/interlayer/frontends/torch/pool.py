"""Pooling: MaxPool, AvgPool and adaptive pooling (1-D and 2-D), as modules and as functions."""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from ...registry import register
from .context import Call, ntuple


def _window(ctx: Call, rank: int) -> dict:
    """kernel_size, strides, pads and ceil_mode shared by max and average pooling."""
    kernel = ntuple(ctx.option("kernel_size", 1), rank)
    stride = ctx.option("stride", 2, None)
    strides = ntuple(stride, rank) if stride not in (None, [], ()) else list(kernel)
    pads = ntuple(ctx.option("padding", 3, 0), rank) * 2
    return {"kernel_size": kernel, "strides": strides, "pads": pads}


def _rank(ctx: Call, target) -> int | None:
    """The spatial rank of the layer (from its ``1d``/``2d`` name), None when the input is unbatched."""
    name = ctx.layer_type.__name__ if ctx.module is not None else target.__name__
    rank = int(name[-2])
    if len(ctx.shape(ctx.node.args[0])) != rank + 2:
        ctx.unsupported(f"the input must be batched. Expected a rank {rank + 2} input (N, C, *spatial). "
                        f"Received: shape={ctx.shape(ctx.node.args[0])}")
        return None
    return rank


@register("torch", "frontend", nn.MaxPool1d, nn.MaxPool2d, F.max_pool1d, F.max_pool2d)
def max_pool(ctx: Call, target):
    rank = _rank(ctx, target)
    if rank is None:
        return None
    if ctx.option("return_indices", 6, False):
        return ctx.unsupported("return_indices must be False. Expected pooled values only; the IR has no "
                               "indices output. Received: return_indices=True")
    attrs = _window(ctx, rank)
    attrs.update(dilations=ntuple(ctx.option("dilation", 4, 1), rank),
                 ceil_mode=bool(ctx.option("ceil_mode", 5, False)))
    return ctx.add("max_pool", [ctx.input], attrs)


@register("torch", "frontend", nn.AvgPool1d, nn.AvgPool2d, F.avg_pool1d, F.avg_pool2d)
def avg_pool(ctx: Call, target):
    rank = _rank(ctx, target)
    if rank is None:
        return None
    divisor = ctx.option("divisor_override", 6, None)
    if divisor is not None:
        return ctx.unsupported(f"divisor_override must be None. Expected the window's own count as divisor. "
                               f"Received: divisor_override={divisor}")
    attrs = _window(ctx, rank)
    attrs.update(ceil_mode=bool(ctx.option("ceil_mode", 4, False)),
                 count_include_pad=bool(ctx.option("count_include_pad", 5, True)))
    return ctx.add("avg_pool", [ctx.input], attrs)


@register("torch", "frontend", nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, F.adaptive_avg_pool1d,
          F.adaptive_avg_pool2d)
def adaptive_avg_pool(ctx: Call, target):
    return _adaptive(ctx, target, "avg")


@register("torch", "frontend", nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, F.adaptive_max_pool1d,
          F.adaptive_max_pool2d)
def adaptive_max_pool(ctx: Call, target):
    if ctx.option("return_indices", 2, False):
        return ctx.unsupported("return_indices must be False. Expected pooled values only; the IR has no "
                               "indices output. Received: return_indices=True")
    return _adaptive(ctx, target, "max")


def _adaptive(ctx: Call, target, kind: str):
    """Output size 1: a global pool; an output size that divides the input: a plain pool (same windows)."""
    rank = _rank(ctx, target)
    if rank is None:
        return None
    requested = ctx.option("output_size", 1)
    spatial = ctx.shape(ctx.node.args[0])[2:]
    sizes = requested if isinstance(requested, (list, tuple)) else [requested] * rank
    out = [size if wanted is None else int(wanted) for wanted, size in zip(sizes, spatial)]
    if all(o == 1 for o in out):
        return ctx.add(f"global_{kind}_pool", [ctx.input], {"keepdims": True})
    if any(size % o for size, o in zip(spatial, out)):
        return ctx.unsupported(f"output_size must be 1 or divide the input size. Expected windows of one size, "
                               f"as IR pooling has. Received: output_size={requested}, input size={tuple(spatial)}")
    kernel = [size // o for size, o in zip(spatial, out)]
    return ctx.add(f"{kind}_pool", [ctx.input], {"kernel_size": kernel, "strides": list(kernel)})
