"""interlayer's Keras layers whose sizes are size expressions (``backends/keras/sizes.py``): ReshapeTo and
BroadcastTo here, and the :func:`sizes` that turns any such layer's expressions into this graph's own.

Such a layer names its sizes by what it was built with (``"N*T"``) and binds each name to an axis of one of its
extra inputs; here that axis has a size of this graph (``"N"``, ``"ids_1"``, or an int), which replaces the
name, so the IR node reads the sizes this capture gave the graph inputs.
"""
from __future__ import annotations

from typing import Sequence

from ...backends.keras.sizes import BroadcastTo, ReshapeTo
from ...ir import dims, layout
from ...registry import register
from .context import Held, LayerContext, prefers

_SYMBOLIC = {"+": dims.add, "-": dims.sub, "*": dims.mul, "//": dims.floordiv, "%": dims.mod, "max": dims.maximum,
             "min": dims.minimum, "neg": lambda a: dims.sub(0, a)}
"""dims.evaluate's operations over sizes of this graph: the result is a canonical size expression"""


def sizes(ctx: LayerContext, layer, sources: Sequence[Held], values) -> list:
    """``values`` (ints or size expressions of ``layer``) in this graph's sizes: each name the layer binds to
    (source, axis) replaced by the IR size of the axis the source holds there."""
    bound = {}
    for name, (source, axis) in layer.bindings.items():
        held = sources[source]
        bound[name] = ctx.shape(held)[held.perm[axis]]
    return [dims.evaluate(value, bound, _SYMBOLIC) for value in values]


@register("keras", "frontend", ReshapeTo)
@prefers("identity")
def reshape_to(ctx: LayerContext, layer, inputs):
    """A row-major reshape of every axis: of the IR's own order."""
    x = ctx.identity(inputs[0])
    shape = sizes(ctx, layer, inputs[1:], layer.shape)
    return ctx.add("reshape", [x], {"shape": shape}, perm=layout.identity(len(shape)))


@register("keras", "frontend", BroadcastTo)
@prefers("any")
def broadcast_to(ctx: LayerContext, layer, inputs):
    """The sizes of the tensor as Keras holds it: each belongs to the IR axis held there. New axes in front need
    the input in the IR's own order."""
    x, target = inputs[0], sizes(ctx, layer, inputs[1:], layer.shape)
    if len(target) != x.rank:
        x = ctx.identity(x)
        return ctx.add("expand", [x], {"shape": target}, perm=layout.identity(len(target)))
    shape = [target[position] for position in layout.invert(x.perm)]
    return ctx.add("expand", [x], {"shape": shape}, perm=x.perm)
