"""Keras MultiHeadAttention and transformer blocks -> PyTorch (and back to Keras) within 1e-5, the sequence
length kept symbolic: the converted model takes another length."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import interlayer
from interlayer.conversion import convert_file
from interlayer.execute import predict
from interlayer.errors import UnsupportedLayerError
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies

FEATURES = 32


def _randomise(model, seed: int = 0):
    """Every weight seeded, biases and LayerNorm scales included (Keras initialises them to 0 and 1)."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        scale = 0.5 if len(variable.shape) == 1 or "bias" in variable.path else 1.0 / np.sqrt(variable.shape[0])
        variable.assign((rng.standard_normal(variable.shape) * scale).astype(np.float32))
    return model


def transformer_block(causal: bool = False):
    x = keras.Input((None, FEATURES), name="tokens")
    attended = keras.layers.MultiHeadAttention(4, 8, name="attention")(x, x, use_causal_mask=causal)
    h = keras.layers.LayerNormalization(name="norm1")(keras.layers.Add()([x, attended]))
    f = keras.layers.Dense(64, activation="gelu", name="ff1")(h)
    f = keras.layers.Dense(FEATURES, name="ff2")(f)
    y = keras.layers.LayerNormalization(name="norm2")(keras.layers.Add()([h, f]))
    return keras.Model(x, y)


def cross_attention():
    """Query and memory of different lengths and widths, key != value, value_dim, no biases, output_shape."""
    query = keras.Input((None, FEATURES), name="query")
    memory = keras.Input((None, 24), name="memory")
    keys = keras.Input((None, 20), name="keys")
    layer = keras.layers.MultiHeadAttention(2, 6, value_dim=5, use_bias=False, output_shape=12, name="cross")
    return keras.Model([query, memory, keys], layer(query, memory, key=keys))


def masked_attention():
    """An explicit boolean attention mask (batch, T, S) as a second input, combined with the causal mask."""
    x = keras.Input((None, FEATURES), name="tokens")
    mask = keras.Input((None, None), dtype="bool", name="mask")
    layer = keras.layers.MultiHeadAttention(4, 8, name="attention")
    return keras.Model([x, mask], layer(x, x, attention_mask=mask, use_causal_mask=True))


MODELS = {"transformer-block": transformer_block, "transformer-block-causal": lambda: transformer_block(True),
          "cross-attention": cross_attention, "masked-attention": masked_attention}


def _inputs(model, length: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        if tensor.dtype == "bool":
            mask = rng.random((2, length, length)) < 0.7
            mask[:, :, 0] = True  # every query keeps one key: a fully masked row has no defined softmax
            arrays.append(mask)
        else:
            size = length + 2 if tensor.name == "memory" or tensor.name == "keys" else length
            arrays.append(rng.standard_normal((2, size, tensor.shape[-1])).astype(np.float32))
    return arrays


@pytest.mark.parametrize("target", ["torch", "keras"])
@pytest.mark.parametrize("case", sorted(MODELS))
def test_keras_attention_any_length(case, target, tmp_path):
    model = _randomise(MODELS[case]())
    graph = interlayer.export(model)
    assert all(isinstance(spec.shape[1], str) for spec in graph.inputs), "sequence lengths must stay symbolic"
    converted = interlayer.build(graph, target)
    outputs = []
    for length in (7, 12):
        inputs = _inputs(model, length, seed=length)
        expected = np.asarray(model(inputs if len(inputs) > 1 else inputs[0], training=False))
        actual = predict(converted, inputs)[0]
        assert_equivalent(actual, expected, what=f"{case} -> {target}, length {length}")
        outputs.append(actual)
    assert_varies(outputs[0], predict(converted, _inputs(model, 7, seed=99))[0])
    if target == "torch":
        assert_package_reproduces(converted, _inputs(model, 12, seed=12), tmp_path / "package")


def test_attention_weights_keep_their_keras_names():
    graph = interlayer.export(_randomise(transformer_block()))
    sources = graph.source["name_map"]
    assert sources["attention/query/kernel"] == "attention_query.weight"
    assert sources["attention/attention_output/kernel"] == "attention.weight"
    assert [n.op for n in graph.nodes].count("scaled_dot_product_attention") == 1


def test_keras_transformer_block_to_a_torch_package(tmp_path):
    """The readable PyTorch package runs at another length, as the Keras source does."""
    model = _randomise(transformer_block(causal=True))
    result = interlayer.conversion.convert_file(model, "torch", tmp_path / "block")
    assert result.checks[0].passed
    source = (tmp_path / "block" / "model.py").read_text()
    assert "size(1)" in source  # the length is read from the input, not baked in


def test_unsupported_attention_options_are_all_named():
    x = keras.Input((None, 4, FEATURES))
    wide = keras.layers.MultiHeadAttention(2, 4, attention_axes=(1, 2), name="wide")(x, x)
    y = keras.Input((None, FEATURES))
    scores = keras.layers.MultiHeadAttention(2, 4, name="scores")(y, y, return_attention_scores=True)[0]
    model = keras.Model([x, y], [wide, scores])
    with pytest.raises(UnsupportedLayerError) as error:
        interlayer.export(model)
    message = str(error.value)
    assert "'wide'" in message and "attention_axes" in message
    assert "'scores'" in message and "return_attention_scores" in message
