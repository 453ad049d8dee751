"""Normalisation: BatchNormalization (inference form, over one axis), LayerNormalization (any axes),
GroupNormalization."""
from __future__ import annotations

import keras
import numpy as np

from ...registry import register
from .context import LayerContext, array, prefers


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


@register("keras", "frontend", keras.layers.LayerNormalization)
@prefers("any")
def layer_norm(ctx: LayerContext, layer, inputs):
    """Over any Keras axes, mapped through the held perm; gamma and beta (shaped like the normalised Keras
    axes in increasing order) are transposed into the IR's order of those axes. No transpose is written."""
    x = inputs[0]
    if getattr(layer, "rms_scaling", False):
        ctx.unsupported("rms_scaling scales by the variance only (Keras deprecates it). Expected rms_scaling=False. "
                        "Received: rms_scaling=True")
        return None
    axes = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
    keras_axes = sorted({ctx.keras_axis(x, int(axis)) for axis in axes} - {None})
    if len(keras_axes) != len(axes):
        return None
    ir_axes = [x.perm[axis] for axis in keras_axes]
    order = np.argsort(ir_axes)  # Keras's weight axes follow keras_axes; the IR's follow sorted(ir_axes)
    shape = ctx.keras_shape(x)
    attrs = {"axes": sorted(ir_axes), "normalized_shape": [int(shape[keras_axes[i]]) for i in order],
             "epsilon": float(layer.epsilon), "center": bool(layer.center), "scale": bool(layer.scale)}
    weights, sources = {}, {}
    if layer.scale:
        weights["scale"], sources["scale"] = _ordered(layer.gamma, order, len(keras_axes)), layer.gamma
    if layer.center:
        weights["offset"], sources["offset"] = _ordered(layer.beta, order, len(keras_axes)), layer.beta
    return ctx.add("layer_norm", [x], attrs, weights, perm=x.perm, sources=sources)


def _ordered(variable, order, count: int) -> np.ndarray:
    value = array(variable)
    value = value.reshape(value.shape[-count:]) if value.ndim >= count else value  # Keras may keep 1-axes
    return np.ascontiguousarray(np.transpose(value, order))


@register("keras", "frontend", keras.layers.GroupNormalization)
@prefers("channels_last")
def group_norm(ctx: LayerContext, layer, inputs):
    """Groups of contiguous channels along the Keras axis ``axis``, normalised over them and every other axis."""
    axis = ctx.keras_axis(inputs[0], int(layer.axis))
    if axis is None:
        return None
    x = ctx.hold_channel_axis(inputs[0], axis)
    channels = int(ctx.shape(x)[1])
    weights, sources = {}, {}
    if layer.scale:
        weights["scale"], sources["scale"] = array(layer.gamma), layer.gamma
    if layer.center:
        weights["offset"], sources["offset"] = array(layer.beta), layer.beta
    attrs = {"num_groups": int(layer.groups), "num_channels": channels, "epsilon": float(layer.epsilon),
             "center": bool(layer.center), "scale": bool(layer.scale)}
    return ctx.add("group_norm", [x], attrs, weights, perm=x.perm, sources=sources)
