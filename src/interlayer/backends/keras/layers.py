"""The few Keras layers interlayer adds where Keras has no built-in one computing an IR op exactly.

Each is registered as serializable (package ``interlayer``), so a saved model loads again once
``interlayer.backends.keras`` is imported.
"""
from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="interlayer")
class ConstantPadding(keras.layers.Layer):
    """Pads the spatial axes of a channels-last tensor with ``value`` (e.g. -inf before a max pooling).

    ``padding`` has one ``(begin, end)`` pair per spatial axis.
    """

    def __init__(self, padding, value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.padding = tuple((int(begin), int(end)) for begin, end in padding)
        self.value = float(value)

    def call(self, inputs):
        widths = ((0, 0), *self.padding, (0, 0))
        return keras.ops.pad(inputs, widths, mode="constant", constant_values=self.value)

    def compute_output_shape(self, input_shape):
        spatial = [None if size is None else size + begin + end
                   for size, (begin, end) in zip(input_shape[1:-1], self.padding)]
        return (input_shape[0], *spatial, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "padding": [list(pair) for pair in self.padding], "value": self.value}


@keras.saving.register_keras_serializable(package="interlayer")
class Clip(keras.layers.Layer):
    """``min(max(x, min_value), max_value)``; either bound may be None."""

    def __init__(self, min_value: float | None = None, max_value: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.min_value = None if min_value is None else float(min_value)
        self.max_value = None if max_value is None else float(max_value)

    def call(self, inputs):
        if self.min_value is not None:
            inputs = keras.ops.maximum(inputs, self.min_value)
        if self.max_value is not None:
            inputs = keras.ops.minimum(inputs, self.max_value)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value}


@keras.saving.register_keras_serializable(package="interlayer")
class HardSigmoid(keras.layers.Layer):
    """``clip(alpha * x + beta, 0, 1)`` for the slopes Keras's own hard_sigmoid (alpha 1/6, beta 0.5) lacks."""

    def __init__(self, alpha: float = 0.2, beta: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def call(self, inputs):
        return keras.ops.clip(inputs * self.alpha + self.beta, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


@keras.saving.register_keras_serializable(package="interlayer")
class Gelu(keras.layers.Layer):
    """GELU with a choice of form: Keras's ``Activation("gelu")`` is the exact erf form only."""

    def __init__(self, approximate: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.approximate = bool(approximate)

    def call(self, inputs):
        return keras.activations.gelu(inputs, approximate=self.approximate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "approximate": self.approximate}
