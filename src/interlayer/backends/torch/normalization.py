"""layer_norm -> nn.LayerNorm (between two permutes when the axes are not the trailing ones);
group_norm -> nn.GroupNorm; lrn -> nn.LocalResponseNorm when its window is PyTorch's, else the same sum written out."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...ir import layout
from ...registry import register
from .context import Step, parameter


def _affine(ctx: Step, module: nn.Module, shape) -> None:
    """The IR's scale and offset; a missing scale is ones and a missing offset zeros (exact)."""
    attrs, weights = ctx.attrs, ctx.node.weights
    dtype = next(iter(weights.values())).dtype if weights else np.float32
    if getattr(module, "weight", None) is not None:
        module.weight = parameter(weights["scale"] if attrs["scale"] else np.ones(shape, dtype))
    if getattr(module, "bias", None) is not None:
        module.bias = parameter(weights["offset"] if attrs["center"] else np.zeros(shape, dtype))


@register("torch", "backend", "layer_norm")
def layer_norm(ctx: Step, node):
    attrs = ctx.attrs
    rank, axes, shape = len(ctx.shape()), list(attrs["axes"]), tuple(attrs["normalized_shape"])
    module = nn.LayerNorm(shape, eps=attrs["epsilon"], elementwise_affine=attrs["scale"] or attrs["center"],
                          bias=attrs["center"])
    _affine(ctx, module, shape)
    if axes == list(range(rank - len(axes), rank)):
        return ctx.module(module, ctx.input)
    # No torch layer normalises leading axes. Moving them last around a native nn.LayerNorm (as torchvision's
    # LayerNorm2d does for ConvNeXt) keeps PyTorch's own kernel and a module with the usual weight/bias names;
    # a hand-written mean/variance would be a second implementation to trust.
    perm = [d for d in range(rank) if d not in axes] + axes
    value = ctx.method("permute", ctx.input, *perm, suffix="_permute")
    value = ctx.module(module, value)
    return ctx.method("permute", value, *layout.invert(perm), suffix="_restore")


@register("torch", "backend", "group_norm")
def group_norm(ctx: Step, node):
    attrs = ctx.attrs
    module = nn.GroupNorm(attrs["num_groups"], attrs["num_channels"], eps=attrs["epsilon"],
                          affine=attrs["scale"] or attrs["center"])
    _affine(ctx, module, (attrs["num_channels"],))
    return ctx.module(module, ctx.input)


@register("torch", "backend", "lrn")
def lrn(ctx: Step, node):
    """nn.LocalResponseNorm's window starts size // 2 channels before each channel; another start (ONNX's
    (size - 1) // 2 for an even size) pads the squares with ``before`` zero channels in front and sums each
    channel's ``size`` padded neighbours (Tensor.unfold along the channels)."""
    attrs = ctx.attrs
    size, before, alpha, beta, bias = attrs["size"], attrs["before"], attrs["alpha"], attrs["beta"], attrs["bias"]
    if before == size // 2:
        return ctx.module(nn.LocalResponseNorm(size, alpha=alpha, beta=beta, k=bias), ctx.input)
    x, spatial = ctx.input, len(ctx.shape()) - 2
    squares = ctx.call(torch.mul, x, x, suffix="_squares")
    padded = ctx.call(F.pad, squares, (0, 0) * spatial + (before, size - 1 - before), suffix="_pad")
    windows = ctx.method("unfold", padded, 1, size, 1, suffix="_windows")
    total = ctx.method("sum", windows, -1, suffix="_sum")
    scaled = ctx.call(torch.add, ctx.call(torch.mul, total, alpha / size, suffix="_scale"), bias, suffix="_bias")
    return ctx.call(torch.div, x, ctx.call(torch.pow, scaled, beta, suffix="_pow"))
