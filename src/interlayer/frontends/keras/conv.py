"""Convolutions: Conv1D/2D/3D (strides, dilation, groups, padding, fused activation), DepthwiseConv1D/2D,
SeparableConv1D/2D and Conv1D/2D/3DTranspose."""
from __future__ import annotations

import keras
import numpy as np

from ...ir import layout
from ...registry import register
from . import activation
from .context import Held, LayerContext, array, prefers


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


@register("keras", "frontend", keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
@prefers("channels_last")
def separable_conv(ctx: LayerContext, layer, inputs):
    """A depthwise conv ``<layer>_depthwise`` (strides, padding, dilation, depth_multiplier; no bias), then the
    pointwise 1x1 conv ``<layer>`` with the bias, then the fused activation: what Keras computes."""
    if not ctx.channels_last_format():
        return None
    x = ctx.channels_last(inputs[0])
    depthwise = array(layer.depthwise_kernel)  # (*k, in, multiplier): output channel c * multiplier + m
    *window, channels, multiplier = depthwise.shape
    pads = explicit_pads(ctx, x, layer.padding, layer.kernel_size, layer.strides, layer.dilation_rate)
    if pads is None:
        return None
    depthwise_weight = layout.kernel_to_channels_first(depthwise.reshape(*window, 1, channels * multiplier))
    attrs = {"in_channels": channels, "out_channels": channels * multiplier, "kernel_size": list(window),
             "strides": list(layer.strides), "dilations": list(layer.dilation_rate), "pads": pads,
             "groups": channels, "bias": False}
    y = ctx.add("conv", [x], attrs, {"weight": depthwise_weight}, perm=x.perm, name=f"{ctx.name}_depthwise",
                sources={"weight": layer.depthwise_kernel})
    pointwise = layout.kernel_to_channels_first(array(layer.pointwise_kernel))  # (out, in * multiplier, 1...)
    weights, sources = {"weight": pointwise}, {"weight": layer.pointwise_kernel}
    if layer.use_bias:
        weights["bias"], sources["bias"] = array(layer.bias), layer.bias
    attrs = {"in_channels": channels * multiplier, "out_channels": pointwise.shape[0],
             "kernel_size": [1] * len(window), "bias": bool(layer.use_bias)}
    return activation.fused(ctx, layer, ctx.add("conv", [y], attrs, weights, perm=x.perm, sources=sources))


def transpose_pads(size, kernel: int, stride: int, dilation: int, padding: str, output_padding) -> tuple[int, int, int]:
    """(crop at the begin, crop at the end, zeros appended) of one axis of a Keras transposed convolution.

    Keras asks TensorFlow for an output length (``compute_conv_transpose_output_shape``); TensorFlow then places
    the full result (length (size - 1) * stride + effective kernel) as the gradient of a forward convolution
    with that padding: 'valid' crops nothing and leaves any extra length as zeros at the end, 'same' crops
    (total // 2) at the begin, total = full length - output length.
    """
    effective = (kernel - 1) * dilation + 1
    full = (size - 1) * stride + effective
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return 0, 0, extra
    out = size * stride if output_padding is None else full - 2 * (effective // 2) + output_padding
    begin = max(full - out, 0) // 2
    rest = full - begin - out
    return begin, max(rest, 0), max(-rest, 0)


_TRANSPOSE = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)


@register("keras", "frontend", *_TRANSPOSE)
@prefers("channels_last")
def conv_transpose(ctx: LayerContext, layer, inputs):
    if not ctx.channels_last_format():
        return None
    x = ctx.channels_last(inputs[0])
    if layer.padding not in ("valid", "same"):
        ctx.unsupported(f"padding must be 'valid' or 'same'. Received: padding={layer.padding!r}")
        return None
    spatial = list(ctx.shape(x)[2:])
    if any(not isinstance(size, int) for size in spatial):
        ctx.unsupported(f"the output length of a transposed convolution is resolved from a known input size. "
                        f"Expected static spatial sizes. Received: input shape={ctx.keras_shape(x)}")
        return None
    kernel = array(layer.kernel)  # (*k, out, in)
    rank = kernel.ndim - 2
    extras = layer.output_padding if layer.output_padding is not None else [None] * rank
    per_axis = [transpose_pads(spatial[i], layer.kernel_size[i], layer.strides[i], layer.dilation_rate[i],
                               layer.padding, extras[i]) for i in range(rank)]
    weight = np.ascontiguousarray(kernel.transpose(rank + 1, rank, *range(rank)))  # -> (in, out, *k)
    weights, sources = {"weight": weight}, {"weight": layer.kernel}
    if layer.use_bias:
        weights["bias"], sources["bias"] = array(layer.bias), layer.bias
    attrs = {
        "in_channels": weight.shape[0], "out_channels": weight.shape[1], "kernel_size": list(layer.kernel_size),
        "strides": list(layer.strides), "dilations": list(layer.dilation_rate),
        "pads": [p[0] for p in per_axis] + [p[1] for p in per_axis], "output_padding": [p[2] for p in per_axis],
        "bias": bool(layer.use_bias),
    }
    return activation.fused(ctx, layer, ctx.add("conv_transpose", [x], attrs, weights, perm=x.perm, sources=sources))
