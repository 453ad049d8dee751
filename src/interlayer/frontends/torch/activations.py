"""Activations and softmax, as modules (nn.ReLU), functions (F.relu, torch.relu) and methods (x.relu())."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import register
from .algebra import constant
from .context import Call, to_numpy


@register("torch", "frontend", nn.ReLU, F.relu, torch.relu, "relu")
def relu(ctx: Call, target):
    return ctx.add("relu", [ctx.input])


@register("torch", "frontend", F.relu6)
def relu6(ctx: Call, target):
    return ctx.add("clip", [ctx.input], {"min": 0.0, "max": 6.0})


@register("torch", "frontend", nn.ReLU6, nn.Hardtanh, F.hardtanh)
def hardtanh(ctx: Call, target):
    low, high = ctx.option("min_val", 1, -1.0), ctx.option("max_val", 2, 1.0)
    return ctx.add("clip", [ctx.input], {"min": float(low), "max": float(high)})


@register("torch", "frontend", nn.LeakyReLU, F.leaky_relu)
def leaky_relu(ctx: Call, target):
    return ctx.add("leaky_relu", [ctx.input], {"alpha": float(ctx.option("negative_slope", 1, 0.01))})


@register("torch", "frontend", nn.ELU, F.elu)
def elu(ctx: Call, target):
    return ctx.add("elu", [ctx.input], {"alpha": float(ctx.option("alpha", 1, 1.0))})


@register("torch", "frontend", nn.GELU, F.gelu)
def gelu(ctx: Call, target):
    return ctx.add("gelu", [ctx.input], {"approximate": ctx.option("approximate", 1, "none")})


@register("torch", "frontend", nn.SiLU, F.silu)
def silu(ctx: Call, target):
    return ctx.add("silu", [ctx.input])


@register("torch", "frontend", nn.Sigmoid, torch.sigmoid, F.sigmoid, "sigmoid")
def sigmoid(ctx: Call, target):
    return ctx.add("sigmoid", [ctx.input])


@register("torch", "frontend", nn.Tanh, torch.tanh, F.tanh, "tanh")
def tanh(ctx: Call, target):
    return ctx.add("tanh", [ctx.input])


@register("torch", "frontend", nn.Hardswish, F.hardswish)
def hard_swish(ctx: Call, target):
    return ctx.add("hard_swish", [ctx.input])


@register("torch", "frontend", nn.Hardsigmoid, F.hardsigmoid)
def hard_sigmoid(ctx: Call, target):
    return ctx.add("hard_sigmoid", [ctx.input], {"alpha": 1.0 / 6.0, "beta": 0.5})


@register("torch", "frontend", nn.Mish, F.mish)
def mish(ctx: Call, target):
    return ctx.add("mish", [ctx.input])


@register("torch", "frontend", nn.PReLU)
def prelu(ctx: Call, module: nn.PReLU):
    slope = to_numpy(module.weight)
    if not _slopes_fit(ctx, slope):
        return None
    return ctx.add("prelu", [ctx.input], {"num_parameters": slope.size}, {"slope": slope}, sources={"slope": "weight"})


@register("torch", "frontend", F.prelu, torch.prelu)
def prelu_function(ctx: Call, target):
    """F.prelu(x, weight): the weight is a constant (a parameter read with get_attr, or a view of one)."""
    weight = constant(ctx, ctx.arg(1, "weight"))
    if weight is None:
        return ctx.unsupported(f"the weight must be a constant. Expected a parameter or a fixed tensor. "
                               f"Received: weight={ctx.arg(1, 'weight')!r}")
    slope = weight.array.reshape(-1)
    if not _slopes_fit(ctx, slope):
        return None
    return ctx.add("prelu", [ctx.input], {"num_parameters": slope.size}, {"slope": slope},
                   sources={"slope": weight.source})


def _slopes_fit(ctx: Call, slope) -> bool:
    shape = ctx.shape(ctx.node.args[0])
    channels = shape[1] if len(shape) > 1 else 1
    if slope.size in (1, channels):
        return True
    ctx.unsupported(f"PReLU has one slope, or one per channel (axis 1). Expected 1 or {channels} slopes. "
                    f"Received: {slope.size} slopes")
    return False


@register("torch", "frontend", nn.Softmax, F.softmax, torch.softmax, "softmax")
def softmax(ctx: Call, target):
    return along_dim(ctx, "softmax")


def along_dim(ctx: Call, op: str):
    """softmax and log_softmax: ``op`` along ``dim`` (a module's attribute or the call's argument), in the
    input's dtype (HF passes dtype=float32 on float32), never along the batch axis."""
    dim = ctx.option("dim", 1, None)
    if dim is None:
        return ctx.unsupported("dim must be given. Expected an explicit axis (dim=None picks one from the rank, "
                               "a deprecated rule). Received: dim=None")
    dtype = None if ctx.module is not None else ctx.const(ctx.arg(None, "dtype", None))
    if dtype is not None and dtype != ctx.node.args[0].meta["tensor_meta"].dtype:
        return ctx.unsupported(f"dtype must be None. Expected {op} in the input's dtype. Received: dtype={dtype}")
    axis = ctx.axis(dim, len(ctx.shape(ctx.node.args[0])))
    if axis == 0:
        return ctx.unsupported(f"{op} over the batch axis has no IR equivalent. Expected dim >= 1 or a negative "
                               f"dim. Received: dim={dim}")
    return ctx.add(op, [ctx.input], {"axis": axis})
