"""Whole models through the ONNX backend: PyTorch (a residual CNN, a stacked bidirectional LSTM with a GRU, a
two-layer TransformerEncoder) and Keras (a CNN read channels-last) exported to the IR, built as ONNX and run with
onnxruntime at batch 3: the outputs match the source model's (and the reference interpreter's) within 1e-5."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.backends.onnx import predict
from interlayer.backends.torch import predict as torch_predict
from interlayer.execute import predict as predict_any
from support import assert_equivalent, assert_varies
from models.torch_models import ResidualNet, randomise


class Recurrent(nn.Module):
    """Two bidirectional LSTM layers, a GRU over their output, a linear head on every step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 12, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(24, 10, batch_first=True)
        self.head = nn.Linear(10, 4)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        return self.head(y)


def _transformer():
    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True, activation="gelu")
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


TORCH_MODELS = {
    "residual-cnn": (ResidualNet, (3, 32, 32)),
    "lstm-gru": (Recurrent, (7, 8)),
    "transformer-encoder": (_transformer, (6, 32)),
}


def _inputs(shape, batch: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, *shape)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(TORCH_MODELS))
def test_torch_model_through_onnx_matches_torch(name):
    factory, shape = TORCH_MODELS[name]
    torch.manual_seed(0)
    model = randomise(factory(), seed=1)
    graph = interlayer.export(model, example_inputs=(2, *shape))
    onnx_model = interlayer.build(graph, "onnx")
    x = _inputs(shape, batch=3, seed=2)
    expected = torch_predict(model, [x])
    actual = predict(onnx_model, [x])
    assert len(actual) == len(expected) == len(graph.outputs)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"{name} output {index}")
    other = predict(onnx_model, [_inputs(shape, batch=3, seed=3)])[0]
    assert_varies(actual[0], other, what=f"{name} output 0")


def _keras_cnn():
    import keras

    inputs = keras.Input((16, 16, 3))
    y = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.MaxPooling2D()(y)
    y = keras.layers.Conv2D(12, 4, strides=2, padding="same")(y)
    y = keras.layers.LeakyReLU()(y)
    y = keras.layers.Flatten()(y)
    y = keras.layers.Dense(6, activation="softmax")(y)
    return keras.Model(inputs, y, name="keras_cnn")


def _randomise_keras(model, seed: int = 0):
    """Seeded weights: kernels scaled by fan-in, random biases and BN statistics, positive variances."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape, name = tuple(variable.shape), variable.path.rsplit("/", 1)[-1]
        if name == "moving_variance":
            array = rng.uniform(0.5, 2.0, shape)
        elif len(shape) >= 2:
            array = rng.standard_normal(shape) / math.sqrt(math.prod(shape[:-1]))
        else:
            array = rng.standard_normal(shape) * 0.5
        variable.assign(array.astype(np.float32))
    return model


def test_keras_cnn_through_onnx_matches_keras():
    model = _randomise_keras(_keras_cnn())
    graph = interlayer.export(model)
    assert graph.inputs[0].perm == (0, 2, 3, 1)  # the IR itself is canonical: (N, 3, 16, 16)
    onnx_model = interlayer.build(graph, "onnx")
    x = _inputs((3, 16, 16), batch=3, seed=2)
    actual = predict(onnx_model, [x])[0]
    assert_equivalent(actual, list(interlayer.run(graph, [x]).values())[0], what="keras cnn vs reference")
    assert_equivalent(actual, predict_any(model, [x], graph)[0], what="keras cnn vs keras")
    assert_varies(actual, predict(onnx_model, [_inputs((3, 16, 16), batch=3, seed=3)])[0], what="keras cnn")
