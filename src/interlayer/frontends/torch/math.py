"""Element-wise math as functions (torch.exp), tensor methods (x.exp()) and modules (nn.Softplus, nn.SELU,
nn.LogSoftmax). Negation (-x, torch.neg) is already captured by the algebra family as a product with -1."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import register
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
    dim = ctx.option("dim", 1, None)
    if dim is None:
        return ctx.unsupported("dim must be given. Expected an explicit axis (dim=None picks one from the rank, "
                               "a deprecated rule). Received: dim=None")
    dtype = None if ctx.module is not None else ctx.const(ctx.arg(None, "dtype", None))
    if dtype is not None and dtype != ctx.node.args[0].meta["tensor_meta"].dtype:
        return ctx.unsupported(f"dtype must be None. Expected log_softmax in the input's dtype. Received: dtype={dtype}")
    axis = ctx.axis(dim, len(ctx.shape(ctx.node.args[0])))
    if axis == 0:
        return ctx.unsupported(f"log_softmax over the batch axis has no IR equivalent. Expected dim >= 1 or a "
                               f"negative dim. Received: dim={dim}")
    return ctx.add("log_softmax", [ctx.input], {"axis": axis})
