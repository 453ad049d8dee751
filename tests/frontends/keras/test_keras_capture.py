"""Keras frontend: graph structure, layouts, weight layouts, provenance, and errors naming every bad layer."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import interlayer
from interlayer.errors import SourceError, UnsupportedLayerError
from interlayer.frontends.keras import capture
from interlayer.ir import layout

from keras_helpers import check, randomize


def cnn():
    return keras.Sequential([
        keras.Input((7, 7, 3), name="image"),
        layers.Conv2D(4, 3, padding="same", name="conv"),
        layers.BatchNormalization(epsilon=1e-3, momentum=0.9, name="bn"),
        layers.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise"),
        layers.Flatten(name="flatten"),
        layers.Dense(5, name="dense"),
    ], name="cnn")


def test_image_input_is_canonical_with_channels_last_perm():
    graph = capture(cnn())
    spec = graph.inputs[0]
    assert (spec.name, spec.shape, spec.perm) == ("image", ("N", 3, 7, 7), (0, 2, 3, 1))
    assert graph.outputs[0].perm is None and graph.outputs[0].shape == ("N", 5)


def test_feature_map_output_records_its_perm():
    graph = capture(keras.Sequential([keras.Input((5, 6, 3)), layers.Conv2D(2, 3)]))
    assert graph.outputs[0].shape == ("N", 2, 3, 4)
    assert graph.outputs[0].perm == (0, 2, 3, 1)


def test_input_read_by_dense_keeps_its_layout():
    graph = capture(keras.Sequential([keras.Input((4, 6)), layers.Dense(3)]))
    assert graph.inputs[0].shape == ("N", 4, 6) and graph.inputs[0].perm is None
    assert [node.op for node in graph.nodes] == ["linear"]


def test_flatten_of_a_channels_last_map_reads_channels_last_order():
    graph = check(keras.Sequential([keras.Input((7, 7, 3)), layers.Conv2D(16, 3), layers.Flatten(), layers.Dense(4)]))
    assert [node.op for node in graph.nodes] == ["conv", "flatten", "linear"]
    assert graph.nodes[1].attrs["order"] == "channels_last"


def test_reshape_then_conv_writes_the_transpose_keras_does():
    graph = check(keras.Sequential([keras.Input((6,)), layers.Dense(48), layers.Reshape((4, 4, 3)),
                                    layers.Conv2D(2, 3)]))
    assert [node.op for node in graph.nodes] == ["linear", "reshape", "transpose", "conv"]
    assert graph.nodes[2].attrs["perm"] == [0, 3, 1, 2]


def test_two_readers_share_one_transpose():
    x = keras.Input((6,))
    grid = layers.Reshape((3, 3, 2))(layers.Dense(18)(x))
    a, b = layers.Conv2D(2, 1)(grid), layers.MaxPooling2D(1)(grid)
    graph = check(keras.Model(x, layers.Concatenate()([a, b])))
    assert [node.op for node in graph.nodes].count("transpose") == 1


def test_weights_in_canonical_layout():
    model = randomize(cnn())
    graph = capture(model)
    kernel = np.asarray(model.get_layer("conv").kernel)
    assert np.array_equal(graph.node("conv").weights["weight"], layout.kernel_to_channels_first(kernel))
    assert np.array_equal(graph.node("dense").weights["weight"], np.asarray(model.get_layer("dense").kernel).T)
    depthwise = np.asarray(model.get_layer("depthwise").kernel)  # (3, 3, 4, 2)
    assert graph.node("depthwise").weights["weight"].shape == (8, 1, 3, 3)
    assert np.array_equal(graph.node("depthwise").weights["weight"][2 * 2 + 1, 0], depthwise[:, :, 2, 1])
    bn = graph.node("bn")
    assert bn.attrs["epsilon"] == 1e-3 and bn.attrs["momentum"] == pytest.approx(0.1, abs=1e-12)
    assert np.array_equal(bn.weights["variance"], np.asarray(model.get_layer("bn").moving_variance))


def test_provenance_covers_every_weight():
    model = randomize(cnn())
    graph = capture(model)
    name_map = graph.source["name_map"]
    assert set(name_map) == {variable.path for variable in model.weights}
    tensors = dict(graph.tensors())
    assert set(name_map.values()) == set(tensors)
    assert name_map["cnn/bn/gamma"] == "bn.scale" and name_map["cnn/dense/kernel"] == "dense.weight"
    assert graph.source["framework"] == "keras" and graph.source["version"] == keras.__version__


def test_export_api_captures_keras():
    graph = interlayer.export(cnn())
    assert graph.source["framework"] == "keras"


def test_lambda_and_channels_first_conv_are_named_in_one_error():
    x = keras.Input((8, 8, 3))
    y = layers.Lambda(lambda t: t * 2.0, name="double")(x)
    y = layers.Conv2D(4, 3, data_format="channels_first", name="conv_cf")(y)
    y = layers.Dense(2, name="head")(layers.Flatten()(y))
    with pytest.raises(UnsupportedLayerError) as info:
        capture(keras.Model(x, y))
    wheres = [where for where, _ in info.value.problems]
    assert wheres == ["layer 'double' (Lambda)", "layer 'conv_cf' (Conv2D)"]
    message = str(info.value)
    assert 'interlayer.register("keras", "frontend"' in message
    assert "data_format must be 'channels_last'. Received: data_format='channels_first'" in message


class ScaledDense(layers.Dense):
    def call(self, inputs):
        return super().call(inputs) * 2.0


class Doubler(layers.Layer):
    def call(self, inputs):
        return inputs * 2.0


UNSUPPORTED = {
    "relu-threshold": (lambda: layers.ReLU(threshold=0.5), "threshold must be 0"),
    "activation-tanh_shrink": (lambda: layers.Activation("tanh_shrink"), "activation 'tanh_shrink' has no IR op"),
    "dense-subclass": (lambda: ScaledDense(3), "subclass of Dense"),
    "no-converter": (lambda: Doubler(), "no converter for this layer class"),
    "softmax-over-two-axes": (lambda: layers.Softmax(axis=(1, 2)), "softmax over several axes"),
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_unsupported_layer_is_reported(case):
    make, text = UNSUPPORTED[case]
    layer = make()
    model = keras.Sequential([keras.Input((4, 5)), layer])
    with pytest.raises(UnsupportedLayerError) as info:
        capture(model)
    assert [where for where, _ in info.value.problems] == [f"layer '{layer.name}' ({type(layer).__name__})"]
    assert text in str(info.value)


def test_subclassed_model_is_a_source_error():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model(np.zeros((1, 3), np.float32))
    with pytest.raises(SourceError, match="subclassed model"):
        capture(model)


def test_sequential_without_input_shape_is_a_source_error():
    with pytest.raises(SourceError, match="no input shape"):
        capture(keras.Sequential([layers.Dense(2)]))


def test_tensor_sum_operation_is_an_add():
    x, y = keras.Input((3, 4)), keras.Input((3, 4))
    graph = check(keras.Model([x, y], layers.Dense(2)(x + y)))
    assert [node.op for node in graph.nodes] == ["add", "linear"]


def test_nested_model_layers_are_named_under_it():
    block = keras.Sequential([keras.Input((6, 6, 3)), layers.Conv2D(4, 3, name="conv", activation="relu")],
                             name="block")
    x = keras.Input((6, 6, 3))
    graph = check(keras.Model(x, layers.GlobalAveragePooling2D(name="pool")(block(x))))
    assert [node.name for node in graph.nodes] == ["block/conv", "block/conv_activation", "pool"]
    assert graph.source["name_map"]["block/conv/kernel"] == "block/conv.weight"


def test_shared_layer_is_one_node_per_call_with_shared_provenance(tmp_path):
    x = keras.Input((5,))
    dense = layers.Dense(5, activation="tanh", name="dense")
    model = randomize(keras.Model(x, dense(dense(x)), name="shared"))
    graph = check(model)
    assert [node.name for node in graph.nodes] == ["dense", "dense_activation", "dense_call1",
                                                   "dense_call1_activation"]
    assert np.array_equal(graph.node("dense").weights["weight"], graph.node("dense_call1").weights["weight"])
    assert graph.source["name_map"] == {"dense/kernel": "dense.weight", "dense/bias": "dense.bias"}
    assert graph.source["shared"] == {"dense_call1.weight": "dense.weight", "dense_call1.bias": "dense.bias"}
    loaded = interlayer.load(interlayer.save(graph, tmp_path / "shared.safetensors"))
    assert loaded.source["shared"] == graph.source["shared"]


def test_nested_model_called_twice_and_nested_deeper():
    inner = keras.Sequential([keras.Input((6, 6, 3)), layers.Conv2D(3, 3, padding="same", name="conv")],
                             name="inner")
    x = keras.Input((6, 6, 3))
    outer = keras.Model(x, layers.ReLU(name="relu")(inner(x)), name="outer")
    a, b = keras.Input((6, 6, 3), name="a"), keras.Input((6, 6, 3), name="b")
    y = layers.Add(name="sum")([outer(a), outer(b)])
    graph = check(keras.Model([a, b], layers.GlobalAveragePooling2D(name="pool")(y), name="twice"))
    assert [node.name for node in graph.nodes] == ["outer/inner/conv", "outer/relu", "outer/inner/conv_call1",
                                                   "outer/relu_call1", "sum", "pool"]
    assert "transpose" not in [node.op for node in graph.nodes]
    assert graph.source["shared"] == {"outer/inner/conv_call1.weight": "outer/inner/conv.weight",
                                      "outer/inner/conv_call1.bias": "outer/inner/conv.bias"}


def test_squeeze_excitation_needs_no_transpose():
    from test_keras_layers import squeeze_excitation

    graph = check(squeeze_excitation())
    assert "transpose" not in [node.op for node in graph.nodes]
    reshape = next(node for node in graph.nodes if node.op == "reshape")
    assert reshape.attrs["shape"] == ["N", 8, 1, 1], "Keras's (N, 1, 1, C) is the IR's (N, C, 1, 1), held channels-last"


def test_separable_conv_is_depthwise_then_pointwise():
    graph = check(keras.Sequential([keras.Input((6, 6, 3)),
                                    layers.SeparableConv2D(4, 3, depth_multiplier=2, activation="relu", name="sep")]))
    assert [(node.name, node.op) for node in graph.nodes] == [("sep_depthwise", "conv"), ("sep", "conv"),
                                                               ("sep_activation", "relu")]
    assert graph.node("sep_depthwise").attrs["groups"] == 3 and graph.node("sep_depthwise").attrs["out_channels"] == 6
    assert set(graph.source["name_map"].values()) == {"sep_depthwise.weight", "sep.weight", "sep.bias"}


def test_layer_scale_of_convnext_is_a_trainable_constant():
    from keras.src.applications.convnext import LayerScale

    x = keras.Input((4, 4, 6))
    y = LayerScale(0.5, 6, name="scale")(layers.Conv2D(6, 1, name="conv")(x))
    graph = check(keras.Model(x, y))
    node = graph.node("scale")
    assert (node.op, node.attrs["constant_shape"], node.attrs["trainable"]) == ("mul", [6, 1, 1], True)
    assert graph.source["name_map"][next(path for path in graph.source["name_map"] if "scale" in path)] == "scale.other"


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
def test_every_unsupported_option_is_named_at_once():
    x = keras.Input((8, 8, 3))
    y = layers.Lambda(lambda t: t * 2.0, name="double")(x)
    y = layers.Conv2D(4, 3, data_format="channels_first", name="conv_cf")(y)
    y = layers.UpSampling2D(2, interpolation="bicubic", name="bicubic")(y)
    y = layers.ReLU(threshold=0.5, name="thresholded")(y)
    y = layers.Resizing(5, 5, crop_to_aspect_ratio=True, name="crop")(y)
    y = layers.LayerNormalization(rms_scaling=True, name="rms")(y)
    with pytest.raises(UnsupportedLayerError) as info:
        capture(keras.Model(x, y))
    assert [where for where, _ in info.value.problems] == [
        "layer 'double' (Lambda)", "layer 'conv_cf' (Conv2D)", "layer 'bicubic' (UpSampling2D)",
        "layer 'thresholded' (ReLU)", "layer 'crop' (Resizing)", "layer 'rms' (LayerNormalization)"]
    message = str(info.value)
    for text in ("interpolation must be 'nearest' or 'bilinear'. Received: interpolation='bicubic'",
                 "threshold must be 0", "crop_to_aspect_ratio=True", "rms_scaling=False. Received: rms_scaling=True"):
        assert text in message


def test_unknown_layer_message_shows_the_decorator():
    model = keras.Sequential([keras.Input((4,)), Doubler(name="doubler")])
    with pytest.raises(UnsupportedLayerError) as info:
        capture(model)
    assert '`@interlayer.register("keras", "frontend", Doubler)`' in str(info.value)
    assert "def convert(ctx, layer, inputs)" in str(info.value)


def test_named_outputs_are_recorded():
    x = keras.Input((3,))
    model = keras.Model(x, {"zeta": layers.Dense(2, name="small")(x), "alpha": layers.Dense(4, name="large")(x)})
    graph = check(model)
    assert graph.source["output_names"] == ["alpha", "zeta"]
    assert [spec.shape for spec in graph.outputs] == [("N", 4), ("N", 2)]
