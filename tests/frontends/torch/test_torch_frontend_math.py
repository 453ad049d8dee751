"""Element-wise math and local response normalisation as functions, tensor methods and modules: captured graph ==
torch."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_frontend_support import Fn, Fn2, check_capture

SHAPE = (1, 3, 5, 5)
# log and sqrt read abs(x) + 0.5, where they are defined: the captured chain is abs, add, then the op
POSITIVE = ["abs", "add"]

FUNCTIONS = [
    pytest.param(lambda m, x: torch.exp(x), ["exp"], id="torch.exp"),
    pytest.param(lambda m, x: x.exp(), ["exp"], id="Tensor.exp"),
    pytest.param(lambda m, x: torch.log(x.abs() + 0.5), [*POSITIVE, "log"], id="torch.log"),
    pytest.param(lambda m, x: (x.abs() + 0.5).log(), [*POSITIVE, "log"], id="Tensor.log"),
    pytest.param(lambda m, x: torch.sqrt(torch.abs(x) + 0.5), [*POSITIVE, "sqrt"], id="torch.sqrt"),
    pytest.param(lambda m, x: (x.abs() + 0.5).sqrt(), [*POSITIVE, "sqrt"], id="Tensor.sqrt"),
    pytest.param(lambda m, x: torch.abs(x), ["abs"], id="torch.abs"),
    pytest.param(lambda m, x: torch.absolute(x), ["abs"], id="torch.absolute"),
    pytest.param(lambda m, x: F.softplus(x), ["softplus"], id="F.softplus"),
    pytest.param(lambda m, x: F.softplus(x * 30.0, threshold=0.5), ["mul", "softplus"], id="F.softplus-threshold"),
    pytest.param(lambda m, x: F.selu(x), ["selu"], id="F.selu"),
    pytest.param(lambda m, x: torch.selu(x), ["selu"], id="torch.selu"),
    pytest.param(lambda m, x: F.log_softmax(x, dim=-1), ["log_softmax"], id="F.log_softmax"),
    pytest.param(lambda m, x: torch.log_softmax(x, 2), ["log_softmax"], id="torch.log_softmax"),
    pytest.param(lambda m, x: x.log_softmax(1), ["log_softmax"], id="Tensor.log_softmax"),
    pytest.param(lambda m, x: torch.sign(x), ["sign"], id="torch.sign"),
    pytest.param(lambda m, x: x.sign(), ["sign"], id="Tensor.sign"),
    pytest.param(lambda m, x: F.softsign(x), ["softsign"], id="F.softsign"),
    pytest.param(lambda m, x: F.hardshrink(x), ["shrink"], id="F.hardshrink"),
    pytest.param(lambda m, x: F.hardshrink(x, 0.8), ["shrink"], id="F.hardshrink-0.8"),
    pytest.param(lambda m, x: x.hardshrink(lambd=0.3), ["shrink"], id="Tensor.hardshrink"),
    pytest.param(lambda m, x: F.softshrink(x), ["shrink"], id="F.softshrink"),
    pytest.param(lambda m, x: F.softshrink(x, 0.4), ["shrink"], id="F.softshrink-0.4"),
    pytest.param(lambda m, x: torch.erf(x), ["erf"], id="torch.erf"),
    pytest.param(lambda m, x: x.erf(), ["erf"], id="Tensor.erf"),
    pytest.param(lambda m, x: torch.special.erf(x * 2.0), ["mul", "erf"], id="torch.special.erf"),
    # floor and ceil read x or x * 4, exact in float32 and float64 alike: torch and the reference see the same
    # values, so neither can land on the other side of an integer
    pytest.param(lambda m, x: torch.floor(x), ["floor"], id="torch.floor"),
    pytest.param(lambda m, x: (x * 4.0).floor(), ["mul", "floor"], id="Tensor.floor"),
    pytest.param(lambda m, x: torch.ceil(x * 4.0), ["mul", "ceil"], id="torch.ceil"),
    pytest.param(lambda m, x: x.ceil(), ["ceil"], id="Tensor.ceil"),
]


@pytest.mark.parametrize("fn, ops", FUNCTIONS)
def test_math_function(fn, ops):
    graph = check_capture(Fn(fn), SHAPE)
    assert [node.op for node in graph.nodes] == ops


MODULES = [
    pytest.param(lambda: nn.Softplus(), "softplus", {"threshold": 20.0}, id="Softplus"),
    pytest.param(lambda: nn.Softplus(threshold=1.0), "softplus", {"threshold": 1.0}, id="Softplus-threshold"),
    pytest.param(lambda: nn.SELU(), "selu", {}, id="SELU"),
    pytest.param(lambda: nn.LogSoftmax(dim=1), "log_softmax", {"axis": 1}, id="LogSoftmax-1"),
    pytest.param(lambda: nn.LogSoftmax(dim=-1), "log_softmax", {"axis": 3}, id="LogSoftmax-minus-1"),
    pytest.param(lambda: nn.Softsign(), "softsign", {}, id="Softsign"),
    pytest.param(lambda: nn.Hardshrink(), "shrink", {"lambd": 0.5, "bias": 0.0}, id="Hardshrink"),
    pytest.param(lambda: nn.Hardshrink(0.8), "shrink", {"lambd": 0.8, "bias": 0.0}, id="Hardshrink-0.8"),
    pytest.param(lambda: nn.Softshrink(), "shrink", {"lambd": 0.5, "bias": 0.5}, id="Softshrink"),
    pytest.param(lambda: nn.Softshrink(0.25), "shrink", {"lambd": 0.25, "bias": 0.25}, id="Softshrink-0.25"),
]


@pytest.mark.parametrize("make, op, attrs", MODULES)
def test_math_module(make, op, attrs):
    graph = check_capture(nn.Sequential(make()), SHAPE)
    assert (graph.nodes[0].op, graph.nodes[0].attrs) == (op, attrs)


def test_shrink_functions_read_their_threshold():
    graph = check_capture(Fn(lambda m, x: F.softshrink(F.hardshrink(x, 0.2), lambd=0.3)), SHAPE)
    assert [node.attrs for node in graph.nodes] == [{"lambd": 0.2, "bias": 0.0}, {"lambd": 0.3, "bias": 0.3}]


# local response normalisation: PyTorch's window starts size // 2 channels before each channel; alpha is large
# enough that a window off by one channel is far outside the tolerance
LRN_SHAPE = (1, 7, 4, 5)
LRN = [
    pytest.param(lambda: nn.LocalResponseNorm(5), LRN_SHAPE, {"size": 5, "alpha": 1e-4, "beta": 0.75, "bias": 1.0,
                                                             "before": 2}, id="defaults"),
    pytest.param(lambda: nn.LocalResponseNorm(3, alpha=0.8, beta=0.6, k=1.5), LRN_SHAPE,
                 {"size": 3, "alpha": 0.8, "beta": 0.6, "bias": 1.5, "before": 1}, id="size3"),
    pytest.param(lambda: nn.LocalResponseNorm(4, alpha=0.8, beta=0.75, k=2.0), LRN_SHAPE,
                 {"size": 4, "alpha": 0.8, "beta": 0.75, "bias": 2.0, "before": 2}, id="size4-even"),
    pytest.param(lambda: nn.LocalResponseNorm(2, alpha=0.9), LRN_SHAPE,
                 {"size": 2, "alpha": 0.9, "beta": 0.75, "bias": 1.0, "before": 1}, id="size2-even"),
    pytest.param(lambda: nn.LocalResponseNorm(9, alpha=0.5), LRN_SHAPE,
                 {"size": 9, "alpha": 0.5, "beta": 0.75, "bias": 1.0, "before": 4}, id="size9-wider-than-channels"),
    pytest.param(lambda: nn.LocalResponseNorm(4, alpha=0.8), (1, 6, 9),
                 {"size": 4, "alpha": 0.8, "beta": 0.75, "bias": 1.0, "before": 2}, id="1d-size4"),
    pytest.param(lambda: nn.LocalResponseNorm(3, alpha=0.8), (1, 6, 3, 4, 2),
                 {"size": 3, "alpha": 0.8, "beta": 0.75, "bias": 1.0, "before": 1}, id="3d-size3"),
    pytest.param(lambda: Fn(lambda m, x: F.local_response_norm(x, 4, alpha=0.7, beta=0.5, k=1.25)), LRN_SHAPE,
                 {"size": 4, "alpha": 0.7, "beta": 0.5, "bias": 1.25, "before": 2}, id="F.local_response_norm"),
    pytest.param(lambda: Fn(lambda m, x: F.local_response_norm(x, size=3, alpha=0.7)), (1, 6, 9),
                 {"size": 3, "alpha": 0.7, "beta": 0.75, "bias": 1.0, "before": 1}, id="F.local_response_norm-1d"),
]


@pytest.mark.parametrize("make, shape, attrs", LRN)
def test_local_response_norm(make, shape, attrs):
    graph = check_capture(nn.Sequential(make()), shape)
    assert [(node.op, node.attrs) for node in graph.nodes] == [("lrn", attrs)]


# what the concrete tracer refused (beta, an implicit dim, the batch axis, a dtype): converted
OPTIONS = [
    pytest.param(lambda: nn.Softplus(beta=2.0), ["mul", "softplus", "div"], id="Softplus-beta"),
    pytest.param(lambda: nn.Softplus(beta=0.5, threshold=3.0), ["mul", "softplus", "div"],
                 id="Softplus-beta-threshold"),
    pytest.param(lambda: nn.LogSoftmax(dim=None), ["log_softmax"], id="LogSoftmax-dim-None",
                 marks=pytest.mark.filterwarnings("ignore:Implicit dimension choice")),
    pytest.param(lambda: nn.LogSoftmax(dim=0), ["log_softmax"], id="LogSoftmax-batch"),
    pytest.param(lambda: Fn(lambda m, x: F.log_softmax(x, 1, dtype=torch.float64)), ["cast", "log_softmax"],
                 id="F.log_softmax-dtype"),
    pytest.param(lambda: nn.LogSigmoid(), ["neg", "softplus", "neg"], id="LogSigmoid"),
]


@pytest.mark.parametrize("make, ops", OPTIONS)
def test_math_option_the_concrete_tracer_refused(make, ops):
    graph = check_capture(nn.Sequential(make()), SHAPE)
    assert [node.op for node in graph.nodes] == ops


def test_softplus_beta_scales_its_input_and_its_threshold_reads_the_scaled_input():
    # PyTorch: x where beta * x > threshold, else log(1 + exp(beta * x)) / beta; inputs * 30 reach both sides
    graph = check_capture(Fn(lambda m, x: F.softplus(x * 30.0, beta=0.5, threshold=4.0)), SHAPE)
    scaled, curve, divided = graph.nodes[1:]
    assert float(scaled.weights["other"]) == float(divided.weights["other"]) == 0.5
    assert curve.attrs == {"threshold": 4.0}


@pytest.mark.parametrize("fn, ops", [
    pytest.param(lambda m, x, y: torch.lerp(x, y, 0.3), ["sub", "mul", "add"], id="torch.lerp-scalar"),
    pytest.param(lambda m, x, y: x.lerp(y, torch.sigmoid(y)), ["sigmoid", "sub", "mul", "add"],
                 id="Tensor.lerp-tensor"),
])
def test_lerp(fn, ops):
    graph = check_capture(Fn2(fn), [SHAPE, SHAPE])
    assert [node.op for node in graph.nodes] == ops


def test_math_without_ir_equivalent_is_refused():
    with pytest.raises(UnsupportedLayerError, match=r"node 'rrelu' \(aten.rrelu\): RReLU in training mode"):
        capture(Fn(lambda m, x: F.rrelu(x, training=True)), SHAPE)
