"""Keras recurrent layers: the captured graph on the reference interpreter == Keras; refusals name the option."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.keras import capture
from keras_helpers import check


def seq(*stack, shape=(6, 3)):
    inputs = keras.Input(shape)
    y = inputs
    for layer in stack:
        y = layer(y)
    return keras.Model(inputs, y, name="recurrent")


def with_states(layer, shape=(6, 3)):
    inputs = keras.Input(shape)
    return keras.Model(inputs, layer(inputs), name="states")


def initial_states(cls, count, units=4, bidirectional=False):
    inputs = [keras.Input((6, 3))] + [keras.Input((units,)) for _ in range(count * (2 if bidirectional else 1))]
    layer = cls(units, return_sequences=True)
    layer = layers.Bidirectional(layer) if bidirectional else layer
    return keras.Model(inputs, layer(inputs[0], initial_state=inputs[1:]), name="initial")


CASES = {
    "lstm": lambda: seq(layers.LSTM(4, return_sequences=True)),
    "lstm-last": lambda: seq(layers.LSTM(4)),
    "lstm-no-bias": lambda: seq(layers.LSTM(4, use_bias=False, return_sequences=True)),
    "lstm-backwards": lambda: seq(layers.LSTM(4, go_backwards=True, return_sequences=True)),
    "lstm-state": lambda: with_states(layers.LSTM(4, return_state=True, return_sequences=True)),
    "lstm-relu-sigmoid": lambda: seq(layers.LSTM(4, activation="relu", recurrent_activation="tanh")),
    "lstm-stacked": lambda: seq(layers.LSTM(5, return_sequences=True), layers.LSTM(4)),
    "lstm-initial-state": lambda: initial_states(layers.LSTM, 2),
    "gru-reset-after": lambda: seq(layers.GRU(4, return_sequences=True)),
    "gru-reset-before": lambda: seq(layers.GRU(4, reset_after=False, return_sequences=True)),
    "gru-reset-before-last": lambda: seq(layers.GRU(4, reset_after=False)),
    "gru-state": lambda: with_states(layers.GRU(4, return_state=True)),
    "gru-initial-state": lambda: initial_states(layers.GRU, 1),
    "simple_rnn": lambda: seq(layers.SimpleRNN(4, return_sequences=True)),
    "simple_rnn-relu-last": lambda: seq(layers.SimpleRNN(4, activation="relu")),
    "bidirectional-lstm": lambda: seq(layers.Bidirectional(layers.LSTM(4, return_sequences=True))),
    "bidirectional-lstm-last": lambda: seq(layers.Bidirectional(layers.LSTM(4))),
    "bidirectional-lstm-state": lambda: with_states(
        layers.Bidirectional(layers.LSTM(4, return_sequences=True, return_state=True))),
    "bidirectional-gru-sum": lambda: seq(layers.Bidirectional(layers.GRU(4, return_sequences=True), "sum")),
    "bidirectional-gru-reset-before-mul": lambda: seq(
        layers.Bidirectional(layers.GRU(4, reset_after=False), "mul")),
    "bidirectional-simple_rnn-ave": lambda: seq(
        layers.Bidirectional(layers.SimpleRNN(4, return_sequences=True), "ave")),
    "bidirectional-lstm-initial-state": lambda: initial_states(layers.LSTM, 2, bidirectional=True),
    "embedding-lstm": lambda: seq(layers.Embedding(20, 3), layers.LSTM(4), shape=(6,)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_recurrent_layer_matches_keras(case):
    check(CASES[case]())


def test_a_mask_is_refused_where_a_layer_would_use_it_not_silently_dropped():
    """mask_zero is recorded on the embedding; the LSTM and the pooling that would skip the masked steps are
    named, the Dense that ignores the mask is not."""
    inputs = keras.Input((None,), dtype="int32")
    tokens = layers.Embedding(30, 4, mask_zero=True, name="tokens")(inputs)
    pooled = layers.GlobalAveragePooling1D(name="pool")(layers.Dense(4, name="dense")(tokens))
    model = keras.Model(inputs, [layers.LSTM(3, name="lstm")(tokens), pooled])
    with pytest.raises(UnsupportedLayerError) as error:
        capture(model)
    message = str(error.value)
    assert "layer 'lstm' (LSTM): a Keras mask reaches this layer" in message
    assert "layer 'pool' (GlobalAveragePooling1D): a Keras mask" in message
    assert "'tokens'" not in message and "'dense'" not in message


def test_mask_zero_is_recorded_when_no_layer_uses_the_mask():
    inputs = keras.Input((None,), dtype="int32")
    model = keras.Model(inputs, layers.Dense(3)(layers.Embedding(30, 4, mask_zero=True, name="tokens")(inputs)))
    assert capture(model).node("tokens").attrs["mask_zero"] is True


def test_embedding_with_integer_indices():
    inputs = keras.Input((None,), dtype="int32")
    model = keras.Model(inputs, layers.Embedding(30, 4)(inputs))
    graph = capture(model)
    assert graph.inputs[0].dtype == "int32" and graph.nodes[0].attrs["mask_zero"] is False
    indices = np.random.default_rng(0).integers(0, 30, (2, 7)).astype("int32")
    import interlayer
    np.testing.assert_array_equal(list(interlayer.run(graph, indices).values())[0],
                                  keras.ops.convert_to_numpy(model(indices)))


REFUSED = {
    "stateful": (lambda: keras.Sequential([keras.Input((6, 3), batch_size=2), layers.LSTM(4, stateful=True)]),
                 "stateful=True"),
    "custom-cell": (lambda: seq(layers.RNN(layers.LSTMCell(4))), "cell=LSTMCell"),
    "activation": (lambda: seq(layers.LSTM(4, activation="softplus")), "activation='softplus'"),
    "merge-none": (lambda: with_states(layers.Bidirectional(layers.LSTM(4), merge_mode=None)), "merge_mode=None"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unsupported_recurrent_option_is_refused(case):
    build, option = REFUSED[case]
    with pytest.raises(UnsupportedLayerError, match="layer '") as error:
        capture(build())
    assert option in str(error.value)
