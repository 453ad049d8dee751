"""conv_transpose, resize, layer_norm, group_norm in the torch backend: which native layers express which
attributes (checked against the reference interpreter), their names, and what cannot be built."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.backends.torch import build, predict
from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_backend_support import check_built_layers
from support import assert_equivalent, chain_graph, random_inputs, single_op_graph


def transpose(in_c, out_c, k, **extra):
    return {"in_channels": in_c, "out_channels": out_c, "kernel_size": list(k), **extra}


def resize(sizes, mode="nearest", coordinate_mode="asymmetric", **extra):
    return {"sizes": list(sizes), "mode": mode, "coordinate_mode": coordinate_mode, **extra}


def layer_norm(axes, shape, **extra):
    return {"axes": list(axes), "normalized_shape": list(shape), **extra}


CASES = [
    # conv_transpose: PyTorch's padding and output_padding when they say it, a crop behind the layer otherwise
    pytest.param("conv_transpose", transpose(3, 4, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
                 (2, 3, 4, 5), [nn.ConvTranspose2d], id="conv_transpose2d-symmetric"),
    pytest.param("conv_transpose", transpose(3, 2, (3,), strides=[2], pads=[2, 0], output_padding=[1]), (2, 3, 6),
                 [nn.ConvTranspose1d], id="conv_transpose1d-begin-crop"),
    pytest.param("conv_transpose", transpose(3, 2, (4,), strides=[2], pads=[0, 3]), (2, 3, 6),
                 [nn.ConvTranspose1d], id="conv_transpose1d-end-crop"),
    pytest.param("conv_transpose", transpose(2, 2, (2, 2), strides=[2, 2], pads=[0, 0, 2, 0], output_padding=[3, 0]),
                 (2, 2, 3, 3), [nn.ConvTranspose2d], id="conv_transpose2d-output_padding-beyond-stride"),
    pytest.param("conv_transpose", transpose(4, 6, (3, 3), strides=[2, 1], dilations=[1, 2], groups=2,
                                             pads=[1, 2, 1, 2], output_padding=[1, 1]), (2, 4, 4, 5),
                 [nn.ConvTranspose2d], id="conv_transpose2d-groups-dilation"),
    pytest.param("conv_transpose", transpose(2, 3, (2, 2, 2), strides=[2, 2, 2], pads=[0, 1, 0, 0, 0, 1]),
                 (2, 2, 2, 3, 2), [nn.ConvTranspose3d], id="conv_transpose3d"),
    # resize: nn.Upsample with size=, or scale_factor= where the IR keeps PyTorch's scale
    pytest.param("resize", resize([7, 3]), (2, 3, 4, 5), [nn.Upsample], id="resize-nearest-size"),
    pytest.param("resize", resize([7, 7], scales=[1.5, 1.5]), (2, 3, 5, 5), [nn.Upsample],
                 id="resize-nearest-scales"),
    pytest.param("resize", resize([6, 6], "linear", "half_pixel", scales=[1.3, 1.3]), (2, 3, 5, 5), [nn.Upsample],
                 id="resize-bilinear-scales"),
    pytest.param("resize", resize([4, 9, 5], "linear", "align_corners"), (2, 2, 3, 4, 5), [nn.Upsample],
                 id="resize-trilinear-align_corners"),
    # normalisation
    pytest.param("layer_norm", layer_norm([2], [6], scale=False), (2, 5, 6), [nn.LayerNorm],
                 id="layer_norm-offset-only"),
    pytest.param("layer_norm", layer_norm([1, 3], [3, 5]), (2, 3, 4, 5), [nn.LayerNorm], id="layer_norm-axes-1-3"),
    pytest.param("group_norm", {"num_groups": 2, "num_channels": 4, "center": False}, (2, 4, 3, 3),
                 [nn.GroupNorm], id="group_norm-scale-only"),
    pytest.param("group_norm", {"num_groups": 3, "num_channels": 6}, (2, 6), [nn.GroupNorm], id="group_norm-features"),
]


@pytest.mark.parametrize("op, attrs, shape, layers", CASES)
def test_built_layers_match_reference(op, attrs, shape, layers):
    check_built_layers(op, attrs, shape, layers)


def test_symmetric_conv_transpose_is_one_layer():
    graph = single_op_graph("conv_transpose", transpose(3, 4, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1],
                                                        output_padding=[1, 1]), [(2, 3, 4, 5)])
    layer = build(graph).conv_transpose
    assert (layer.stride, layer.padding, layer.output_padding) == ((2, 2), (1, 1), (1, 1))
    assert torch.equal(layer.weight, torch.from_numpy(graph.nodes[0].weights["weight"]))


@pytest.mark.parametrize("pads, output_padding, padding, torch_output_padding, crop", [
    ([2, 0], [1], 0, 1, "slice(2, None, None)"),
    ([0, 3], [0], 0, 0, "slice(None, -3, None)"),
    ([3, 1], [0], 2, 1, "slice(1, None, None)"),
], ids=["begin", "end", "both"])
def test_asymmetric_conv_transpose_crops_behind_the_layer(pads, output_padding, padding, torch_output_padding, crop):
    graph = single_op_graph("conv_transpose", transpose(3, 2, (4,), strides=[2], pads=pads,
                                                        output_padding=output_padding), [(2, 3, 6)])
    model = build(graph)
    assert (model.conv_transpose.padding, model.conv_transpose.output_padding) == ((padding,), (torch_output_padding,))
    assert f"(slice(None, None, None), slice(None, None, None), {crop})" in model.code
    inputs = random_inputs(graph)
    assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)["conv_transpose"])


def test_upsample_takes_sizes_unless_the_scale_maps_coordinates():
    by_size = build(single_op_graph("resize", resize([8, 10], "linear", "align_corners"), [(2, 3, 4, 5)])).resize
    assert (by_size.size, by_size.scale_factor, by_size.mode, by_size.align_corners) == (
        (8, 10), None, "bilinear", True)
    by_scale = build(single_op_graph("resize", resize([7, 7], scales=[1.5, 1.5]), [(2, 3, 5, 5)])).resize
    assert (by_scale.size, by_scale.scale_factor, by_scale.recompute_scale_factor) == (None, (1.5, 1.5), False)


def test_channel_axis_layer_norm_is_a_layer_norm_between_permutes():
    graph = single_op_graph("layer_norm", layer_norm([1], [4], epsilon=1e-6), [(2, 4, 5, 6)])
    model = build(graph)
    assert isinstance(model.layer_norm, nn.LayerNorm) and model.layer_norm.normalized_shape == (4,)
    assert model.layer_norm.eps == 1e-6
    assert list(model.state_dict()) == ["layer_norm.weight", "layer_norm.bias"]
    assert ".permute(0, 2, 3, 1)" in model.code and ".permute(0, 3, 1, 2)" in model.code


def test_layer_norm_without_offset_has_no_bias():
    graph = single_op_graph("layer_norm", layer_norm([2], [6], center=False), [(2, 5, 6)])
    model = build(graph)
    assert list(model.state_dict()) == ["layer_norm.weight"]
    assert model.layer_norm.weight.detach().numpy().tobytes() == graph.nodes[0].weights["scale"].tobytes()


def test_inexpressible_nodes_are_all_named():
    graph = chain_graph([
        ("conv_transpose", transpose(2, 2, (2,), strides=[1], output_padding=[1])),
        ("resize", resize([12], "linear", "asymmetric")),
        ("resize", resize([12], "nearest", "half_pixel")),
        ("resize", resize([12], "linear", "half_pixel", scales=[1.3])),
    ], (2, 2, 5))
    with pytest.raises(UnsupportedLayerError) as info:
        build(graph)
    assert [where for where, _ in info.value.problems] == [
        "node 'conv_transpose_0' (conv_transpose)", "node 'resize_1' (resize)", "node 'resize_2' (resize)",
        "node 'resize_3' (resize)"]
    message = str(info.value)
    assert "output_padding - pads_end < max(stride, dilation)" in message
    assert "Received: coordinate_mode='asymmetric'" in message
    assert "coordinate_mode='half_pixel'" in message
    assert "scales=[1.3]" in message


def unet_up() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(4, 8), nn.ReLU(),
        nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1),
        nn.Upsample(scale_factor=1.5, mode="bilinear"), nn.Conv2d(6, 4, 1),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.LayerNorm(30, bias=False)).eval()


def test_torch_round_trip_keeps_state_dict_and_outputs():
    source = unet_up()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in source.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
    graph = capture(source, (1, 3, 5, 5))
    model = build(graph)
    assert list(model.state_dict()) == list(source.state_dict())
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    inputs = random_inputs(graph)
    assert_equivalent(predict(model, inputs)[0], predict(source, inputs)[0])
    assert np.shape(predict(model, inputs)[0]) == (2, 4, 30, 30)
