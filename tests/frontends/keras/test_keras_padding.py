"""interlayer's Keras ``Padding`` layer (the pad modes Keras lacks): numpy.pad's values with unknown spatial sizes,
a .keras save/load round trip, older ``ConstantPadding`` configs, the Keras backend writing it and the Keras
frontend reading it back."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import interlayer
from interlayer.backends.keras import predict
from interlayer.backends.keras.layers import ConstantPadding, Padding
from interlayer.frontends.keras import capture
from interlayer.ir import Graph, Node, TensorSpec
from keras_helpers import check
from support import assert_equivalent, chain_graph

MODES = ("constant", "reflect", "edge", "wrap")
PADDING = {1: [(3, 1)], 2: [(0, 2), (3, 1)], 3: [(1, 0), (2, 1), (0, 3)]}
"""one (begin, end) pair per spatial axis; reflect's 3 needs sizes of at least 4"""


def _numpy(x: np.ndarray, padding, mode: str, value: float = 0.0) -> np.ndarray:
    widths = [(0, 0), *padding, (0, 0)]
    return np.pad(x, widths, mode=mode, **({"constant_values": value} if mode == "constant" else {}))


@pytest.mark.parametrize("rank", [1, 2, 3], ids=lambda r: f"{r}d")
@pytest.mark.parametrize("mode", MODES)
def test_padding_with_unknown_spatial_sizes_matches_numpy(mode, rank):
    layer = Padding(PADDING[rank], mode=mode, value=0.5 if mode == "constant" else 0.0)
    model = keras.Sequential([keras.Input((*[None] * rank, 2)), layer])
    assert model.output_shape == (None, *[None] * rank, 2)
    rng = np.random.default_rng(0)
    for sizes in ((4, 5, 6)[:rank], (7, 4, 5)[:rank]):
        x = rng.standard_normal((3, *sizes, 2)).astype(np.float32)
        expected = _numpy(x, PADDING[rank], mode, layer.value)
        assert np.array_equal(keras.ops.convert_to_numpy(model(x)), expected), sizes


@pytest.mark.parametrize("mode, padding", [("reflect", [(3, 3)]), ("wrap", [(4, 4)]), ("edge", [(6, 0)])],
                         ids=["reflect-size-minus-1", "wrap-size", "edge-beyond-size"])
def test_padding_as_far_as_each_mode_reaches(mode, padding):
    x = np.arange(8, dtype=np.float32).reshape(1, 4, 2)
    assert np.array_equal(keras.ops.convert_to_numpy(Padding(padding, mode=mode)(x)), _numpy(x, padding, mode))


@pytest.mark.parametrize("kwargs, message", [
    pytest.param({"padding": [(1, 1)], "mode": "symmetric"},
                 r"mode must be one of \['constant', 'reflect', 'edge', 'wrap'\]. Received: 'symmetric'",
                 id="unknown-mode"),
    pytest.param({"padding": [(-1, 1)], "mode": "reflect"}, r"padding amounts must be >= 0", id="negative"),
])
def test_padding_refuses(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Padding(**kwargs)


def _padded_model(size=None) -> keras.Model:
    """Padding in each mode and a ConstantPadding around a conv, on (size, size) images (None: any size)."""
    inputs = keras.Input((size, size, 3))
    x = Padding([(3, 3), (3, 3)], mode="reflect", name="reflect")(inputs)
    x = keras.layers.Conv2D(4, 7, name="conv")(x)
    x = Padding([(1, 0), (0, 2)], mode="edge", name="edge")(x)
    x = Padding([(2, 2), (1, 1)], mode="wrap", name="wrap")(x)
    x = ConstantPadding([(1, 1), (0, 1)], value=-1.0, name="fill")(x)
    return keras.Model(inputs, x, name="padded")


def test_keras_file_round_trip(tmp_path):
    model = _padded_model()
    path = tmp_path / "padded.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for name in ("reflect", "edge", "wrap", "fill"):
        assert type(loaded.get_layer(name)) is type(model.get_layer(name))
        assert loaded.get_layer(name).get_config() == model.get_layer(name).get_config()
    x = np.random.default_rng(1).standard_normal((2, 9, 8, 3)).astype(np.float32)
    assert np.array_equal(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)))


def test_constant_padding_keeps_its_older_config():
    layer = ConstantPadding([(1, 2)], value=-3.0, name="older")
    config = layer.get_config()
    assert "mode" not in config and config["padding"] == [[1, 2]] and config["value"] == -3.0
    older = {"module": None, "class_name": "ConstantPadding", "registered_name": "interlayer>ConstantPadding",
             "config": {"name": "older", "trainable": True, "dtype": "float32", "padding": [[1, 2]], "value": -3.0}}
    again = keras.saving.deserialize_keras_object(older)
    assert type(again) is ConstantPadding and again.mode == "constant" and again.value == -3.0


def test_keras_padding_layers_are_captured():
    graph = check(_padded_model(9))
    pads = [(node.name, node.attrs) for node in graph.nodes if node.op == "pad"]
    assert pads == [("reflect", {"pads": [3, 3, 3, 3], "value": 0.0, "mode": "reflect"}),
                    ("edge", {"pads": [1, 0, 0, 2], "value": 0.0, "mode": "edge"}),
                    ("wrap", {"pads": [2, 1, 2, 1], "value": 0.0, "mode": "wrap"}),
                    ("fill", {"pads": [1, 0, 1, 1], "value": -1.0, "mode": "constant"})]


def _pad_chain() -> Graph:
    return chain_graph([
        ("pad", {"pads": [3, 3, 3, 3], "mode": "reflect"}),
        ("conv", {"in_channels": 3, "out_channels": 4, "kernel_size": [7, 7]}),
        ("pad", {"pads": [1, 0, 0, 2], "mode": "edge"}),
        ("pad", {"pads": [0, 1, 2, 1], "mode": "wrap"}),
        ("pad", {"pads": [1, 0, 0, 1], "value": 0.5})], (2, 3, 8, 9))


def test_graph_to_keras_and_back_keeps_every_pad_and_weight_bit_for_bit():
    graph = _pad_chain()
    rebuilt = interlayer.build(graph, "keras")
    assert [layer.mode for layer in rebuilt.layers if type(layer) is Padding] == ["reflect", "edge", "wrap"]
    again = capture(rebuilt)
    assert [(node.op, node.attrs) for node in again.nodes] == [(node.op, node.attrs) for node in graph.nodes]
    weights = dict(again.tensors())
    for name, array in graph.tensors():
        assert np.array_equal(weights[name], array), name
    x = np.random.default_rng(2).standard_normal((3, 3, 8, 9)).astype(np.float32)
    assert_equivalent(list(interlayer.run(again, [x]).values())[0], list(interlayer.run(graph, [x]).values())[0])


def test_keras_build_of_symbolic_spatial_sizes():
    node = Node("pad", "pad", ["x"], ["pad"], {"pads": [2, 0, 1, 3], "mode": "reflect"})
    graph = Graph([node], [TensorSpec("x", ("N", 2, "H", "W"))], [TensorSpec("pad", ("N", 2, "H", "W"))], name="pad")
    model = interlayer.build(graph, "keras")
    rng = np.random.default_rng(3)
    for shape in ((2, 2, 5, 4), (1, 2, 3, 6)):
        x = rng.standard_normal(shape).astype(np.float32)
        assert_equivalent(predict(model, [x])[0], list(interlayer.run(graph, [x]).values())[0])
