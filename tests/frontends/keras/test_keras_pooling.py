"""Keras average pooling read back to the IR: TensorFlow's 'same' padding is uncounted explicit pads (the odd one at
the end), and interlayer's AveragePooling layer is the avg_pool node it was built from, attribute for attribute."""
from __future__ import annotations

import keras
import pytest
from keras import layers

import interlayer
from interlayer.backends.keras.layers import AveragePooling
from interlayer.frontends.keras import capture

from conformance.cases import CASES
from keras_helpers import check

SAME = {  # an even window or a stride that leaves an odd total: pads differ at the two ends
    "1d-window2-stride2-size9": (lambda: layers.AveragePooling1D(2, strides=2, padding="same"), (9, 3), [0, 1]),
    "2d-window4-stride3-size8x10": (lambda: layers.AveragePooling2D(4, strides=3, padding="same"), (8, 10, 3),
                                    [1, 1, 1, 2]),
    "3d-window2x4x3-stride2x3x2-size5x10x6": (
        lambda: layers.AveragePooling3D((2, 4, 3), strides=(2, 3, 2), padding="same"), (5, 10, 6, 2),
        [0, 1, 0, 1, 2, 1]),
}


@pytest.mark.parametrize("case", sorted(SAME))
def test_same_average_pooling_is_uncounted_asymmetric_pads(case):
    make, shape, pads = SAME[case]
    graph = check(keras.Sequential([keras.Input(shape), make()], name="pool"))
    (node,) = graph.nodes
    assert node.op == "avg_pool"
    assert node.attrs["pads"] == pads
    assert node.attrs["count_include_pad"] is False
    assert node.attrs["ceil_mode"] is False


@pytest.mark.parametrize("case", ["avg_pool1d-pads-end-only-stride2-ceil-include",
                                  "avg_pool2d-pads-symmetric-stride2-ceil-exclude",
                                  "avg_pool2d-pads-asymmetric-stride1-exclude",
                                  "avg_pool3d-pads-end-only-stride2-ceil-exclude"])
def test_interlayer_average_pooling_is_captured_as_its_avg_pool(case):
    graph = CASES[case]()
    model = interlayer.build(graph, "keras")
    assert [type(layer) for layer in model.layers[1:]] == [AveragePooling]
    (node,) = capture(model).nodes
    assert (node.op, node.attrs) == ("avg_pool", graph.nodes[0].attrs)
