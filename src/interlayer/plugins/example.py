"""The built-in example plugin: a custom Keras layer and its converter, found through the entry point
``keras.example = "interlayer.plugins.example"`` of the group ``interlayer.converters``.

It is what a plugin package looks like: the layer class (here shipped with the plugin; usually it lives in the
user's own code) and a converter registered for it. interlayer never imports this module by name; the registry
loads it when Keras converters are first needed, and the tests check that it was found that way.
"""
from __future__ import annotations

import keras

import interlayer
from interlayer.frontends.keras import LayerContext, prefers


@keras.saving.register_keras_serializable(package="interlayer_example")
class Clamp(keras.layers.Layer):
    """``min(max(x, low), high)``: a custom layer with its own configuration."""

    def __init__(self, low: float = -1.0, high: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = float(low), float(high)

    def call(self, inputs):
        return keras.ops.clip(inputs, self.low, self.high)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


@interlayer.register("keras", "frontend", Clamp)
@prefers("any")  # element-wise: it reads its input in whatever layout it is held
def clamp(ctx: LayerContext, layer: Clamp, inputs):
    x = inputs[0]
    if layer.low > layer.high:
        ctx.unsupported(f"low must not exceed high. Received: low={layer.low}, high={layer.high}")
        return None
    return ctx.add("clip", [x], {"min": layer.low, "max": layer.high}, perm=x.perm)
