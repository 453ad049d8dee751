"""Layers with weights: Linear, Conv1d/2d/3d, BatchNorm1d/2d/3d."""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from ...ir import layout
from ...registry import register
from .algebra import constant
from .context import Call, ntuple, to_numpy
from .tensor import MODES, add_pad


@register("torch", "frontend", nn.Linear)
def linear(ctx: Call, module: nn.Linear):
    return ctx.add(
        "linear", [ctx.input],
        {"in_features": module.in_features, "out_features": module.out_features, "bias": module.bias is not None},
        {"weight": to_numpy(module.weight), "bias": None if module.bias is None else to_numpy(module.bias)},
        sources={"weight": "weight", "bias": "bias"},
    )


@register("torch", "frontend", F.linear)
def functional_linear(ctx: Call, target):
    """``F.linear(x, weight, bias)`` with the model's own parameters (a subclass's forward, ``x @ w.T + b`` written
    as a call): an IR linear, the parameters' state_dict names kept."""
    weight = constant(ctx, ctx.arg(1, "weight"))
    bias_arg = ctx.arg(2, "bias", None)
    bias = None if bias_arg is None else constant(ctx, bias_arg)
    if weight is None or weight.array.ndim != 2 or (bias_arg is not None and (bias is None or bias.array.ndim != 1)):
        return ctx.unsupported("weight and bias must be parameters or buffers of the model. Expected a constant "
                               "(out_features, in_features) weight and a constant (out_features,) bias or None")
    out_features, in_features = weight.array.shape
    attrs = {"in_features": in_features, "out_features": out_features, "bias": bias is not None}
    return ctx.add("linear", [ctx.input], attrs, {"weight": weight.array, "bias": None if bias is None else bias.array},
                   sources={"weight": weight.source, "bias": None if bias is None else bias.source})


@register("torch", "frontend", nn.Conv1d, nn.Conv2d, nn.Conv3d)
def conv(ctx: Call, module: nn.Conv2d):
    """A conv; with padding_mode 'reflect', 'replicate' or 'circular' a ``pad`` node of that mode named
    ``<conv>_pad`` first, as PyTorch computes it, and the conv without padding."""
    rank = len(module.kernel_size)
    if len(ctx.shape(ctx.node.args[0])) != rank + 2:
        return ctx.unsupported(f"the input must be batched. Expected a rank {rank + 2} input (N, C, *spatial). "
                               f"Received: shape={ctx.shape(ctx.node.args[0])}")
    kernel, strides, dilations = list(module.kernel_size), list(module.stride), list(module.dilation)
    if module.padding == "same":
        # PyTorch pads d*(k-1) per axis, the odd one at the end: TensorFlow's rule at stride 1
        pads = layout.same_pads_all(ctx.shape(ctx.node.args[0])[2:], kernel, strides, dilations)
    elif module.padding == "valid":
        pads = [0] * (2 * rank)
    else:
        pads = ntuple(module.padding, rank) * 2
    x = ctx.input
    if module.padding_mode != "zeros" and any(pads):
        x = add_pad(ctx, x, pads, MODES[module.padding_mode], role="pad")
        if x is None:
            return None
        pads = [0] * (2 * rank)
    attrs = {"in_channels": module.in_channels, "out_channels": module.out_channels, "kernel_size": kernel,
             "strides": strides, "dilations": dilations, "pads": pads, "groups": module.groups,
             "bias": module.bias is not None}
    weights = {"weight": to_numpy(module.weight), "bias": None if module.bias is None else to_numpy(module.bias)}
    return ctx.add("conv", [x], attrs, weights, sources={"weight": "weight", "bias": "bias"})


@register("torch", "frontend", nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
def batch_norm(ctx: Call, module: nn.BatchNorm2d):
    if not module.track_running_stats or module.running_mean is None:
        return ctx.unsupported("track_running_stats must be True. Expected running statistics, which inference "
                               "batch normalisation uses. Received: track_running_stats=False")
    attrs = {"num_features": module.num_features, "epsilon": float(module.eps), "momentum": module.momentum,
             "center": module.affine, "scale": module.affine}
    weights = {"mean": to_numpy(module.running_mean), "variance": to_numpy(module.running_var)}
    if module.affine:
        weights.update(scale=to_numpy(module.weight), offset=to_numpy(module.bias))
    sources = {"scale": "weight", "offset": "bias", "mean": "running_mean", "variance": "running_var"}
    return ctx.add("batch_norm", [ctx.input], attrs, weights, sources=sources)
