"""conv -> Conv1D/2D/3D (groups included) or DepthwiseConv1D/2D, with padding made exact."""
from __future__ import annotations

import keras

from ...ir import layout
from ...registry import register
from .build import BuildContext, assign, prefers
from .window import pad, padding_mode

_CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}
_DEPTHWISE = {1: keras.layers.DepthwiseConv1D, 2: keras.layers.DepthwiseConv2D}
_SUBSAMPLE = {1: keras.layers.MaxPooling1D, 2: keras.layers.MaxPooling2D, 3: keras.layers.MaxPooling3D}


@register("keras", "backend", "conv")
@prefers("channels_last")
def conv(ctx: BuildContext, node, inputs):
    attrs = ctx.attrs
    kernel, strides, dilations, pads = attrs["kernel_size"], attrs["strides"], attrs["dilations"], attrs["pads"]
    rank = len(kernel)
    if rank not in _CONV:
        ctx.unsupported(f"Keras convolutions are 1-D to 3-D. Expected len(kernel_size) <= 3. "
                        f"Received: kernel_size={kernel}")
        return None
    x = ctx.channels_last(inputs[0])
    # Keras refuses strides > 1 together with dilation > 1: convolve densely, then keep every stride-th output
    subsample = max(strides) > 1 and max(dilations) > 1
    conv_strides = [1] * rank if subsample else strides
    begin, end = pads[:rank], pads[rank:]
    padding = padding_mode(begin, end, x.shape[2:], kernel, conv_strides, dilations)
    if padding is None:
        x, padding = pad(ctx, x, begin, end), "valid"
    groups, channels, filters = attrs["groups"], attrs["in_channels"], attrs["out_channels"]
    weight = node.weights["weight"]  # (out, in/groups, *k)
    common = {"kernel_size": tuple(kernel), "strides": tuple(conv_strides), "padding": padding,
              "dilation_rate": tuple(dilations), "use_bias": attrs["bias"]}
    if groups > 1 and groups == channels and rank in _DEPTHWISE:
        layer = ctx.layer(_DEPTHWISE[rank], depth_multiplier=filters // channels, **common)
        # (in * multiplier, 1, *k) -> (*k, 1, in * multiplier) -> (*k, in, multiplier)
        keras_kernel = layout.kernel_to_channels_last(weight).reshape(*kernel, channels, filters // channels)
    else:
        layer = ctx.layer(_CONV[rank], filters=filters, groups=groups, **common)
        keras_kernel = layout.kernel_to_channels_last(weight)  # (*k, in/groups, out)
    y = layer(x.tensor)
    assign(layer.kernel, keras_kernel)
    if attrs["bias"]:
        assign(layer.bias, node.weights["bias"])
    if subsample:
        y = ctx.layer(_SUBSAMPLE[rank], "stride", pool_size=1, strides=tuple(strides), padding="valid")(y)
    return ctx.output(y, x.perm)
