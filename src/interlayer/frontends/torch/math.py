"""Element-wise math as functions (torch.exp), tensor methods (x.exp()) and modules (nn.Softplus, nn.SELU,
nn.LogSoftmax). Negation (-x, torch.neg) is registered with the arithmetic in algebra.py."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import register
from .activations import along_dim
from .context import Call

_PLAIN = {torch.exp: "exp", "exp": "exp", torch.log: "log", "log": "log", torch.sqrt: "sqrt", "sqrt": "sqrt",
          torch.abs: "abs", torch.absolute: "abs", "abs": "abs", "absolute": "abs"}


@register("torch", "frontend", *_PLAIN)
def plain(ctx: Call, target):
    return ctx.add(_PLAIN[target], [ctx.input])


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
