"""Conformance cases of the attention op family (batch_constant, expand, where, scaled_dot_product_attention)."""
from __future__ import annotations

from interlayer.ir import Graph, Node, TensorSpec
from support import single_op_graph

from .cases import case


def _masked_fill(value: float, condition_shape: tuple) -> Graph:
    """where(x, relu(c)): the condition is zero about half the time."""
    nodes = [Node("relu", "relu", ["c"], ["relu"], {}, {}),
             Node("where", "where", ["x", "relu"], ["where"], {"value": value}, {})]
    inputs = [TensorSpec("x", ("N", 3, 4, 4)), TensorSpec("c", ("N", *condition_shape))]
    graph = Graph(nodes, inputs, [TensorSpec("where", ())], name="where")
    graph.outputs[0].shape = graph.shapes()["where"]
    return graph


case("batch_constant", lambda: single_op_graph("batch_constant", {"shape": [3, 4]}, [(2, 5)]))
case("batch_constant-trainable", lambda: single_op_graph("batch_constant", {"shape": [1, 6], "trainable": True},
                                                         [(2, 3, 6)]))
case("expand-middle", lambda: single_op_graph("expand", {"shape": ["N", 3, 4, 5]}, [(2, 3, 1, 5)]))
case("expand-two-axes", lambda: single_op_graph("expand", {"shape": ["N", 2, 4, 6]}, [(2, 1, 4, 1)]))
case("where-same-shape", lambda: _masked_fill(-3.5, (3, 4, 4)))
case("where-broadcast-mask", lambda: _masked_fill(-1e9, (1, 1, 4)))
_QKV = [(2, 4, 5, 8), (2, 4, 6, 8), (2, 4, 6, 3)]
case("sdpa", lambda: single_op_graph("scaled_dot_product_attention", {}, _QKV))
case("sdpa-causal-scale", lambda: single_op_graph("scaled_dot_product_attention", {"causal": True, "scale": 0.3},
                                                  [(2, 4, 6, 8), (2, 4, 6, 8), (2, 4, 6, 3)]))
case("sdpa-additive-mask", lambda: single_op_graph("scaled_dot_product_attention", {}, [*_QKV, (2, 1, 5, 6)]))
case("sdpa-rank-3", lambda: single_op_graph("scaled_dot_product_attention", {}, [(2, 5, 8), (2, 7, 8), (2, 7, 4)]))
