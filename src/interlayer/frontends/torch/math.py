"""Element-wise math as functions (torch.exp, torch.special.erf), tensor methods (x.exp()) and modules (nn.Softplus,
nn.SELU, nn.Softsign, nn.Hardshrink, nn.Softshrink, nn.LogSoftmax). Negation (-x, torch.neg) is registered with the
arithmetic in algebra.py."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import register
from .activations import along_dim
from .algebra import binary
from .context import Call

_PLAIN = {torch.exp: "exp", "exp": "exp", torch.log: "log", "log": "log", torch.sqrt: "sqrt", "sqrt": "sqrt",
          torch.abs: "abs", torch.absolute: "abs", "abs": "abs", "absolute": "abs", torch.sign: "sign",
          "sign": "sign", nn.Softsign: "softsign", F.softsign: "softsign", torch.erf: "erf", torch.special.erf: "erf",
          "erf": "erf", torch.floor: "floor", "floor": "floor", torch.ceil: "ceil", "ceil": "ceil"}


@register("torch", "frontend", *_PLAIN)
def plain(ctx: Call, target):
    return ctx.add(_PLAIN[ctx.layer_type if ctx.module is not None else target], [ctx.input])


@register("torch", "frontend", torch.rsqrt, "rsqrt")
def rsqrt(ctx: Call, target):
    """``1 / sqrt(x)`` (RMSNorm's ``x * torch.rsqrt(variance + eps)``): a ``pow`` by -0.5."""
    return binary(ctx, "pow", ctx.node.args[0], -0.5)


def _shrink(ctx: Call, soft: bool):
    """Hardshrink(lambd) is shrink(lambd, bias=0), Softshrink(lambd) is shrink(lambd, bias=lambd)."""
    lambd = float(ctx.option("lambd", 1, 0.5))
    return ctx.add("shrink", [ctx.input], {"lambd": lambd, "bias": lambd if soft else 0.0})


@register("torch", "frontend", nn.Hardshrink, F.hardshrink, "hardshrink")
def hardshrink(ctx: Call, target):
    return _shrink(ctx, soft=False)


@register("torch", "frontend", nn.Softshrink, F.softshrink)
def softshrink(ctx: Call, target):
    return _shrink(ctx, soft=True)


@register("torch", "frontend", nn.Softplus, F.softplus)
def softplus(ctx: Call, target):
    beta, threshold = ctx.option("beta", 1, 1.0), ctx.option("threshold", 2, 20.0)
    if float(beta) != 1.0:
        return ctx.unsupported(f"beta must be 1: the IR's softplus is log(1 + exp(x)). Received: beta={beta}")
    return ctx.add("softplus", [ctx.input], {"threshold": float(threshold)})


@register("torch", "frontend", nn.SELU, F.selu, torch.selu)
def selu(ctx: Call, target):
    return ctx.add("selu", [ctx.input])


@register("torch", "frontend", nn.LogSoftmax, F.log_softmax, torch.log_softmax, "log_softmax")
def log_softmax(ctx: Call, target):
    return along_dim(ctx, "log_softmax")
