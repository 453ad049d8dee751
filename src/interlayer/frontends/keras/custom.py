"""interlayer's own Keras layers (written by the Keras backend), so a model it built can be captured again."""
from __future__ import annotations

from ...backends.keras.layers import Clip, ConstantPadding, Gelu, HardSigmoid
from ...registry import register
from .capture import LayerContext, prefers


@register("keras", "frontend", ConstantPadding)
@prefers("channels_last")
def constant_padding(ctx: LayerContext, layer, inputs):
    x = ctx.channels_last(inputs[0])
    pads = [begin for begin, _ in layer.padding] + [end for _, end in layer.padding]
    return ctx.add("pad", [x], {"pads": pads, "value": layer.value}, perm=x.perm)


@register("keras", "frontend", Clip)
@prefers("any")
def clip(ctx: LayerContext, layer, inputs):
    return ctx.add("clip", [inputs[0]], {"min": layer.min_value, "max": layer.max_value}, perm=inputs[0].perm)


@register("keras", "frontend", HardSigmoid)
@prefers("any")
def hard_sigmoid(ctx: LayerContext, layer, inputs):
    return ctx.add("hard_sigmoid", [inputs[0]], {"alpha": layer.alpha, "beta": layer.beta}, perm=inputs[0].perm)


@register("keras", "frontend", Gelu)
@prefers("any")
def gelu(ctx: LayerContext, layer, inputs):
    approximate = "tanh" if layer.approximate else "none"
    return ctx.add("gelu", [inputs[0]], {"approximate": approximate}, perm=inputs[0].perm)
