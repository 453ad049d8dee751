"""Helpers for the Keras frontend tests: seeded weights, and 'reference interpreter on the graph == Keras'."""
from __future__ import annotations

import math

import keras
import numpy as np

import interlayer
from interlayer.frontends.keras import capture
from interlayer.ir import layout
from support import assert_equivalent, assert_varies


def randomize(model: keras.Model, seed: int = 0) -> keras.Model:
    """Seeded weights for every layer, nested models' too: kernels scaled by fan-in, non-zero biases, BN
    statistics and affine parameters random, variances positive. Nothing is left at a Keras default."""
    rng = np.random.default_rng(seed)
    for layer in _layers(model):
        for variable in layer.weights:
            if not str(variable.dtype).startswith("float"):
                continue  # Normalization's count
            shape, name = tuple(variable.shape), variable.path.rsplit("/", 1)[-1]
            if name in ("moving_variance", "variance"):
                array = rng.uniform(0.5, 2.0, shape)
            elif len(shape) >= 2:
                array = rng.standard_normal(shape) / math.sqrt(math.prod(shape[:-1]))
            else:
                array = rng.standard_normal(shape) * 0.5
            variable.assign(array.astype(np.float32))
        if isinstance(layer, keras.layers.Normalization) and layer.input_mean is None:
            layer.finalize_state()  # call() uses the mean and variance derived from the variables here
    return model


def _layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def native_inputs(model: keras.Model, seed: int = 1, batch: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch, *tensor.shape[1:])).astype(np.float32) for tensor in model.inputs]


def keras_outputs(model: keras.Model, inputs: list[np.ndarray]) -> list[np.ndarray]:
    functional = getattr(model, "_functional", None) or model
    outputs = model(keras.tree.pack_sequence_as(functional.input, inputs), training=False)
    return [np.asarray(keras.ops.convert_to_numpy(out)) for out in keras.tree.flatten(outputs)]


def reference_outputs(graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The interpreter on Keras-layout inputs, its outputs back in Keras layout (through each spec's perm)."""
    canonical = [x if spec.perm is None else np.transpose(x, layout.invert(spec.perm))
                 for x, spec in zip(inputs, graph.inputs)]
    results = list(interlayer.run(graph, canonical).values())
    return [y if spec.perm is None else np.transpose(y, spec.perm) for y, spec in zip(results, graph.outputs)]


def check(model: keras.Model, seed: int = 0):
    """Capture ``model`` (seeded weights) and assert the reference interpreter reproduces it; the graph."""
    randomize(model, seed)
    graph = capture(model)
    inputs = native_inputs(model)
    expected = keras_outputs(model, inputs)
    actual = reference_outputs(graph, inputs)
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"{model.name} output {index}")
    other = reference_outputs(graph, native_inputs(model, seed=2))
    assert_varies(other[0], actual[0])
    return graph
