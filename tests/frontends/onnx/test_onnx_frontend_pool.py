"""MaxPool, AveragePool and global pooling: captured graph == onnxruntime for every auto_pad mode, ceil_mode,
count_include_pad and dilations."""
from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, model, ops, single, value

SHAPE = ("N", 3, 11, 10)

CASES = [
    pytest.param(lambda: single("MaxPool", SHAPE, kernel_shape=[2, 2]), id="max-stride1-default"),
    pytest.param(lambda: single("MaxPool", SHAPE, kernel_shape=[3, 3], strides=[2, 2]), id="max"),
    pytest.param(lambda: single("MaxPool", SHAPE, kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1]),
                 id="max-pads"),
    pytest.param(lambda: single("MaxPool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
                 id="max-same-upper"),
    pytest.param(lambda: single("MaxPool", SHAPE, kernel_shape=[2, 2], strides=[3, 3], auto_pad="SAME_LOWER"),
                 id="max-same-lower"),
    pytest.param(lambda: single("MaxPool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID"),
                 id="max-valid"),
    pytest.param(lambda: single("MaxPool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], auto_pad="NOTSET",
                                pads=[1, 1, 1, 1]), id="max-notset"),
    pytest.param(lambda: single("MaxPool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1), id="max-ceil"),
    pytest.param(lambda: single("MaxPool", SHAPE, kernel_shape=[2, 2], strides=[2, 2], dilations=[2, 2],
                                pads=[1, 1, 1, 1]), id="max-dilated"),
    pytest.param(lambda: single("MaxPool", ("N", 3, 11), kernel_shape=[3], strides=[2], opset=8), id="max-1d-opset8"),
    pytest.param(lambda: single("MaxPool", ("N", 2, 5, 6, 7), kernel_shape=[2, 3, 2], strides=[2, 2, 2]),
                 id="max-3d"),
    pytest.param(lambda: single("AveragePool", SHAPE, kernel_shape=[3, 3], strides=[2, 2]), id="avg"),
    pytest.param(lambda: single("AveragePool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
                 id="avg-pads-exclude"),
    pytest.param(lambda: single("AveragePool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                count_include_pad=1), id="avg-pads-include"),
    pytest.param(lambda: single("AveragePool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
                 id="avg-same-upper"),
    pytest.param(lambda: single("AveragePool", SHAPE, kernel_shape=[2, 2], strides=[3, 3], auto_pad="SAME_LOWER"),
                 id="avg-same-lower"),
    pytest.param(lambda: single("AveragePool", SHAPE, kernel_shape=[2, 2], strides=[3, 3], auto_pad="SAME_LOWER",
                                count_include_pad=1), id="avg-same-lower-include"),
    pytest.param(lambda: single("AveragePool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID"),
                 id="avg-valid"),
    pytest.param(lambda: single("AveragePool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
                 id="avg-ceil"),
    pytest.param(lambda: single("AveragePool", SHAPE, kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1,
                                pads=[1, 1, 1, 1], count_include_pad=1), id="avg-ceil-pads-include"),
    pytest.param(lambda: single("GlobalAveragePool", SHAPE), id="global-avg"),
    pytest.param(lambda: single("GlobalMaxPool", ("N", 3, 4, 5, 6)), id="global-max-3d"),
]


@pytest.mark.parametrize("make", CASES)
def test_pool_matches_onnxruntime(make):
    check(make())


def test_strides_default_to_one():
    graph = capture(single("AveragePool", SHAPE, kernel_shape=[3, 3]))
    assert graph.nodes[0].attrs["strides"] == [1, 1]


def test_global_pool_keeps_the_spatial_axes():
    graph = check(single("GlobalAveragePool", SHAPE))
    assert (ops(graph), graph.outputs[0].shape) == (["global_avg_pool"], ("N", 3, 1, 1))


def test_max_pool_indices_are_refused():
    node = helper.make_node("MaxPool", ["x"], ["y", "i"], name="pool", kernel_shape=[2, 2])
    proto = model([node], [("x", SHAPE)], [("y", None), value("i", ("N", 3, 10, 9), TensorProto.INT64)])
    with pytest.raises(UnsupportedLayerError, match=r"node 'pool' \(MaxPool\): the Indices output is read"):
        capture(proto)


def test_average_pool_dilations_are_refused():
    with pytest.raises(UnsupportedLayerError, match="dilations must be 1 for average pooling"):
        capture(single("AveragePool", SHAPE, opset=19, kernel_shape=[2, 2], dilations=[2, 2]))
