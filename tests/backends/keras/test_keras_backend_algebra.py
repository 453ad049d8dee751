"""The algebra ops in Keras: layouts kept NHWC without Permute (squeeze-excitation and ConvNeXt-style blocks,
from IR and from PyTorch), constants transposed into the held layout, axes mapped through it, and saving."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.backends.keras import build, predict, run_native
from interlayer.frontends.torch import capture
from support import assert_equivalent, random_inputs, single_op_graph

from conformance.cases import CASES
from conformance.cases_algebra import constant, graph_of


def layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def assert_matches_reference(graph, model):
    inputs = random_inputs(graph)
    results = interlayer.run(graph, inputs)
    expected = [results[spec.name] for spec in graph.outputs]
    actual = predict(model, inputs)
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"{graph.name} output {index}")


class SqueezeExcitation(nn.Module):
    def __init__(self, channels=8, reduced=2):
        super().__init__()
        self.pool, self.fc1, self.fc2 = nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, reduced, 1), nn.Conv2d(reduced, channels, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(self.pool(x)))))


class ConvNeXtBlock(nn.Module):
    """ConvNeXt's block without its LayerNorm: dwconv, permute, Linear, GELU, Linear, gamma *, permute, residual."""

    def __init__(self, dim=8):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.pwconv1, self.act, self.pwconv2 = nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-1))

    def forward(self, x):
        y = self.gamma * self.pwconv2(self.act(self.pwconv1(self.dwconv(x).permute(0, 2, 3, 1))))
        return x + y.permute(0, 3, 1, 2)


def from_torch(make, shape):
    model = make().eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
    return capture(model, shape)


BLOCKS = {
    "ir-squeeze-excitation": lambda: CASES["conv-squeeze-excitation-conv"](),
    "ir-convnext-style": lambda: CASES["conv-channels-last-block"](),
    "ir-scale-conv": lambda: CASES["conv-scale-conv"](),
    "ir-split-stack": lambda: CASES["conv-split-convs-stack"](),
    "ir-prelu-mean-linear": lambda: CASES["conv-mean-linear"](),
    "torch-squeeze-excitation": lambda: from_torch(
        lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), SqueezeExcitation(), nn.Conv2d(8, 4, 1)), (1, 3, 6, 6)),
    "torch-convnext-style": lambda: from_torch(
        lambda: nn.Sequential(nn.Conv2d(3, 8, 1), ConvNeXtBlock(), nn.Conv2d(8, 4, 1)), (1, 3, 9, 9)),
}


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_block_keeps_nhwc_without_permute(block):
    graph = BLOCKS[block]()
    model = build(graph)
    assert layer_types(model).count("Permute") == 0
    assert model._interlayer_perms["inputs"] == [[0, 2, 3, 1]]
    assert_matches_reference(graph, model)


def test_squeeze_excitation_layers():
    model = build(BLOCKS["torch-squeeze-excitation"]())
    assert layer_types(model) == ["InputLayer", "Conv2D", "GlobalAveragePooling2D", "Conv2D", "ReLU", "Conv2D",
                                  "Activation", "Multiply", "Conv2D"]


def test_convnext_layer_scale_is_laid_out_channels_last():
    graph = BLOCKS["torch-convnext-style"]()
    model = build(graph)
    node = next(node for node in graph.nodes if node.op == "mul" and node.attrs["constant"])  # the layer scale
    scale = model.get_layer(node.name)
    assert type(scale).__name__ == "ConstantOperand" and scale.op == "multiply"
    other = node.weights["other"]  # (C,) on the last axis, which the NHWC tensor holds last
    assert np.array_equal(scale.get_weights()[0], other.reshape(1, 1, 8))
    assert [w.name for w in scale.trainable_weights] == ["other"]


# constants --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case, node, held", [
    ("conv-scale-conv", "scale", lambda c: c.reshape(1, 1, 4)),  # (C, 1, 1) on an NHWC map: (1, 1, C)
    ("conv-scale-conv", "shift", lambda c: c.reshape(1, 1, 4)),
    ("mul-constant-channels", "mul", lambda c: c),  # an input no spatial layer reads stays NCHW: (C, 1, 1)
    ("mul-constant-channels-full-rank", "mul", lambda c: c[0]),  # (1, C, 1, 1): without the batch axis
    ("mul-constant-last-axis", "mul", lambda c: c.reshape(1, 1, 5)),
    ("add-constant-scalar", "add", lambda c: c),
])
def test_constant_is_transposed_into_the_held_layout(case, node, held):
    graph = CASES[case]()
    model = build(graph)
    weight = model.get_layer(node).get_weights()[0]
    expected = held(graph.node(node).weights["other"])
    assert weight.shape == expected.shape and np.array_equal(weight, expected)
    assert_matches_reference(graph, model)


@pytest.mark.parametrize("trainable", [True, False], ids=["trainable", "fixed"])
def test_constant_trainability(trainable):
    graph = single_op_graph("mul", constant((3, 1, 1), trainable=trainable), [(2, 3, 4, 5)])
    layer = build(graph).get_layer("mul")
    assert (len(layer.trainable_weights), len(layer.non_trainable_weights)) == ((1, 0) if trainable else (0, 1))


def test_matmul_by_a_matrix_is_a_dense_layer():
    graph = CASES["matmul-3d-constant"]()
    dense = build(graph).get_layer("matmul")
    assert type(dense).__name__ == "Dense" and not dense.use_bias
    assert np.array_equal(dense.get_weights()[0], graph.nodes[0].weights["other"])


# axes through the held layout -------------------------------------------------------------------------------


def conv_then(op, attrs, output="after"):
    conv = {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3]}
    return graph_of({"x": (2, 3, 6, 6)}, [("conv", "conv", ["x"], conv), ("after", op, ["conv"], attrs)], [output])


AXES = [
    pytest.param("reduce_mean", {"axes": [2, 3], "keepdims": True}, "GlobalAveragePooling2D", [0, 2, 3, 1],
                 id="mean-spatial-keepdims"),
    pytest.param("reduce_max", {"axes": [2, 3]}, "GlobalMaxPooling2D", None, id="max-spatial"),
    pytest.param("reduce_sum", {"axes": [1]}, "Reduce", None, id="sum-channels"),  # (N, H, W) held as it is
    pytest.param("reduce_mean", {"axes": [1, 3], "keepdims": True}, "Reduce", [0, 2, 3, 1], id="mean-channels-width"),
    pytest.param("reduce_max", {"axes": [3]}, "Reduce", [0, 2, 1], id="max-width"),
    pytest.param("split", {"axis": 1, "sizes": [1, 3]}, "Split", [0, 2, 3, 1], id="split-channels"),
    pytest.param("prelu", {"num_parameters": 4}, "PReLU", [0, 2, 3, 1], id="prelu-channels"),
]


@pytest.mark.parametrize("op, attrs, layer, perm", AXES)
def test_axes_map_through_the_held_layout(op, attrs, layer, perm):
    graph = conv_then(op, attrs, "after:1" if op == "split" else "after")
    model = build(graph)
    assert layer_types(model) == ["InputLayer", "Conv2D", layer]
    assert model._interlayer_perms["outputs"] == [perm]  # None: held in the IR's order
    assert_matches_reference(graph, model)


def test_stack_of_nhwc_maps_keeps_channels_last():
    model = build(CASES["conv-split-convs-stack"]())
    stack = model.get_layer("pair")
    assert stack.axis == 1  # (N, 2, H, W, C): the new axis in front, channels still last
    assert "Permute" not in layer_types(model)


# saving -----------------------------------------------------------------------------------------------------

SAVED = ["conv-scale-conv", "conv-squeeze-excitation-conv", "conv-channels-last-block", "conv-split-convs-stack",
         "conv-mean-linear", "attention-scores", "div-broadcast", "matmul-4d-constant-batched",
         "reduce_sum-last-keepdims", "pow-constant-base-left", "act-mish"]


@pytest.mark.parametrize("case", SAVED)
def test_saved_model_reloads_with_equal_outputs(case, tmp_path):
    graph = CASES[case]()
    model = build(graph)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    inputs = [np.transpose(x, perm) if perm else x
              for x, perm in zip(random_inputs(graph), model._interlayer_perms["inputs"])]
    for got, want in zip(run_native(loaded, inputs), run_native(model, inputs)):
        assert np.array_equal(got, want)
