"""Pooling: MaxPooling and AveragePooling 1D/2D/3D, and their global forms."""
from __future__ import annotations

import keras

from ...ir import layout
from ...registry import register
from .context import LayerContext, prefers
from .conv import explicit_pads

_MAX = (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D)
_AVERAGE = (keras.layers.AveragePooling1D, keras.layers.AveragePooling2D, keras.layers.AveragePooling3D)


@register("keras", "frontend", *_MAX, *_AVERAGE)
@prefers("channels_last")
def pool(ctx: LayerContext, layer, inputs):
    if not ctx.channels_last_format():
        return None
    x = ctx.channels_last(inputs[0])
    kernel, strides = list(layer.pool_size), list(layer.strides)  # Keras fills strides with pool_size
    pads = explicit_pads(ctx, x, layer.padding, kernel, strides)
    if pads is None:
        return None
    attrs = {"kernel_size": kernel, "strides": strides, "pads": pads}
    if isinstance(layer, _MAX):
        return ctx.add("max_pool", [x], attrs, perm=x.perm)
    # TensorFlow's 'same' average divides by the positions inside the input only
    return ctx.add("avg_pool", [x], {**attrs, "count_include_pad": False}, perm=x.perm)


_GLOBAL_MAX = (keras.layers.GlobalMaxPooling1D, keras.layers.GlobalMaxPooling2D, keras.layers.GlobalMaxPooling3D)
_GLOBAL_AVERAGE = (keras.layers.GlobalAveragePooling1D, keras.layers.GlobalAveragePooling2D,
                   keras.layers.GlobalAveragePooling3D)


@register("keras", "frontend", *_GLOBAL_MAX, *_GLOBAL_AVERAGE)
@prefers("channels_last")
def global_pool(ctx: LayerContext, layer, inputs):
    if not ctx.channels_last_format():
        return None
    x = ctx.channels_last(inputs[0])
    op = "global_max_pool" if isinstance(layer, _GLOBAL_MAX) else "global_avg_pool"
    perm = x.perm if layer.keepdims else layout.identity(2)
    return ctx.add(op, [x], {"keepdims": bool(layer.keepdims)}, perm=perm)
