"""linear, conv, batch_norm as nn.Linear, nn.Conv1d/2d/3d (behind a zero pad when pads are asymmetric),
nn.BatchNorm1d/2d/3d."""
from __future__ import annotations

import numpy as np
from torch import nn

from ...registry import register
from .context import Step, parameter, per_rank, single, tensor, torch_pads

_CONV = {3: nn.Conv1d, 4: nn.Conv2d, 5: nn.Conv3d}
_ZERO_PAD = {3: nn.ZeroPad1d, 4: nn.ZeroPad2d, 5: nn.ZeroPad3d}
_BATCH_NORM = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}


@register("torch", "backend", "linear")
def linear(ctx: Step, node):
    attrs = ctx.attrs
    module = nn.Linear(attrs["in_features"], attrs["out_features"], bias=attrs["bias"])
    module.weight = parameter(node.weights["weight"])
    if attrs["bias"]:
        module.bias = parameter(node.weights["bias"])
    return ctx.module(module, ctx.input)


@register("torch", "backend", "conv")
def conv(ctx: Step, node):
    attrs = ctx.attrs
    rank = len(attrs["kernel_size"])
    cls = per_rank(_CONV, ctx, "convolution")
    if cls is None:
        return None
    begin, end = attrs["pads"][:rank], attrs["pads"][rank:]
    module = cls(attrs["in_channels"], attrs["out_channels"], single(attrs["kernel_size"]),
                 stride=single(attrs["strides"]), padding=single(begin) if begin == end else 0,
                 dilation=single(attrs["dilations"]), groups=attrs["groups"], bias=attrs["bias"])
    module.weight = parameter(node.weights["weight"])
    if attrs["bias"]:
        module.bias = parameter(node.weights["bias"])
    value = ctx.input
    if begin != end:  # asymmetric ('same' with an even kernel or a stride): pad explicitly, exactly
        value = ctx.module(_ZERO_PAD[rank + 2](torch_pads(attrs["pads"], rank)), value, suffix="_pad")
    return ctx.module(module, value)


@register("torch", "backend", "batch_norm")
def batch_norm(ctx: Step, node):
    attrs, weights = ctx.attrs, node.weights
    cls = per_rank(_BATCH_NORM, ctx, "batch normalisation")
    if cls is None:
        return None
    affine = attrs["center"] or attrs["scale"]
    module = cls(attrs["num_features"], eps=attrs["epsilon"], momentum=attrs["momentum"], affine=affine)
    mean = weights["mean"]
    if affine:  # a missing scale is ones and a missing offset zeros: exact
        module.weight = parameter(weights["scale"] if attrs["scale"] else np.ones_like(mean))
        module.bias = parameter(weights["offset"] if attrs["center"] else np.zeros_like(mean))
    module.running_mean = tensor(mean)
    module.running_var = tensor(weights["variance"])
    return ctx.module(module, ctx.input)
