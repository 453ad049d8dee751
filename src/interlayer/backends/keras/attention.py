"""batch_constant, expand, where and scaled_dot_product_attention, with the small layers they need.

Each layer is registered as serializable (package ``interlayer``), so a saved model loads again once
``interlayer.backends.keras`` is imported.
"""
from __future__ import annotations

import math

import keras

from ...registry import register
from .algebra import same_layout
from .build import BuildContext, assign, prefers
from .sizes import BroadcastTo


@keras.saving.register_keras_serializable(package="interlayer")
class BatchConstant(keras.layers.Layer):
    """This layer's weight ``value`` (``shape``, without the batch axis) repeated over its input's batch."""

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(int(d) for d in shape)
        self.value = self.add_weight(name="value", shape=self.shape, initializer="zeros")

    def call(self, inputs):
        batch = keras.ops.shape(inputs)[0]
        return keras.ops.broadcast_to(keras.ops.expand_dims(self.value, 0), (batch, *self.shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.shape)

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape)}


@keras.saving.register_keras_serializable(package="interlayer")
class Expand(keras.layers.Layer):
    """``broadcast_to(x, (batch, *shape))``: axes of size 1 repeat; the batch axis is kept. (Models saved before IR
    format 2 hold it; the backend now writes :class:`~interlayer.backends.keras.sizes.BroadcastTo`.)"""

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(int(d) for d in shape)

    def call(self, inputs):
        return keras.ops.broadcast_to(inputs, (keras.ops.shape(inputs)[0], *self.shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.shape)

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape)}


@keras.saving.register_keras_serializable(package="interlayer")
class MaskedFill(keras.layers.Layer):
    """``where(condition != 0, value, x)`` for inputs ``[x, condition]``, broadcast."""

    def __init__(self, value: float, **kwargs):
        super().__init__(**kwargs)
        self.value = float(value)

    def call(self, inputs):
        x, condition = inputs
        fill = keras.ops.cast(self.value, x.dtype)
        return keras.ops.where(keras.ops.cast(condition, "bool"), fill, x)

    def get_config(self):
        return {**super().get_config(), "value": self.value}


@keras.saving.register_keras_serializable(package="interlayer")
class ScaledDotProductAttention(keras.layers.Layer):
    """``softmax(q @ k^T * scale + mask) @ v`` over the last two axes, as F.scaled_dot_product_attention."""

    def __init__(self, scale: float | None = None, causal: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.scale = None if scale is None else float(scale)
        self.causal = bool(causal)

    def call(self, inputs):
        query, key, value, *mask = inputs
        scale = self.scale if self.scale is not None else 1 / math.sqrt(query.shape[-1])
        scores = keras.ops.matmul(query, keras.ops.swapaxes(key, -1, -2)) * scale
        lowest = keras.ops.cast(float("-inf"), scores.dtype)
        if self.causal:
            rows, columns = keras.ops.shape(scores)[-2], keras.ops.shape(scores)[-1]
            keep = keras.ops.tril(keras.ops.ones((rows, columns), dtype="bool"))
            scores = keras.ops.where(keep, scores, lowest)
        if mask:
            if mask[0].dtype == "bool":
                scores = keras.ops.where(mask[0], scores, lowest)
            else:
                scores = scores + mask[0]
        return keras.ops.matmul(keras.ops.softmax(scores, axis=-1), value)

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], input_shape[2][-1])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "causal": self.causal}


@register("keras", "backend", "batch_constant")
@prefers("identity")
def batch_constant(ctx: BuildContext, node, inputs):
    layer = ctx.layer(BatchConstant, shape=ctx.attrs["shape"], trainable=ctx.attrs["trainable"])
    y = layer(inputs[0].tensor)
    assign(layer.value, node.weights["value"][0])
    return ctx.output(y, tuple(range(len(ctx.attrs["shape"]) + 1)))


@register("keras", "backend", "expand")
@prefers("any")
def expand(ctx: BuildContext, node, inputs):
    """interlayer's BroadcastTo on the tensor as it is held (the target sizes in the held order); an input with
    fewer axes than the result is held in the IR's order, the new axes in front."""
    x, target = inputs[0], list(ctx.attrs["shape"])
    if len(target) == x.rank:
        target, perm = [target[axis] for axis in x.perm], x.perm
    else:
        x = ctx.identity(x)
        perm = tuple(range(len(target)))
    sources, bindings = ctx.size_inputs(target)
    layer = ctx.layer(BroadcastTo, shape=target, bindings=bindings)
    return ctx.output(layer([x.tensor, *sources]), perm)


@register("keras", "backend", "where")
@prefers("any")
def where(ctx: BuildContext, node, inputs):
    held, perm = same_layout(ctx, inputs)
    return ctx.output(ctx.layer(MaskedFill, value=ctx.attrs["value"])([x.tensor for x in held]), perm)


@register("keras", "backend", "scaled_dot_product_attention")
@prefers("identity")
def scaled_dot_product_attention(ctx: BuildContext, node, inputs):
    tensors = [ctx.identity(x).tensor for x in inputs]
    layer = ctx.layer(ScaledDotProductAttention, scale=ctx.attrs["scale"], causal=ctx.attrs["causal"])
    return ctx.output(layer(tensors), tuple(range(len(ctx.output_shape))))


