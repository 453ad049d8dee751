"""LayerNorm, GroupNorm and InstanceNorm, as modules and as functions (the functions without weight tensors:
tensors held outside a layer have no IR equivalent); LocalResponseNorm, whose window starts size // 2 channels
before each channel (F.local_response_norm pads size // 2 channels in front and (size - 1) // 2 behind)."""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from ...registry import register
from .context import Call, to_numpy

_SOURCES = {"scale": "weight", "offset": "bias"}


def _no_tensors(ctx: Call, function: str, layer: str) -> bool:
    """True when the function's weight and bias (arguments 2 and 3) are None; otherwise the problem is recorded."""
    weight, bias = ctx.arg(2, "weight", None), ctx.arg(3, "bias", None)
    if weight is None and bias is None:
        return True
    ctx.unsupported(f"{function}'s weight and bias must be None. Expected the affine parameters inside a layer "
                    f"({layer}). Received: weight={weight!r}, bias={bias!r}")
    return False


def _weights(module) -> dict:
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    return {"scale": None if weight is None else to_numpy(weight), "offset": None if bias is None else to_numpy(bias)}


def normalized_shape(ctx: Call) -> list[int]:
    """The trailing sizes a LayerNorm (module or function) normalises over."""
    normalized = ctx.option("normalized_shape", 1)
    return [int(normalized)] if isinstance(normalized, int) else [int(d) for d in normalized]


@register("torch", "frontend", nn.LayerNorm, F.layer_norm)
def layer_norm(ctx: Call, target):
    rank = len(ctx.shape(ctx.node.args[0]))
    normalized = normalized_shape(ctx)
    axes = list(range(rank - len(normalized), rank))
    if axes[0] < 1:
        return ctx.unsupported(f"normalising over the batch axis has no IR equivalent. Expected normalized_shape "
                               f"to cover fewer than {rank} axes. Received: normalized_shape={tuple(normalized)}")
    attrs = {"axes": axes, "normalized_shape": normalized, "epsilon": float(ctx.option("eps", 4, 1e-5))}
    if ctx.module is None:
        if not _no_tensors(ctx, "F.layer_norm", "nn.LayerNorm"):
            return None
        return ctx.add("layer_norm", [ctx.input], {**attrs, "center": False, "scale": False})
    weights = _weights(ctx.module)
    attrs.update(scale=weights["scale"] is not None, center=weights["offset"] is not None)
    return ctx.add("layer_norm", [ctx.input], attrs, weights, sources=_SOURCES)


@register("torch", "frontend", nn.GroupNorm, F.group_norm)
def group_norm(ctx: Call, target):
    channels = ctx.option("num_channels", None, ctx.shape(ctx.node.args[0])[1])
    attrs = {"num_groups": int(ctx.option("num_groups", 1)), "num_channels": int(channels),
             "epsilon": float(ctx.option("eps", 4, 1e-5))}
    if ctx.module is None:
        if not _no_tensors(ctx, "F.group_norm", "nn.GroupNorm"):
            return None
        return ctx.add("group_norm", [ctx.input], {**attrs, "center": False, "scale": False})
    weights = _weights(ctx.module)
    attrs.update(scale=weights["scale"] is not None, center=weights["offset"] is not None)
    return ctx.add("group_norm", [ctx.input], attrs, weights, sources=_SOURCES)


_INSTANCE_RANKS = {nn.InstanceNorm1d: 3, nn.InstanceNorm2d: 4, nn.InstanceNorm3d: 5}


@register("torch", "frontend", *_INSTANCE_RANKS, F.instance_norm)
def instance_norm(ctx: Call, target):
    """Each example's channels normalised over their own positions: a ``group_norm`` of one channel per group. A
    layer that tracks running statistics normalises with those at inference: a ``batch_norm``."""
    shape = ctx.shape(ctx.node.args[0])
    if ctx.module is None:
        stats = [ctx.arg(index, name, None) for index, name in ((1, "running_mean"), (2, "running_var"))]
        if any(item is not None for item in stats) or not ctx.const(ctx.arg(5, "use_input_stats", True)):
            return ctx.unsupported("F.instance_norm normalises with each example's own statistics here. Expected "
                                   "running_mean and running_var None and use_input_stats=True (running statistics "
                                   "belong in an nn.InstanceNorm layer)")
        tensors = [ctx.arg(index, name, None) for index, name in ((3, "weight"), (4, "bias"))]
        if any(item is not None for item in tensors):
            return ctx.unsupported("F.instance_norm's weight and bias must be None. Expected the affine parameters "
                                   "inside a layer (nn.InstanceNorm with affine=True)")
        attrs = {"num_groups": shape[1], "num_channels": shape[1], "epsilon": float(ctx.option("eps", 7, 1e-5)),
                 "center": False, "scale": False}
        return ctx.add("group_norm", [ctx.input], attrs)
    module = ctx.module
    rank = _INSTANCE_RANKS[ctx.layer_type]
    if len(shape) != rank:
        return ctx.unsupported(f"the input must be batched. Expected a rank {rank} input "
                               f"(N, C, *spatial). Received: shape={tuple(shape)}")
    if module.track_running_stats and module.running_mean is not None:
        attrs = {"num_features": shape[1], "epsilon": float(module.eps), "momentum": module.momentum,
                 "center": module.affine, "scale": module.affine}
        weights = {"mean": to_numpy(module.running_mean), "variance": to_numpy(module.running_var),
                   **(_weights(module) if module.affine else {})}
        sources = {**_SOURCES, "mean": "running_mean", "variance": "running_var"}
        return ctx.add("batch_norm", [ctx.input], attrs, weights, sources=sources)
    attrs = {"num_groups": shape[1], "num_channels": shape[1], "epsilon": float(module.eps),
             "center": module.affine, "scale": module.affine}
    return ctx.add("group_norm", [ctx.input], attrs, _weights(module) if module.affine else {}, sources=_SOURCES)


@register("torch", "frontend", nn.LocalResponseNorm, F.local_response_norm)
def local_response_norm(ctx: Call, target):
    size = int(ctx.option("size", 1))
    attrs = {"size": size, "alpha": float(ctx.option("alpha", 2, 1e-4)), "beta": float(ctx.option("beta", 3, 0.75)),
             "bias": float(ctx.option("k", 4, 1.0)), "before": size // 2}
    return ctx.add("lrn", [ctx.input], attrs)
