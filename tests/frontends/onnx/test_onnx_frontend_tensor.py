"""Reshape, Flatten, Transpose, Squeeze/Unsqueeze, Concat, Split, Slice, Gather, Pad, Expand, Identity, Dropout, and the
folding of Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains into one node that keeps the batch symbolic."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, model, ops, single, tensor, value, weight

SHAPE = ("N", 4, 6, 5)


def ints(name, values):
    return tensor(name, np.array(values, np.int64))


CASES = [
    pytest.param(lambda: single("Flatten", SHAPE), id="Flatten"),
    pytest.param(lambda: single("Flatten", ("N", 4, 1, 1), opset=9), id="Flatten-1x1-opset9"),
    pytest.param(lambda: single("Reshape", SHAPE, extra_inputs=["s"], initializers=[ints("s", [0, -1])]),
                 id="Reshape-0-minus1"),
    pytest.param(lambda: single("Reshape", SHAPE, extra_inputs=["s"], initializers=[ints("s", [-1, 24, 5])]),
                 id="Reshape-minus1-batch"),
    pytest.param(lambda: single("Reshape", SHAPE, extra_inputs=["s"], initializers=[ints("s", [0, 2, 2, 30])]),
                 id="Reshape-split"),
    pytest.param(lambda: single("Reshape", ("N", 6), ("N", 2, 3), opset=4, shape=[0, 2, 3]),
                 id="Reshape-opset4-attribute"),
    pytest.param(lambda: single("Transpose", SHAPE, perm=[0, 2, 3, 1]), id="Transpose"),
    pytest.param(lambda: single("Squeeze", ("N", 4, 1, 5), opset=11, axes=[2]), id="Squeeze-opset11"),
    pytest.param(lambda: single("Squeeze", ("N", 4, 1, 5), extra_inputs=["a"], initializers=[ints("a", [-2])]),
                 id="Squeeze-opset13"),
    pytest.param(lambda: single("Unsqueeze", ("N", 4, 5), opset=11, axes=[1, 4]), id="Unsqueeze-opset11"),
    pytest.param(lambda: single("Unsqueeze", ("N", 4, 5), extra_inputs=["a"], initializers=[ints("a", [-1])]),
                 id="Unsqueeze-opset13"),
    pytest.param(lambda: single("Concat", SHAPE, extra_inputs=["x"], axis=1), id="Concat"),
    pytest.param(lambda: single("Slice", SHAPE, extra_inputs=["s", "e", "a"],
                                initializers=[ints("s", [1, -4]), ints("e", [3, 100]), ints("a", [1, 3])]),
                 id="Slice"),
    pytest.param(lambda: single("Slice", SHAPE, opset=9, starts=[2], ends=[5], axes=[2]), id="Slice-opset9"),
    pytest.param(lambda: single("Gather", SHAPE, extra_inputs=["i"], axis=2, initializers=[ints("i", 4)]),
                 id="Gather-scalar"),
    pytest.param(lambda: single("Gather", SHAPE, extra_inputs=["i"], axis=-1, initializers=[ints("i", [1, 2, 3])]),
                 id="Gather-run"),
    pytest.param(lambda: single("Pad", SHAPE, extra_inputs=["p", "v"],
                                initializers=[ints("p", [0, 0, 1, 2, 0, 0, 2, 0]), tensor("v", np.float32(0.5))]),
                 id="Pad-opset11"),
    pytest.param(lambda: single("Pad", SHAPE, extra_inputs=["p"],
                                initializers=[ints("p", [0, 0, 1, -1, 0, 0, 0, 2])]), id="Pad-crop"),
    pytest.param(lambda: single("Pad", SHAPE, opset=10, pads=[0, 0, 1, 1, 0, 0, 1, 1], value=-1.0),
                 id="Pad-opset10-attributes"),
    pytest.param(lambda: single("Expand", ("N", 4, 1), extra_inputs=["s"], initializers=[ints("s", [1, 4, 3])]),
                 id="Expand"),
    pytest.param(lambda: single("Identity", SHAPE), id="Identity"),
    pytest.param(lambda: single("Dropout", SHAPE, opset=11, ratio=0.2), id="Dropout-opset11"),
    pytest.param(lambda: single("Dropout", SHAPE, opset=13), id="Dropout-opset13"),
]


@pytest.mark.parametrize("make", CASES)
def test_tensor_op_matches_onnxruntime(make):
    check(make())


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_split(opset):
    attrs = {"axis": 1}
    initializers, extra = [], []
    if opset == 11:
        attrs["split"] = [1, 3]
    elif opset == 13:
        initializers, extra = [ints("s", [1, 3])], ["s"]
    else:
        attrs["num_outputs"] = 2
    node = helper.make_node("Split", ["x", *extra], ["a", "b"], name="split", **attrs)
    tail = helper.make_node("Mul", ["a", "a"], ["c"], name="square")
    proto = model([node, tail], [("x", SHAPE)], [("b", None), ("c", None)], initializers, opset)
    assert ops(check(proto)) == ["split", "mul"]


def view_by_size(opset: int = 13, batch=None):
    """torch.onnx's ``x.view(x.size(0), -1)``: Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="Shape"),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="Gather", axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes"], ["batch1"], name="Unsqueeze"),
        helper.make_node("Concat", ["batch1", "minus"], ["target"], name="Concat", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"], name="Reshape"),
        helper.make_node("Gemm", ["flat", "w"], ["y"], name="fc", transB=1),
    ]
    initializers = [ints("zero", 0), ints("axes", [0]), ints("minus", [-1]), tensor("w", weight((3, 120), 1))]
    return model(nodes, [("x", (batch or "N", 4, 6, 5))], [("y", None)], initializers, opset)


PAD_MODES = [
    pytest.param("reflect", [0, 0, 1, 3, 0, 0, 2, 0], 17, id="Pad-reflect"),
    pytest.param("reflect", [0, 0, 5, 4, 0, 0, 5, 4], 13, id="Pad-reflect-widest-opset13"),
    pytest.param("edge", [0, 0, 2, 0, 0, 0, 1, 6], 17, id="Pad-edge"),
    pytest.param("wrap", [0, 0, 4, 1, 0, 0, 0, 5], 19, id="Pad-wrap-opset19"),
    pytest.param("constant", [0, 0, 1, 1, 0, 0, 0, 2], 19, id="Pad-constant-opset19"),
]


@pytest.mark.parametrize("mode, pads, opset", PAD_MODES)
def test_pad_mode_matches_onnxruntime(mode, pads, opset):
    graph = check(single("Pad", SHAPE, extra_inputs=["p"], initializers=[ints("p", pads)], opset=opset, mode=mode))
    assert graph.nodes[0].attrs == {"pads": pads[2:4] + pads[6:], "value": 0.0, "mode": mode}


@pytest.mark.parametrize("mode", ["reflect", "edge"])
def test_pad_mode_opset10_attributes(mode):
    graph = check(single("Pad", SHAPE, opset=10, pads=[0, 0, 2, 1, 0, 0, 1, 3], mode=mode))
    assert graph.nodes[0].attrs["mode"] == mode


def test_pad_mode_ignores_the_constant_value_as_onnx_does():
    proto = single("Pad", SHAPE, extra_inputs=["p", "v"], initializers=[ints("p", [0, 0, 1, 1, 0, 0, 1, 1]),
                                                                         tensor("v", np.float32(3.0))], mode="edge")
    assert check(proto).nodes[0].attrs["value"] == 0.0


@pytest.mark.parametrize("mode, pads, message", [
    pytest.param("reflect", [0, 0, -1, 0, 0, 0, 2, 0], r"'reflect' padding cannot crop", id="reflect-crop"),
    pytest.param("reflect", [0, 0, 6, 0, 0, 0, 0, 0],
                 r"op 'pad': 'reflect' padding copies the input's own values, so each pad must be < size of its axis. "
                 r"Expected pads < size on axes \[2\]", id="reflect-size"),
])
def test_pad_mode_the_ir_cannot_express_is_refused(mode, pads, message):
    proto = single("Pad", SHAPE, extra_inputs=["p"], initializers=[ints("p", pads)], opset=13, mode=mode)
    with pytest.raises(UnsupportedLayerError, match=r"node 'pad' \(Pad\): the IR's 'pad' cannot express it: " + message):
        capture(proto)


def test_shape_chain_folds_into_one_flatten_keeping_the_batch():
    graph = check(view_by_size(), batches=(1, 3))
    assert ops(graph) == ["flatten", "linear"]
    assert graph.nodes[0].name == "Reshape"
    assert graph.inputs[0].shape == ("N", 4, 6, 5) and graph.outputs[0].shape == ("N", 3)


def test_a_file_fixing_the_batch_to_one_still_gets_a_symbolic_batch():
    proto = view_by_size(batch=1)
    graph = capture(proto)
    assert graph.inputs[0].shape[0] == "N" and ops(graph) == ["flatten", "linear"]


def test_a_reshape_to_a_literal_batch_of_one_in_a_fixed_batch_file_keeps_the_batch():
    proto = single("Reshape", (1, 4, 6), extra_inputs=["s"], initializers=[ints("s", [1, 2, 12])])
    graph = capture(proto)
    assert graph.outputs[0].shape == ("N", 2, 12)


def test_shape_of_a_value_keeps_symbolic_dims_named():
    proto = single("Relu", ("N", 4, "T"))
    assert capture(proto).inputs[0].shape == ("N", 4, "T")


def test_a_constant_expanded_to_the_batch_is_a_batch_constant():
    """A class token: Expand(token, [Shape(x)[0], 3]) is the same row for every sample."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="shape"),
             helper.make_node("Slice", ["shape", "zero", "one"], ["batch"], name="batch"),
             helper.make_node("Concat", ["batch", "three"], ["target"], name="target", axis=0),
             helper.make_node("Expand", ["token", "target"], ["tokens"], name="expand"),
             helper.make_node("Concat", ["tokens", "x"], ["y"], name="concat", axis=1)]
    initializers = [ints("zero", [0]), ints("one", [1]), ints("three", [3]), tensor("token", weight((1, 3), 1))]
    graph = check(model(nodes, [("x", ("N", 4))], [("y", None)], initializers), batches=(1, 3))
    assert ops(graph) == ["batch_constant", "concat"]


def test_a_reshape_merging_the_batch_is_a_reshape_of_a_size_expression():
    graph = check(single("Reshape", SHAPE, extra_inputs=["s"], initializers=[ints("s", [-1, 5])]), batches=(1, 3))
    assert [(node.op, node.attrs["shape"]) for node in graph.nodes] == [("reshape", ["24*N", 5])]
    assert graph.outputs[0].shape == ("24*N", 5)


def test_a_time_major_value_read_by_an_element_wise_op_is_a_transpose():
    nodes = [helper.make_node("Transpose", ["x"], ["t"], name="to_time_major", perm=[1, 0, 2]),
             helper.make_node("Softmax", ["t"], ["y"], name="softmax", axis=0)]
    graph = check(model(nodes, [("x", ("N", 7, 6))], [("y", None)]), batches=(1, 3))
    assert ops(graph) == ["transpose", "softmax"] and graph.outputs[0].shape == (7, "N", 6)


def test_shape_of_a_dynamic_size_is_refused():
    nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
             helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")]
    proto = model(nodes, [("x", ("N", 4, "T"))], [("y", ("N", 4, "T"))])
    with pytest.raises(UnsupportedLayerError, match=r"node 'shape' \(Shape\): the shape of its input has dynamic "
                                                    r"size\(s\) \['T'\]"):
        capture(proto)


def test_gather_on_a_table_is_an_embedding():
    node = helper.make_node("Gather", ["table", "ids"], ["y"], name="embed")
    proto = model([node], [value("ids", ("N", 7), TensorProto.INT64)], [("y", None)],
                  [tensor("table", weight((4, 6), 1))])
    graph = check(proto)
    assert ops(graph) == ["embedding"] and graph.inputs[0].dtype == "int64"
    assert graph.source["name_map"] == {"table": "embed.weight"}


def test_dropout_keeps_its_rate():
    graph = capture(single("Dropout", SHAPE, opset=11, ratio=0.2))
    assert [(n.op, n.attrs) for n in graph.nodes] == [("dropout", {"rate": 0.2})]
