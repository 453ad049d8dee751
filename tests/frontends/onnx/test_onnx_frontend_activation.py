"""Activations: captured graph == onnxruntime, with the ONNX defaults and both versions of Clip and Softmax."""
from __future__ import annotations

import io

import numpy as np
import onnx
import pytest
import torch
from onnx import helper

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, model, ops, single, tensor, weight

SHAPE = ("N", 4, 5, 6)

CASES = [
    pytest.param(lambda: single("Relu", SHAPE), id="Relu"),
    pytest.param(lambda: single("Sigmoid", SHAPE), id="Sigmoid"),
    pytest.param(lambda: single("Tanh", SHAPE), id="Tanh"),
    pytest.param(lambda: single("LeakyRelu", SHAPE), id="LeakyRelu-default"),
    pytest.param(lambda: single("LeakyRelu", SHAPE, alpha=0.3), id="LeakyRelu-alpha"),
    pytest.param(lambda: single("Elu", SHAPE), id="Elu-default"),
    pytest.param(lambda: single("Elu", SHAPE, alpha=0.7), id="Elu-alpha"),
    pytest.param(lambda: single("HardSigmoid", SHAPE), id="HardSigmoid-default"),
    pytest.param(lambda: single("HardSigmoid", SHAPE, alpha=1 / 6, beta=0.5), id="HardSigmoid-torch"),
    pytest.param(lambda: single("HardSwish", SHAPE), id="HardSwish"),
    pytest.param(lambda: single("Gelu", SHAPE, opset=20), id="Gelu-erf"),
    pytest.param(lambda: single("Gelu", SHAPE, opset=20, approximate="tanh"), id="Gelu-tanh"),
    pytest.param(lambda: single("Mish", SHAPE, opset=18), id="Mish"),
    pytest.param(lambda: single("PRelu", SHAPE, extra_inputs=["slope"],
                                initializers=[tensor("slope", weight((1,), 3))]), id="PRelu-one"),
    pytest.param(lambda: single("PRelu", SHAPE, extra_inputs=["slope"],
                                initializers=[tensor("slope", weight((4, 1, 1), 3))]), id="PRelu-channels"),
    pytest.param(lambda: single("Clip", SHAPE, opset=6, min=0.0, max=6.0), id="Clip-opset6-relu6"),
    pytest.param(lambda: single("Clip", SHAPE, opset=6, min=-0.5), id="Clip-opset6-min-only"),
    pytest.param(lambda: single("Clip", SHAPE, opset=13, extra_inputs=["lo", "hi"],
                                initializers=[tensor("lo", np.float32(0)), tensor("hi", np.float32(6))]),
                 id="Clip-opset13-relu6"),
    pytest.param(lambda: single("Clip", SHAPE, opset=13, extra_inputs=["", "hi"],
                                initializers=[tensor("hi", np.float32(0.5))]), id="Clip-opset13-max-only"),
    pytest.param(lambda: single("Softmax", ("N", 7), opset=11), id="Softmax-opset11-2d"),
    pytest.param(lambda: single("Softmax", SHAPE, opset=11, axis=1), id="Softmax-opset11-coerced"),
    pytest.param(lambda: single("Softmax", SHAPE, opset=11, axis=3), id="Softmax-opset11-last"),
    pytest.param(lambda: single("Softmax", SHAPE, opset=13, axis=1), id="Softmax-opset13-axis1"),
    pytest.param(lambda: single("Softmax", SHAPE, opset=13), id="Softmax-opset13-default"),
]


@pytest.mark.parametrize("make", CASES)
def test_activation_matches_onnxruntime(make):
    check(make())


def test_hard_sigmoid_keeps_the_onnx_default_alpha():
    graph = check(single("HardSigmoid", SHAPE))
    assert graph.nodes[0].attrs["alpha"] == pytest.approx(0.2) and graph.nodes[0].attrs["beta"] == 0.5


def test_clip_opset6_and_opset13_give_the_same_node():
    old = check(single("Clip", SHAPE, opset=6, min=0.0, max=6.0))
    new = check(single("Clip", SHAPE, opset=13, extra_inputs=["lo", "hi"],
                       initializers=[tensor("lo", np.float32(0)), tensor("hi", np.float32(6))]))
    assert [(n.op, n.attrs) for n in old.nodes] == [(n.op, n.attrs) for n in new.nodes] == \
           [("clip", {"min": 0.0, "max": 6.0})]


def test_softmax_versions_differ_on_a_4d_input():
    """Opset 11 normalises over every axis from 1 (coerced to 2-D), opset 13 over axis 1 only."""
    old = check(single("Softmax", SHAPE, opset=11, axis=1))
    new = check(single("Softmax", SHAPE, opset=13, axis=1))
    assert ops(old) == ["reshape", "softmax", "reshape"]
    assert ops(new) == ["softmax"] and new.nodes[0].attrs["axis"] == 1


def test_softmax_over_the_batch():
    graph = check(single("Softmax", ("N", 7), opset=13, axis=0))
    assert [(node.op, node.attrs["axis"]) for node in graph.nodes] == [("softmax", 0)]


def test_clip_with_computed_bounds_is_refused():
    node = helper.make_node("Clip", ["x", "x"], ["y"], name="clip")
    with pytest.raises(UnsupportedLayerError, match="the bound min .input 1. must be a constant"):
        capture(model([node], [("x", SHAPE)], [("y", None)], opset=13))


def test_prelu_slope_per_element_is_refused():
    proto = single("PRelu", SHAPE, extra_inputs=["slope"], initializers=[tensor("slope", weight((4, 5, 6), 3))])
    with pytest.raises(UnsupportedLayerError, match="the slope must be one value or one per channel"):
        capture(proto)


def erf_gelu(first: str = "Div", scale: float = float(np.float32(np.sqrt(2.0))), swapped: bool = False):
    """The five nodes of torch.onnx's exact GELU before opset 20."""
    nodes = [helper.make_node(first, ["x", "c"], ["d"], name="gelu/Div"),
             helper.make_node("Erf", ["d"], ["e"], name="gelu/Erf"),
             helper.make_node("Add", ["one", "e"] if swapped else ["e", "one"], ["a"], name="gelu/Add"),
             helper.make_node("Mul", ["a", "x"] if swapped else ["x", "a"], ["m"], name="gelu/Mul"),
             helper.make_node("Mul", ["half", "m"] if swapped else ["m", "half"], ["y"], name="gelu/Mul_1")]
    initializers = [tensor("c", np.float32(scale)), tensor("one", np.float32(1.0)), tensor("half", np.float32(0.5))]
    return model(nodes, [("x", SHAPE)], [("y", None)], initializers)


@pytest.mark.parametrize("first, scale, swapped", [("Div", np.sqrt(2.0), False), ("Mul", 1 / np.sqrt(2.0), True)],
                         ids=["div-sqrt2", "mul-reciprocal-swapped"])
def test_erf_gelu_pattern_is_one_gelu(first, scale, swapped):
    graph = check(erf_gelu(first, float(np.float32(scale)), swapped))
    assert [(n.name, n.op, n.attrs) for n in graph.nodes] == [("gelu/Div", "gelu", {"approximate": "none"})]


def test_erf_gelu_exported_by_torch_onnx():
    model_ = torch.nn.Sequential(torch.nn.Linear(6, 6), torch.nn.GELU()).eval()
    buffer = io.BytesIO()
    torch.onnx.export(model_, (torch.randn(2, 6),), buffer, dynamo=False, opset_version=17, input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}})
    assert ops(check(onnx.load_from_string(buffer.getvalue()))) == ["linear", "gelu"]


def test_an_erf_after_the_pattern_stays_an_erf():
    """The pattern is fused and the Erf reading its output is one erf: the pattern claims only its own Erf."""
    pattern = erf_gelu()
    erf = helper.make_node("Erf", ["y"], ["z"], name="after/Erf")
    proto = model([*pattern.graph.node, erf], [("x", SHAPE)], [("z", None)], pattern.graph.initializer)
    graph = check(proto)
    assert [(n.name, n.op) for n in graph.nodes] == [("gelu/Div", "gelu"), ("after/Erf", "erf")]


def test_an_erf_outside_the_pattern_is_an_erf():
    """Div by 2 is no GELU: the five nodes stay five, the Erf an erf."""
    graph = check(erf_gelu(scale=2.0))
    assert [(n.name, n.op) for n in graph.nodes] == [("gelu/Div", "div"), ("gelu/Erf", "erf"), ("gelu/Add", "add"),
                                                     ("gelu/Mul", "mul"), ("gelu/Mul_1", "mul")]
