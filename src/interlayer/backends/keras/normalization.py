"""batch_norm -> BatchNormalization over the Keras axis that holds the IR's channel axis (no Permute)."""
from __future__ import annotations

import keras

from ...registry import register
from .build import BuildContext, assign, prefers


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
