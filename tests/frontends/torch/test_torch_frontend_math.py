"""Element-wise math as functions, tensor methods and modules: captured graph == torch."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_frontend_support import Fn, check_capture

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
]


@pytest.mark.parametrize("make, op, attrs", MODULES)
def test_math_module(make, op, attrs):
    graph = check_capture(nn.Sequential(make()), SHAPE)
    assert (graph.nodes[0].op, graph.nodes[0].attrs) == (op, attrs)


UNSUPPORTED = [
    pytest.param(lambda: nn.Softplus(beta=2.0), "beta must be 1", id="Softplus-beta"),
    pytest.param(lambda: nn.LogSoftmax(dim=None), "dim must be given", id="LogSoftmax-dim-None",
                 marks=pytest.mark.filterwarnings("ignore:Implicit dimension choice")),
    pytest.param(lambda: nn.LogSoftmax(dim=0), "log_softmax over the batch axis", id="LogSoftmax-batch"),
    pytest.param(lambda: Fn(lambda m, x: F.log_softmax(x, 1, dtype=torch.float64)), "dtype must be None",
                 id="F.log_softmax-dtype"),
]


@pytest.mark.parametrize("make, message", UNSUPPORTED)
def test_math_option_without_ir_equivalent(make, message):
    with pytest.raises(UnsupportedLayerError, match=message):
        capture(nn.Sequential(make()), SHAPE)
