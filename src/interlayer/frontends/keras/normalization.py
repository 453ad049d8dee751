"""Normalisation: BatchNormalization (inference form, over one axis)."""
from __future__ import annotations

import keras

from ...registry import register
from .capture import LayerContext, array, prefers


@register("keras", "frontend", keras.layers.BatchNormalization)
@prefers("channels_last")
def batch_norm(ctx: LayerContext, layer, inputs):
    axis = ctx.keras_axis(inputs[0], int(layer.axis))
    if axis is None:
        return None
    x = ctx.hold_channel_axis(inputs[0], axis)  # the IR normalises over axis 1
    weights = {"mean": array(layer.moving_mean), "variance": array(layer.moving_variance)}
    sources = {"mean": layer.moving_mean, "variance": layer.moving_variance}
    if layer.scale:
        weights["scale"], sources["scale"] = array(layer.gamma), layer.gamma
    if layer.center:
        weights["offset"], sources["offset"] = array(layer.beta), layer.beta
    attrs = {
        "num_features": int(weights["mean"].shape[0]), "epsilon": float(layer.epsilon),
        "momentum": round(1.0 - float(layer.momentum), 12),  # Keras keeps the old value's share, the IR the new one's
        "center": bool(layer.center), "scale": bool(layer.scale),
    }
    return ctx.add("batch_norm", [x], attrs, weights, perm=x.perm, sources=sources)
