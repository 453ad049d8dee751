"""The equivalence rule (interlayer.tolerance): correct float32 builds pass however ill-conditioned the graph;
wrong conversions fail, even where float32 rounding raises the bound."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer import examples
from interlayer.conversion import check, random_inputs
from interlayer.tolerance import FACTOR, RTOL, bounds


def _cnn(weight_scale: float) -> nn.Module:
    """Conv, batch norm (random statistics), ReLU twice, then a Linear over the flattened map."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.BatchNorm2d(8),
                          nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 10))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, weight_scale if parameter.dim() > 1 else 1.0)
        for norm in (model[1], model[4]):
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 2.0)
    return model.eval()


def _lenet_standard_normal() -> nn.Module:
    """LeNet-5 with every parameter drawn from N(0, 1): activations grow and cancel, so float32 rounding alone
    moves its outputs by about 1e-5 relative, the project's whole rtol."""
    torch.manual_seed(0)
    model = examples.lenet5()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_()
    return model.eval()


@pytest.mark.parametrize("target", ["torch", "keras", "onnx"])
def test_a_correct_build_of_an_ill_conditioned_graph_passes(target):
    graph = interlayer.export(_lenet_standard_normal(), example_inputs=(1, 1, 28, 28))
    result = check(graph, interlayer.build(graph, target))
    assert result.float32_error > RTOL / FACTOR, "the graph must be one where float32 rounding raises the bound"
    assert result.rtol == pytest.approx(FACTOR * result.float32_error)
    assert result.passed, result.line()


def test_the_source_check_uses_the_same_bound():
    model = _lenet_standard_normal()
    graph = interlayer.export(model, example_inputs=(1, 1, 28, 28))
    result = check(graph, model, source=True)
    assert result.passed and result.rtol > RTOL, result.line()


def _transposed_kernel(model):
    conv = model.get_submodule("3")
    conv.weight.copy_(conv.weight.transpose(2, 3).clone())


def _dropped_bias(model):
    model.get_submodule("7").bias.zero_()


def _keras_epsilon(model):
    model.get_submodule("1").eps = 1e-3  # Keras's BatchNormalization default in place of PyTorch's 1e-5


def _swapped_flatten_order(model):
    linear = model.get_submodule("7")
    linear.weight.copy_(linear.weight.reshape(10, 8, 8, 8).permute(0, 2, 3, 1).reshape(10, -1).clone())


MISTAKES = {"transposed-kernel": _transposed_kernel, "dropped-bias": _dropped_bias, "keras-epsilon": _keras_epsilon,
            "flatten-order": _swapped_flatten_order}


@pytest.mark.parametrize("weight_scale", [0.2, 1.0], ids=["well-conditioned", "bound-raised"])
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_wrong_conversion_fails(mistake, weight_scale):
    """The mistakes are made in a built PyTorch model (its modules are named after the source's: "3" is the second
    conv, "1" the first batch norm, "7" the Linear)."""
    graph = interlayer.export(_cnn(weight_scale), example_inputs=(1, 3, 12, 12))
    built = interlayer.build(graph, "torch")
    assert check(graph, built).passed
    with torch.no_grad():
        MISTAKES[mistake](built)
    result = check(graph, built)
    assert not result.passed, result.line()
    assert "NOT equivalent" in result.line()


def test_the_bound_is_raised_only_by_the_graphs_own_rounding():
    graph = interlayer.export(_cnn(1.0), example_inputs=(1, 3, 12, 12))
    inputs = random_inputs(graph)
    exact, allowed = bounds(graph, inputs, keep_all=True)
    assert all(value.dtype == np.float64 for value in exact.values() if value.dtype.kind == "f")
    assert all(bound.allowed >= RTOL for bound in allowed.values())
    assert all(bound.allowed == max(RTOL, FACTOR * bound.float32_error) for bound in allowed.values())
    assert max(bound.float32_error for bound in allowed.values()) > 0


def test_a_float32_reference_run_rounds_every_value():
    graph = interlayer.export(_cnn(0.2), example_inputs=(1, 3, 12, 12))
    inputs = random_inputs(graph)
    rounded = interlayer.run(graph, inputs, compute="float32", declared=False, keep_all=True)
    assert all(value.dtype == np.float32 for value in rounded.values() if value.dtype.kind == "f")
    with pytest.raises(interlayer.errors.ValidationError, match="compute must be"):
        interlayer.run(graph, inputs, compute="float16")
