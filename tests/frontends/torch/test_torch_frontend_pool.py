"""MaxPool, AvgPool and adaptive pooling, as modules and functions: captured graph == torch."""
from __future__ import annotations

import pytest
import torch.nn.functional as F
from torch import nn

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_frontend_support import Fn, check_capture

CASES = [
    pytest.param(lambda: nn.MaxPool2d(2), (1, 3, 8, 8), id="max2d"),
    pytest.param(lambda: nn.MaxPool2d(3, stride=2, padding=1), (1, 3, 9, 9), id="max2d-padding"),
    pytest.param(lambda: nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 0)), (1, 3, 9, 8), id="max2d-tuples"),
    pytest.param(lambda: nn.MaxPool2d(2, stride=1, dilation=2), (1, 3, 7, 7), id="max2d-dilation"),
    pytest.param(lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), (1, 3, 8, 8), id="max2d-ceil"),
    pytest.param(lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (1, 3, 10, 10), id="max2d-ceil-padding"),
    pytest.param(lambda: nn.MaxPool1d(3, stride=2), (1, 3, 11), id="max1d"),
    pytest.param(lambda: nn.MaxPool1d(2, padding=1, ceil_mode=True), (1, 3, 10), id="max1d-ceil-padding"),
    pytest.param(lambda: nn.AvgPool2d(2), (1, 3, 8, 8), id="avg2d"),
    pytest.param(lambda: nn.AvgPool2d(3, stride=2, padding=1), (1, 3, 9, 9), id="avg2d-padding-include"),
    pytest.param(lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (1, 3, 9, 9),
                 id="avg2d-padding-exclude"),
    pytest.param(lambda: nn.AvgPool2d(3, stride=2, ceil_mode=True), (1, 3, 8, 8), id="avg2d-ceil"),
    pytest.param(lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (1, 3, 10, 10),
                 id="avg2d-ceil-padding-include"),
    pytest.param(lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 3, 10, 10),
                 id="avg2d-ceil-padding-exclude"),
    pytest.param(lambda: nn.AvgPool1d(2), (1, 3, 10), id="avg1d"),
    pytest.param(lambda: nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True), (1, 3, 10), id="avg1d-ceil-padding"),
    pytest.param(lambda: nn.AdaptiveAvgPool2d(1), (1, 3, 5, 6), id="adaptive-avg2d-1"),
    pytest.param(lambda: nn.AdaptiveAvgPool2d((1, 1)), (1, 3, 5, 6), id="adaptive-avg2d-1x1"),
    pytest.param(lambda: nn.AdaptiveAvgPool1d(1), (1, 3, 7), id="adaptive-avg1d-1"),
    pytest.param(lambda: nn.AdaptiveMaxPool2d(1), (1, 3, 5, 6), id="adaptive-max2d-1"),
    pytest.param(lambda: nn.AdaptiveMaxPool1d(1), (1, 3, 7), id="adaptive-max1d-1"),
    pytest.param(lambda: nn.AdaptiveAvgPool2d((2, 3)), (1, 3, 6, 6), id="adaptive-avg2d-dividing"),
    pytest.param(lambda: nn.AdaptiveMaxPool2d((None, 2)), (1, 3, 5, 6), id="adaptive-max2d-none-dividing"),
    pytest.param(lambda: Fn(lambda m, x: F.max_pool2d(x, 2)), (1, 3, 8, 8), id="F.max_pool2d"),
    pytest.param(lambda: Fn(lambda m, x: F.max_pool1d(x, 3, 2, 1)), (1, 3, 9), id="F.max_pool1d-positional"),
    pytest.param(lambda: Fn(lambda m, x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)),
                 (1, 3, 9, 9), id="F.avg_pool2d-exclude"),
    pytest.param(lambda: Fn(lambda m, x: F.avg_pool1d(x, 2)), (1, 3, 10), id="F.avg_pool1d"),
    pytest.param(lambda: Fn(lambda m, x: F.adaptive_avg_pool2d(x, 1)), (1, 3, 5, 5), id="F.adaptive_avg_pool2d"),
    pytest.param(lambda: Fn(lambda m, x: F.adaptive_max_pool2d(x, (1, 1))), (1, 3, 5, 5), id="F.adaptive_max_pool2d"),
    # windows of different sizes: an output that does not divide a fixed input, or any output of a generic one
    pytest.param(lambda: nn.AdaptiveAvgPool2d(3), "float32[N,3,7,7]", id="adaptive-avg2d-not-dividing"),
    pytest.param(lambda: nn.AdaptiveMaxPool1d(3), "float32[N,3,8]", id="adaptive-max1d-not-dividing"),
    pytest.param(lambda: nn.AdaptiveAvgPool2d((7, 7)), (1, 3, 9, 12), id="adaptive-avg2d-generic-vgg"),
    pytest.param(lambda: nn.AdaptiveAvgPool3d((2, 1, 3)), (1, 2, 5, 4, 7), id="adaptive-avg3d-generic"),
    pytest.param(lambda: Fn(lambda m, x: F.interpolate(x, size=(3, 2), mode="area")), (1, 3, 7, 5),
                 id="F.interpolate-area"),
    # unbatched inputs, pooled as one sample
    pytest.param(lambda: nn.MaxPool2d(2), (3, 4, 4), id="max2d-unbatched"),
    pytest.param(lambda: nn.AvgPool1d(3, stride=2), (3, 9), id="avg1d-unbatched"),
    pytest.param(lambda: nn.AdaptiveAvgPool2d(2), (3, 6, 5), id="adaptive-avg2d-unbatched"),
]


@pytest.mark.parametrize("make, shape", CASES)
def test_pool_matches_torch(make, shape):
    check_capture(make(), shape)


def test_adaptive_one_is_a_global_pool_keeping_dims():
    graph = check_capture(nn.Sequential(nn.AdaptiveAvgPool2d(1)), (1, 3, 5, 5))
    assert (graph.nodes[0].op, graph.nodes[0].attrs) == ("global_avg_pool", {"keepdims": True})


def test_max_pool_stride_defaults_to_kernel():
    graph = check_capture(nn.Sequential(nn.MaxPool2d(3)), (1, 2, 9, 9))
    assert graph.nodes[0].attrs["strides"] == [3, 3]


def test_adaptive_pool_of_a_generic_size_pools_each_window():
    graph = check_capture(nn.Sequential(nn.AdaptiveAvgPool2d((2, 1))), (1, 3, 5, 6))
    windows = [node.attrs for node in graph.nodes if node.op == "slice"]
    # PyTorch's windows: [floor(i * H / 2), ceil((i + 1) * H / 2)); the width to 1 is one mean
    assert [(w["starts"], w["ends"]) for w in windows] == [([0], ["(H + 1)//2"]), (["H//2"], ["H"])]
    assert [node.op for node in graph.nodes][-2:] == ["concat", "reduce_mean"]


UNSUPPORTED = [
    pytest.param(lambda: nn.AvgPool2d(2, divisor_override=3), (1, 3, 4, 4), "divisor_override must be None",
                 id="avg-divisor-override"),
    pytest.param(lambda: nn.MaxPool2d(2, return_indices=True), (1, 3, 4, 4),
                 r"node '0' \(aten.max_pool2d_with_indices in MaxPool2d\): it returns the positions of the maxima "
                 r"\(return_indices=True\)", id="max-return-indices"),
    pytest.param(lambda: nn.AdaptiveMaxPool2d(1, return_indices=True), (1, 3, 4, 4),
                 r"node '0' \(aten.adaptive_max_pool2d in AdaptiveMaxPool2d\): it returns the positions of the maxima",
                 id="adaptive-return-indices"),
]


@pytest.mark.parametrize("make, shape, message", UNSUPPORTED)
def test_pool_option_without_ir_equivalent(make, shape, message):
    with pytest.raises(UnsupportedLayerError, match=message):
        capture(nn.Sequential(make()), shape)
