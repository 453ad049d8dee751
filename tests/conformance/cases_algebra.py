"""Conformance cases of the algebra op family: arithmetic with broadcasting and constants, matmul, reductions,
stack, split; mish and prelu; and small networks where the Keras backend must keep feature maps NHWC."""
from __future__ import annotations

import numpy as np

from interlayer.ir import ops
from interlayer.ir.builder import GraphBuilder
from support import random_weights, single_op_graph

from .cases import case, conv


def graph_of(inputs: dict, steps: list, outputs: list, seed: int = 0, name: str = "g"):
    """A graph from ``{input: shape}`` and ``[(name, op, [inputs], attrs)]``, seeded random weights; a step may
    end with a dict of weights that replace the random ones."""
    rng = np.random.default_rng(seed)
    builder = GraphBuilder(name, "test", "0")
    for value, shape in inputs.items():
        builder.input(value, ("N", *shape[1:]))
    for node, op, sources, attrs, *fixed in steps:
        schema = ops.get(op)
        weights = random_weights(schema, schema.fill(attrs), rng)
        weights.update(*fixed)
        builder.add_node(op, sources, attrs, weights, name=node)
    for value in outputs:
        builder.output(value)
    graph = builder.finish()
    graph.source = {}  # no provenance, as the other cases (an archive drops an empty name map)
    return graph


def constant(shape, first: bool = False, trainable: bool = False) -> dict:
    """The attributes of a constant operand of ``shape``."""
    attrs = {"constant": True, "constant_shape": list(shape), "trainable": trainable}
    return {**attrs, "constant_first": True} if first else attrs


def with_other(graph, value):
    """``graph`` with its single node's constant set to ``value`` (exponents and bases that keep pow real)."""
    graph.nodes[0].weights["other"] = np.asarray(value, np.float32)
    return graph


MAP = (2, 3, 4, 5)

# element-wise with a constant operand
case("mul-constant-channels", lambda: single_op_graph("mul", constant((3, 1, 1)), [MAP]))
case("mul-constant-channels-full-rank", lambda: single_op_graph("mul", constant((1, 3, 1, 1), trainable=True), [MAP]))
case("mul-constant-last-axis", lambda: single_op_graph("mul", constant((5,)), [MAP]))
case("mul-constant-features", lambda: single_op_graph("mul", constant((6,), trainable=True), [(2, 6)]))
case("add-constant-scalar", lambda: single_op_graph("add", constant(()), [MAP]))
case("add-constant-spatial", lambda: single_op_graph("add", constant((4, 5)), [MAP]))
case("sub-constant-scalar-right", lambda: single_op_graph("sub", constant(()), [MAP]))
case("sub-constant-scalar-left", lambda: single_op_graph("sub", constant((), first=True), [MAP]))
case("sub-constant-channels-left", lambda: single_op_graph("sub", constant((3, 1, 1), first=True), [MAP]))
case("div-constant-scalar-right", lambda: single_op_graph("div", constant(()), [MAP]))
case("div-constant-channels-right", lambda: single_op_graph("div", constant((3, 1, 1), trainable=True), [MAP]))
case("pow-constant-square", lambda: with_other(single_op_graph("pow", constant(()), [MAP]), 2.0))
case("pow-constant-base-left", lambda: with_other(single_op_graph("pow", constant((), first=True), [MAP]), 1.5))
# element-wise with two (or more) inputs, broadcasting
case("add-broadcast-three", lambda: single_op_graph("add", {}, [MAP, (2, 3, 1, 1), (2, 1, 4, 5)]))
case("sub-equal", lambda: single_op_graph("sub", {}, [MAP, MAP]))
case("sub-broadcast", lambda: single_op_graph("sub", {}, [MAP, (2, 1, 4, 5)]))
case("mul-equal", lambda: single_op_graph("mul", {}, [MAP, MAP]))
case("mul-broadcast-channels", lambda: single_op_graph("mul", {}, [MAP, (2, 3, 1, 1)]))
case("mul-broadcast-both", lambda: single_op_graph("mul", {}, [(2, 3, 1, 5), (2, 1, 4, 1)]))
case("div-broadcast", lambda: single_op_graph("div", {}, [(2, 6), (2, 1)]))
case("pow-broadcast-positive-base", lambda: graph_of({"x": (2, 3, 4), "y": (2, 1, 4)}, [
    ("base", "sigmoid", ["x"], {}), ("pow", "pow", ["base", "y"], {})], ["pow"]))
# matmul
case("matmul-2d-constant", lambda: single_op_graph("matmul", constant((6, 4)), [(2, 6)]))
case("matmul-3d-constant", lambda: single_op_graph("matmul", constant((6, 4), trainable=True), [(2, 5, 6)]))
case("matmul-3d-constant-left", lambda: single_op_graph("matmul", constant((4, 5), first=True), [(2, 5, 6)]))
case("matmul-3d", lambda: single_op_graph("matmul", {}, [(2, 5, 6), (2, 6, 3)]))
case("matmul-4d", lambda: single_op_graph("matmul", {}, [(2, 3, 5, 6), (2, 3, 6, 4)]))
case("matmul-4d-broadcast", lambda: single_op_graph("matmul", {}, [(2, 3, 5, 6), (2, 1, 6, 4)]))
case("matmul-4d-constant-batched", lambda: single_op_graph("matmul", constant((3, 6, 4)), [(2, 3, 5, 6)]))
# reductions
case("reduce_mean-channels", lambda: single_op_graph("reduce_mean", {"axes": [1]}, [MAP]))
case("reduce_mean-spatial-keepdims", lambda: single_op_graph("reduce_mean", {"axes": [2, 3], "keepdims": True}, [MAP]))
case("reduce_mean-all", lambda: single_op_graph("reduce_mean", {"axes": [1, 2, 3]}, [MAP]))
case("reduce_sum-spatial", lambda: single_op_graph("reduce_sum", {"axes": [2, 3]}, [MAP]))
case("reduce_sum-last-keepdims", lambda: single_op_graph("reduce_sum", {"axes": [2], "keepdims": True}, [(2, 3, 6)]))
case("reduce_max-channels-width", lambda: single_op_graph("reduce_max", {"axes": [1, 3]}, [MAP]))
case("reduce_max-features", lambda: single_op_graph("reduce_max", {"axes": [1], "keepdims": True}, [(2, 7)]))
# stack and split
case("stack-axis1", lambda: single_op_graph("stack", {"axis": 1}, [(2, 3, 4), (2, 3, 4)]))
case("stack-last-three", lambda: single_op_graph("stack", {"axis": 4}, [MAP, MAP, MAP]))
case("split-channels", lambda: graph_of(
    {"x": MAP}, [("split", "split", ["x"], {"axis": 1, "sizes": [1, 2]})], ["split:0", "split:1"]))
case("split-width-three", lambda: graph_of(
    {"x": MAP}, [("split", "split", ["x"], {"axis": 3, "sizes": [2, 1, 2]})], ["split:2", "split:0", "split:1"]))
case("split-one-part", lambda: single_op_graph("split", {"axis": 2, "sizes": [4]}, [MAP]))
case("split-features-one-used", lambda: graph_of(
    {"x": (2, 6)}, [("split", "split", ["x"], {"axis": 1, "sizes": [4, 2]}),
                    ("relu", "relu", ["split:1"], {})], ["relu"]))
# activations
case("act-mish", lambda: single_op_graph("mish", {}, [MAP]))
case("prelu-shared", lambda: single_op_graph("prelu", {}, [MAP]))
case("prelu-channels", lambda: single_op_graph("prelu", {"num_parameters": 3}, [MAP]))
case("prelu-features", lambda: single_op_graph("prelu", {"num_parameters": 6}, [(2, 6)]))
case("prelu-channels-1d", lambda: single_op_graph("prelu", {"num_parameters": 3}, [(2, 3, 7)]))

# small networks: the Keras backend keeps the maps NHWC through these (tests/backends/keras counts Permutes)
case("conv-scale-conv", lambda: graph_of({"x": (2, 3, 6, 6)}, [
    ("conv1", "conv", ["x"], conv(3, 4, (3, 3), pads=[1, 1, 1, 1])),
    ("scale", "mul", ["conv1"], constant((4, 1, 1), trainable=True)),
    ("shift", "sub", ["scale"], constant((4, 1, 1), first=True)),
    ("conv2", "conv", ["shift"], conv(4, 2, (3, 3)))], ["conv2"]))
case("conv-squeeze-excitation-conv", lambda: graph_of({"x": (2, 3, 6, 6)}, [
    ("stem", "conv", ["x"], conv(3, 4, (3, 3), pads=[1, 1, 1, 1])),
    ("squeeze", "reduce_mean", ["stem"], {"axes": [2, 3], "keepdims": True}),
    ("reduce", "conv", ["squeeze"], conv(4, 2, (1, 1))), ("act", "relu", ["reduce"], {}),
    ("expand", "conv", ["act"], conv(2, 4, (1, 1))), ("gate", "sigmoid", ["expand"], {}),
    ("excite", "mul", ["stem", "gate"], {}),
    ("head", "conv", ["excite"], conv(4, 2, (1, 1)))], ["head"]))
case("conv-channels-last-block", lambda: graph_of({"x": (2, 4, 5, 5)}, [
    ("dwconv", "conv", ["x"], conv(4, 4, (3, 3), pads=[1, 1, 1, 1], groups=4)),
    ("to_last", "transpose", ["dwconv"], {"perm": [0, 2, 3, 1]}),
    ("fc1", "linear", ["to_last"], {"in_features": 4, "out_features": 8}), ("act", "gelu", ["fc1"], {}),
    ("fc2", "linear", ["act"], {"in_features": 8, "out_features": 4}),
    ("gamma", "mul", ["fc2"], constant((4,), trainable=True)),
    ("to_first", "transpose", ["gamma"], {"perm": [0, 3, 1, 2]}),
    ("residual", "add", ["x", "to_first"], {})], ["residual"]))
case("conv-split-convs-stack", lambda: graph_of({"x": (2, 3, 6, 6)}, [
    ("stem", "conv", ["x"], conv(3, 4, (3, 3))),
    ("halves", "split", ["stem"], {"axis": 1, "sizes": [2, 2]}),
    ("left", "conv", ["halves:0"], conv(2, 3, (1, 1))), ("right", "conv", ["halves:1"], conv(2, 3, (1, 1))),
    ("pair", "stack", ["left", "right"], {"axis": 1}),
    ("pooled", "reduce_max", ["pair"], {"axes": [1]}),
    ("head", "conv", ["pooled"], conv(3, 2, (3, 3)))], ["head", "halves:1"]))
case("conv-mean-linear", lambda: graph_of({"x": (2, 3, 6, 6)}, [
    ("stem", "conv", ["x"], conv(3, 5, (3, 3))), ("prelu", "prelu", ["stem"], {"num_parameters": 5}),
    ("pool", "reduce_mean", ["prelu"], {"axes": [2, 3]}),
    ("head", "linear", ["pool"], {"in_features": 5, "out_features": 2})], ["head"]))
case("attention-scores", lambda: graph_of({"q": (2, 5, 6), "k": (2, 5, 6)}, [
    ("keys", "transpose", ["k"], {"perm": [0, 2, 1]}),
    ("scores", "matmul", ["q", "keys"], {}),
    ("scaled", "mul", ["scores"], constant(())),
    ("weights", "softmax", ["scaled"], {"axis": 2}),
    ("mixed", "matmul", ["weights", "q"], {})], ["mixed"]))
