"""A layer called several times keeps one set of weights: in the IR's provenance and in every target."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.execute import predict
from interlayer.ir.provenance import shared_nodes
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies


def _keras_shared():
    """One Dense applied to two inputs, one Conv2D applied twice in a chain."""
    image = keras.Input((8, 8, 3), name="image")
    features = keras.Input((6,), name="features")
    conv = keras.layers.Conv2D(3, 3, padding="same", name="conv")
    dense = keras.layers.Dense(4, activation="tanh", name="dense")
    mapped = keras.layers.GlobalAveragePooling2D()(conv(keras.layers.ReLU()(conv(image))))
    left = dense(keras.layers.Dense(6, name="project")(mapped))
    right = dense(features)
    model = keras.Model([image, features], keras.layers.Add()([left, right]))
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.5 for w in model.get_weights()])
    return model


class TorchShared(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3))
        self.head = nn.Linear(3 * 8 * 8, 5)

    def forward(self, x):
        return self.head(torch.flatten(torch.relu(self.block(torch.relu(self.block(x)))), 1))


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((2, 3, 8, 8)).astype(np.float32), rng.standard_normal((2, 6)).astype(np.float32)]


def test_keras_shared_layers_are_recorded_in_the_ir():
    graph = interlayer.export(_keras_shared())
    assert shared_nodes(graph) == {"conv_call1": "conv", "dense_call1": "dense"}
    assert graph.source["shared"]["conv_call1.weight"] == "conv.weight"


@pytest.mark.parametrize("target", ["keras", "torch"])
def test_keras_shared_layers_stay_shared_in_the_target(target, tmp_path):
    source = _keras_shared()
    graph = interlayer.load(interlayer.save(interlayer.export(source), tmp_path / "m.safetensors"))
    built = interlayer.build(graph, target)
    expected = predict(source, _inputs(1), graph)[0]
    assert_varies(expected, predict(source, _inputs(2), graph)[0])
    assert_equivalent(predict(built, _inputs(1))[0], expected)
    if target == "keras":
        assert built.count_params() == source.count_params()
    else:
        assert sum(p.numel() for p in built.parameters()) == source.count_params()
        assert_package_reproduces(built, _inputs(1), tmp_path / "package")


def test_torch_module_called_twice_stays_one_module(tmp_path):
    source = TorchShared().eval()
    with torch.no_grad():
        source.block[1].running_var.uniform_(0.5, 2.0)
        source.block[1].running_mean.normal_()
    graph = interlayer.export(source, example_inputs=(1, 3, 8, 8))
    assert set(shared_nodes(graph).values()) == {"block.0", "block.1"}
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    for target in ("torch", "keras"):
        built = interlayer.build(graph, target)
        assert_equivalent(predict(built, [x])[0], predict(source, [x])[0], what=target)
    torch_target = interlayer.build(graph, "torch")
    assert list(torch_target.state_dict()) == list(source.state_dict())
    assert sum(p.numel() for p in torch_target.parameters()) == sum(p.numel() for p in source.parameters())
    assert_package_reproduces(torch_target, [x], tmp_path / "package")


def test_different_weights_under_one_source_name_are_not_shared():
    graph = interlayer.export(_keras_shared())
    copy = graph.node("dense_call1")
    copy.weights["weight"] = copy.weights["weight"] + 1.0
    assert "dense_call1" not in shared_nodes(graph)
