"""Activations and softmax as modules, functions and tensor methods: captured graph == torch."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_frontend_support import Fn, check_capture

SHAPE = (1, 3, 5, 5)

MODULES = [
    pytest.param(lambda: nn.ReLU(), "relu", {}, id="ReLU"),
    pytest.param(lambda: nn.ReLU6(), "clip", {"min": 0.0, "max": 6.0}, id="ReLU6"),
    pytest.param(lambda: nn.Hardtanh(), "clip", {"min": -1.0, "max": 1.0}, id="Hardtanh"),
    pytest.param(lambda: nn.Hardtanh(-0.5, 2.0), "clip", {"min": -0.5, "max": 2.0}, id="Hardtanh-bounds"),
    pytest.param(lambda: nn.LeakyReLU(), "leaky_relu", {"alpha": 0.01}, id="LeakyReLU"),
    pytest.param(lambda: nn.LeakyReLU(0.2), "leaky_relu", {"alpha": 0.2}, id="LeakyReLU-0.2"),
    pytest.param(lambda: nn.ELU(0.7), "elu", {"alpha": 0.7}, id="ELU"),
    pytest.param(lambda: nn.GELU(), "gelu", {"approximate": "none"}, id="GELU"),
    pytest.param(lambda: nn.GELU(approximate="tanh"), "gelu", {"approximate": "tanh"}, id="GELU-tanh"),
    pytest.param(lambda: nn.SiLU(), "silu", {}, id="SiLU"),
    pytest.param(lambda: nn.Sigmoid(), "sigmoid", {}, id="Sigmoid"),
    pytest.param(lambda: nn.Tanh(), "tanh", {}, id="Tanh"),
    pytest.param(lambda: nn.Hardswish(), "hard_swish", {}, id="Hardswish"),
    pytest.param(lambda: nn.Hardsigmoid(), "hard_sigmoid", {"alpha": 1 / 6, "beta": 0.5}, id="Hardsigmoid"),
    pytest.param(lambda: nn.Softmax(dim=1), "softmax", {"axis": 1}, id="Softmax-1"),
    pytest.param(lambda: nn.Softmax(dim=-1), "softmax", {"axis": 3}, id="Softmax-minus-1"),
    pytest.param(lambda: nn.Softmax(dim=-3), "softmax", {"axis": 1}, id="Softmax-minus-3"),
]


@pytest.mark.parametrize("make, op, attrs", MODULES)
def test_activation_module(make, op, attrs):
    graph = check_capture(nn.Sequential(make()), SHAPE)
    assert (graph.nodes[0].op, graph.nodes[0].attrs) == (op, attrs)


FUNCTIONS = [
    pytest.param(lambda m, x: F.relu(x), "relu", id="F.relu"),
    pytest.param(lambda m, x: torch.relu(x), "relu", id="torch.relu"),
    pytest.param(lambda m, x: x.relu(), "relu", id="Tensor.relu"),
    pytest.param(lambda m, x: F.relu6(x), "clip", id="F.relu6"),
    pytest.param(lambda m, x: F.hardtanh(x, -2.0, 0.5), "clip", id="F.hardtanh"),
    pytest.param(lambda m, x: F.leaky_relu(x, negative_slope=0.3), "leaky_relu", id="F.leaky_relu"),
    pytest.param(lambda m, x: F.elu(x, 0.5), "elu", id="F.elu"),
    pytest.param(lambda m, x: F.gelu(x, approximate="tanh"), "gelu", id="F.gelu-tanh"),
    pytest.param(lambda m, x: F.silu(x), "silu", id="F.silu"),
    pytest.param(lambda m, x: torch.sigmoid(x), "sigmoid", id="torch.sigmoid"),
    pytest.param(lambda m, x: F.sigmoid(x), "sigmoid", id="F.sigmoid"),
    pytest.param(lambda m, x: torch.tanh(x), "tanh", id="torch.tanh"),
    pytest.param(lambda m, x: x.tanh(), "tanh", id="Tensor.tanh"),
    pytest.param(lambda m, x: F.hardswish(x), "hard_swish", id="F.hardswish"),
    pytest.param(lambda m, x: F.hardsigmoid(x), "hard_sigmoid", id="F.hardsigmoid"),
    pytest.param(lambda m, x: F.softmax(x, dim=-1), "softmax", id="F.softmax"),
    pytest.param(lambda m, x: torch.softmax(x, 2), "softmax", id="torch.softmax"),
    pytest.param(lambda m, x: x.softmax(1), "softmax", id="Tensor.softmax"),
]


@pytest.mark.parametrize("fn, op", FUNCTIONS)
def test_activation_function(fn, op):
    graph = check_capture(Fn(fn), SHAPE)
    assert [node.op for node in graph.nodes] == [op]


# what the concrete tracer refused (an implicit dim, the batch axis, a dtype): softmax along any axis, in the
# dtype the call asks for
SOFTMAX_ANYWHERE = [
    pytest.param(lambda: nn.Softmax(dim=None), ["softmax"], {"axis": 1}, id="Softmax-dim-None",
                 marks=pytest.mark.filterwarnings("ignore:Implicit dimension choice")),
    pytest.param(lambda: nn.Softmax(dim=0), ["softmax"], {"axis": 0}, id="Softmax-batch"),
    pytest.param(lambda: Fn(lambda m, x: F.softmax(x, 1, dtype=torch.float64)), ["cast", "softmax"], {"axis": 1},
                 id="F.softmax-dtype"),
]


@pytest.mark.parametrize("make, ops, attrs", SOFTMAX_ANYWHERE)
def test_softmax_along_any_axis_in_any_dtype(make, ops, attrs):
    graph = check_capture(nn.Sequential(make()), SHAPE)
    assert [node.op for node in graph.nodes] == ops
    assert graph.nodes[-1].attrs == attrs


def test_softmax_in_float64_returns_float64():
    graph = check_capture(Fn(lambda m, x: F.softmax(x, 1, dtype=torch.float64)), SHAPE)
    assert (graph.nodes[0].attrs, graph.outputs[0].dtype) == ({"dtype": "float64"}, "float64")


def test_rrelu_at_inference_is_a_leaky_relu_of_its_mean_slope():
    graph = check_capture(nn.Sequential(nn.RReLU(0.1, 0.3)), SHAPE)
    assert [(node.op, node.attrs) for node in graph.nodes] == [("leaky_relu", {"alpha": pytest.approx(0.2)})]


def test_activation_option_without_ir_equivalent():
    with pytest.raises(UnsupportedLayerError, match=r"node 'elu' \(aten.elu\): ELU with scales"):
        capture(Fn(lambda m, x: torch.ops.aten.elu(x, 1.0, 2.0, 1.0)), SHAPE)


WRITTEN = [
    pytest.param(lambda m, x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0))), "gelu", {"approximate": "none"},
                 id="gelu-erf"),
    pytest.param(lambda m, x: x * 0.5 * (1.0 + torch.tanh(0.7978845608 * (x + 0.044715 * x * x * x))), "gelu",
                 {"approximate": "tanh"}, id="gelu-tanh"),
    pytest.param(lambda m, x: F.softsign(x), "softsign", {}, id="F.softsign"),
    pytest.param(lambda m, x: x / (x.abs() + 1), "softsign", {}, id="softsign-by-hand"),
]


@pytest.mark.parametrize("fn, op, attrs", WRITTEN)
def test_activation_written_out_is_its_op(fn, op, attrs):
    """An activation written op by op, of a layer's output: the IR op, reading that output."""
    graph = check_capture(Fn(lambda m, x: fn(m, m.layers[0](x)), nn.Linear(5, 5)), (1, 3, 5))
    assert [(node.op, node.attrs) for node in graph.nodes] == [("linear", {"in_features": 5, "out_features": 5,
                                                                          "bias": True}), (op, attrs)]


@pytest.mark.parametrize("fn", [
    pytest.param(lambda m, x: x * torch.sigmoid(1.702 * x), id="quick-gelu"),
    pytest.param(lambda m, x: 0.5 * x * (1.0 + torch.tanh(0.8 * (x + 0.044715 * x ** 3))), id="other-constant"),
    pytest.param(lambda m, x: 0.5 * x * (1.0 + torch.erf(x / 1.5)), id="erf-of-another-scale"),
])
def test_a_formula_close_to_gelu_stays_as_written(fn):
    graph = check_capture(Fn(fn), SHAPE)
    assert "gelu" not in [node.op for node in graph.nodes]
