"""keras.applications, built with weights=None and then randomised, through the archive to PyTorch, ONNX and back
to Keras: Keras -> archive -> PyTorch and -> ONNX within 1e-5 of Keras, Keras -> archive -> Keras within float
rounding.

Randomisation (seeded): every kernel variance-preserving (normal / sqrt(fan-in)), every bias, BatchNormalization
affine parameter, LayerScale and Normalization constant random; BatchNormalization statistics calibrated on one
random batch and then randomised around it (random statistics alone let a deep net forget its input). The heads
return logits (classifier_activation=None) so that the comparison is not flattened by a softmax. MobileNetV2 and
ResNet50 run by default; the whole family is marked slow (``pytest -m slow``). NASNetMobile is built without its
top: with the top it needs 224x224 inputs, and 32x32 keeps the test in seconds.
"""
from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import interlayer
from interlayer.execute import predict
from interlayer.tolerance import relative_error
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies

A = keras.applications

# name -> (builder, keyword arguments, input shape (Keras's NHWC, without the batch axis))
APPLICATIONS = {
    "MobileNetV2": (A.MobileNetV2, {}, (32, 32, 3)),
    "ResNet50": (A.ResNet50, {}, (32, 32, 3)),
    "DenseNet121": (A.DenseNet121, {}, (32, 32, 3)),
    "EfficientNetB0": (A.EfficientNetB0, {}, (32, 32, 3)),
    "InceptionV3": (A.InceptionV3, {}, (75, 75, 3)),
    "ConvNeXtTiny": (A.ConvNeXtTiny, {}, (32, 32, 3)),
    "VGG16": (A.VGG16, {}, (32, 32, 3)),
    "NASNetMobile": (A.NASNetMobile, {"include_top": False}, (32, 32, 3)),
    "ResNet50V2": (A.ResNet50V2, {}, (32, 32, 3)),
    "Xception": (A.Xception, {}, (71, 71, 3)),
    "MobileNetV3Small": (A.MobileNetV3Small, {}, (32, 32, 3)),
    "EfficientNetV2B0": (A.EfficientNetV2B0, {}, (32, 32, 3)),
}
DEFAULT = ("MobileNetV2", "ResNet50")
KERAS_RTOL = 1e-6  # Keras -> archive -> Keras: the same layers on the same weights, float rounding only
# BatchNormalization divides by sqrt(1.5 x the calibrated variance): a gain a little under one per layer. At
# exactly one, deep nets are chaotic (float32 rounding grows to 4e-5 through ResNet50); at a third, they
# forget their input (MobileNetV2's logits then vary by 2e-5). 1.5 keeps every application in between.
VARIANCE_MARGIN = 1.5


def build(name: str) -> keras.Model:
    builder, options, shape = APPLICATIONS[name]
    top = {"classifier_activation": None} if options.get("include_top", True) else {}
    return randomise(builder(weights=None, input_shape=shape, **options, **top))


def layers_of(model: keras.Model):
    """Every layer, nested models' layers included."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from layers_of(layer)
        else:
            yield layer


def randomise(model: keras.Model, seed: int = 0) -> keras.Model:
    """Seeded random weights; then BatchNormalization statistics calibrated on a random batch (so that a deep
    net neither saturates nor forgets its input) and randomised around it."""
    rng = np.random.default_rng(seed)
    for layer in layers_of(model):
        for variable in layer.weights:
            name, shape = variable.path.rsplit("/", 1)[-1], tuple(variable.shape)
            if not variable.dtype.startswith("float"):
                continue
            if name in ("moving_variance", "variance"):
                value = rng.uniform(0.5, 1.5, shape)
            elif name == "gamma":  # BatchNormalization/LayerNormalization scale, ConvNeXt's LayerScale
                value = rng.uniform(0.5, 1.5, shape)
            elif len(shape) >= 2:  # kernels: (*window, in, out) or Dense's (in, out); depthwise (*window, in, m)
                fan_in = math.prod(shape[:-2]) if "depthwise" in name else math.prod(shape[:-1])
                value = rng.standard_normal(shape) / math.sqrt(fan_in)
            else:  # biases, BatchNormalization's beta and moving mean, Normalization's mean
                value = rng.standard_normal(shape) * 0.1
            variable.assign(value.astype(variable.dtype))
        if isinstance(layer, keras.layers.Normalization) and layer.input_mean is None:
            layer.finalize_state()  # call() reads the mean and variance finalize_state derives from them
    calibrate(model, rng)
    for layer in layers_of(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            variance = np.asarray(layer.moving_variance) * VARIANCE_MARGIN
            variance = variance * rng.uniform(0.7, 1.4, variance.shape)
            mean = np.asarray(layer.moving_mean) + rng.standard_normal(variance.shape) * 0.1 * np.sqrt(variance)
            layer.moving_mean.assign(mean.astype(np.float32))
            layer.moving_variance.assign(variance.astype(np.float32))
    return model


def calibrate(model: keras.Model, rng: np.random.Generator) -> None:
    """Moving statistics := the statistics of one random batch: one training-mode call with momentum 0 and
    dropout off."""
    norms = [layer for layer in layers_of(model) if isinstance(layer, keras.layers.BatchNormalization)]
    drops = [layer for layer in layers_of(model) if isinstance(layer, keras.layers.Dropout)]
    saved = [layer.momentum for layer in norms], [layer.rate for layer in drops]
    for layer in norms:
        layer.momentum = 0.0
    for layer in drops:
        layer.rate = 0.0
    batch = rng.standard_normal((8, *model.inputs[0].shape[1:])).astype(np.float32)
    model(batch, training=True)
    for layer, momentum in zip(norms, saved[0]):
        layer.momentum = momentum
    for layer, rate in zip(drops, saved[1]):
        layer.rate = rate


def inputs(shape, seed: int) -> np.ndarray:
    """A canonical (NCHW) batch of two images."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, shape[2], shape[0], shape[1])).astype(np.float32)


def convert(name: str, tmp_path):
    """The randomised application, its graph, the graph read back from an archive, an input and Keras's output."""
    source = build(name)
    shape = APPLICATIONS[name][2]
    graph = interlayer.export(source)
    weights = {variable.path for variable in source.weights if variable.dtype.startswith("float")}
    assert set(graph.source["name_map"]) == weights, "every Keras weight is recorded in the provenance"
    path = interlayer.save(graph, tmp_path / f"{name}.safetensors")
    x, other = inputs(shape, 1), inputs(shape, 2)
    expected = predict(source, [x], graph)[0]
    assert np.isfinite(expected).all()
    assert_varies(expected, predict(source, [other], graph)[0], what=f"{name} output")
    return source, graph, interlayer.load(path), x, expected


def _check(name: str, tmp_path):
    source, graph, loaded, x, expected = convert(name, tmp_path)
    torch_model = interlayer.build(loaded, "torch")
    assert_equivalent(predict(torch_model, [x])[0], expected, what=f"{name} PyTorch")
    assert_package_reproduces(torch_model, [x], tmp_path / "package")
    keras_model = interlayer.build(loaded, "keras")
    back = predict(keras_model, [x])[0]
    assert relative_error(back, expected) <= KERAS_RTOL, f"{name} Keras: {relative_error(back, expected):.2e}"
    onnx_model = interlayer.build(loaded, "onnx")  # run by onnxruntime with its default graph optimisations
    assert_equivalent(predict(onnx_model, [x])[0], expected, what=f"{name} ONNX")


@pytest.mark.parametrize("name", DEFAULT)
def test_application_default(name, tmp_path):
    _check(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(APPLICATIONS) - set(DEFAULT)))
def test_application_slow(name, tmp_path):
    _check(name, tmp_path)
