"""The algebra ops as torch code: readable operators, one rule for constant operands (trainable parameter,
buffer, or literal), several outputs, native PReLU/Mish, and model.py packages that hold the constants."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.backends.torch import build, predict, write_package
from interlayer.frontends.torch import capture
from support import assert_equivalent, random_inputs, single_op_graph

from conformance.cases import CASES
from conformance.cases_algebra import constant


def matches_reference(graph, model):
    inputs = random_inputs(graph)
    expected = list(interlayer.run(graph, inputs).values())
    for index, (got, want) in enumerate(zip(predict(model, inputs), expected)):
        assert_equivalent(got, want, what=f"output {index}")


CODE = [
    pytest.param(lambda: CASES["mul-broadcast-channels"](), "mul = x0 * x1", id="mul"),
    pytest.param(lambda: CASES["add-broadcast-three"](), "add = add_0 + x2", id="add-three"),
    pytest.param(lambda: CASES["div-broadcast"](), "div = x0 / x1", id="div"),
    pytest.param(lambda: CASES["matmul-3d"](), "matmul = x0 @ x1", id="matmul"),
    pytest.param(lambda: CASES["sub-constant-scalar-left"](), " - x0", id="literal-left"),
    pytest.param(lambda: CASES["pow-constant-square"](), "pow_1 = x0 ** 2.0", id="pow-literal"),
    pytest.param(lambda: CASES["reduce_mean-spatial-keepdims"](),
                 "torch.mean(x0, dim = (2, 3), keepdim = True)", id="mean"),
    pytest.param(lambda: CASES["reduce_max-channels-width"](), "torch.amax(x0, dim = (1, 3), keepdim = False)",
                 id="amax"),
    pytest.param(lambda: CASES["stack-axis1"](), "torch.stack([x0, x1], dim = 1)", id="stack"),
    pytest.param(lambda: CASES["split-channels"](), "split_0 = split[0]", id="split"),
]


@pytest.mark.parametrize("make, line", CODE)
def test_forward_is_readable_code(make, line):
    graph = make()
    model = build(graph)
    assert line in model.code
    matches_reference(graph, model)


@pytest.mark.parametrize("trainable", [True, False], ids=["trainable-parameter", "fixed-buffer"])
def test_tensor_constant_is_a_parameter_or_a_buffer(trainable):
    graph = single_op_graph("mul", constant((3, 1, 1), trainable=trainable), [(2, 3, 4, 5)])
    model = build(graph)
    where = dict(model.named_parameters()) if trainable else dict(model.named_buffers())
    assert list(where) == ["mul.other"]
    assert where["mul.other"].detach().numpy().tobytes() == graph.nodes[0].weights["other"].tobytes()
    assert ("mul.other" in dict(model.named_parameters())) is trainable
    assert "mul_other = self.mul.other" in model.code
    matches_reference(graph, model)


def test_fixed_scalar_is_an_exact_literal():
    graph = single_op_graph("mul", constant(()), [(2, 5)])
    value = graph.nodes[0].weights["other"]
    model = build(graph)
    assert not list(model.state_dict())
    assert f"mul = x0 * {float(value)!r}" in model.code
    assert np.float32(float(value)) == value


def test_trainable_scalar_stays_a_parameter():
    graph = single_op_graph("add", constant((), trainable=True), [(2, 5)])
    assert [(name, p.shape) for name, p in build(graph).named_parameters()] == [("add.other", torch.Size([]))]


def test_layer_scale_trains_after_a_round_trip():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.gamma = nn.Parameter(torch.full((4, 1, 1), 0.5))

        def forward(self, x):
            return self.gamma * self.conv(x)

    source = Block()
    model = build(capture(source, (1, 3, 6, 6))).train()
    assert dict(model.named_parameters())["mul.other"].data.equal(source.gamma.data)
    model(torch.randn(2, 3, 6, 6)).sum().backward()
    gradient = dict(model.named_parameters())["mul.other"].grad
    assert gradient is not None and gradient.abs().sum() > 0


def test_split_outputs_are_graph_outputs():
    graph = CASES["split-width-three"]()
    model = build(graph)
    outputs = predict(model, random_inputs(graph))
    assert [o.shape[3] for o in outputs] == [2, 2, 1]
    matches_reference(graph, model)


@pytest.mark.parametrize("case, layer", [("prelu-channels", nn.PReLU), ("prelu-shared", nn.PReLU),
                                         ("act-mish", nn.Mish)])
def test_activation_is_a_native_layer(case, layer):
    graph = CASES[case]()
    model = build(graph)
    built = getattr(model, graph.nodes[0].name)
    assert type(built) is layer
    if layer is nn.PReLU:
        assert built.weight.detach().numpy().tobytes() == graph.nodes[0].weights["slope"].tobytes()
    matches_reference(graph, model)


@pytest.mark.parametrize("case", ["conv-scale-conv", "conv-squeeze-excitation-conv", "conv-channels-last-block",
                                  "conv-split-convs-stack", "attention-scores"])
def test_package_holds_the_constants(case, tmp_path):
    graph = CASES[case]()
    built = build(graph)
    write_package(built, tmp_path / "pkg")
    spec = importlib.util.spec_from_file_location(f"generated_{case.replace('-', '_')}", tmp_path / "pkg" / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = module.load()
    assert list(generated.state_dict()) == list(built.state_dict())
    assert {n for n, _ in generated.named_parameters()} == {n for n, _ in built.named_parameters()}
    inputs = random_inputs(graph)
    for got, want in zip(predict(generated, inputs), predict(built, inputs)):
        assert np.array_equal(got, want)
