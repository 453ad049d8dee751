"""conv_transpose, resize, layer_norm, group_norm in the Keras backend: layouts without Permute, the layers
chosen, exact weights, saving with interlayer's Resize layer, and what cannot be built."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import interlayer
from interlayer.backends.keras import build, predict, run_native
from interlayer.errors import UnsupportedLayerError
from support import assert_equivalent, chain_graph, random_inputs, single_op_graph

from conformance.cases import CASES, conv
from conformance.cases_spatial import layer_norm, resize, transpose


def layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers][1:]  # without the InputLayer


def assert_matches_reference(graph, model):
    inputs = random_inputs(graph)
    expected = list(interlayer.run(graph, inputs).values())
    for index, (got, want) in enumerate(zip(predict(model, inputs), expected)):
        assert_equivalent(got, want, what=f"{graph.name} output {index}")


@pytest.mark.parametrize("case, layers", [
    ("conv-layer_norm-channels-conv", ["Conv2D", "LayerNormalization", "Conv2D"]),
    ("unet-up-conv-resize-conv", ["Conv2D", "ReLU", "UpSampling2D", "Conv2D"]),
    ("conv-conv_transpose-group_norm", ["Conv2D", "Conv2DTranspose", "GroupNormalization", "Activation"]),
    ("conv_transpose2d-same-k4-s2", ["Conv2DTranspose"]),
    ("conv_transpose2d-stride-pads-output-padding", ["Conv2DTranspose", "Cropping2D"]),
    ("conv_transpose1d-kernel-below-stride", ["Conv1DTranspose"]),
    ("resize-nearest-x2", ["UpSampling2D"]),
    ("resize-nearest1d-x3", ["UpSampling1D"]),
    ("resize-nearest-non-integer", ["Resize"]),
    ("resize-bilinear-half_pixel-x2", ["UpSampling2D"]),
    ("resize-bilinear-half_pixel-down", ["Resizing"]),
    ("resize-bilinear-half_pixel-scale-factor", ["Resize"]),
    ("resize-bilinear-align_corners-up", ["Resize"]),
    ("resize-linear1d-half_pixel", ["Resize"]),
    ("layer_norm-chw", ["LayerNormalization"]),
])
def test_layers_without_permute(case, layers):
    model = build(CASES[case]())
    assert layer_types(model) == layers


def test_channel_axis_layer_norm_reads_the_last_keras_axis():
    graph = CASES["conv-layer_norm-channels-conv"]()
    model = build(graph)
    norm = model.get_layer("layer_norm_1")
    assert (norm.axis, norm.epsilon) == ([-1], 1e-6)  # the last axis of the NHWC tensor
    perms = model._interlayer_perms
    assert (perms["inputs"], perms["outputs"]) == ([[0, 2, 3, 1]], [[0, 2, 3, 1]])
    assert perms["values"]["layer_norm_1"] == [0, 2, 3, 1]
    assert_matches_reference(graph, model)


def test_layer_norm_weights_follow_the_held_axes():
    # conv holds (N, C, H, W) as NHWC: Keras normalises axes [1, 2, 3] = (H, W, C); gamma is scale.transpose(1, 2, 0)
    graph = chain_graph([("conv", conv(2, 4, (1, 1))), ("layer_norm", layer_norm([1, 2, 3], [4, 5, 3]))],
                        (2, 2, 5, 3))
    model = build(graph)
    assert layer_types(model) == ["Conv2D", "LayerNormalization"]
    gamma, beta = model.get_layer("layer_norm_1").get_weights()
    assert np.array_equal(gamma, graph.nodes[1].weights["scale"].transpose(1, 2, 0))
    assert np.array_equal(beta, graph.nodes[1].weights["offset"].transpose(1, 2, 0))
    assert_matches_reference(graph, model)


def test_group_norm_on_a_channels_first_input():
    graph = single_op_graph("group_norm", {"num_groups": 2, "num_channels": 4}, [(2, 4, 5, 6)])
    model = build(graph, keep_input_layout=True)  # no reader wants NHWC: GroupNormalization(axis=1), no Permute
    assert layer_types(model) == ["GroupNormalization"]
    assert model.get_layer("group_norm").axis == 1
    assert_matches_reference(graph, model)


@pytest.mark.parametrize("case", ["conv_transpose2d-stride-pads-output-padding", "conv_transpose1d", "group_norm",
                                  "layer_norm-no-bias"])
def test_weights_bit_identical(case):
    graph = CASES[case]()
    node = graph.nodes[0]
    actual = build(graph).get_layer(node.op).get_weights()
    if node.op == "conv_transpose":
        rank = len(node.attrs["kernel_size"])
        expected = [node.weights["weight"].transpose(*range(2, rank + 2), 1, 0), node.weights["bias"]]
    else:
        expected = [node.weights[name] for name in ("scale", "offset") if name in node.weights]
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert got.dtype == np.float32 and np.array_equal(got, want)


SAVED = ["resize-bilinear-align_corners-up", "resize-nearest-scale-factor", "resize-linear1d-align_corners",
         "resize-bilinear-half_pixel-up", "resize-bilinear-half_pixel-x2", "conv_transpose1d-asymmetric-pads",
         "conv-conv_transpose-group_norm", "conv-layer_norm-channels-conv"]


@pytest.mark.parametrize("case", SAVED)
def test_saved_model_reloads_with_equal_outputs(case, tmp_path):
    graph = CASES[case]()
    model = build(graph)
    path = tmp_path / f"{case}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert layer_types(loaded) == layer_types(model)
    inputs = [np.transpose(x, perm) if perm else x
              for x, perm in zip(random_inputs(graph), model._interlayer_perms["inputs"])]
    for got, want in zip(run_native(loaded, inputs), run_native(model, inputs)):
        assert np.array_equal(got, want)


def test_resize_layer_config_round_trips():
    graph = CASES["resize-nearest-scale-factor"]()
    layer = build(graph).get_layer("resize")
    config = layer.get_config()
    assert {key: config[key] for key in ("sizes", "mode", "coordinate_mode", "scales")} == {
        "sizes": [7, 7], "mode": "nearest", "coordinate_mode": "asymmetric", "scales": [1.5, 1.5]}
    assert type(layer).from_config(config).get_config() == config


def test_every_unbuildable_node_is_named_in_one_error():
    graph = chain_graph([
        ("conv_transpose", transpose(4, 4, (3, 3), groups=2)),
        ("conv_transpose", transpose(4, 4, (3, 3), dilations=[2, 2])),
        ("conv_transpose", transpose(4, 4, (2, 2), strides=[2, 2], output_padding=[2, 0])),
    ], (2, 4, 5, 5))
    with pytest.raises(UnsupportedLayerError) as info:
        build(graph)
    assert [where for where, _ in info.value.problems] == [
        "node 'conv_transpose_0' (conv_transpose)", "node 'conv_transpose_1' (conv_transpose)",
        "node 'conv_transpose_2' (conv_transpose)"]
    message = str(info.value)
    assert "Conv2DTranspose has no groups. Expected groups=1. Received: groups=2" in message
    assert "Received: dilations=[2, 2]" in message
    assert "output_padding=[2, 0]" in message


def test_torch_model_converts_to_keras_without_permute():
    import torch
    from torch import nn

    source = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(2, 8), nn.SiLU(),
        nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), nn.Conv2d(6, 4, 3, padding=1),
        nn.Upsample(scale_factor=2), nn.Conv2d(4, 2, 1)).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in source.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.4)
    graph = interlayer.export(source, example_inputs=(1, 3, 4, 5))
    model = build(graph)
    assert layer_types(model) == ["Conv2D", "GroupNormalization", "Activation", "Conv2DTranspose", "Resize",
                                  "Conv2D", "UpSampling2D", "Conv2D"]
    x = random_inputs(graph)
    with torch.no_grad():
        expected = source(torch.from_numpy(x[0])).numpy()
    assert_equivalent(predict(model, x)[0], expected)
