"""keras.ops.tile in a functional model, on tensors Keras holds channels-last (each count belongs to the IR axis
held at its position), and interlayer's Tile layer that the Keras backend writes, read back (also from a .keras
file): captured graph == Keras."""
from __future__ import annotations

import keras
import pytest
from keras import layers

import interlayer
from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.keras import capture
from keras_helpers import check
from support import chain_graph

SHAPE = (4, 5, 3)


def conv_then(fn):
    """``fn`` applied to a 3x3 conv of the input: a tensor held NHWC, (N, H, W, C) in Keras."""
    x = keras.Input(SHAPE)
    return keras.Model(x, fn(layers.Conv2D(4, 3, padding="same")(x)), name="tile")


OPERATIONS = [
    pytest.param(lambda y: keras.ops.tile(y, (1, 2, 3, 1)), [1, 1, 2, 3], id="height-width"),
    pytest.param(lambda y: keras.ops.tile(y, (1, 1, 1, 2)), [1, 2, 1, 1], id="channels"),
    pytest.param(lambda y: keras.ops.tile(y, [1, 3, 1, 2]), [1, 2, 3, 1], id="height-channels-list"),
    pytest.param(lambda y: keras.ops.tile(y, (2,)), [1, 2, 1, 1], id="fewer-repeats-last-axis"),
    pytest.param(lambda y: keras.ops.tile(y, 3), [1, 3, 1, 1], id="one-int"),
    pytest.param(lambda y: keras.ops.tile(y, (1, 2, 1)), [1, 1, 1, 2], id="fewer-repeats-width"),
]


@pytest.mark.parametrize("fn, repeats", OPERATIONS)
def test_ops_tile_matches_keras(fn, repeats):
    graph = check(conv_then(fn))
    assert [(node.op, node.attrs) for node in graph.nodes[1:]] == [("tile", {"repeats": repeats})]


def test_ops_tile_between_convolutions():
    graph = check(conv_then(lambda y: layers.Conv2D(2, 3)(keras.ops.tile(y, (1, 2, 1, 2)))))
    assert [node.op for node in graph.nodes] == ["conv", "tile", "conv"]
    assert graph.nodes[1].attrs == {"repeats": [1, 2, 2, 1]}


def test_ops_tile_of_features():
    x = keras.Input((6,))
    graph = check(keras.Model(x, keras.ops.tile(layers.Dense(5)(x), (1, 3)), name="features"))
    assert [(node.op, node.attrs) for node in graph.nodes[1:]] == [("tile", {"repeats": [1, 3]})]


def test_ops_tile_of_the_batch_axis():
    """IR format 2: the batch is an axis like the others, repeated as numpy.tile repeats any axis."""
    graph = check(conv_then(lambda y: keras.ops.tile(y, (2, 1, 3, 1))))
    assert [(node.op, node.attrs) for node in graph.nodes[1:]] == [("tile", {"repeats": [2, 1, 1, 3]})]


@pytest.mark.parametrize("repeats, message", [
    pytest.param((1, 1, 1, 1, 2), "more repeats than axes put new axes in front of the batch. Expected at most 4 "
                 "repeats for a rank 4 input. Received: repeats=[1, 1, 1, 1, 2]", id="new-axis"),
])
def test_ops_tile_that_adds_axes_is_refused(repeats, message):
    with pytest.raises(UnsupportedLayerError) as caught:
        capture(conv_then(lambda y: keras.ops.tile(y, repeats)))
    [(where, problem)] = caught.value.problems
    assert where.endswith("(Tile)")
    assert message in problem


# what interlayer's Keras backend writes, read back: the same ops and attributes; after a conv the layer's counts
# are in the channels-last order it is held in
WRITTEN = [
    pytest.param([("tile", {"repeats": [1, 2, 1, 3]})], (2, 3, 4, 5), id="tile-input"),
    pytest.param([("conv", {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3]}),
                  ("tile", {"repeats": [1, 2, 3, 1]})], (2, 3, 6, 5), id="conv-tile"),
    pytest.param([("tile", {"repeats": [1, 3]})], (2, 6), id="tile-features"),
    pytest.param([("tile", {"repeats": [1, 1, 2]})], (2, 3, 7), id="tile-1d"),
    pytest.param([("conv", {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3]}),
                  ("tile", {"repeats": [2, 2, 1, 1]})], (2, 3, 6, 5), id="conv-tile-batch"),
]


@pytest.mark.parametrize("steps, shape", WRITTEN)
def test_written_by_the_keras_backend_reads_back(steps, shape):
    graph = chain_graph(steps, shape)
    again = check(interlayer.build(graph, "keras"))
    assert [(node.op, node.attrs) for node in again.nodes] == [(node.op, node.attrs) for node in graph.nodes]


def test_conv_tile_holds_the_counts_channels_last():
    graph = chain_graph([("conv", {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3]}),
                         ("tile", {"repeats": [1, 2, 3, 1]})], (2, 3, 6, 5))
    model = interlayer.build(graph, "keras")
    tile = next(layer for layer in model.layers if type(layer).__name__ == "Tile")
    assert tile.repeats == (3, 1, 2)  # (H, W, C) as held, from the IR's (C, H, W) = (2, 3, 1)
    assert not any(isinstance(layer, layers.Permute) for layer in model.layers)


def test_tile_layer_survives_a_keras_file(tmp_path):
    graph = chain_graph([("conv", {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3]}),
                         ("tile", {"repeats": [1, 2, 1, 3]})], (2, 3, 6, 5))
    interlayer.build(graph, "keras").save(tmp_path / "tile.keras")
    loaded = keras.saving.load_model(tmp_path / "tile.keras")
    assert [(node.op, node.attrs) for node in check(loaded).nodes] == [(node.op, node.attrs) for node in graph.nodes]
