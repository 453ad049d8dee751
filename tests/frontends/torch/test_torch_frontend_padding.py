"""Padding modes: ReflectionPad, ReplicationPad, CircularPad (1-D to 3-D), ZeroPad3d/ConstantPad3d, F.pad's modes and
convolutions with padding_mode reflect, replicate and circular: captured graph == torch. A CycleGAN-style network
converted to Keras, ONNX and PyTorch (a written package included) agrees with its source layer by layer."""
from __future__ import annotations

import importlib.util

import keras
import onnx
import pytest
import torch.nn.functional as F
from torch import nn

import interlayer
from interlayer.backends.keras.layers import Padding
from interlayer.backends.torch import write_package
from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from interlayer.verify import verify
from torch_frontend_support import Fn, check_capture, randomise

MODULES = [
    pytest.param(lambda: nn.ReflectionPad1d((3, 1)), (1, 3, 6), "reflect", id="ReflectionPad1d"),
    pytest.param(lambda: nn.ReflectionPad2d(2), (1, 3, 4, 5), "reflect", id="ReflectionPad2d-int"),
    pytest.param(lambda: nn.ReflectionPad2d((0, 4, 3, 1)), (1, 3, 4, 5), "reflect", id="ReflectionPad2d"),
    pytest.param(lambda: nn.ReflectionPad3d((1, 0, 2, 1, 0, 2)), (1, 2, 3, 4, 5), "reflect", id="ReflectionPad3d"),
    pytest.param(lambda: nn.ReplicationPad1d((0, 7)), (1, 3, 6), "edge", id="ReplicationPad1d"),
    pytest.param(lambda: nn.ReplicationPad2d(2), (1, 3, 4, 5), "edge", id="ReplicationPad2d-int"),
    pytest.param(lambda: nn.ReplicationPad2d((1, 2, 0, 3)), (1, 3, 4, 5), "edge", id="ReplicationPad2d"),
    pytest.param(lambda: nn.ReplicationPad3d((2, 1, 0, 1, 1, 0)), (1, 2, 3, 4, 5), "edge", id="ReplicationPad3d"),
    pytest.param(lambda: nn.CircularPad1d((6, 2)), (1, 3, 6), "wrap", id="CircularPad1d"),
    pytest.param(lambda: nn.CircularPad2d(2), (1, 3, 4, 5), "wrap", id="CircularPad2d-int"),
    pytest.param(lambda: nn.CircularPad2d((5, 0, 1, 4)), (1, 3, 4, 5), "wrap", id="CircularPad2d"),
    pytest.param(lambda: nn.CircularPad3d((1, 2, 0, 1, 3, 0)), (1, 2, 3, 4, 5), "wrap", id="CircularPad3d"),
    pytest.param(lambda: nn.ZeroPad3d((1, 0, 2, 1, 0, 2)), (1, 2, 3, 4, 5), "constant", id="ZeroPad3d"),
    pytest.param(lambda: nn.ConstantPad3d((0, 1, 1, -1, 2, 0), 0.75), (1, 2, 3, 4, 5), "constant",
                 id="ConstantPad3d-crop"),
]


@pytest.mark.parametrize("make, shape, mode", MODULES)
def test_padding_module_matches_torch(make, shape, mode):
    graph = check_capture(nn.Sequential(make()), shape)
    assert [(node.op, node.attrs["mode"]) for node in graph.nodes] == [("pad", mode)]


FUNCTIONS = [
    pytest.param(lambda m, x: F.pad(x, (2, 1), mode="reflect"), (1, 3, 6), "reflect", id="F.pad-reflect-1d"),
    pytest.param(lambda m, x: F.pad(x, (1, 2, 3, 0), mode="reflect"), (1, 3, 4, 5), "reflect",
                 id="F.pad-reflect-2d"),
    pytest.param(lambda m, x: F.pad(x, (1, 1, 1, 1, 1, 1), "reflect"), (1, 2, 3, 4, 5), "reflect",
                 id="F.pad-reflect-3d-positional"),
    pytest.param(lambda m, x: F.pad(x, (0, 3), mode="replicate"), (1, 3, 6), "edge", id="F.pad-replicate-1d"),
    pytest.param(lambda m, x: F.pad(x, (2, 2, 2, 2), mode="replicate"), (1, 3, 4, 5), "edge",
                 id="F.pad-replicate-2d"),
    pytest.param(lambda m, x: F.pad(x, (1, 0, 0, 2, 1, 1), mode="replicate"), (1, 2, 3, 4, 5), "edge",
                 id="F.pad-replicate-3d"),
    pytest.param(lambda m, x: F.pad(x, (3, 2), mode="circular"), (1, 3, 6), "wrap", id="F.pad-circular-1d"),
    pytest.param(lambda m, x: F.pad(x, (0, 5, 4, 1), mode="circular"), (1, 3, 4, 5), "wrap",
                 id="F.pad-circular-2d"),
    pytest.param(lambda m, x: F.pad(x, (2, 2, 1, 1, 0, 3), mode="circular"), (1, 2, 3, 4, 5), "wrap",
                 id="F.pad-circular-3d"),
    pytest.param(lambda m, x: F.pad(x, (1, 1, 0, 2), mode="constant", value=-2.0), (1, 3, 4, 5), "constant",
                 id="F.pad-constant-value"),
]


@pytest.mark.parametrize("fn, shape, mode", FUNCTIONS)
def test_functional_pad_matches_torch(fn, shape, mode):
    graph = check_capture(Fn(fn), shape)
    assert [(node.op, node.attrs["mode"]) for node in graph.nodes] == [("pad", mode)]


def test_functional_pad_writes_no_fill_value_outside_constant_mode():
    graph = check_capture(Fn(lambda m, x: F.pad(x, (1, 1), mode="replicate", value=None)), (1, 3, 6))
    assert graph.nodes[0].attrs == {"pads": [1, 1], "value": 0.0, "mode": "edge"}


CONVS = [
    pytest.param(lambda: nn.Conv1d(3, 4, 3, padding=2, padding_mode="reflect"), (1, 3, 9), "reflect", [2, 2],
                 id="Conv1d-reflect"),
    pytest.param(lambda: nn.Conv1d(3, 4, 4, padding="same", padding_mode="circular"), (1, 3, 9), "wrap", [1, 2],
                 id="Conv1d-circular-same-even-kernel"),
    pytest.param(lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (1, 3, 6, 7), "reflect",
                 [1, 1, 1, 1], id="Conv2d-reflect"),
    pytest.param(lambda: nn.Conv2d(3, 4, (3, 5), stride=2, padding=(1, 2), padding_mode="replicate"),
                 (1, 3, 7, 8), "edge", [1, 2, 1, 2], id="Conv2d-replicate-stride"),
    pytest.param(lambda: nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2, padding_mode="circular"),
                 (1, 4, 6, 6), "wrap", [2, 2, 2, 2], id="Conv2d-circular-dilation-groups"),
    pytest.param(lambda: nn.Conv2d(2, 3, (2, 4), padding="same", padding_mode="reflect"), (1, 2, 5, 6), "reflect",
                 [0, 1, 1, 2], id="Conv2d-reflect-same-even-kernel"),
    pytest.param(lambda: nn.Conv3d(2, 3, 3, padding=1, padding_mode="replicate", bias=False), (1, 2, 4, 5, 3),
                 "edge", [1, 1, 1, 1, 1, 1], id="Conv3d-replicate"),
    pytest.param(lambda: nn.Conv3d(2, 3, (1, 3, 3), padding=(0, 1, 1), padding_mode="circular"), (1, 2, 3, 4, 5),
                 "wrap", [0, 1, 1, 0, 1, 1], id="Conv3d-circular"),
]


@pytest.mark.parametrize("make, shape, mode, pads", CONVS)
def test_conv_padding_mode_is_a_pad_before_an_unpadded_conv(make, shape, mode, pads):
    model = nn.Sequential()
    model.add_module("conv", make())
    graph = check_capture(model, shape)
    assert [(node.name, node.op) for node in graph.nodes] == [("conv_pad", "pad"), ("conv", "conv")]
    assert graph.nodes[0].attrs == {"pads": pads, "value": 0.0, "mode": mode}
    assert graph.nodes[1].inputs == ["conv_pad"] and not any(graph.nodes[1].attrs["pads"])
    assert set(graph.source["name_map"]) == {name for name, _ in model.named_parameters()}


def test_conv_padding_mode_without_padding_writes_no_pad():
    graph = check_capture(nn.Sequential(nn.Conv2d(3, 4, 3, padding_mode="reflect")), (1, 3, 6, 6))
    assert [node.op for node in graph.nodes] == ["conv"]


# negative pads crop: the concrete tracer refused them outside constant mode; a slice and a pad, in PyTorch's order
CROPS = [
    pytest.param(lambda m, x: F.pad(x, (-1, 2), mode="reflect"), (1, 3, 6), ["pad", "slice"], id="F.pad-reflect-crop"),
    pytest.param(lambda m, x: F.pad(x, (-2, 3), mode="reflect"), (1, 3, 6), ["pad", "slice"],
                 id="F.pad-reflect-crop-reflecting-the-cropped"),
    pytest.param(lambda m, x: F.pad(x, (2, -1), mode="circular"), (1, 3, 6), ["slice", "pad"],
                 id="F.pad-circular-crop"),
    pytest.param(lambda m, x: F.pad(x, (-1, -2, 1, 0), mode="replicate"), (1, 3, 4, 6), ["pad", "slice"],
                 id="F.pad-replicate-2d-crop"),
    pytest.param(lambda m, x: m.layers[0](x), (1, 3, 6), ["slice"], id="ReplicationPad1d-crop"),
]


@pytest.mark.parametrize("fn, shape, ops", CROPS)
def test_cropping_outside_constant_mode(fn, shape, ops):
    graph = check_capture(Fn(fn, nn.ReplicationPad1d((0, -2))), shape)
    assert [node.op for node in graph.nodes] == ops


def test_reflection_by_a_size_computed_from_the_input_is_refused():
    # to a multiple of 4: a pad of (-L) % 4, a size the IR's pad cannot take outside constant mode
    with pytest.raises(UnsupportedLayerError, match=r"node 'pad' \(aten.pad\): reflect padding by a size computed "
                                                    r"from the input's sizes"):
        capture(Fn(lambda m, x: F.pad(x, (0, (-x.shape[-1]) % 4), mode="reflect")), (1, 3, 6))


def test_constant_padding_by_a_size_computed_from_the_input():
    graph = check_capture(Fn(lambda m, x: F.pad(x, (0, (-x.shape[-1]) % 4), value=0.5)), (1, 3, 6))
    assert [node.op for node in graph.nodes] == ["full", "concat"]


# a whole model ---------------------------------------------------------------------------------------------------


class ResidualBlock(nn.Module):
    """CycleGAN's residual block: reflection-padded 3x3 convolutions (here through padding_mode='reflect'), each
    normalised, the sum with the input unactivated."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.norm1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.norm2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return x + self.norm2(self.conv2(self.relu(self.norm1(self.conv1(x)))))


class CycleGanBlock(nn.Module):
    """A small CycleGAN generator: ReflectionPad2d(3) -> 7x7 conv -> instance normalisation (GroupNorm with a group
    per channel) -> ReLU, a strided replicate-padded downsampling, a residual block, and a reflection-padded 7x7
    head with tanh."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, 8, 7), nn.GroupNorm(8, 8), nn.ReLU())
        self.down = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1, padding_mode="replicate"),
                                  nn.BatchNorm2d(16), nn.ReLU())
        self.res = ResidualBlock(16)
        self.head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(16, 3, 7), nn.Tanh())

    def forward(self, x):
        return self.head(self.res(self.down(self.stem(x))))


SHAPE = (2, 3, 16, 16)


@pytest.fixture(scope="module")
def cyclegan():
    return randomise(CycleGanBlock())


@pytest.fixture(scope="module")
def cyclegan_graph(cyclegan):
    return capture(cyclegan, SHAPE)


def _assert_agrees(source, target):
    report = verify(source, target, example_inputs=SHAPE)
    assert report.passed, report.table()
    assert all(row.relative <= 1e-5 for row in report.layers), report.table()
    return report


def test_cyclegan_graph(cyclegan_graph):
    pads = [(node.name, node.attrs["mode"]) for node in cyclegan_graph.nodes if node.op == "pad"]
    assert pads == [("stem.0", "reflect"), ("down.0_pad", "edge"), ("res.conv1_pad", "reflect"),
                    ("res.conv2_pad", "reflect"), ("head.0", "reflect")]


def test_cyclegan_to_keras(cyclegan, cyclegan_graph):
    target = interlayer.build(cyclegan_graph, "keras")
    modes = sorted(layer.mode for layer in target.layers if type(layer) is Padding)
    assert modes == ["edge", "reflect", "reflect", "reflect", "reflect"]
    assert not any(isinstance(layer, keras.layers.Permute) for layer in target.layers)
    _assert_agrees(cyclegan, target)


@pytest.mark.parametrize("opset", [17, 19])
def test_cyclegan_to_onnx(cyclegan, cyclegan_graph, opset):
    target = interlayer.build(cyclegan_graph, "onnx", opset=opset)
    modes = sorted(onnx.helper.get_attribute_value(node.attribute[0]).decode()
                   for node in target.graph.node if node.op_type == "Pad")
    assert modes == ["edge", "reflect", "reflect", "reflect", "reflect"]
    _assert_agrees(cyclegan, target)


def test_cyclegan_to_torch_and_its_package(cyclegan, cyclegan_graph, tmp_path):
    target = interlayer.build(cyclegan_graph, "torch")
    kinds = sorted(type(module).__name__ for module in target.modules() if "Pad" in type(module).__name__)
    assert kinds == ["ReflectionPad2d", "ReflectionPad2d", "ReflectionPad2d", "ReflectionPad2d", "ReplicationPad2d"]
    _assert_agrees(cyclegan, target)
    write_package(target, tmp_path / "pkg")
    text = (tmp_path / "pkg" / "model.py").read_text()
    assert 'self.stem["0"] = nn.ReflectionPad2d(padding=(3, 3, 3, 3))' in text
    assert 'self.res["conv1_pad"] = nn.ReflectionPad2d(padding=(1, 1, 1, 1))' in text
    assert '= nn.ReplicationPad2d(padding=(1, 1, 1, 1))' in text
    spec = importlib.util.spec_from_file_location("generated_cyclegan", tmp_path / "pkg" / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _assert_agrees(cyclegan, module.load())
