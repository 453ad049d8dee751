"""The exactness rules of the torch backend: which native layers express which IR attributes, checked against
the reference interpreter (beyond the shared conformance cases)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from interlayer.backends.torch import build
from torch_backend_support import check_built_layers
from support import single_op_graph


def conv(in_c, out_c, k, **extra):
    return {"in_channels": in_c, "out_channels": out_c, "kernel_size": list(k), **extra}


def avg(k, s, pads, include=False, ceil=False):
    return {"kernel_size": list(k), "strides": list(s), "pads": pads, "count_include_pad": include, "ceil_mode": ceil}


CASES = [
    # conv: symmetric pads go into the layer, anything else into a zero pad in front of it
    pytest.param("conv", conv(2, 3, (3, 3), dilations=[2, 1], pads=[2, 1, 2, 1]), (2, 2, 9, 9),
                 [nn.Conv2d], id="conv2d-pads-per-axis"),
    pytest.param("conv", conv(2, 3, (4, 4), dilations=[2, 2], pads=[3, 1, 3, 2]), (2, 2, 9, 9),
                 [nn.ZeroPad2d, nn.Conv2d], id="conv2d-asymmetric-dilated"),
    pytest.param("conv", conv(2, 3, (2,), strides=[2], pads=[0, 1]), (2, 2, 9),
                 [nn.ZeroPad1d, nn.Conv1d], id="conv1d-asymmetric"),
    pytest.param("conv", conv(2, 2, (3, 3, 2), pads=[1, 1, 0, 1, 1, 1]), (2, 2, 4, 5, 3),
                 [nn.ZeroPad3d, nn.Conv3d], id="conv3d-asymmetric"),
    # max_pool: pads torch refuses (more than half the kernel, or asymmetric) become -inf padding
    pytest.param("max_pool", {"kernel_size": [2, 2], "strides": [1, 1], "dilations": [2, 2], "pads": [2, 2, 2, 2]},
                 (2, 3, 6, 6), [nn.ConstantPad2d, nn.MaxPool2d], id="max-pad-over-half-kernel"),
    pytest.param("max_pool", {"kernel_size": [3, 2], "strides": [2, 2], "pads": [1, 0, 0, 1], "ceil_mode": True},
                 (2, 3, 8, 7), [nn.ConstantPad2d, nn.MaxPool2d], id="max-asymmetric-ceil"),
    pytest.param("max_pool", {"kernel_size": [3], "strides": [2], "pads": [1, 1], "ceil_mode": True},
                 (2, 3, 10), [nn.MaxPool1d], id="max1d-ceil-padding"),
    # avg_pool without count_include_pad: torch padding where the windows start, then crop the extra ones
    pytest.param("avg_pool", avg((2, 2), (1, 1), [0, 0, 1, 1]), (2, 3, 5, 6), [nn.AvgPool2d],
                 id="avg-same-stride1-even-kernel"),
    pytest.param("avg_pool", avg((4,), (1,), [1, 2]), (2, 3, 7), [nn.AvgPool1d], id="avg-same-kernel4"),
    pytest.param("avg_pool", avg((3, 3), (2, 2), [0, 0, 1, 1]), (2, 3, 8, 8), [nn.AvgPool2d],
                 id="avg-same-stride2-odd-kernel"),
    pytest.param("avg_pool", avg((3, 2), (3, 3), [1, 0, 0, 0]), (2, 3, 7, 7), [nn.AvgPool2d],
                 id="avg-begin-pad-only"),
    # avg_pool with count_include_pad: explicit zeros when torch's symmetric padding cannot say it
    pytest.param("avg_pool", avg((2, 2), (2, 2), [0, 0, 1, 1], include=True), (2, 3, 7, 7),
                 [nn.ConstantPad2d, nn.AvgPool2d], id="avg-asymmetric-include"),
    pytest.param("avg_pool", avg((3,), (2,), [1, 1], include=True, ceil=True), (2, 3, 10), [nn.AvgPool1d],
                 id="avg-include-ceil"),
    pytest.param("avg_pool", avg((3,), (2,), [0, 1], include=True, ceil=True), (2, 3, 8),
                 [nn.ConstantPad1d, nn.AvgPool1d], id="avg-asymmetric-include-ceil"),
    # clip: the named layer when there is one
    pytest.param("clip", {"min": -1.0, "max": 1.0}, (2, 5), [nn.Hardtanh], id="clip-hardtanh"),
    pytest.param("clip", {"min": 0.0, "max": None}, (2, 5), [], id="clip-min-only"),
    pytest.param("clip", {"min": None, "max": 0.5}, (2, 5), [], id="clip-max-only"),
    pytest.param("clip", {"min": None, "max": None}, (2, 5), [nn.Identity], id="clip-unbounded"),
    # batch_norm: one of center/scale filled with zeros/ones; rank picks the class
    pytest.param("batch_norm", {"num_features": 3, "center": False}, (2, 3, 4, 4), [nn.BatchNorm2d],
                 id="bn-scale-only"),
    pytest.param("batch_norm", {"num_features": 3, "scale": False, "momentum": None}, (2, 3, 5), [nn.BatchNorm1d],
                 id="bn-offset-only-sequence"),
    pytest.param("batch_norm", {"num_features": 2}, (2, 2, 3, 3, 3), [nn.BatchNorm3d], id="bn3d"),
    # tensor ops
    pytest.param("pad", {"pads": [1, -1, 0, 2], "value": 0.5}, (2, 3, 4, 4), [nn.ConstantPad2d],
                 id="pad-value-and-crop"),
    pytest.param("pad", {"pads": [0, 0, 1, 2, 0, 1]}, (2, 2, 3, 3, 3), [nn.ZeroPad3d], id="pad3d"),
    pytest.param("flatten", {"order": "channels_last"}, (2, 3, 5), [nn.Flatten], id="flatten-channels-last-1d"),
    pytest.param("global_max_pool", {"keepdims": True}, (2, 3, 7), [nn.AdaptiveMaxPool1d], id="global-max1d-keepdims"),
    pytest.param("global_avg_pool", {}, (2, 3, 3, 4, 5), [nn.AdaptiveAvgPool3d], id="global-avg3d"),
    pytest.param("softmax", {"axis": 2}, (2, 3, 4, 5), [nn.Softmax], id="softmax-height"),
    pytest.param("leaky_relu", {"alpha": 0.3}, (2, 5), [nn.LeakyReLU], id="leaky-relu"),
]


@pytest.mark.parametrize("op, attrs, shape, layers", CASES)
def test_built_layers_match_reference(op, attrs, shape, layers):
    check_built_layers(op, attrs, shape, layers)


def test_asymmetric_conv_pad_is_a_sibling_layer():
    graph = single_op_graph("conv", conv(2, 3, (2, 2), pads=[0, 0, 1, 1]), [(2, 2, 5, 5)])
    model = build(graph)
    assert [name for name, _ in model.named_children()] == ["conv_pad", "conv"]
    assert model.conv_pad.padding == (0, 1, 0, 1)
    assert model.conv.padding == (0, 0)
    assert list(model.state_dict()) == ["conv.weight", "conv.bias"]


def test_same_avg_pool_uses_ceil_mode():
    graph = single_op_graph("avg_pool", avg((2, 2), (2, 2), [0, 0, 1, 1]), [(2, 3, 7, 7)])
    pool = build(graph).avg_pool
    assert (pool.padding, pool.ceil_mode, pool.count_include_pad) == ((0, 0), True, False)


def test_global_pool_without_keepdims_flattens():
    model = build(single_op_graph("global_avg_pool", {}, [(2, 3, 4, 4)]))
    assert "torch.flatten(global_avg_pool, 1)" in model.code
    assert model(torch.zeros(2, 3, 4, 4)).shape == (2, 3)


def test_stride1_same_avg_pool_crops_the_first_window():
    # Keras 'same' (pads 0 before, 1 after): torch pads 1 on both sides and the first window is dropped
    graph = single_op_graph("avg_pool", avg((2, 2), (1, 1), [0, 0, 1, 1]), [(2, 3, 5, 6)])
    model = build(graph)
    assert model.avg_pool.padding == (1, 1)
    assert "slice(1, 6, None), slice(1, 7, None)" in model.code
