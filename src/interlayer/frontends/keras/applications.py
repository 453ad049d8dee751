"""The helper layers that ``keras.applications`` define for themselves: ConvNeXt's LayerScale and
StochasticDepth, InceptionResNetV2's CustomScaleLayer."""
from __future__ import annotations

import numpy as np
from keras.src.applications.convnext import LayerScale, StochasticDepth
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

from ...registry import register
from .context import LayerContext, array, prefers
from .merge import aligned


@register("keras", "frontend", LayerScale)
@prefers("any")
def layer_scale(ctx: LayerContext, layer, inputs):
    """``x * gamma``, gamma one value per position of the last Keras axis: a trainable constant operand."""
    x = inputs[0]
    gamma = ctx.constant(x, array(layer.gamma), dtype=layer.gamma.dtype)
    if gamma is None:
        return None
    return ctx.with_constant("mul", x, gamma, trainable=True, source=layer.gamma)


@register("keras", "frontend", StochasticDepth)
@prefers("any")
def stochastic_depth(ctx: LayerContext, layer, inputs):
    """Drops whole samples in training only: the identity at inference."""
    return ctx.add("identity", [inputs[0]], perm=inputs[0].perm)


@register("keras", "frontend", CustomScaleLayer)
@prefers("any")
def custom_scale(ctx: LayerContext, layer, inputs):
    """``inputs[0] + inputs[1] * scale``."""
    residual, branch = aligned(ctx, list(inputs))
    scale = np.asarray(layer.scale, dtype=layer.compute_dtype)
    if scale.size != 1:
        ctx.unsupported(f"scale must be a number. Expected a scalar. Received: scale shape={scale.shape}")
        return None
    scaled = ctx.with_constant("mul", branch, scale.reshape(()), name=f"{ctx.name}_scale")
    return ctx.add("add", [residual, scaled], perm=residual.perm)
