"""Conv, ConvTranspose, Gemm, MatMul (+Add), normalisations: captured graph == onnxruntime, weights in the IR's
layouts with their ONNX names recorded."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, model, ops, positive, single, tensor, weight


def conv(x_shape, w_shape, bias=True, opset=17, op="Conv", output_shape=None, **attrs):
    out = w_shape[1] * attrs.get("group", 1) if op == "ConvTranspose" else w_shape[0]
    initializers = [tensor("W", weight(w_shape, 1))] + ([tensor("B", weight((out,), 2))] if bias else [])
    if output_shape is not None:  # onnx's shape inference would take ConvTranspose's output_shape for the whole shape
        attrs["output_shape"] = output_shape
        output_shape = ("N", out, *output_shape)
    return single(op, x_shape, output_shape, initializers=initializers, extra_inputs=["W", "B"] if bias else ["W"],
                  opset=opset, **attrs)


CONV_CASES = [
    pytest.param(lambda: conv(("N", 3, 9, 8), (4, 3, 3, 3)), id="2d"),
    pytest.param(lambda: conv(("N", 3, 9, 8), (4, 3, 3, 3), bias=False), id="2d-no-bias"),
    pytest.param(lambda: conv(("N", 3, 9, 8), (4, 3, 3, 2), pads=[1, 0, 2, 1], strides=[2, 1]), id="2d-pads"),
    pytest.param(lambda: conv(("N", 4, 9, 9), (6, 2, 3, 3), group=2, dilations=[2, 2]), id="2d-groups-dilated"),
    pytest.param(lambda: conv(("N", 4, 9, 9), (4, 1, 3, 3), group=4), id="2d-depthwise"),
    pytest.param(lambda: conv(("N", 3, 10), (5, 3, 4), strides=[3], auto_pad="SAME_UPPER"), id="1d-same-upper"),
    pytest.param(lambda: conv(("N", 3, 10, 9), (4, 3, 4, 2), strides=[3, 2], auto_pad="SAME_UPPER"),
                 id="2d-same-upper"),
    pytest.param(lambda: conv(("N", 3, 10, 9), (4, 3, 4, 2), strides=[3, 2], auto_pad="SAME_LOWER"),
                 id="2d-same-lower"),
    pytest.param(lambda: conv(("N", 3, 10, 9), (4, 3, 3, 3), strides=[2, 2], auto_pad="VALID"), id="2d-valid"),
    pytest.param(lambda: conv(("N", 3, 10, 9), (4, 3, 3, 3), strides=[2, 2], auto_pad="NOTSET", pads=[1, 1, 1, 1]),
                 id="2d-notset"),
    pytest.param(lambda: conv(("N", 2, 5, 6, 4), (3, 2, 2, 3, 2), pads=[1, 0, 1, 0, 1, 1]), id="3d"),
    pytest.param(lambda: conv(("N", 3, 5, 6), (3, 4, 3, 3), op="ConvTranspose"), id="transpose"),
    pytest.param(lambda: conv(("N", 3, 5, 6), (3, 4, 3, 3), op="ConvTranspose", strides=[2, 2], pads=[1, 0, 1, 1],
                              output_padding=[1, 1]), id="transpose-pads-output-padding"),
    pytest.param(lambda: conv(("N", 4, 5, 6), (4, 2, 3, 3), op="ConvTranspose", group=2, strides=[2, 1],
                              dilations=[1, 2]), id="transpose-groups-dilated"),
    pytest.param(lambda: conv(("N", 3, 5, 6), (3, 4, 3, 3), op="ConvTranspose", strides=[2, 2],
                              output_shape=[10, 12]), id="transpose-output-shape"),
    pytest.param(lambda: conv(("N", 3, 5, 6), (3, 4, 3, 3), op="ConvTranspose", strides=[2, 2],
                              output_shape=[12, 13]), id="transpose-output-shape-longer"),
    pytest.param(lambda: conv(("N", 3, 5, 6), (3, 4, 3, 3), op="ConvTranspose", strides=[2, 2],
                              auto_pad="SAME_UPPER"), id="transpose-same-upper"),
    pytest.param(lambda: conv(("N", 3, 5, 6), (3, 4, 3, 3), op="ConvTranspose", strides=[2, 2],
                              auto_pad="SAME_LOWER"), id="transpose-same-lower"),
    pytest.param(lambda: conv(("N", 3, 7), (3, 2, 4), op="ConvTranspose", strides=[3]), id="transpose-1d"),
]


@pytest.mark.parametrize("make", CONV_CASES)
def test_conv_matches_onnxruntime(make):
    check(make())


def test_same_padding_is_made_explicit_with_the_odd_pad_at_the_right_end():
    upper = capture(conv(("N", 3, 10, 9), (4, 3, 4, 2), strides=[3, 2], auto_pad="SAME_UPPER"))
    lower = capture(conv(("N", 3, 10, 9), (4, 3, 4, 2), strides=[3, 2], auto_pad="SAME_LOWER"))
    assert upper.nodes[0].attrs["pads"] == [1, 0, 2, 1]
    assert lower.nodes[0].attrs["pads"] == [2, 1, 1, 0]


def test_conv_weights_keep_their_onnx_names():
    graph = capture(conv(("N", 3, 9, 8), (4, 3, 3, 3)))
    assert graph.source["name_map"] == {"W": "conv.weight", "B": "conv.bias"}
    np.testing.assert_array_equal(graph.nodes[0].weights["weight"], weight((4, 3, 3, 3), 1))


def gemm(trans_b: int, c_shape=(5,), **attrs):
    b = weight((5, 6) if trans_b else (6, 5), 1)
    initializers = [tensor("B", b)] + ([tensor("C", weight(c_shape, 2))] if c_shape else [])
    return single("Gemm", ("N", 6), initializers=initializers, extra_inputs=["B", "C"] if c_shape else ["B"],
                  transB=trans_b, **attrs)


GEMM_CASES = [
    pytest.param(lambda: gemm(1), id="transB1"),
    pytest.param(lambda: gemm(0), id="transB0"),
    pytest.param(lambda: gemm(1, c_shape=None), id="no-C"),
    pytest.param(lambda: gemm(0, c_shape=(1, 5)), id="C-row"),
    pytest.param(lambda: gemm(1, c_shape=(1,)), id="C-scalar"),
    pytest.param(lambda: gemm(1, alpha=0.5, beta=2.0), id="alpha-beta-powers-of-two"),
]


@pytest.mark.parametrize("make", GEMM_CASES)
def test_gemm_matches_onnxruntime(make):
    graph = check(make())
    assert ops(graph) == ["linear"]


def test_gemm_trans_b0_transposes_the_weight():
    one, zero = capture(gemm(1)), capture(gemm(0))
    np.testing.assert_array_equal(one.nodes[0].weights["weight"], weight((5, 6), 1))
    np.testing.assert_array_equal(zero.nodes[0].weights["weight"], weight((6, 5), 1).T)


def test_gemm_alpha_that_does_not_fold_exactly_is_refused():
    with pytest.raises(UnsupportedLayerError, match=r"node 'gemm' \(Gemm\): alpha must fold exactly"):
        capture(gemm(1, alpha=0.3))


def matmul_add(bias_first: bool = False, rank: int = 3):
    shape = ("N", 6) if rank == 2 else ("N", 4, 6)
    add_inputs = ["b", "h"] if bias_first else ["h", "b"]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="fc/MatMul"),
             helper.make_node("Add", add_inputs, ["y"], name="fc/Add")]
    return model(nodes, [("x", shape)], [("y", None)], [tensor("w", weight((6, 5), 1)), tensor("b", weight((5,), 2))])


@pytest.mark.parametrize("bias_first", [False, True], ids=["x+b", "b+x"])
@pytest.mark.parametrize("rank", [2, 3])
def test_matmul_add_is_one_linear(bias_first, rank):
    graph = check(matmul_add(bias_first, rank))
    assert [(n.name, n.op, n.attrs["bias"]) for n in graph.nodes] == [("fc/MatMul", "linear", True)]
    assert graph.source["name_map"] == {"w": "fc/MatMul.weight", "b": "fc/MatMul.bias"}


def test_matmul_alone_is_a_linear_without_bias():
    proto = single("MatMul", ("N", 4, 6), initializers=[tensor("w", weight((6, 5), 1))], extra_inputs=["w"])
    graph = check(proto)
    assert [(n.op, n.attrs["bias"]) for n in graph.nodes] == [("linear", False)]


def test_matmul_read_twice_is_not_fused():
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
             helper.make_node("Add", ["h", "b"], ["y"], name="add"),
             helper.make_node("Relu", ["h"], ["z"], name="relu")]
    proto = model(nodes, [("x", ("N", 6))], [("y", None), ("z", None)],
                  [tensor("w", weight((6, 5), 1)), tensor("b", weight((5,), 2))])
    assert ops(check(proto)) == ["linear", "add", "relu"]


def test_constant_on_the_left_is_a_matmul():
    proto = model([helper.make_node("MatMul", ["w", "x"], ["y"], name="mm")], [("x", ("N", 6, 4))], [("y", None)],
                  [tensor("w", weight((5, 6), 1))])
    graph = check(proto)
    assert [(n.op, n.attrs["constant_first"]) for n in graph.nodes] == [("matmul", True)]


def test_matmul_of_two_computed_values():
    node = helper.make_node("MatMul", ["x", "z"], ["y"], name="mm")
    proto = model([node], [("x", ("N", 3, 4)), ("z", ("N", 4, 5))], [("y", None)])
    assert ops(check(proto)) == ["matmul"]


def batch_norm(shape=("N", 4, 5, 6), opset=15, **attrs):
    channels = shape[1]
    initializers = [tensor("scale", weight((channels,), 1)), tensor("bias", weight((channels,), 2)),
                    tensor("mean", weight((channels,), 3)), tensor("var", positive((channels,), 4))]
    return single("BatchNormalization", shape, initializers=initializers, opset=opset,
                  extra_inputs=["scale", "bias", "mean", "var"], **attrs)


NORM_CASES = [
    pytest.param(lambda: batch_norm(), id="BatchNormalization"),
    pytest.param(lambda: batch_norm(epsilon=1e-3, momentum=0.99), id="BatchNormalization-epsilon"),
    pytest.param(lambda: batch_norm(("N", 4)), id="BatchNormalization-2d"),
    pytest.param(lambda: batch_norm(("N", 4, 7), opset=9), id="BatchNormalization-opset9-1d"),
    pytest.param(lambda: single("LayerNormalization", ("N", 5, 8), extra_inputs=["s", "b"],
                                initializers=[tensor("s", weight((8,), 1) + 1), tensor("b", weight((8,), 2))]),
                 id="LayerNormalization"),
    pytest.param(lambda: single("LayerNormalization", ("N", 3, 4, 5), axis=1, epsilon=1e-3, extra_inputs=["s"],
                                initializers=[tensor("s", weight((3, 4, 5), 1) + 1)]),
                 id="LayerNormalization-axis1-no-bias"),
    pytest.param(lambda: single("InstanceNormalization", ("N", 3, 4, 5), extra_inputs=["s", "b"],
                                initializers=[tensor("s", weight((3,), 1)), tensor("b", weight((3,), 2))]),
                 id="InstanceNormalization"),
    pytest.param(lambda: single("GroupNormalization", ("N", 6, 4, 5), ("N", 6, 4, 5), opset=21, num_groups=3,
                                extra_inputs=["s", "b"],
                                initializers=[tensor("s", weight((6,), 1)), tensor("b", weight((6,), 2))]),
                 id="GroupNormalization"),
]


@pytest.mark.parametrize("make", NORM_CASES)
def test_normalisation_matches_onnxruntime(make):
    check(make())


def test_batch_norm_momentum_is_pytorchs():
    graph = capture(batch_norm(momentum=0.9))
    assert graph.nodes[0].attrs["momentum"] == pytest.approx(0.1)
    assert graph.nodes[0].attrs["epsilon"] == 1e-5


def test_batch_norm_reading_training_statistics_is_refused():
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], name="bn",
                              training_mode=1)]
    initializers = [tensor(n, weight((4,), i)) for i, n in enumerate("sbm")] + [tensor("v", positive((4,)))]
    proto = model(nodes, [("x", ("N", 4, 5))], [("y", None)], initializers, opset=15)
    with pytest.raises(UnsupportedLayerError, match="training_mode must be 0"):
        capture(proto)
