"""linear -> Dense; dropout -> Dropout; identity -> Identity."""
from __future__ import annotations

import keras

from ...registry import register
from .build import BuildContext, Held, assign, prefers
from .sizes import ReshapeTo


@register("keras", "backend", "linear")
@prefers("identity")
def linear(ctx: BuildContext, node, inputs):
    x = inputs[0]
    if x.perm[-1] != x.rank - 1:  # Dense reads the Keras last axis; it must hold the IR's last axis
        x = ctx.identity(x)
    attrs = ctx.attrs
    if x.tensor.shape[-1] is None:  # a size the graph's guards fix (a flattened map): Dense needs it static
        x = _features(ctx, x, attrs["in_features"])
    layer = ctx.layer(keras.layers.Dense, units=attrs["out_features"], use_bias=attrs["bias"])
    y = layer(x.tensor)
    assign(layer.kernel, node.weights["weight"].T)  # (out, in) -> (in, out)
    if attrs["bias"]:
        assign(layer.bias, node.weights["bias"])
    return ctx.output(y, x.perm)


def _features(ctx: BuildContext, x: Held, features: int) -> Held:
    """``x`` with its last size declared ``features``: Dense builds its kernel from the static last size."""
    shape = [*ctx.input_shape()[:-1], features]
    if x.rank == 2:
        return Held(ctx.layer(keras.layers.Reshape, "features", target_shape=(features,))(x.tensor), x.perm, shape)
    sources, bindings = ctx.size_inputs(shape)
    layer = ctx.layer(ReshapeTo, "features", shape=shape, bindings=bindings)
    return Held(layer([x.tensor, *sources]), x.perm, tuple(shape))


@register("keras", "backend", "dropout")
@prefers("any")
def dropout(ctx: BuildContext, node, inputs):
    x = inputs[0]
    return ctx.output(ctx.layer(keras.layers.Dropout, rate=ctx.attrs["rate"])(x.tensor), x.perm)


@register("keras", "backend", "identity")
@prefers("any")
def identity(ctx: BuildContext, node, inputs):
    x = inputs[0]
    return ctx.output(ctx.layer(keras.layers.Identity)(x.tensor), x.perm)
