"""An image-to-image generator in the CycleGAN / fast-style-transfer shape: reflection padding, instance
normalisation with affine parameters, strided and transposed convs, residual blocks; PyTorch -> every framework."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.execute import predict
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies
from torch_models import randomise


class Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"),
            nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x):
        return x + self.block(x)


def generator() -> nn.Module:
    return nn.Sequential(
        nn.ReflectionPad2d(3), nn.Conv2d(3, 16, 7), nn.InstanceNorm2d(16, affine=True), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.InstanceNorm2d(32, affine=True), nn.ReLU(),
        Residual(32), Residual(32),
        nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.InstanceNorm2d(16, affine=True),
        nn.ReLU(), nn.ReflectionPad2d(3), nn.Conv2d(16, 3, 7), nn.Tanh())


@pytest.fixture(scope="module")
def captured():
    torch.manual_seed(0)
    model = randomise(generator())
    return model, interlayer.export(model, example_inputs=[torch.randn(2, 3, 32, 32)])


def _images(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((3, 3, 32, 32)).astype(np.float32)


@pytest.mark.parametrize("target_name", ["torch", "keras", "onnx"])
def test_generator_in_every_framework(target_name, captured, tmp_path):
    model, graph = captured
    expected = predict(model, [_images(1)])[0]
    assert_varies(expected, predict(model, [_images(2)])[0], what="generated images")
    target = interlayer.build(graph, target_name)
    actual = predict(target, [_images(1)])[0]
    assert_equivalent(actual, expected, what=f"generator -> {target_name}")
    if target_name == "torch":
        assert_package_reproduces(target, [_images(1)], tmp_path / "package")


def test_generator_graph_pads_by_reflection_and_normalises_per_channel(captured):
    _, graph = captured
    modes = [node.attrs.get("mode", "constant") for node in graph.nodes if node.op == "pad"]
    assert modes == ["reflect"] * 6  # the stem, two per residual block, the head
    norms = [node for node in graph.nodes if node.op == "group_norm"]
    assert len(norms) == 7 and all(node.attrs["num_groups"] == node.attrs["num_channels"] for node in norms)
