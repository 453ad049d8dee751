"""Conformance cases of the recurrent op family (embedding, lstm, gru, rnn): every option both backends express."""
from __future__ import annotations

import numpy as np

from interlayer.ir import Graph, Node, TensorSpec, ops
from support import random_weights

from .cases import case

SEQUENCE = (2, 5, 3)
"""(N, T, F) of every recurrent case"""


def recurrent_graph(op: str, attrs: dict, length=5, initial_states: bool = False, seed: int = 0) -> Graph:
    """One recurrent node over (N, length, 3), every output a graph output; with ``initial_states``, the initial
    h (and c) as further graph inputs."""
    schema = ops.get(op)
    filled = schema.fill({"input_size": SEQUENCE[2], "hidden_size": 4, **attrs})
    weights = random_weights(schema, filled, np.random.default_rng(seed))
    inputs = [TensorSpec("x", ("N", length, SEQUENCE[2]))]
    if initial_states:
        layers = filled["num_layers"] * (2 if filled["bidirectional"] else 1)
        inputs += [TensorSpec(f"state{k}", ("N", layers, 4)) for k in range(2 if op == "lstm" else 1)]
    count = schema.output_count(filled)
    outputs = [op] if count == 1 else [f"{op}:{k}" for k in range(count)]
    node = Node(op, op, [spec.name for spec in inputs], outputs, filled, weights)
    graph = Graph([node], inputs, [TensorSpec(value, ()) for value in outputs], name=op)
    shapes = graph.shapes()
    for spec in graph.outputs:
        spec.shape = shapes[spec.name]
    return graph


VARIANTS = {
    "": {},
    "-last": {"return_sequences": False},
    "-state": {"return_state": True},
    "-last-state": {"return_sequences": False, "return_state": True},
    "-no-bias": {"bias": False},
    "-backwards": {"go_backwards": True},
    "-two-layers": {"num_layers": 2},
    "-bidirectional": {"bidirectional": True},
    "-bidirectional-last-state": {"bidirectional": True, "return_sequences": False, "return_state": True},
    "-bidirectional-two-layers": {"bidirectional": True, "num_layers": 2, "return_state": True},
    "-bidirectional-sum": {"bidirectional": True, "merge_mode": "sum"},
    "-bidirectional-mul-last": {"bidirectional": True, "merge_mode": "mul", "return_sequences": False},
    "-bidirectional-ave-two-layers": {"bidirectional": True, "merge_mode": "ave", "num_layers": 2},
}

for _op in ("lstm", "gru", "rnn"):
    for _suffix, _attrs in VARIANTS.items():
        case(f"{_op}{_suffix}", lambda op=_op, a=_attrs: recurrent_graph(op, a))
    case(f"{_op}-initial-state", lambda op=_op: recurrent_graph(op, {"return_state": True}, initial_states=True))
case("gru-reset-before", lambda: recurrent_graph("gru", {"reset_after": False}))
case("gru-reset-before-bidirectional", lambda: recurrent_graph(
    "gru", {"reset_after": False, "bidirectional": True, "return_state": True}))
case("rnn-relu", lambda: recurrent_graph("rnn", {"activation": "relu"}))
