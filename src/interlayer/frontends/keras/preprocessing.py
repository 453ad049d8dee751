"""Preprocessing layers inside models: Rescaling, Normalization; both are arithmetic with constants.

The constants are computed in the layer's dtype exactly as Keras computes them, so the IR repeats Keras's
rounding: Rescaling is ``x * scale + offset``; Normalization is ``(x - mean) / max(sqrt(variance), epsilon)``
(``mean + x * max(sqrt(variance), epsilon)`` when ``invert``), with Keras's global epsilon.
"""
from __future__ import annotations

import keras
import numpy as np

from ...registry import register
from .context import LayerContext, array, prefers


def _trivial(values, neutral: float) -> bool:
    return bool(np.all(np.asarray(values) == neutral))


@register("keras", "frontend", keras.layers.Rescaling)
@prefers("any")
def rescaling(ctx: LayerContext, layer, inputs):
    x, dtype = inputs[0], layer.compute_dtype
    scale, offset = np.asarray(layer.scale, dtype=dtype), np.asarray(layer.offset, dtype=dtype)
    if scale.ndim > 0 and keras.config.image_data_format() == "channels_first":
        ctx.unsupported("a per-channel scale with Keras's global image_data_format 'channels_first' is reshaped "
                        "for channels-first images. Expected image_data_format 'channels_last'. "
                        "Received: image_data_format='channels_first'")
        return None
    constants = [ctx.constant(x, value, dtype) for value in (scale, offset)]
    if any(constant is None for constant in constants):
        return None
    scale, offset = constants
    if _trivial(scale, 1.0) and _trivial(offset, 0.0):
        return ctx.add("identity", [x], perm=x.perm)
    if not _trivial(scale, 1.0):
        name = None if _trivial(offset, 0.0) else f"{ctx.name}_scale"
        x = ctx.with_constant("mul", x, scale, name=name)
    return x if _trivial(offset, 0.0) else ctx.with_constant("add", x, offset)


@register("keras", "frontend", keras.layers.Normalization)
@prefers("any")
def normalization(ctx: LayerContext, layer, inputs):
    x, dtype = inputs[0], layer.compute_dtype
    if layer.mean is None:
        ctx.unsupported("the layer has no mean and variance yet. Expected an adapted or built Normalization. "
                        "Received: mean=None")
        return None
    # what call() uses: mean and variance broadcast to the input's rank, in Keras's axis order
    mean = array(layer.mean).astype(dtype)
    scale = np.maximum(np.sqrt(array(layer.variance).astype(dtype)), np.asarray(keras.config.epsilon(), dtype))
    mean, scale = ctx.constant(x, mean, dtype), ctx.constant(x, scale, dtype)
    if mean is None or scale is None:
        return None
    adapted = getattr(layer, "adapt_mean", None) is not None and layer.input_mean is None
    sources = (layer.adapt_mean, layer.adapt_variance) if adapted else (None, None)
    if layer.invert:
        y = ctx.with_constant("mul", x, scale, name=f"{ctx.name}_scale", source=sources[1])
        return ctx.with_constant("add", y, mean, source=sources[0])
    y = ctx.with_constant("sub", x, mean, name=f"{ctx.name}_center", source=sources[0])
    return ctx.with_constant("div", y, scale, source=sources[1])
