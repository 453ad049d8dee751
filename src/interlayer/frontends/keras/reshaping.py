"""Reshaping: Flatten, Reshape, Permute, ZeroPadding1D/2D/3D, Cropping1D/2D/3D."""
from __future__ import annotations

import keras

from ...ir import layout
from ...registry import register
from .capture import LayerContext, prefers


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
    x = ctx.identity(inputs[0])  # Keras reshapes its own row-major order
    target = [int(size) for size in layer.target_shape]
    return ctx.add("reshape", [x], {"shape": target}, perm=layout.identity(len(target) + 1))


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
