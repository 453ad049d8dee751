"""Core layers: Dense, Dropout (and SpatialDropout), Identity."""
from __future__ import annotations

import keras

from ...registry import register
from . import activation
from .context import LayerContext, array, prefers


@register("keras", "frontend", keras.layers.Dense)
@prefers("identity")
def dense(ctx: LayerContext, layer, inputs):
    if getattr(layer, "quantization_mode", None) is not None:
        ctx.unsupported(f"quantized weights have no IR form. Expected float weights. "
                        f"Received: quantization_mode={layer.quantization_mode!r}")
        return None
    x = inputs[0]
    if x.perm[-1] != x.rank - 1:  # Dense reads the Keras last axis; it must be the IR's last axis too
        x = ctx.identity(x)
    kernel = array(layer.kernel)  # (in, out)
    weights, sources = {"weight": kernel.T}, {"weight": layer.kernel}
    if layer.use_bias:
        weights["bias"], sources["bias"] = array(layer.bias), layer.bias
    attrs = {"in_features": int(kernel.shape[0]), "out_features": int(kernel.shape[1]), "bias": bool(layer.use_bias)}
    return activation.fused(ctx, layer, ctx.add("linear", [x], attrs, weights, perm=x.perm, sources=sources))


@register("keras", "frontend", keras.layers.Dropout, keras.layers.SpatialDropout1D, keras.layers.SpatialDropout2D,
          keras.layers.SpatialDropout3D)
@prefers("any")
def dropout(ctx: LayerContext, layer, inputs):
    return ctx.add("dropout", [inputs[0]], {"rate": float(layer.rate)}, perm=inputs[0].perm)


@register("keras", "frontend", keras.layers.Identity)
@prefers("any")
def identity(ctx: LayerContext, layer, inputs):
    return ctx.add("identity", [inputs[0]], perm=inputs[0].perm)

