"""Activations and softmax as torch layers (nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.Softmax, ...)."""
from __future__ import annotations

import math

import torch
from torch import nn

from ...registry import register
from .context import Step, parameter

# ops that are exactly one parameterless torch layer
_MODULES = {"relu": nn.ReLU, "silu": nn.SiLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "hard_swish": nn.Hardswish,
            "mish": nn.Mish}


@register("torch", "backend", *_MODULES)
def activation(ctx: Step, node):
    return ctx.module(_MODULES[node.op](), ctx.input)


@register("torch", "backend", "clip")
def clip(ctx: Step, node):
    low, high = ctx.attrs["min"], ctx.attrs["max"]
    if (low, high) == (0.0, 6.0):
        return ctx.module(nn.ReLU6(), ctx.input)
    if low is None and high is None:
        return ctx.module(nn.Identity(), ctx.input)
    if low is None or high is None or low >= high:
        return ctx.call(torch.clamp, ctx.input, min=low, max=high)
    return ctx.module(nn.Hardtanh(float(low), float(high)), ctx.input)


@register("torch", "backend", "leaky_relu")
def leaky_relu(ctx: Step, node):
    return ctx.module(nn.LeakyReLU(ctx.attrs["alpha"]), ctx.input)


@register("torch", "backend", "elu")
def elu(ctx: Step, node):
    return ctx.module(nn.ELU(ctx.attrs["alpha"]), ctx.input)


@register("torch", "backend", "gelu")
def gelu(ctx: Step, node):
    return ctx.module(nn.GELU(approximate=ctx.attrs["approximate"]), ctx.input)


@register("torch", "backend", "hard_sigmoid")
def hard_sigmoid(ctx: Step, node):
    alpha, beta = ctx.attrs["alpha"], ctx.attrs["beta"]
    if not (math.isclose(alpha, 1.0 / 6.0, rel_tol=1e-9) and beta == 0.5):
        return ctx.unsupported(f"only PyTorch's hard sigmoid is built. Expected alpha=1/6, beta=0.5 "
                               f"(nn.Hardsigmoid). Received: alpha={alpha}, beta={beta}")
    return ctx.module(nn.Hardsigmoid(), ctx.input)


@register("torch", "backend", "prelu")
def prelu(ctx: Step, node):
    module = nn.PReLU(ctx.attrs["num_parameters"])
    module.weight = parameter(node.weights["slope"])
    return ctx.module(module, ctx.input)


@register("torch", "backend", "softmax")
def softmax(ctx: Step, node):
    return ctx.module(nn.Softmax(dim=ctx.attrs["axis"]), ctx.input)
