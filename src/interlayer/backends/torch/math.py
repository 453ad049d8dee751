"""Element-wise math as torch functions (torch.exp, torch.erf, torch.floor, torch.sin, ...) and layers
(nn.Softplus, nn.SELU, nn.Softsign, nn.Hardshrink, nn.Softshrink, nn.LogSoftmax)."""
from __future__ import annotations

import torch
from torch import nn

from ...registry import register
from .context import Step

_FUNCTIONS = {"exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs, "neg": torch.neg,
              "sign": torch.sign, "erf": torch.erf, "floor": torch.floor, "ceil": torch.ceil, "sin": torch.sin,
              "cos": torch.cos}

# PyTorch's default threshold: above 20, log(1 + exp(x)) and x differ by under exp(-20) ~ 2e-9, far below float32's
# resolution there (its spacing at 20 is 2e-6), so nn.Softplus() is the exact softplus in float32.
_DEFAULT_THRESHOLD = 20.0


@register("torch", "backend", *_FUNCTIONS)
def function(ctx: Step, node):
    return ctx.call(_FUNCTIONS[node.op], ctx.input)


@register("torch", "backend", "softplus")
def softplus(ctx: Step, node):
    threshold = ctx.attrs["threshold"]
    return ctx.module(nn.Softplus(threshold=_DEFAULT_THRESHOLD if threshold is None else threshold), ctx.input)


@register("torch", "backend", "selu")
def selu(ctx: Step, node):
    return ctx.module(nn.SELU(), ctx.input)


@register("torch", "backend", "softsign")
def softsign(ctx: Step, node):
    return ctx.module(nn.Softsign(), ctx.input)


@register("torch", "backend", "shrink")
def shrink(ctx: Step, node):
    """nn.Hardshrink for bias 0, nn.Softshrink for bias == lambd; any other bias is h - bias * sign(h) of
    h = Hardshrink(lambd)(x): h is x outside [-lambd, lambd] and 0 inside, so that is exactly x -+ bias or 0."""
    lambd, bias = ctx.attrs["lambd"], ctx.attrs["bias"]
    if bias == lambd:
        return ctx.module(nn.Softshrink(lambd), ctx.input)
    kept = ctx.module(nn.Hardshrink(lambd), ctx.input)
    if bias == 0.0:
        return kept
    sign = ctx.call(torch.sign, kept, suffix="_sign")
    return ctx.call(torch.sub, kept, sign, alpha=bias, suffix="_bias")


@register("torch", "backend", "log_softmax")
def log_softmax(ctx: Step, node):
    return ctx.module(nn.LogSoftmax(dim=ctx.attrs["axis"]), ctx.input)
