"""Graph structure, JSON round trip and validation (every problem reported at once)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from conformance.cases import CASES
from interlayer.errors import ValidationError
from interlayer.ir import Graph, Node, TensorSpec
from interlayer.ir.check import validate
from support import chain_graph


@pytest.mark.parametrize("case", sorted(CASES))
def test_node_json_round_trip_is_equal(case):
    graph = CASES[case]()
    for node in graph.nodes:
        again = Node.from_json(json.loads(json.dumps(node.to_json())), dict(graph.tensors()))
        assert again.to_json() == node.to_json()
        assert again.weights.keys() == node.weights.keys()
        for name, array in node.weights.items():
            assert again.weights[name] is not None and np.array_equal(again.weights[name], array)


def test_graph_json_round_trip_keeps_perm_and_provenance():
    graph = chain_graph([("relu", {})], (2, 3, 4, 4))
    graph.inputs[0].perm = (0, 2, 3, 1)
    graph.source = {"framework": "keras", "version": "3", "name_map": {"a/kernel": "b.weight"}}
    again = Graph.from_json(json.loads(graph.dumps()))
    assert again.to_json() == graph.to_json()
    assert again.inputs[0].perm == (0, 2, 3, 1)


def test_newer_graph_format_is_refused():
    data = chain_graph([("relu", {})], (2, 3)).to_json()
    data["format_version"] = 99
    with pytest.raises(ValidationError, match="format_version=99"):
        Graph.from_json(data)


def test_to_networkx_follows_values():
    graph = CASES["conv-pool-bn-global"]()
    network = graph.to_networkx()
    assert network.number_of_nodes() == len(graph.nodes) + 1
    assert ("x", graph.nodes[0].name) in network.edges


def test_shapes_are_inferred_with_symbolic_batch():
    graph = CASES["conv-flatten-linear"]()
    shapes = graph.shapes()
    assert shapes["conv_0"] == ("N", 4, 5, 4)
    assert shapes["flatten_2"] == ("N", 80)
    assert graph.outputs[0].shape == ("N", 6)


def _broken_graph() -> Graph:
    nodes = [
        Node("a", "conv", ["x"], ["a"], {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3], "groups": 2},
             {"weight": np.zeros((4, 3, 3, 3), np.float32)}),
        Node("b", "no_such_op", ["a"], ["b"]),
        Node("c", "relu", ["ghost"], ["c"]),
        Node("d", "linear", ["c"], ["d"], {"in_features": 5, "out_features": 2},
             {"weight": np.zeros((5, 2), np.float32), "bias": np.zeros(2, np.float32)}),
    ]
    return Graph(nodes, [TensorSpec("x", ("N", 3, 8, 8))], [TensorSpec("d", ())])


def test_validation_reports_every_problem_at_once():
    with pytest.raises(ValidationError) as info:
        validate(_broken_graph())
    message = str(info.value)
    assert "node 'a' (conv)" in message and "divisible by groups" in message
    assert "node 'b' (no_such_op): unknown op" in message
    assert "input 'ghost' is not defined" in message
    assert "node 'd' (linear): weight 'weight' must have shape (2, 5)" in message


@pytest.mark.parametrize("change, expected", [
    ("missing-weight", "weight 'bias' (out_features,) is missing"),
    ("extra-weight", "unknown weight 'gamma'"),
    ("bad-attribute-kind", "attribute 'out_features' must be int"),
    ("unknown-attribute", "unknown attribute"),
    ("bad-choice", "must be one of ['channels_first', 'channels_last']"),
    ("cycle", "cycle"),
    ("duplicate-name", "the node name is used twice"),
    ("integer-weight", "must be floating point"),
    ("bad-input-shape", "input has 6 features on its last axis. Expected 7"),
], ids=lambda v: v if isinstance(v, str) and " " not in v else None)
def test_validation_names_the_rule(change, expected):
    rng = np.random.default_rng(0)
    linear = Node("fc", "linear", ["x"], ["fc"], {"in_features": 7, "out_features": 5},
                  {"weight": rng.standard_normal((5, 7)).astype(np.float32), "bias": np.zeros(5, np.float32)})
    flatten = Node("flat", "flatten", ["fc"], ["flat"], {})
    graph = Graph([linear, flatten], [TensorSpec("x", ("N", 7))], [TensorSpec("flat", ())])
    if change == "missing-weight":
        del linear.weights["bias"]
    elif change == "extra-weight":
        linear.weights["gamma"] = np.zeros(5, np.float32)
    elif change == "bad-attribute-kind":
        linear.attrs["out_features"] = 5.0
    elif change == "unknown-attribute":
        linear.attrs["units"] = 5
    elif change == "bad-choice":
        flatten.attrs["order"] = "nchw"
    elif change == "cycle":
        linear.inputs = ["flat"]
    elif change == "duplicate-name":
        flatten.name = "fc"
    elif change == "integer-weight":
        linear.weights["bias"] = np.zeros(5, np.int32)
    elif change == "bad-input-shape":
        graph.inputs[0].shape = ("N", 6)
    with pytest.raises(ValidationError, match=re.escape(expected)):
        validate(graph)
