"""Element-wise math -> Activation layers where Keras has the function (exponential, softplus, selu, softsign,
hard_shrink and soft_shrink at their threshold 0.5, log_softmax along the last axis), else the small serializable
layers below.

Element-wise: the output is held as the input is; log_softmax's axis is mapped through the held perm.
"""
from __future__ import annotations

import keras

from ...registry import register
from .activation import apply
from .build import BuildContext, prefers

# ops that are exactly one built-in Keras activation function
_ACTIVATIONS = {"exp": "exponential", "selu": "selu", "softsign": "softsign"}
# ops that are one keras.ops function, through the Elementwise layer
_FUNCTIONS = {"log": "log", "sqrt": "sqrt", "abs": "absolute", "neg": "negative", "sign": "sign", "erf": "erf",
              "floor": "floor", "ceil": "ceil", "sin": "sin", "cos": "cos"}
# the threshold of Keras's hard_shrink and soft_shrink activations
_SHRINK_THRESHOLD = 0.5
# from this threshold on, x and softplus(x) above it differ by under exp(-15) relative: invisible in float32
_INVISIBLE_THRESHOLD = 15.0


@keras.saving.register_keras_serializable(package="interlayer")
class Elementwise(keras.layers.Layer):
    """``keras.ops.<function>(x)`` for one of the element-wise functions Keras has no activation for."""

    OPS = {function: op for op, function in _FUNCTIONS.items()}
    """the IR op of each function"""
    FUNCTIONS = tuple(OPS)

    def __init__(self, function: str, **kwargs):
        super().__init__(**kwargs)
        if function not in self.FUNCTIONS:
            raise ValueError(f"Elementwise: function must be one of {list(self.FUNCTIONS)}. "
                             f"Received: function={function!r}")
        self.function = function

    def call(self, inputs):
        return getattr(keras.ops, self.function)(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "function": self.function}


@keras.saving.register_keras_serializable(package="interlayer")
class ThresholdedSoftplus(keras.layers.Layer):
    """``x if x > threshold else softplus(x)`` (PyTorch's Softplus with a small threshold)."""

    def __init__(self, threshold: float = 20.0, **kwargs):
        super().__init__(**kwargs)
        self.threshold = float(threshold)

    def call(self, inputs):
        return keras.ops.where(inputs > self.threshold, inputs, keras.ops.softplus(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="interlayer")
class Shrink(keras.layers.Layer):
    """``x - bias`` where ``x > lambd``, ``x + bias`` where ``x < -lambd``, else 0 (ONNX's Shrink): Keras's
    hard_shrink and soft_shrink have no bias of their own."""

    def __init__(self, lambd: float = 0.5, bias: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.lambd = float(lambd)
        self.bias = float(bias)

    def call(self, inputs):
        inner = keras.ops.where(inputs < -self.lambd, inputs + self.bias, keras.ops.zeros_like(inputs))
        return keras.ops.where(inputs > self.lambd, inputs - self.bias, inner)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "lambd": self.lambd, "bias": self.bias}


@keras.saving.register_keras_serializable(package="interlayer")
class LogSoftmax(keras.layers.Layer):
    """``keras.ops.log_softmax`` along ``axis`` (the Activation layer's log_softmax is along the last axis only)."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        return keras.ops.log_softmax(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@register("keras", "backend", *_ACTIVATIONS)
@prefers("any")
def activation(ctx: BuildContext, node, inputs):
    return apply(ctx, inputs[0], ctx.layer(keras.layers.Activation, activation=_ACTIVATIONS[node.op]))


@register("keras", "backend", *_FUNCTIONS)
@prefers("any")
def elementwise(ctx: BuildContext, node, inputs):
    return apply(ctx, inputs[0], ctx.layer(Elementwise, function=_FUNCTIONS[node.op]))


@register("keras", "backend", "softplus")
@prefers("any")
def softplus(ctx: BuildContext, node, inputs):
    threshold = ctx.attrs["threshold"]
    if threshold is None or threshold >= _INVISIBLE_THRESHOLD:
        layer = ctx.layer(keras.layers.Activation, activation="softplus")
    else:
        layer = ctx.layer(ThresholdedSoftplus, threshold=threshold)
    return apply(ctx, inputs[0], layer)


@register("keras", "backend", "shrink")
@prefers("any")
def shrink(ctx: BuildContext, node, inputs):
    lambd, bias = ctx.attrs["lambd"], ctx.attrs["bias"]
    if lambd == _SHRINK_THRESHOLD and bias in (0.0, lambd):
        layer = ctx.layer(keras.layers.Activation, activation="hard_shrink" if bias == 0.0 else "soft_shrink")
    else:
        layer = ctx.layer(Shrink, lambd=lambd, bias=bias)
    return apply(ctx, inputs[0], layer)


@register("keras", "backend", "log_softmax")
@prefers("any")
def log_softmax(ctx: BuildContext, node, inputs):
    x = inputs[0]
    axis = x.perm.index(ctx.attrs["axis"])
    if axis == x.rank - 1:
        return apply(ctx, x, ctx.layer(keras.layers.Activation, activation="log_softmax"))
    return apply(ctx, x, ctx.layer(LogSoftmax, axis=axis))
