"""flatten -> Flatten, reshape -> Reshape (interlayer's ReshapeTo where sizes are computed when the model runs or
axis 0 changes), pad -> ZeroPadding/ConstantPadding/Cropping on the spatial axes of a map (interlayer's Padding for
the reflect, edge and wrap modes, and for any other axes), tile -> interlayer's Tile; transpose makes no layer."""
from __future__ import annotations

import keras

from ...ir import dims, layout
from ...registry import register
from .build import BuildContext, Held, prefers
from .index import Slice
from .layers import Padding, Tile
from .sizes import ReshapeTo
from .window import pad as pad_spatial


def _flatten_reads(node) -> str:
    return "channels_last" if node.attrs.get("order") == "channels_last" else "identity"


@register("keras", "backend", "flatten")
@prefers(_flatten_reads)
def flatten(ctx: BuildContext, node, inputs):
    x = inputs[0]
    # Keras's Flatten reads its tensor row-major: held channels-last that is the IR's channels_last order
    wanted = layout.channels_last(x.rank) if ctx.attrs["order"] == "channels_last" else layout.identity(x.rank)
    x = ctx.hold(x, wanted)
    return ctx.output(ctx.layer(keras.layers.Flatten)(x.tensor), layout.identity(2))


@register("keras", "backend", "reshape")
@prefers("identity")
def reshape(ctx: BuildContext, node, inputs):
    """Keras's ``Reshape`` where axis 0 keeps its size and at most one other size is unknown (it becomes the -1);
    else interlayer's :class:`ReshapeTo`, which computes the sizes when the model runs."""
    x = ctx.identity(inputs[0])  # a row-major reshape of the IR layout
    target = [dims.normal(d) for d in ctx.attrs["shape"]]
    rest = target[1:]
    unknown = [d for d in rest if isinstance(d, str)]
    if target and target[0] != -1 and dims.equal(target[0], ctx.input_shape()[0]) and (
            not unknown or (len(unknown) == 1 and -1 not in rest)):
        layer = ctx.layer(keras.layers.Reshape, target_shape=tuple(-1 if isinstance(d, str) else d for d in rest))
        return ctx.output(layer(x.tensor), layout.identity(len(target)))
    sources, bindings = ctx.size_inputs(target)
    layer = ctx.layer(ReshapeTo, shape=target, bindings=bindings)
    return ctx.output(layer([x.tensor, *sources]), layout.identity(len(target)))


@register("keras", "backend", "transpose")
@prefers("any")
def transpose(ctx: BuildContext, node, inputs):
    """No layer: the same Keras tensor, now standing for the transposed value.

    tensor = T(x, held) and out = T(x, t), so tensor = T(out, compose(invert(t), held)).
    """
    x = inputs[0]
    return Held(x.tensor, layout.compose(layout.invert(ctx.attrs["perm"]), x.perm), ctx.output_shape)


@register("keras", "backend", "tile")
@prefers("any")
def tile(ctx: BuildContext, node, inputs):
    """interlayer's Tile on the tensor as it is held: each count moves with its axis."""
    x = inputs[0]
    repeats = [ctx.attrs["repeats"][axis] for axis in x.perm]
    return ctx.output(ctx.layer(Tile, repeats=repeats[1:], first=repeats[0])(x.tensor), x.perm)


def _pads_spatial(node) -> str:
    rank = len(node.attrs.get("pads", [])) // 2
    return "channels_last" if 1 <= rank <= 3 else "any"


@register("keras", "backend", "pad")
@prefers(_pads_spatial)
def pad(ctx: BuildContext, node, inputs):
    """The last len(pads) / 2 axes: the spatial axes of a map (all but the first two) by Keras's padding layers on
    the channels-last tensor; any other axes by interlayer's Padding (and a Slice to crop) where they are held."""
    pads, x = ctx.attrs["pads"], inputs[0]
    count = len(pads) // 2
    if count == x.rank - 2 and 1 <= count <= 3:
        x = ctx.channels_last(x)
        y = pad_spatial(ctx, x, pads[:count], pads[count:], value=ctx.attrs["value"], suffix=None,
                        mode=ctx.attrs["mode"])
        return ctx.output(y.tensor, y.perm)
    return _pad_axes(ctx, x, pads)


def _pad_axes(ctx: BuildContext, x: Held, pads) -> Held:
    count = len(pads) // 2
    axes = range(x.rank - count, x.rank)
    begin, end = pads[:count], pads[count:]
    tensor = x.tensor
    grow = [(max(b, 0), max(e, 0)) for b, e in zip(begin, end)]
    if any(any(pair) for pair in grow):
        layer = ctx.layer(Padding, padding=grow, mode=ctx.attrs["mode"], value=ctx.attrs["value"],
                          axes=[x.perm.index(axis) for axis in axes])
        tensor = layer(tensor)
    cropped = [(axis, max(-b, 0), max(-e, 0)) for axis, b, e in zip(axes, begin, end) if b < 0 or e < 0]
    if cropped:  # a negative pad crops: a slice of the grown tensor, its ends computed from its sizes
        shape, grown = ctx.input_shape(), dict(zip(axes, grow))
        ends = [dims.sub(dims.add(shape[axis], sum(grown[axis])), cut) for axis, _, cut in cropped]
        sources, bindings = ctx.size_inputs(ends)
        layer = ctx.layer(Slice, "crop", axes=[x.perm.index(axis) for axis, _, _ in cropped],
                          starts=[cut for _, cut, _ in cropped], ends=ends, bindings=bindings)
        tensor = layer([tensor, *sources])
    return ctx.output(tensor, x.perm)
