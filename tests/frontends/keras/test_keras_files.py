"""Keras model files as sources (.keras and legacy .h5: applications, nested models), the errors for files that
are not models or were saved by another Keras, and .keras files written by interlayer that plain Keras opens."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
from keras import layers

import interlayer
from interlayer.conversion import convert_file
from interlayer.errors import SourceError

from keras_helpers import keras_outputs, native_inputs, randomize, reference_outputs


def nested_model() -> keras.Model:
    inner = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(4, 3, padding="same", name="conv"),
                              layers.BatchNormalization(name="bn")], name="inner")
    x = keras.Input((8, 8, 3))
    block = keras.Model(x, layers.ReLU(name="relu")(inner(x)), name="block")
    image = keras.Input((8, 8, 3), name="image")
    y = layers.GlobalAveragePooling2D(name="pool")(block(image))
    return keras.Model(image, layers.Dense(3, name="head")(y), name="nested")


def mobilenet() -> keras.Model:
    return keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35, classes=5,
                                          classifier_activation=None)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("make", [nested_model, mobilenet], ids=["nested", "mobilenet_v2"])
def test_saved_model_is_a_source(make, suffix, tmp_path):
    model = randomize(make())
    path = tmp_path / f"model{suffix}"
    model.save(path)
    graph = interlayer.export(path)
    inputs = native_inputs(model)
    for got, want in zip(reference_outputs(graph, inputs), keras_outputs(model, inputs)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())
    assert graph.source["framework"] == "keras"


@pytest.mark.slow
def test_saved_convnext_with_its_layer_scale_is_a_source(tmp_path):
    """ConvNeXt: nested Sequential stems, keras.applications' own LayerScale layer, a keras.ops add."""
    model = randomize(keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3),
                                                      classifier_activation=None))
    model.save(tmp_path / "convnext.keras")
    graph = interlayer.export(tmp_path / "convnext.keras")
    inputs = native_inputs(model)
    for got, want in zip(reference_outputs(graph, inputs), keras_outputs(model, inputs)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())


def _saved(tmp_path, **metadata) -> str:
    path = tmp_path / "model.keras"
    keras.Sequential([keras.Input((3,)), layers.Dense(2)]).save(path)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(files["metadata.json"])
    meta.update(metadata)
    files["metadata.json"] = json.dumps(meta).encode()
    config = json.loads(files["config.json"])
    if metadata.get("break_config"):
        config["config"]["layers"][-1]["class_name"] = "DenseFromTheFuture"
        config["config"]["layers"][-1]["module"] = "keras.layers"
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_keras_version_mismatch_is_named(tmp_path):
    path = _saved(tmp_path, keras_version="9.1.0", break_config=True)
    with pytest.raises(SourceError, match=f"Keras version mismatch: the file was saved by Keras 9.1.0, this is "
                                          f"Keras {keras.__version__}"):
        interlayer.export(path)


def test_other_keras_version_that_opens_is_accepted(tmp_path):
    interlayer.export(_saved(tmp_path, keras_version="3.0.0"))


@pytest.mark.parametrize("content, message", [
    (b"just some text", "not a Keras model file. Expected a .keras zip archive"),
    ("zip-without-config", "a zip archive without config.json is not a Keras model file"),
], ids=["text", "zip"])
def test_keras_file_that_is_not_a_model(content, message, tmp_path):
    path = tmp_path / "model.keras"
    if content == "zip-without-config":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    else:
        path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        interlayer.export(path)


def test_h5_of_weights_only_is_named(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "w.weights.h5").rename(tmp_path / "weights.h5")
    with pytest.raises(SourceError, match="holds weights only"):
        interlayer.export(tmp_path / "weights.h5")
    (tmp_path / "text.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(SourceError, match="Expected an HDF5 file"):
        interlayer.export(tmp_path / "text.h5")


@keras.saving.register_keras_serializable(package="interlayer_tests")
class Twice(layers.Layer):
    def call(self, inputs):
        return inputs * 2.0


def test_custom_class_that_keras_cannot_find_is_named(tmp_path):
    path = tmp_path / "custom.keras"
    keras.Sequential([keras.Input((3,)), Twice()]).save(path)
    registered = keras.saving.get_custom_objects()
    saved = registered.pop("interlayer_tests>Twice")
    try:
        with pytest.raises(SourceError, match="register_keras_serializable"):
            interlayer.export(path)
    finally:
        registered["interlayer_tests>Twice"] = saved


LOAD = ("import sys, numpy as np, keras\n{imports}"
        "model = keras.saving.load_model(sys.argv[1])\n"
        "x = np.load(sys.argv[2])\n"
        "np.save(sys.argv[3], np.asarray(model(x)))\n")


def _load_in_fresh_process(path, x, tmp_path, imports: str) -> np.ndarray:
    np.save(tmp_path / "x.npy", x)
    result = subprocess.run([sys.executable, "-c", LOAD.format(imports=imports), str(path), str(tmp_path / "x.npy"),
                             str(tmp_path / "y.npy")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return np.load(tmp_path / "y.npy")


def test_written_keras_file_of_builtin_layers_opens_in_plain_keras(tmp_path):
    source = randomize(keras.Sequential([keras.Input((6, 6, 3)), layers.Conv2D(4, 3), layers.ReLU(),
                                         layers.GlobalAveragePooling2D(), layers.Dense(2)]))
    convert_file(source, "keras", tmp_path / "model.keras")
    x = native_inputs(source)[0]
    np.testing.assert_allclose(_load_in_fresh_process(tmp_path / "model.keras", x, tmp_path, ""),
                               keras_outputs(source, [x])[0], rtol=1e-6, atol=1e-6)


def test_written_keras_file_with_interlayer_layers_needs_only_their_module(tmp_path):
    """Normalization and Average become interlayer's ConstantOperand layers (Keras has no layer for x / c)."""
    x_in = keras.Input((6, 6, 3))
    y = layers.Normalization(mean=[0.5, 1.0, 2.0], variance=[2.0, 1.0, 0.5])(x_in)
    y = layers.Average()([layers.Conv2D(3, 1)(y), y])
    source = randomize(keras.Model(x_in, y))
    convert_file(source, "keras", tmp_path / "model.keras")
    x = native_inputs(source)[0]
    actual = _load_in_fresh_process(tmp_path / "model.keras", x, tmp_path, "import interlayer.backends.keras.layers\n")
    np.testing.assert_allclose(actual, keras_outputs(source, [x])[0], rtol=1e-6, atol=1e-6)


def test_written_transformer_opens_with_the_layers_module_alone(tmp_path):
    """A PyTorch encoder's attention becomes interlayer's ScaledDotProductAttention layer: registered by the same
    module as every other interlayer layer."""
    import torch

    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
    encoder = torch.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False).eval()
    x = np.random.default_rng(0).standard_normal((2, 7, 16)).astype(np.float32)
    convert_file(encoder, "keras", tmp_path / "model.keras", example_inputs=torch.from_numpy(x))
    actual = _load_in_fresh_process(tmp_path / "model.keras", x, tmp_path, "import interlayer.backends.keras.layers\n")
    with torch.no_grad():
        expected = encoder(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def test_written_average_pooling_opens_elsewhere_and_is_captured_again(tmp_path):
    """Uncounted pads that are not TensorFlow's 'same', with ceil_mode, become interlayer's AveragePooling layer: the
    saved file opens in a fresh process with the layers module alone, and reads back to the same avg_pool node."""
    from conformance.cases import CASES
    from interlayer.backends.keras.layers import AveragePooling

    graph = CASES["avg_pool2d-pads-symmetric-stride2-ceil-exclude"]()
    model = interlayer.build(graph, "keras")
    assert [type(layer) for layer in model.layers[1:]] == [AveragePooling]
    model.save(tmp_path / "model.keras")
    x = np.random.default_rng(0).standard_normal((3, *graph.inputs[0].shape[1:])).astype(np.float32)
    actual = _load_in_fresh_process(tmp_path / "model.keras", x.transpose(0, 2, 3, 1), tmp_path,
                                    "import interlayer.backends.keras.layers\n")
    expected = interlayer.run(graph, [x])[graph.outputs[0].name].transpose(0, 2, 3, 1)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    (node,) = interlayer.export(tmp_path / "model.keras").nodes
    assert (node.op, node.attrs) == ("avg_pool", graph.nodes[0].attrs)
