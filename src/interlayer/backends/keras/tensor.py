"""flatten -> Flatten, reshape -> Reshape, pad -> ZeroPadding/ConstantPadding/Cropping (interlayer's Padding for
the reflect, edge and wrap modes), tile -> interlayer's Tile; transpose makes no layer."""
from __future__ import annotations

import keras

from ...ir import layout
from ...registry import register
from .build import BuildContext, Held, prefers
from .layers import SizedReshape, Tile
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
    """``Reshape``; a symbolic size becomes its -1, and several (or one next to a -1) a :class:`SizedReshape` that
    reads them from the input when the model runs."""
    x = ctx.identity(inputs[0])  # a row-major reshape of the IR layout
    target = tuple(ctx.attrs["shape"])
    symbolic = [d for d in target if isinstance(d, str)]
    if not symbolic or (len(symbolic) == 1 and -1 not in target):
        target = tuple(-1 if isinstance(d, str) else d for d in target)
        layer = ctx.layer(keras.layers.Reshape, target_shape=target)
    else:
        shape = ctx.input_shape()
        layer = ctx.layer(SizedReshape, sizes=[0 if isinstance(d, str) else d for d in target],
                          copies=[shape.index(d) if isinstance(d, str) else -1 for d in target])
    return ctx.output(layer(x.tensor), layout.identity(len(target) + 1))


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
    repeats = [ctx.attrs["repeats"][axis] for axis in x.perm[1:]]
    return ctx.output(ctx.layer(Tile, repeats=repeats)(x.tensor), x.perm)


@register("keras", "backend", "pad")
@prefers("channels_last")
def pad(ctx: BuildContext, node, inputs):
    rank = inputs[0].rank - 2
    if not 1 <= rank <= 3:
        ctx.unsupported(f"Keras padding layers are 1-D to 3-D. Expected a rank 3 to 5 input. Received: rank={rank + 2}")
        return None
    x = ctx.channels_last(inputs[0])
    pads = ctx.attrs["pads"]
    y = pad_spatial(ctx, x, pads[:rank], pads[rank:], value=ctx.attrs["value"], suffix=None, mode=ctx.attrs["mode"])
    return ctx.output(y.tensor, y.perm)
