"""Element-wise math: captured graph == onnxruntime, with both versions of LogSoftmax."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, model, ops, single, tensor

SHAPE = ("N", 4, 5, 6)


def positive_then(op_type: str):
    """Abs, Add 0.5, then ``op_type``: inputs where Log and Sqrt are defined."""
    nodes = [helper.make_node("Abs", ["x"], ["a"], name="abs"),
             helper.make_node("Add", ["a", "half"], ["b"], name="add"),
             helper.make_node(op_type, ["b"], ["y"], name=op_type.lower())]
    return model(nodes, [("x", SHAPE)], [("y", None)], [tensor("half", np.float32(0.5))])


CASES = [
    pytest.param(lambda: single("Exp", SHAPE), id="Exp"),
    pytest.param(lambda: positive_then("Log"), id="Abs-Add-Log"),
    pytest.param(lambda: positive_then("Sqrt"), id="Abs-Add-Sqrt"),
    pytest.param(lambda: single("Abs", SHAPE), id="Abs"),
    pytest.param(lambda: single("Neg", SHAPE), id="Neg"),
    pytest.param(lambda: single("Softplus", SHAPE), id="Softplus"),
    pytest.param(lambda: single("Selu", SHAPE), id="Selu-default"),
    pytest.param(lambda: single("LogSoftmax", ("N", 7), opset=11), id="LogSoftmax-opset11-2d"),
    pytest.param(lambda: single("LogSoftmax", SHAPE, opset=11, axis=1), id="LogSoftmax-opset11-coerced"),
    pytest.param(lambda: single("LogSoftmax", SHAPE, opset=11, axis=3), id="LogSoftmax-opset11-last"),
    pytest.param(lambda: single("LogSoftmax", SHAPE, opset=13, axis=1), id="LogSoftmax-opset13-axis1"),
    pytest.param(lambda: single("LogSoftmax", SHAPE, opset=13), id="LogSoftmax-opset13-default"),
]


@pytest.mark.parametrize("make", CASES)
def test_math_matches_onnxruntime(make):
    check(make())


def test_elementwise_ops_map_one_to_one():
    assert ops(check(positive_then("Log"))) == ["abs", "add", "log"]
    assert ops(check(single("Neg", SHAPE))) == ["neg"]
    assert check(single("Softplus", SHAPE)).nodes[0].attrs == {"threshold": None}


def test_log_softmax_versions_differ_on_a_4d_input():
    """Opset 11 normalises over every axis from 1 (coerced to 2-D), opset 13 over axis 1 only."""
    old = check(single("LogSoftmax", SHAPE, opset=11, axis=1))
    new = check(single("LogSoftmax", SHAPE, opset=13, axis=1))
    assert ops(old) == ["reshape", "log_softmax", "reshape"]
    assert ops(new) == ["log_softmax"] and new.nodes[0].attrs["axis"] == 1


def test_log_softmax_over_the_batch_is_refused():
    with pytest.raises(UnsupportedLayerError, match=r"node 'logsoftmax' \(LogSoftmax\): axis must be a non-batch"):
        capture(single("LogSoftmax", ("N", 7), opset=13, axis=0))


def test_selu_with_other_constants_is_refused():
    with pytest.raises(UnsupportedLayerError, match=r"node 'selu' \(Selu\): the IR's selu has fixed constants"):
        capture(single("Selu", SHAPE, alpha=2.0))
