"""Convolutions: Conv1D/2D/3D (strides, dilation, groups, padding, fused activation) and DepthwiseConv1D/2D."""
from __future__ import annotations

import keras

from ...ir import layout
from ...registry import register
from . import activation
from .capture import Held, LayerContext, array, prefers


def explicit_pads(ctx: LayerContext, x: Held, padding: str, kernel, strides, dilations=None) -> list[int] | None:
    """Keras ``padding`` as IR pads (all begins, then all ends) for the channels-last-held input ``x``.

    'same' is resolved from the input's static size (the odd pad at the end, as TensorFlow does); None (after
    reporting it) when it cannot be.
    """
    rank = len(kernel)
    dilations = list(dilations or [1] * rank)
    if padding == "valid":
        return [0] * (2 * rank)
    if padding == "causal" and rank == 1:
        return [(kernel[0] - 1) * dilations[0], 0]
    if padding != "same":
        ctx.unsupported(f"padding must be 'valid' or 'same'. Received: padding={padding!r}")
        return None
    spatial = list(ctx.shape(x)[2:])
    unknown = [i for i, size in enumerate(spatial) if not isinstance(size, int)]
    if any(strides[i] != 1 for i in unknown):
        ctx.unsupported(f"padding='same' with strides > 1 becomes explicit pads only for a known input size. "
                        f"Expected static spatial sizes. Received: input shape={ctx.keras_shape(x)}, "
                        f"strides={tuple(strides)}")
        return None
    # with stride 1 'same' pads do not depend on the size
    sizes = [size if isinstance(size, int) else 1 for size in spatial]
    return layout.same_pads_all(sizes, list(kernel), list(strides), dilations)


def _conv(ctx: LayerContext, layer, x: Held, weight, groups: int) -> Held | None:
    """Write the conv node of a Keras conv layer whose kernel is already in IR layout (out, in/groups, *k)."""
    pads = explicit_pads(ctx, x, layer.padding, layer.kernel_size, layer.strides, layer.dilation_rate)
    if pads is None:
        return None
    weights, sources = {"weight": weight}, {"weight": layer.kernel}
    if layer.use_bias:
        weights["bias"], sources["bias"] = array(layer.bias), layer.bias
    attrs = {
        "in_channels": weight.shape[1] * groups, "out_channels": weight.shape[0], "kernel_size": list(weight.shape[2:]),
        "strides": list(layer.strides), "dilations": list(layer.dilation_rate), "pads": pads, "groups": groups,
        "bias": bool(layer.use_bias),
    }
    return activation.fused(ctx, layer, ctx.add("conv", [x], attrs, weights, perm=x.perm, sources=sources))


@register("keras", "frontend", keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
@prefers("channels_last")
def conv(ctx: LayerContext, layer, inputs):
    if not ctx.channels_last_format():
        return None
    weight = layout.kernel_to_channels_first(array(layer.kernel))  # (*k, in/groups, out) -> (out, in/groups, *k)
    return _conv(ctx, layer, ctx.channels_last(inputs[0]), weight, int(layer.groups))


@register("keras", "frontend", keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
@prefers("channels_last")
def depthwise_conv(ctx: LayerContext, layer, inputs):
    if not ctx.channels_last_format():
        return None
    kernel = array(layer.kernel)  # (*k, in, multiplier): output channel c * multiplier + m
    *window, channels, multiplier = kernel.shape
    weight = layout.kernel_to_channels_first(kernel.reshape(*window, 1, channels * multiplier))
    return _conv(ctx, layer, ctx.channels_last(inputs[0]), weight, channels)
