"""Activations -> Activation, ReLU, LeakyReLU, ELU and Softmax layers (and interlayer's few where Keras has none).

Element-wise: the output is held as the input is; softmax's axis is mapped through the held perm.
"""
from __future__ import annotations

import keras

from ...registry import register
from .build import BuildContext, assign, prefers
from .layers import Clip, Gelu, HardSigmoid

# ops that are exactly one built-in Keras activation function
_ACTIVATIONS = {"sigmoid": "sigmoid", "tanh": "tanh", "silu": "silu", "hard_swish": "hard_silu", "mish": "mish"}


def apply(ctx: BuildContext, x, layer):
    """An element-wise ``layer`` on ``x``, the output held as ``x`` is."""
    return ctx.output(layer(x.tensor), x.perm)


@register("keras", "backend", *_ACTIVATIONS)
@prefers("any")
def activation(ctx: BuildContext, node, inputs):
    return apply(ctx, inputs[0], ctx.layer(keras.layers.Activation, activation=_ACTIVATIONS[node.op]))


@register("keras", "backend", "relu")
@prefers("any")
def relu(ctx: BuildContext, node, inputs):
    return apply(ctx, inputs[0], ctx.layer(keras.layers.ReLU))


@register("keras", "backend", "clip")
@prefers("any")
def clip(ctx: BuildContext, node, inputs):
    low, high = ctx.attrs["min"], ctx.attrs["max"]
    if low == 0.0:  # ReLU, ReLU6
        layer = ctx.layer(keras.layers.ReLU, max_value=high)
    else:
        layer = ctx.layer(Clip, min_value=low, max_value=high)
    return apply(ctx, inputs[0], layer)


@register("keras", "backend", "leaky_relu")
@prefers("any")
def leaky_relu(ctx: BuildContext, node, inputs):
    return apply(ctx, inputs[0], ctx.layer(keras.layers.LeakyReLU, negative_slope=ctx.attrs["alpha"]))


@register("keras", "backend", "elu")
@prefers("any")
def elu(ctx: BuildContext, node, inputs):
    return apply(ctx, inputs[0], ctx.layer(keras.layers.ELU, alpha=ctx.attrs["alpha"]))


@register("keras", "backend", "gelu")
@prefers("any")
def gelu(ctx: BuildContext, node, inputs):
    if ctx.attrs["approximate"] == "none":
        return apply(ctx, inputs[0], ctx.layer(keras.layers.Activation, activation="gelu"))  # erf form
    return apply(ctx, inputs[0], ctx.layer(Gelu, approximate=True))


@register("keras", "backend", "hard_sigmoid")
@prefers("any")
def hard_sigmoid(ctx: BuildContext, node, inputs):
    alpha, beta = ctx.attrs["alpha"], ctx.attrs["beta"]
    if abs(alpha - 1.0 / 6.0) < 1e-12 and beta == 0.5:  # Keras 3: relu6(x + 3) / 6
        layer = ctx.layer(keras.layers.Activation, activation="hard_sigmoid")
    else:
        layer = ctx.layer(HardSigmoid, alpha=alpha, beta=beta)
    return apply(ctx, inputs[0], layer)


@register("keras", "backend", "prelu")
@prefers("any")
def prelu(ctx: BuildContext, node, inputs):
    """PReLU sharing its slope over every axis but the held channel axis (every axis with one slope)."""
    x = inputs[0]
    per_channel = ctx.attrs["num_parameters"] > 1
    shared = [axis for axis in range(1, x.rank) if not (per_channel and x.perm[axis] == 1)]
    layer = ctx.layer(keras.layers.PReLU, shared_axes=shared or None)
    y = layer(x.tensor)
    assign(layer.alpha, node.weights["slope"].reshape(layer.alpha.shape))
    return ctx.output(y, x.perm)


@register("keras", "backend", "softmax")
@prefers("any")
def softmax(ctx: BuildContext, node, inputs):
    x = inputs[0]
    return apply(ctx, x, ctx.layer(keras.layers.Softmax, axis=x.perm.index(ctx.attrs["axis"])))
