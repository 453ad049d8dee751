"""Reshaping: Flatten, Reshape, Permute, ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D, Resizing."""
from __future__ import annotations

import math

import keras

from ...ir import layout
from ...registry import register
from .context import LayerContext, prefers


@register("keras", "frontend", keras.layers.Flatten)
@prefers("identity")
def flatten(ctx: LayerContext, layer, inputs):
    x = inputs[0]
    rank = x.rank
    # Flatten(data_format='channels_first') first moves Keras axis 1 last, then reads row-major
    reads = layout.compose(x.perm, layout.channels_last(rank)) if layer.data_format == "channels_first" else x.perm
    if rank > 2 and reads == layout.channels_last(rank):
        order = "channels_last"
    else:
        order = "channels_first"
        if reads != layout.identity(rank):
            channels_first = layer.data_format == "channels_first"
            x = ctx.hold(x, layout.channels_first(rank) if channels_first else layout.identity(rank))
    return ctx.add("flatten", [x], {"order": order}, perm=layout.identity(2))


@register("keras", "frontend", keras.layers.Reshape)
@prefers("identity")
def reshape(ctx: LayerContext, layer, inputs):
    """Keras reshapes its own row-major order; a result that only adds size-1 axes around the channels, as
    (N, C) -> (N, 1, 1, C) in a squeeze-excitation, is the IR's (N, C, 1, 1) held channels-last."""
    x = inputs[0]
    target = [int(size) for size in layer.target_shape]
    known = ctx.keras_shape(x)[1:]
    if -1 in target and all(isinstance(size, int) for size in known):
        rest = math.prod(size for size in target if size != -1)
        target[target.index(-1)] = math.prod(known) // rest if rest else -1
    return ctx.reshape(x, target)


@register("keras", "frontend", keras.layers.Permute)
@prefers("any")
def permute(ctx: LayerContext, layer, inputs):
    """No node: the same IR value, held in the permuted order (Keras out = transpose(in, (0, *dims)))."""
    x = inputs[0]
    return type(x)(x.value, layout.compose(x.perm, (0, *(int(d) for d in layer.dims))))


def _pairs(value, rank: int) -> list[tuple[int, int]]:
    """Keras's padding/cropping argument as one (begin, end) pair per spatial axis."""
    return [tuple(value)] if rank == 1 else [tuple(pair) for pair in value]


def _pad(ctx: LayerContext, layer, inputs, pairs, sign: int):
    if not ctx.channels_last_format():
        return None
    x = ctx.channels_last(inputs[0])
    pads = [sign * int(pair[0]) for pair in pairs] + [sign * int(pair[1]) for pair in pairs]
    return ctx.add("pad", [x], {"pads": pads, "value": 0.0}, perm=x.perm)


@register("keras", "frontend", keras.layers.ZeroPadding1D, keras.layers.ZeroPadding2D, keras.layers.ZeroPadding3D)
@prefers("channels_last")
def zero_padding(ctx: LayerContext, layer, inputs):
    return _pad(ctx, layer, inputs, _pairs(layer.padding, inputs[0].rank - 2), 1)


@register("keras", "frontend", keras.layers.Cropping1D, keras.layers.Cropping2D, keras.layers.Cropping3D)
@prefers("channels_last")
def cropping(ctx: LayerContext, layer, inputs):
    return _pad(ctx, layer, inputs, _pairs(layer.cropping, inputs[0].rank - 2), -1)


_UPSAMPLING = (keras.layers.UpSampling1D, keras.layers.UpSampling2D, keras.layers.UpSampling3D)


@register("keras", "frontend", *_UPSAMPLING)
@prefers("channels_last")
def upsampling(ctx: LayerContext, layer, inputs):
    """Nearest repeats each position (IR nearest, asymmetric: output o reads o // factor); UpSampling2D's
    bilinear is tf.image.resize's, half-pixel centres (IR linear, half_pixel)."""
    if not ctx.channels_last_format():
        return None
    x = ctx.channels_last(inputs[0])
    rank = x.rank - 2
    factors = [int(layer.size)] if rank == 1 else [int(f) for f in layer.size]
    interpolation = getattr(layer, "interpolation", "nearest")
    modes = {"nearest": ("nearest", "asymmetric"), "bilinear": ("linear", "half_pixel")}
    if interpolation not in modes:
        ctx.unsupported(f"interpolation must be 'nearest' or 'bilinear'. Received: interpolation={interpolation!r}")
        return None
    return _resize(ctx, x, [f"*{f}" for f in factors], *modes[interpolation])


def _resize(ctx: LayerContext, x, sizes, mode: str, coordinate_mode: str):
    spatial = list(ctx.shape(x)[2:])
    if any(not isinstance(size, int) for size in spatial):
        ctx.unsupported(f"resizing needs a known input size. Expected static spatial sizes. "
                        f"Received: input shape={ctx.keras_shape(x)}")
        return None
    sizes = [n * int(size[1:]) if isinstance(size, str) else int(size) for n, size in zip(spatial, sizes)]
    attrs = {"sizes": sizes, "mode": mode, "coordinate_mode": coordinate_mode}
    return ctx.add("resize", [x], attrs, perm=x.perm)


@register("keras", "frontend", keras.layers.Resizing)
@prefers("channels_last")
def resizing(ctx: LayerContext, layer, inputs):
    """tf.image.resize without antialiasing, cropping or padding: bilinear is half-pixel linear; nearest
    (TensorFlow's half-pixel rounding) equals the IR's asymmetric nearest for integer upscaling only."""
    if not ctx.channels_last_format():
        return None
    x = ctx.channels_last(inputs[0])
    sizes = [int(layer.height), int(layer.width)]
    spatial = list(ctx.shape(x)[2:])
    problems = [f"{name}=True" for name in ("crop_to_aspect_ratio", "pad_to_aspect_ratio")
                if getattr(layer, name, False)]
    interpolation = layer.interpolation
    downscales = any(not isinstance(n, int) or m < n for n, m in zip(spatial, sizes))
    if getattr(layer, "antialias", False) and downscales:
        problems.append("antialias=True when shrinking")
    if interpolation == "nearest" and any(not isinstance(n, int) or m % n for n, m in zip(spatial, sizes)):
        problems.append(f"interpolation='nearest' to sizes {sizes} from {spatial} (not an integer upscaling)")
    elif interpolation not in ("nearest", "bilinear"):
        problems.append(f"interpolation={interpolation!r}")
    if problems:
        ctx.unsupported(f"only plain bilinear resizing, and nearest by integer factors, have an IR equivalent. "
                        f"Expected no cropping, padding or antialiased shrinking. Received: {', '.join(problems)}")
        return None
    mode, coordinate_mode = ("nearest", "asymmetric") if interpolation == "nearest" else ("linear", "half_pixel")
    return _resize(ctx, x, sizes, mode, coordinate_mode)
