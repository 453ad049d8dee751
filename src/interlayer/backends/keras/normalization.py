"""batch_norm, group_norm, layer_norm -> BatchNormalization, GroupNormalization, LayerNormalization over the
Keras axes that hold the IR's axes (no Permute); lrn -> interlayer's LocalResponseNormalization on the channels-last
tensor (Keras has no such layer)."""
from __future__ import annotations

import keras
import numpy as np

from ...registry import register
from .build import BuildContext, assign, prefers
from .layers import LocalResponseNormalization


@register("keras", "backend", "batch_norm")
@prefers("channels_last")
def batch_norm(ctx: BuildContext, node, inputs):
    attrs, x = ctx.attrs, inputs[0]
    momentum = 0.99 if attrs["momentum"] is None else round(1.0 - attrs["momentum"], 12)
    layer = ctx.layer(keras.layers.BatchNormalization, axis=x.perm.index(1), epsilon=attrs["epsilon"],
                      momentum=momentum, center=attrs["center"], scale=attrs["scale"])
    y = layer(x.tensor)
    if attrs["scale"]:
        assign(layer.gamma, node.weights["scale"])
    if attrs["center"]:
        assign(layer.beta, node.weights["offset"])
    assign(layer.moving_mean, node.weights["mean"])
    assign(layer.moving_variance, node.weights["variance"])
    return ctx.output(y, x.perm)


def _held_axis(x, axis: int) -> int:
    """Where the Keras tensor holds the IR's ``axis``: -1 when last (Keras's default), else its position."""
    position = x.perm.index(axis)
    return -1 if position == x.rank - 1 else position


@register("keras", "backend", "layer_norm")
@prefers("any")
def layer_norm(ctx: BuildContext, node, inputs):
    """LayerNormalization over the Keras axes that hold the IR's axes, whatever the layout: a channel-axis
    layer_norm on an NHWC-held map is axis=-1, with no Permute. gamma/beta follow the held axis order."""
    attrs, x = ctx.attrs, inputs[0]
    positions = [x.perm.index(axis) for axis in attrs["axes"]]
    axis = _held_axis(x, attrs["axes"][0]) if len(positions) == 1 else sorted(positions)
    layer = ctx.layer(keras.layers.LayerNormalization, axis=axis, epsilon=attrs["epsilon"], center=attrs["center"],
                      scale=attrs["scale"])
    y = layer(x.tensor)
    order = np.argsort(positions)  # Keras's weights have the held axes in increasing position
    if attrs["scale"]:
        assign(layer.gamma, np.transpose(node.weights["scale"], order))
    if attrs["center"]:
        assign(layer.beta, np.transpose(node.weights["offset"], order))
    return ctx.output(y, x.perm)


@register("keras", "backend", "group_norm")
@prefers("any")
def group_norm(ctx: BuildContext, node, inputs):
    """GroupNormalization over the Keras axis holding the channels; Keras, like PyTorch, groups contiguous
    blocks of channels."""
    attrs, x = ctx.attrs, inputs[0]
    layer = ctx.layer(keras.layers.GroupNormalization, groups=attrs["num_groups"], axis=_held_axis(x, 1),
                      epsilon=attrs["epsilon"], center=attrs["center"], scale=attrs["scale"])
    y = layer(x.tensor)
    if attrs["scale"]:
        assign(layer.gamma, node.weights["scale"])
    if attrs["center"]:
        assign(layer.beta, node.weights["offset"])
    return ctx.output(y, x.perm)


@register("keras", "backend", "lrn")
@prefers("channels_last")
def lrn(ctx: BuildContext, node, inputs):
    attrs, x = ctx.attrs, ctx.channels_last(inputs[0])
    layer = ctx.layer(LocalResponseNormalization, size=attrs["size"], alpha=attrs["alpha"], beta=attrs["beta"],
                      bias=attrs["bias"], before=attrs["before"])
    return ctx.output(layer(x.tensor), x.perm)
