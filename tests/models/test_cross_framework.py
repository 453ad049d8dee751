"""Whole models across frameworks: PyTorch -> Keras, Keras -> PyTorch, through the archive, and back."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer import examples
from interlayer.execute import predict
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies


def _randomise_torch(model: nn.Module, seed: int = 0) -> nn.Module:
    """Seeded weights everywhere, including biases and BatchNorm statistics a framework starts as constants."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.dtype.is_floating_point:
                values = torch.randn(tensor.shape, generator=generator) * 0.3
                tensor.copy_(values.abs() + 0.5 if name.endswith("running_var") else values)
    return model.eval()


def _randomise_keras(model, seed: int = 0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            fresh = [rng.standard_normal(w.shape).astype(np.float32) * 0.3 for w in weights]
            if isinstance(layer, keras.layers.BatchNormalization):
                fresh[-1] = np.abs(fresh[-1]) + 0.5
            layer.set_weights(fresh)
    return model


def _inputs(shape, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)


def _count(model, *classes):
    return sum(isinstance(layer, classes) for layer in model.layers)


def test_lenet5_pytorch_to_keras():
    source = _randomise_torch(examples.lenet5())
    x, other = _inputs((4, 1, 28, 28))
    graph = interlayer.export(source, example_inputs=examples.LENET5_INPUT)
    target = interlayer.build(graph, "keras")
    assert target.inputs[0].shape == (None, 28, 28, 1), "a PyTorch CNN becomes an NHWC Keras model"
    assert _count(target, keras.layers.Permute) == 0
    expected = predict(source, [x])[0]
    assert_varies(expected, predict(source, [other])[0])
    assert_equivalent(predict(target, [x])[0], expected)
    assert_equivalent(target(x.transpose(0, 2, 3, 1)).numpy(), expected, what="native NHWC call")


def test_lenet5_keras_twin_to_pytorch(tmp_path):
    source = _randomise_keras(examples.lenet5_keras())
    x, other = _inputs((4, 28, 28, 1))
    graph = interlayer.export(source)
    assert graph.inputs[0].shape == ("N", 1, 28, 28)
    target = interlayer.build(graph, "torch")
    assert isinstance(target, nn.Module)
    expected = source(x).numpy()
    assert_varies(expected, source(other).numpy())
    with torch.no_grad():
        actual = target(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    assert_equivalent(actual, expected, what="PyTorch twin on NCHW input")
    assert_package_reproduces(target, [x.transpose(0, 3, 1, 2)], tmp_path / "package")


@pytest.mark.parametrize("direction", ["torch-to-keras", "keras-to-torch"])
def test_flatten_of_a_real_spatial_map_before_dense(direction, tmp_path):
    if direction == "torch-to-keras":
        source = _randomise_torch(examples.small_cnn())
        x, other = _inputs((3, 3, 12, 12))
        graph = interlayer.export(source, example_inputs=(1, 3, 12, 12))
        expected, target = predict(source, [x])[0], interlayer.build(graph, "keras")
        assert _count(target, keras.layers.Permute) == 0, "the flatten order is folded into the Dense weights"
        assert_varies(expected, predict(source, [other])[0])
    else:
        source = _randomise_keras(keras.Sequential([
            keras.Input((12, 12, 3)), keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2), keras.layers.Conv2D(16, 2, activation="relu"), keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"), keras.layers.Dense(5)]))
        x, other = _inputs((3, 3, 12, 12))
        graph = interlayer.export(source)
        expected, target = predict(source, [x], graph)[0], interlayer.build(graph, "torch")
        assert_varies(expected, predict(source, [other], graph)[0])
        assert_package_reproduces(target, [x], tmp_path / "package")
    assert graph.shapes()[next(n for n in graph.nodes if n.op == "flatten").inputs[0]][1:] == (16, 5, 5)
    assert_equivalent(predict(target, [x])[0], expected)


def test_keras_same_padding_with_even_kernel_to_pytorch(tmp_path):
    source = _randomise_keras(keras.Sequential([keras.Input((5, 6, 3)), keras.layers.Conv2D(2, (3, 4), padding="same")]))
    x, other = _inputs((2, 3, 5, 6))
    graph = interlayer.export(source)
    target = interlayer.build(graph, "torch")
    expected = predict(source, [x], graph)[0]
    assert expected.shape == (2, 2, 5, 6)
    assert_varies(expected, predict(source, [other], graph)[0])
    assert_equivalent(predict(target, [x])[0], expected)
    assert_package_reproduces(target, [x], tmp_path / "package")


@pytest.mark.parametrize("target_name", ["keras", "torch"])
def test_pytorch_through_the_archive(target_name, tmp_path):
    source = _randomise_torch(examples.small_cnn())
    x, _ = _inputs((2, 3, 12, 12))
    path = interlayer.save(interlayer.export(source, example_inputs=(1, 3, 12, 12)), tmp_path / "m.safetensors")
    target = interlayer.build(interlayer.load(path), target_name)
    assert_equivalent(predict(target, [x])[0], predict(source, [x])[0])
    if target_name == "torch":
        assert_package_reproduces(target, [x], tmp_path / "package")


def _state(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items() if v.dtype.is_floating_point}


def test_round_trips_keep_every_weight_bit_identical(tmp_path):
    """PyTorch -> archive -> Keras -> archive -> PyTorch, 1,000 times: every weight unchanged, bit for bit."""
    original = _randomise_torch(examples.small_cnn(), seed=3)
    reference = _state(original)
    model = original
    for trip in range(1000):
        graph = interlayer.export(model, example_inputs=(1, 3, 12, 12))
        path = interlayer.save(graph, tmp_path / "a.safetensors", overwrite=True)
        keras_model = interlayer.build(interlayer.load(path), "keras")
        path = interlayer.save(interlayer.export(keras_model), tmp_path / "b.safetensors", overwrite=True)
        model = interlayer.build(interlayer.load(path), "torch")
        state = _state(model)
        assert state.keys() == reference.keys(), f"trip {trip}: parameter names changed"
        for name, array in reference.items():
            assert array.tobytes() == state[name].tobytes(), f"trip {trip}: {name} changed"
