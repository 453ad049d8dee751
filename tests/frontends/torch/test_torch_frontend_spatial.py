"""ConvTranspose, Upsample/F.interpolate, LayerNorm and GroupNorm: the captured graph computes what torch does."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interlayer.errors import SourceError, UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_frontend_support import Fn, check_capture


def interpolate(**options):
    return lambda: Fn(lambda self, x: F.interpolate(x, **options))


CASES = [
    # transposed convolution
    pytest.param(lambda: nn.ConvTranspose2d(3, 4, 3), (1, 3, 5, 6), id="conv_transpose2d"),
    pytest.param(lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), (1, 3, 5, 6),
                 id="conv_transpose2d-stride-padding-output_padding"),
    pytest.param(lambda: nn.ConvTranspose2d(2, 3, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(0, 2)),
                 (1, 2, 4, 5), id="conv_transpose2d-rectangular"),
    pytest.param(lambda: nn.ConvTranspose2d(3, 4, 3, dilation=2, padding=1), (1, 3, 5, 5),
                 id="conv_transpose2d-dilation"),
    pytest.param(lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, dilation=2, output_padding=1), (1, 3, 4, 4),
                 id="conv_transpose2d-dilation-output_padding"),
    pytest.param(lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2), (1, 4, 4, 4), id="conv_transpose2d-groups"),
    pytest.param(lambda: nn.ConvTranspose2d(4, 2, 2, stride=2, bias=False), (1, 4, 3, 4),
                 id="conv_transpose2d-no-bias"),
    pytest.param(lambda: nn.ConvTranspose1d(3, 5, 4, stride=3, padding=2, output_padding=1), (1, 3, 7),
                 id="conv_transpose1d"),
    pytest.param(lambda: nn.ConvTranspose3d(2, 3, 2, stride=2, padding=(0, 1, 0)), (1, 2, 2, 3, 3),
                 id="conv_transpose3d"),
    pytest.param(lambda: Fn(lambda self, x: self.layers[0](x, output_size=(10, 12)),
                            nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1)), (1, 3, 5, 6),
                 id="conv_transpose2d-forward-output_size"),
    # resizing: modules
    pytest.param(lambda: nn.Upsample(scale_factor=2), (1, 3, 4, 5), id="upsample-nearest-x2"),
    pytest.param(lambda: nn.Upsample(size=(7, 3)), (1, 3, 4, 5), id="upsample-nearest-size"),
    pytest.param(lambda: nn.Upsample(scale_factor=1.5), (1, 3, 5, 5), id="upsample-nearest-scale-1.5"),
    pytest.param(lambda: nn.Upsample(scale_factor=(2, 3)), (1, 3, 4, 5), id="upsample-nearest-x2-x3"),
    pytest.param(lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (1, 3, 4, 5), id="upsample-bilinear-x2"),
    pytest.param(lambda: nn.Upsample(size=(3, 2), mode="bilinear"), (1, 3, 7, 6), id="upsample-bilinear-down"),
    pytest.param(lambda: nn.Upsample(scale_factor=1.3, mode="bilinear"), "float32[N,3,3,5]",
                 id="upsample-bilinear-scale-1.3-unchanged-axis"),
    pytest.param(lambda: nn.Upsample(scale_factor=1.3), "float32[N,3,3,5]",
                 id="upsample-nearest-scale-1.3-unchanged-axis"),
    pytest.param(lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), (1, 3, 4, 5),
                 id="upsample-bilinear-align_corners-x2"),
    pytest.param(lambda: nn.Upsample(size=(3, 2), mode="bilinear", align_corners=True), (1, 3, 7, 6),
                 id="upsample-bilinear-align_corners-down"),
    pytest.param(lambda: nn.Upsample(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True), (1, 3, 5, 5),
                 id="upsample-bilinear-recompute_scale_factor"),
    pytest.param(lambda: nn.Upsample(scale_factor=2.5, mode="linear"), (1, 3, 6), id="upsample-linear1d"),
    pytest.param(lambda: nn.Upsample(scale_factor=(2, 1.5, 1), mode="trilinear"), (1, 2, 3, 4, 3),
                 id="upsample-trilinear"),
    pytest.param(lambda: nn.UpsamplingNearest2d(scale_factor=3), (1, 3, 3, 4), id="upsampling-nearest2d"),
    pytest.param(lambda: nn.UpsamplingBilinear2d(size=(9, 7)), (1, 3, 4, 5), id="upsampling-bilinear2d"),
    # resizing: F.interpolate
    pytest.param(interpolate(scale_factor=2), (1, 3, 4, 5), id="interpolate-nearest-x2"),
    pytest.param(interpolate(size=(82, 94)), (1, 2, 2, 2), id="interpolate-nearest-float32-ties"),
    pytest.param(interpolate(size=(7, 9), mode="bilinear"), (1, 3, 4, 5), id="interpolate-bilinear-size"),
    pytest.param(interpolate(scale_factor=1.5, mode="bilinear"), (1, 3, 5, 5), id="interpolate-bilinear-scale-1.5"),
    pytest.param(interpolate(scale_factor=0.5, mode="bilinear", align_corners=True), (1, 3, 8, 6),
                 id="interpolate-bilinear-align_corners-down"),
    pytest.param(interpolate(size=11, mode="linear"), (1, 3, 5), id="interpolate-linear1d-half_pixel"),
    pytest.param(interpolate(size=4, mode="linear", align_corners=True), (1, 3, 9),
                 id="interpolate-linear1d-align_corners"),
    pytest.param(interpolate(scale_factor=2.2, mode="nearest"), (1, 3, 3), id="interpolate-nearest1d-scale-2.2"),
    pytest.param(lambda: Fn(lambda self, x: x + F.interpolate(self.layers[0](x), size=x.shape[2:], mode="bilinear"),
                            nn.Conv2d(3, 3, 3, stride=2)), (1, 3, 9, 8), id="interpolate-size-of-skip"),
    # normalisation
    pytest.param(lambda: nn.LayerNorm(6), (1, 5, 6), id="layer_norm-last-axis"),
    pytest.param(lambda: nn.LayerNorm((4, 5, 3), eps=1e-6), (1, 4, 5, 3), id="layer_norm-chw"),
    pytest.param(lambda: nn.LayerNorm(6, bias=False), (1, 5, 6), id="layer_norm-no-bias"),
    pytest.param(lambda: nn.LayerNorm(6, elementwise_affine=False), (1, 5, 6), id="layer_norm-no-affine"),
    pytest.param(lambda: nn.LayerNorm(7), (2, 7), id="layer_norm-features"),
    pytest.param(lambda: Fn(lambda self, x: F.layer_norm(x, (5, 6), eps=1e-3)), (1, 4, 5, 6),
                 id="F.layer_norm-two-axes"),
    pytest.param(lambda: Fn(lambda self, x: self.layers[0](x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2),
                            nn.LayerNorm(4)), (1, 4, 5, 6), id="layer_norm-channels-by-permute"),
    pytest.param(lambda: nn.GroupNorm(3, 6), (1, 6, 4, 5), id="group_norm"),
    pytest.param(lambda: nn.GroupNorm(2, 4, eps=1e-3, affine=False), (1, 4, 7), id="group_norm1d-no-affine"),
    pytest.param(lambda: nn.GroupNorm(2, 4, eps=1e-3, affine=False), "float32[N,4,L]",
                 id="group_norm1d-no-affine-fixed-channels"),
    pytest.param(lambda: Fn(lambda self, x: F.layer_norm(x, x.shape[-2:])), (1, 4, 5, 6), id="F.layer_norm-of-x-shape"),
    pytest.param(lambda: Fn(lambda self, x: F.layer_norm(x, (4, 5))), (4, 5), id="F.layer_norm-every-axis"),
    pytest.param(lambda: nn.GroupNorm(1, 4), (1, 4, 3, 3), id="group_norm-one-group"),
    pytest.param(lambda: Fn(lambda self, x: F.group_norm(x, 2, eps=1e-4)), (1, 6, 4, 4), id="F.group_norm"),
    pytest.param(lambda: nn.InstanceNorm2d(4), (1, 4, 5, 6), id="instance_norm2d"),
    pytest.param(lambda: nn.InstanceNorm2d(4, affine=True, eps=1e-3), (1, 4, 5, 6), id="instance_norm2d-affine"),
    pytest.param(lambda: nn.InstanceNorm1d(3, affine=True), (1, 3, 9), id="instance_norm1d-affine"),
    pytest.param(lambda: nn.InstanceNorm3d(2, affine=True), (1, 2, 3, 4, 5), id="instance_norm3d-affine"),
    pytest.param(lambda: nn.InstanceNorm2d(4, affine=True, track_running_stats=True), (1, 4, 5, 6),
                 id="instance_norm2d-running-statistics"),
    pytest.param(lambda: Fn(lambda self, x: F.instance_norm(x, eps=1e-4)), (1, 3, 4, 4), id="F.instance_norm"),
    # a small U-Net up path
    pytest.param(lambda: nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(2, 8), nn.ReLU(), nn.ConvTranspose2d(8, 4, 2, stride=2),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), nn.Conv2d(4, 2, 1)), (1, 3, 4, 5),
        id="unet-up-path"),
]


@pytest.mark.parametrize("make, shape", CASES)
def test_layer_matches_torch(make, shape):
    check_capture(make(), shape)


def test_conv_transpose_attributes():
    graph = check_capture(nn.Sequential(nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=(1, 0), output_padding=1,
                                                           groups=2, dilation=(1, 2))), (1, 4, 5, 5))
    node = graph.node("0")
    assert node.attrs == {"in_channels": 4, "out_channels": 6, "kernel_size": [3, 2], "strides": [2, 2],
                          "dilations": [1, 2], "pads": [1, 0, 1, 0], "output_padding": [1, 1], "groups": 2,
                          "bias": True}
    assert node.weights["weight"].shape == (4, 3, 3, 2)  # PyTorch's own (in, out/groups, *k) layout
    assert graph.source["name_map"] == {"0.weight": "0.weight", "0.bias": "0.bias"}


def test_forward_output_size_becomes_output_padding():
    model = Fn(lambda self, x: self.layers[0](x, output_size=(10, 12)), nn.ConvTranspose2d(3, 4, 3, stride=2,
                                                                                           padding=1))
    graph = check_capture(model, "float32[N,3,5,6]")
    assert [node.op for node in graph.nodes] == ["conv_transpose"]
    assert graph.node("layers.0").attrs["output_padding"] == [1, 1]


class SkipUp(nn.Module):
    """A U-Net step: down by 2, then up to the skip's own size (output_size=x.shape[2:]), whose output padding is
    0 or 1 with the parity of the size."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 3, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1)

    def forward(self, x):
        return self.up(self.down(x), output_size=x.shape[2:]) + x


@pytest.mark.parametrize("shape", [(1, 3, 7, 8), (1, 3, 8, 7)], ids=["odd-even", "even-odd"])
def test_output_size_of_a_generic_size_is_the_largest_output_padding_cut(shape):
    graph = check_capture(SkipUp(), shape)
    assert [node.op for node in graph.nodes] == ["conv", "conv_transpose", "slice", "add"]
    assert graph.node("up_full").attrs["output_padding"] == [1, 1]
    assert graph.node("up").attrs["ends"] == ["H", "W"]


HALF = ["(3*H)//2", "(3*W)//2"]


@pytest.mark.parametrize("module, attrs", [
    (nn.Upsample(scale_factor=2), {"sizes": ["2*H", "2*W"], "scales": None, "mode": "nearest",
                                   "coordinate_mode": "asymmetric"}),
    (nn.Upsample(scale_factor=1.5), {"sizes": HALF, "scales": [1.5, 1.5], "mode": "nearest",
                                     "coordinate_mode": "asymmetric"}),
    (nn.Upsample(scale_factor=1.5, recompute_scale_factor=True),
     {"sizes": HALF, "scales": None, "mode": "nearest", "coordinate_mode": "asymmetric"}),
    (nn.Upsample(scale_factor=1.5, mode="bilinear"), {"sizes": HALF, "scales": [1.5, 1.5], "mode": "linear",
                                                      "coordinate_mode": "half_pixel"}),
    (nn.UpsamplingBilinear2d(scale_factor=1.5), {"sizes": HALF, "scales": None, "mode": "linear",
                                                 "coordinate_mode": "align_corners"}),
], ids=["nearest-x2", "nearest-1.5", "nearest-1.5-recomputed", "bilinear-1.5", "bilinear2d-align_corners"])
def test_resize_attributes(module, attrs):
    graph = check_capture(nn.Sequential(module), (1, 3, 5, 5))
    assert graph.node("0").attrs == attrs


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_scale_on_an_unchanged_axis_is_one(mode):
    # PyTorch's nearest and linear kernels copy an axis whose length stays 3, whatever scale_factor says
    graph = check_capture(nn.Sequential(nn.Upsample(scale_factor=1.3, mode=mode)), "float32[N,2,3,5]")
    assert graph.node("0").attrs["scales"] == [1.0, 1.3]


def test_scale_that_may_leave_a_generic_axis_unchanged_fixes_it():
    # scale 1.3 keeps sizes 2 and 3 (copied) and scales 4 and more: no one IR resize does both, so the capture
    # exports again with those sizes fixed at the example's, and says so
    graph = check_capture(nn.Sequential(nn.Upsample(scale_factor=1.3, mode="bilinear")), (1, 2, 3, 5))
    assert graph.inputs[0].shape == ("N", 2, 3, 5)
    assert graph.node("0").attrs["scales"] == [1.0, 1.3]
    assert sorted(graph.source["fixed_sizes"]) == ["H", "W"]
    assert "scale_factor=1.3 keeps an axis unchanged below 4 positions" in graph.source["fixed_sizes"]["H"]["reason"]


@pytest.mark.parametrize("module, attrs", [
    (nn.LayerNorm(6), {"axes": [2], "normalized_shape": [6], "epsilon": 1e-5, "center": True, "scale": True}),
    (nn.LayerNorm(6, bias=False), {"axes": [2], "normalized_shape": [6], "epsilon": 1e-5, "center": False,
                                   "scale": True}),
    (nn.LayerNorm((5, 6), eps=1e-3, elementwise_affine=False),
     {"axes": [1, 2], "normalized_shape": [5, 6], "epsilon": 1e-3, "center": False, "scale": False}),
], ids=["affine", "no-bias", "no-affine"])
def test_layer_norm_attributes(module, attrs):
    graph = check_capture(nn.Sequential(module), (1, 5, 6))
    node = graph.node("0")
    assert node.attrs == attrs
    assert sorted(node.weights) == [w for w, flag in (("offset", "center"), ("scale", "scale")) if attrs[flag]]


def test_group_norm_weights_keep_their_names():
    graph = check_capture(nn.Sequential(nn.GroupNorm(2, 4, eps=1e-3)), (1, 4, 3, 3))
    assert graph.node("0").attrs == {"num_groups": 2, "num_channels": 4, "epsilon": 1e-3, "center": True,
                                     "scale": True}
    assert graph.source["name_map"] == {"0.weight": "0.scale", "0.bias": "0.offset"}


def test_options_without_ir_equivalent_are_named_in_one_error():
    # area interpolation is adaptive average pooling: it converts; the cat after the refused calls is not named
    model = Fn(lambda self, x: torch.cat([
        F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True),
        self.layers[0](x),
        F.interpolate(x, size=(2, 2), mode="area")], dim=1), nn.Upsample(size=(2, 2), mode="bicubic"))
    with pytest.raises(UnsupportedLayerError) as info:
        capture(model, (1, 3, 4, 4))
    assert [where for where, _ in info.value.problems] == [
        "node '_upsample_bilinear2d_aa' (aten._upsample_bilinear2d_aa)",
        "node 'layers.0' (aten.upsample_bicubic2d in Upsample)"]
    message = str(info.value)
    assert "Expected antialias=False. Received: antialias=True" in message
    assert "upsample_bicubic has no IR equivalent" in message


def test_layer_norm_function_with_weight_tensors_computed_once():
    model = Fn(lambda self, x: F.layer_norm(x, (6,), torch.ones(6) * 2))
    graph = check_capture(model, (1, 5, 6))
    (node,) = graph.nodes
    assert node.op == "layer_norm" and node.weights["scale"].tolist() == [2.0] * 6


def test_conv_transpose_padding_mode_is_refused_by_torch_itself():
    # PyTorch accepts only zeros: a changed padding_mode fails when the layer runs, and the capture names it
    layer = nn.ConvTranspose2d(3, 4, 3)
    layer.padding_mode = "reflect"
    with pytest.raises(SourceError, match="padding mode"):
        capture(nn.Sequential(layer), (1, 3, 5, 5))


def test_instance_norm_is_a_group_norm_of_one_channel_per_group():
    graph = check_capture(nn.Sequential(nn.InstanceNorm2d(4, affine=True)), (1, 4, 5, 6))
    node = graph.node("0")
    assert node.op == "group_norm" and node.attrs["num_groups"] == node.attrs["num_channels"] == 4


def test_instance_norm_of_an_unbatched_input_normalises_it_as_one_sample():
    graph = check_capture(nn.Sequential(nn.InstanceNorm2d(3)), (3, 5, 5))
    assert [node.op for node in graph.nodes] == ["reshape", "group_norm", "reshape"]


@pytest.mark.parametrize("module, shape, result", [
    pytest.param(nn.PixelShuffle(2), (1, 8, 3, 4), ("N", 2, "2*H", "2*W"), id="PixelShuffle"),
    pytest.param(nn.PixelUnshuffle(2), (1, 2, 4, 6), ("N", 8, "H//2", "W//2"), id="PixelUnshuffle"),
])
def test_pixel_shuffle_is_a_reshape_a_transpose_and_a_reshape(module, shape, result):
    graph = check_capture(nn.Sequential(module), shape)
    assert [node.op for node in graph.nodes] == ["reshape", "transpose", "reshape"]
    assert graph.outputs[0].shape == result


def test_layer_norm_over_a_permuted_map_is_a_norm_over_its_axis():
    """permute, LayerNorm(C), permute back (ConvNeXt's channels-first norm): one norm over axis 1, no transpose."""
    model = Fn(lambda self, x: self.layers[0](x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), nn.LayerNorm(4))
    graph = check_capture(model, (1, 4, 5, 6))
    assert [(node.op, node.attrs.get("axes")) for node in graph.nodes] == [("layer_norm", [1])]
    assert graph.source["name_map"] == {"layers.0.weight": "layers.0.scale", "layers.0.bias": "layers.0.offset"}
