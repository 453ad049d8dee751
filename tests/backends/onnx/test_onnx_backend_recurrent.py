"""Recurrent options beyond the conformance suite: an initial h without c, every activation the IR allows, and
embeddings of integer and float indices feeding an LSTM over a symbolic sequence length."""
from __future__ import annotations

import numpy as np
import pytest

import interlayer
from conformance.cases_recurrent import recurrent_graph
from interlayer.backends.onnx import predict
from interlayer.ir import Graph, Node, TensorSpec, ops
from support import assert_equivalent, assert_varies, random_inputs, random_weights


def _matches(graph: Graph, inputs) -> list[np.ndarray]:
    expected = list(interlayer.run(graph, inputs).values())
    actual = predict(interlayer.build(graph, "onnx"), inputs)
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"{graph.name} output {index}")
    return actual


def test_lstm_with_an_initial_h_and_no_c():
    graph = recurrent_graph("lstm", {"return_state": True, "num_layers": 2}, initial_states=True)
    graph.inputs = graph.inputs[:2]  # x and h: c starts at zeros
    graph.nodes[0].inputs = graph.nodes[0].inputs[:2]
    first = _matches(graph, random_inputs(graph, seed=1))
    assert_varies(first[1], _matches(graph, random_inputs(graph, seed=2))[1], what="final h")


ACTIVATIONS = {
    "lstm-relu-tanh": ("lstm", {"activation": "relu", "recurrent_activation": "tanh", "bidirectional": True}),
    "lstm-sigmoid-relu": ("lstm", {"activation": "sigmoid", "recurrent_activation": "relu"}),
    "gru-relu-tanh": ("gru", {"activation": "relu", "recurrent_activation": "tanh"}),
    "gru-reset-before-sigmoid": ("gru", {"activation": "sigmoid", "reset_after": False, "num_layers": 2}),
    "rnn-sigmoid": ("rnn", {"activation": "sigmoid", "bidirectional": True, "merge_mode": "ave"}),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_the_ir_allows(name):
    op, attrs = ACTIVATIONS[name]
    graph = recurrent_graph(op, {**attrs, "return_state": True})
    first = _matches(graph, random_inputs(graph, seed=1))
    assert_varies(first[0], _matches(graph, random_inputs(graph, seed=2))[0], what=name)


def _text_model(dtype: str) -> Graph:
    rng = np.random.default_rng(0)
    embedding = ops.get("embedding").fill({"num_embeddings": 20, "embedding_dim": 6})
    lstm = ops.get("lstm").fill({"input_size": 6, "hidden_size": 5, "return_sequences": False})
    nodes = [Node("embed", "embedding", ["ids"], ["embed"], embedding,
                  random_weights(ops.get("embedding"), embedding, rng)),
             Node("lstm", "lstm", ["embed"], ["lstm"], lstm, random_weights(ops.get("lstm"), lstm, rng))]
    return Graph(nodes, [TensorSpec("ids", ("N", "T"), dtype)], [TensorSpec("lstm", ("N", 5))], name=f"text_{dtype}")


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
def test_embedding_indices_of_any_type_over_a_symbolic_length(dtype):
    graph = _text_model(dtype)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 20, (3, 9)).astype(dtype)
    if dtype == "float32":
        ids = ids + np.float32(0.75)  # truncated to the same rows, as the IR defines
    first = _matches(graph, [ids])
    assert_varies(first[0], _matches(graph, [ids[:, ::-1].copy()])[0], what="text model output")
    _matches(graph, [ids[:1, :4]])
