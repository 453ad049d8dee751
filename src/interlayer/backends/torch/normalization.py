"""layer_norm -> nn.LayerNorm (between two permutes when the axes are not the trailing ones);
group_norm -> nn.GroupNorm."""
from __future__ import annotations

import numpy as np
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
