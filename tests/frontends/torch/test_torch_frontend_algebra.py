"""Arithmetic with constants and broadcasting, matmul, reductions, stack, split/chunk, permute, mish, prelu:
captured graph == torch; parameters used outside layers keep their names; blocks built from these ops."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_frontend_support import Fn, Fn2, check_capture

MAP = (1, 4, 6, 5)

ONE_INPUT = [
    # constants: Python numbers on either side
    pytest.param(lambda m, x: x + 1.5, id="operator.add-scalar"),
    pytest.param(lambda m, x: 0.25 - x, id="operator.sub-scalar-left"),
    pytest.param(lambda m, x: x - 0.75, id="operator.sub-scalar-right"),
    pytest.param(lambda m, x: x * 0.5, id="operator.mul-scalar"),
    pytest.param(lambda m, x: 3 * x, id="operator.mul-int-left"),
    pytest.param(lambda m, x: x / 3.0, id="operator.truediv-scalar"),
    pytest.param(lambda m, x: 2.0 / (x * x + 1.0), id="operator.truediv-scalar-left"),
    pytest.param(lambda m, x: x ** 2, id="operator.pow-square"),
    pytest.param(lambda m, x: 1.5 ** x, id="operator.pow-base"),
    pytest.param(lambda m, x: -x, id="operator.neg"),
    pytest.param(lambda m, x: torch.neg(x), id="torch.neg"),
    pytest.param(lambda m, x: x.neg(), id="Tensor.neg"),
    pytest.param(lambda m, x: torch.add(x, 2.0), id="torch.add-scalar"),
    pytest.param(lambda m, x: torch.sub(x, 2.0), id="torch.sub-scalar"),
    pytest.param(lambda m, x: torch.mul(x, -1.25), id="torch.mul-scalar"),
    pytest.param(lambda m, x: torch.div(x, 4.0), id="torch.div-scalar"),
    pytest.param(lambda m, x: torch.pow(x, 3), id="torch.pow"),
    pytest.param(lambda m, x: x.add(1.0).mul(0.5).sub(0.25).div(2.0), id="Tensor.add-mul-sub-div"),
    pytest.param(lambda m, x: x.pow(2), id="Tensor.pow"),
    pytest.param(lambda m, x: (x * 1.0).mul_(2.0).add_(1.0), id="Tensor.mul_-add_"),
    # reductions
    pytest.param(lambda m, x: x.mean((2, 3)), id="Tensor.mean-spatial"),
    pytest.param(lambda m, x: x.mean((2, 3), keepdim=True), id="Tensor.mean-spatial-keepdim"),
    pytest.param(lambda m, x: torch.mean(x, dim=1), id="torch.mean-channels"),
    pytest.param(lambda m, x: torch.mean(x, -1, True), id="torch.mean-negative-keepdim"),
    pytest.param(lambda m, x: x.sum(-1), id="Tensor.sum-last"),
    pytest.param(lambda m, x: torch.sum(x, dim=[1, 2], keepdim=True), id="torch.sum-list"),
    pytest.param(lambda m, x: torch.amax(x, dim=(2, 3)), id="torch.amax"),
    pytest.param(lambda m, x: x.amax(1, keepdim=True), id="Tensor.amax"),
    pytest.param(lambda m, x: torch.linalg.vector_norm(x, dim=(2, 3), keepdim=True), id="linalg.vector_norm"),
    pytest.param(lambda m, x: torch.linalg.vector_norm(x, ord=1, dim=-1), id="linalg.vector_norm-ord-1"),
    pytest.param(lambda m, x: torch.linalg.vector_norm(x, float("inf"), 1), id="linalg.vector_norm-ord-inf"),
    pytest.param(lambda m, x: torch.norm(x, dim=1), id="torch.norm"),
    pytest.param(lambda m, x: x.norm(p=2, dim=(1, 3), keepdim=True), id="Tensor.norm"),
    pytest.param(lambda m, x: x / (x.norm(dim=-1, keepdim=True) + 1e-6), id="Tensor.norm-normalised"),
    # moving axes
    pytest.param(lambda m, x: x.permute(0, 2, 3, 1), id="Tensor.permute"),
    pytest.param(lambda m, x: x.permute((0, 3, 1, 2)), id="Tensor.permute-tuple"),
    pytest.param(lambda m, x: torch.permute(x, (0, 1, 3, 2)), id="torch.permute"),
    pytest.param(lambda m, x: x.transpose(1, 2), id="Tensor.transpose"),
    pytest.param(lambda m, x: torch.transpose(x, -1, -2), id="torch.transpose-negative"),
    # matmul of the map with itself, stack
    pytest.param(lambda m, x: x @ x.transpose(-1, -2), id="operator.matmul-4d"),
    pytest.param(lambda m, x: torch.matmul(x.transpose(2, 3), x), id="torch.matmul-4d"),
    pytest.param(lambda m, x: x.matmul(x.transpose(-1, -2)), id="Tensor.matmul-4d"),
    pytest.param(lambda m, x: torch.stack([x, x * 2.0], 1), id="torch.stack-1"),
    pytest.param(lambda m, x: torch.stack((x, -x, x * x), dim=-1), id="torch.stack-last"),
    # activations
    pytest.param(lambda m, x: F.mish(x), id="F.mish"),
]


@pytest.mark.parametrize("fn", ONE_INPUT)
def test_function_matches_torch(fn):
    check_capture(Fn(fn), MAP)


TWO_INPUTS = [
    pytest.param(lambda m, x, y: x + y, MAP, (1, 4, 1, 1), id="operator.add-broadcast"),
    pytest.param(lambda m, x, y: y - x, MAP, (1, 1, 6, 5), id="operator.sub-broadcast"),
    pytest.param(lambda m, x, y: x * y, MAP, MAP, id="operator.mul"),
    pytest.param(lambda m, x, y: x / (y * y + 1.0), MAP, (1, 4, 1, 5), id="operator.truediv-broadcast"),
    pytest.param(lambda m, x, y: torch.mul(x, y), (1, 7), (1, 1), id="torch.mul-features"),
    pytest.param(lambda m, x, y: torch.bmm(x, y), (1, 5, 6), (1, 6, 3), id="torch.bmm"),
    pytest.param(lambda m, x, y: x @ y, (1, 2, 5, 6), (1, 1, 6, 3), id="operator.matmul-broadcast"),
    pytest.param(lambda m, x, y: torch.stack([x, y], 2), (1, 3, 4), (1, 3, 4), id="torch.stack-two-inputs"),
]


@pytest.mark.parametrize("fn, first, second", TWO_INPUTS)
def test_two_inputs_match_torch(fn, first, second):
    check_capture(Fn2(fn), [first, second])


# constants held by the model: parameters and buffers used outside a layer --------------------------------


class LayerScale(nn.Module):
    """``gamma * x`` with gamma a parameter: the ConvNeXt / CaiT layer scale."""

    def __init__(self, shape=(4, 1, 1), view=None):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(shape))
        self.view = view

    def forward(self, x):
        gamma = self.gamma if self.view is None else self.gamma.reshape(self.view)
        return gamma * x


class Normalise(nn.Module):
    """``(x - mean) / std`` with buffers: constants that are not trained."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.zeros(4, 1, 1))
        self.register_buffer("std", torch.ones(4, 1, 1))

    def forward(self, x):
        return (x - self.mean) / (self.std.abs() + 0.5)


@pytest.mark.parametrize("shape, view", [((4, 1, 1), None), ((4,), (1, -1, 1, 1)), ((5,), None)],
                         ids=["channels", "reshaped-parameter", "last-axis"])
def test_layer_scale_keeps_the_parameter(shape, view):
    graph = check_capture(LayerScale(shape, view), MAP)
    node = graph.nodes[-1]
    assert (node.op, node.attrs["constant"], node.attrs["trainable"]) == ("mul", True, True)
    assert graph.source["name_map"] == {"gamma": f"{node.name}.other"}


def test_layer_scale_constant_is_bit_exact():
    model = LayerScale()
    graph = check_capture(model, MAP)
    other = graph.nodes[-1].weights["other"]
    assert other.dtype == np.float32 and other.tobytes() == model.gamma.detach().numpy().tobytes()


def test_buffers_are_fixed_constants_and_computed_constants_are_folded():
    graph = check_capture(Normalise(), MAP)
    assert [(node.name, node.op, node.attrs["trainable"]) for node in graph.nodes] == [
        ("sub", "sub", False), ("div", "div", False)]  # std.abs() + 0.5 is one constant, computed once
    assert graph.source["name_map"] == {"mean": "sub.other"}  # the folded one is no source tensor


def test_parameter_in_functional_prelu():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.slope = nn.Parameter(torch.full((4,), 0.25))

        def forward(self, x):
            return F.prelu(x, self.slope)

    graph = check_capture(Functional(), MAP)
    assert (graph.nodes[0].op, graph.nodes[0].attrs) == ("prelu", {"num_parameters": 4})
    assert graph.source["name_map"] == {"slope": "prelu.slope"}


@pytest.mark.parametrize("layer", [nn.PReLU(), nn.PReLU(4), nn.Mish()], ids=["PReLU", "PReLU-channels", "Mish"])
def test_activation_module(layer):
    graph = check_capture(nn.Sequential(nn.Conv2d(3, 4, 3), layer), (1, 3, 7, 7))
    assert graph.nodes[1].op == type(layer).__name__.lower()
    if isinstance(layer, nn.PReLU):
        assert graph.source["name_map"]["1.weight"] == "1.slope"


def test_matmul_with_a_parameter():
    class Projection(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Parameter(torch.zeros(6, 3))

        def forward(self, x):
            return x @ self.proj

    graph = check_capture(Projection(), (1, 5, 6))
    assert graph.nodes[0].attrs["constant_shape"] == [6, 3] and graph.nodes[0].attrs["trainable"]


# several outputs: split and chunk, picked by getitem or returned whole -----------------------------------------

SPLITS = [
    pytest.param(lambda m, x: x.chunk(2, 1)[0] - x.chunk(2, 1)[1], id="Tensor.chunk-getitem"),
    pytest.param(lambda m, x: torch.chunk(x, 3, dim=-1)[2], id="torch.chunk-uneven"),
    pytest.param(lambda m, x: torch.split(x, [1, 3], dim=1)[1], id="torch.split-sizes"),
    pytest.param(lambda m, x: x.split(2, dim=2)[-1], id="Tensor.split-size"),
    pytest.param(lambda m, x: x.chunk(2, 1), id="chunk-returned"),
    pytest.param(lambda m, x: tuple(reversed(torch.split(x, [3, 1], 1))), id="split-unpacked-reversed"),
    pytest.param(lambda m, x: torch.unbind(x, 1)[2], id="torch.unbind"),
    pytest.param(lambda m, x: torch.stack(x.unbind(2), 3), id="Tensor.unbind-stack"),
]


@pytest.mark.parametrize("fn", SPLITS)
def test_split_outputs_match_torch(fn):
    check_capture(Fn(fn), MAP)


def test_chunk_is_one_node_with_two_outputs():
    graph = check_capture(Fn(lambda m, x: x.chunk(2, 1)[1] * x.chunk(2, 1)[0]), MAP)
    splits = [node for node in graph.nodes if node.op == "split"]
    assert [(node.attrs, node.outputs) for node in splits][0] == (
        {"axis": 1, "sizes": [2, 2]}, [f"{splits[0].name}:0", f"{splits[0].name}:1"])


# blocks -------------------------------------------------------------------------------------------------------


class SqueezeExcitation(nn.Module):
    def __init__(self, channels=8, reduced=2):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, reduced, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(reduced, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        return x * self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))


class ConvNeXtBlock(nn.Module):
    """ConvNeXt's block written by hand, without its LayerNorm: dwconv, channels-last MLP, layer scale, residual."""

    def __init__(self, dim=8):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-1))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.gamma * self.pwconv2(self.act(self.pwconv1(y)))
        return x + y.permute(0, 3, 1, 2)


def test_squeeze_excitation_block():
    graph = check_capture(SqueezeExcitation(), (1, 8, 6, 6))
    assert [node.op for node in graph.nodes] == ["global_avg_pool", "conv", "relu", "conv", "sigmoid", "mul"]


def test_convnext_block():
    graph = check_capture(ConvNeXtBlock(), (1, 8, 9, 9))
    assert [node.op for node in graph.nodes] == ["conv", "transpose", "linear", "gelu", "linear", "mul", "transpose",
                                                 "add"]
    assert graph.source["name_map"]["gamma"] == "mul.other"


# what has no IR equivalent ------------------------------------------------------------------------------------


class Holding(nn.Module):
    def __init__(self, fn, tensor):
        super().__init__()
        self.fn = fn
        self.register_buffer("held", tensor)

    def forward(self, x):
        return self.fn(self, x)


# what the concrete tracer refused because it touched the batch axis (reductions and norms over it, stacks,
# splits and permutes of it, matmuls of 2-D tensors, constants of the batch's example size), or had no IR
# equivalent then (a norm of order 3, a mean in another dtype, floor division, alpha, a matmul of a vector):
# converted, and equal to torch at two sets of sizes
ANY_AXIS = [
    pytest.param(Fn(lambda m, x: x.mean()), MAP, ["reduce_mean"], id="mean-all"),
    pytest.param(Fn(lambda m, x: x.sum(0)), MAP, ["reduce_sum"], id="sum-batch"),
    pytest.param(Fn(lambda m, x: x.norm()), MAP, ["mul", "reduce_sum", "sqrt"], id="norm-all"),
    pytest.param(Fn(lambda m, x: torch.linalg.vector_norm(x, ord=3, dim=1)), MAP, ["abs", "pow", "reduce_sum", "pow"],
                 id="vector_norm-ord-3"),
    pytest.param(Fn(lambda m, x: torch.linalg.vector_norm(x, ord=float("-inf"), dim=(2, 3))), MAP,
                 ["abs", "reduce_min"], id="vector_norm-ord-minus-inf"),
    pytest.param(Fn(lambda m, x: x.mean(1, dtype=torch.float64)), MAP, ["cast", "reduce_mean"], id="mean-dtype"),
    pytest.param(Fn(lambda m, x: torch.stack([x, x])), MAP, ["stack"], id="stack-batch"),
    pytest.param(Fn(lambda m, x: x.chunk(2, 0)[0]), (2, 4, 6, 5), ["split"], id="chunk-batch"),
    pytest.param(Fn(lambda m, x: x.permute(1, 2, 0, 3)), MAP, ["transpose"], id="permute-batch"),
    pytest.param(Fn(lambda m, x: x.transpose(0, 2)), MAP, ["transpose"], id="transpose-batch"),
    pytest.param(Fn(lambda m, x: torch.div(x, 2.0, rounding_mode="floor")), MAP, ["floor_div"], id="div-floor"),
    pytest.param(Fn(lambda m, x: torch.sub(x, 1.0, alpha=2)), MAP, ["sub"], id="sub-alpha"),
    pytest.param(Fn2(lambda m, x, y: x @ y), [(4, 4), (4, 5)], ["matmul"], id="matmul-2d-tensors"),
    pytest.param(Holding(lambda m, x: x + m.held, torch.ones(3, 4, 6, 5)), (3, 4, 6, 5), ["add"],
                 id="constant-over-batch"),
    pytest.param(Holding(lambda m, x: x @ m.held, torch.ones(5)), MAP, ["matmul", "reshape"],
                 id="matmul-vector-constant"),
    pytest.param(Holding(lambda m, x: m.held @ x, torch.ones(6)), MAP, ["matmul", "reshape"],
                 id="matmul-constant-vector-first"),
    pytest.param(Fn2(lambda m, x, y: x @ y), [(5,), (5,)], ["mul", "reduce_sum"], id="matmul-vectors"),
]


@pytest.mark.parametrize("model, shape, ops", ANY_AXIS)
def test_call_the_concrete_tracer_refused_converts(model, shape, ops):
    graph = check_capture(model, shape)
    assert [node.op for node in graph.nodes] == ops


def test_sub_alpha_scales_the_constant():
    graph = check_capture(Fn(lambda m, x: torch.sub(x, 1.0, alpha=2)), MAP)
    assert float(graph.nodes[0].weights["other"]) == 2.0


def test_add_alpha_scales_a_constant_tensor():
    model = Holding(lambda m, x: torch.add(x, m.held, alpha=3), torch.arange(5.0))
    graph = check_capture(model, MAP)
    assert np.array_equal(graph.nodes[0].weights["other"], (model.held * 3).numpy())


VARIANCES = [
    pytest.param(lambda m, x: x.var((2, 3)), id="var-spatial-generic"),
    pytest.param(lambda m, x: x.std(1, keepdim=True), id="std-keepdim"),
    pytest.param(lambda m, x: x.var(-1, unbiased=False), id="var-biased"),
    pytest.param(lambda m, x: torch.var(x, 1, correction=0, keepdim=True), id="var-correction-0"),
    pytest.param(lambda m, x: torch.std(x, (1, 2), correction=2), id="std-correction-2"),
    pytest.param(lambda m, x: x.std(), id="std-all"),
]


@pytest.mark.parametrize("fn", VARIANCES)
def test_variance_and_standard_deviation(fn):
    check_capture(Fn(fn), MAP)


@pytest.mark.parametrize("fn", [lambda m, x: -x, lambda m, x: torch.neg(x), lambda m, x: x.neg()],
                         ids=["operator.neg", "torch.neg", "Tensor.neg"])
def test_negation_is_one_neg_node(fn):
    graph = check_capture(Fn(fn), MAP)
    assert [node.op for node in graph.nodes] == ["neg"]


@pytest.mark.parametrize("fn, ops", [
    pytest.param(lambda m, x: torch.logsumexp(x, (2, 3)), ["reduce_max", "sub", "exp", "reduce_sum", "log", "reshape",
                                                          "add"], id="torch.logsumexp"),
    pytest.param(lambda m, x: x.logsumexp(-1, keepdim=True), ["reduce_max", "sub", "exp", "reduce_sum", "log", "add"],
                 id="Tensor.logsumexp-keepdim"),
    pytest.param(lambda m, x: torch.square(x), ["mul"], id="torch.square"),
])
def test_written_out_reductions(fn, ops):
    graph = check_capture(Fn(fn), MAP)
    assert [node.op for node in graph.nodes] == ops
