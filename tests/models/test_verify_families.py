"""verify on correct conversions of each model family of the tests, into every target: no value is reported as a
divergence (each is compared in the layout both sides hold it in, or listed as not compared with the reason),
the verdict passes, and no first divergence is named; a corrupted weight is still named as the first bad layer."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from hf_families import make
from interlayer.verify import verify
from torch_models import ResidualNet, randomise

TARGETS = ("torch", "keras", "onnx")


class Tagger(nn.Module):
    def __init__(self, batch_first: bool):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 12, num_layers=2, bidirectional=True, batch_first=batch_first)
        self.head = nn.Linear(24, 4)

    def forward(self, x):
        return self.head(self.lstm(self.embed(x))[0])


def _mobilenet():
    model = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=7)
    rng = np.random.default_rng(1)
    for weight in model.weights:  # BatchNorm statistics and affine parameters random too
        if "moving_variance" in weight.path:
            weight.assign(rng.uniform(0.5, 2.0, weight.shape).astype("float32"))
        elif any(part in weight.path for part in ("moving_mean", "beta", "gamma")):
            weight.assign((rng.normal(0, 0.2, weight.shape) + ("gamma" in weight.path)).astype("float32"))
    return model


def _families():
    return {
        "residual-net": lambda: (randomise(ResidualNet()), (1, 3, 32, 32)),
        "tagger-batch-first": lambda: (randomise(Tagger(True)), [torch.randint(0, 20, (2, 7))]),
        "tagger-time-major": lambda: (randomise(Tagger(False)), [torch.randint(0, 20, (7, 2))]),
        "bert": lambda: make("bert"),
        "keras-mobilenet-v2": lambda: (_mobilenet(), None),
    }


FAMILIES = _families()


@pytest.fixture(scope="module")
def captured():
    cache = {}

    def get(name):
        if name not in cache:
            model, example = FAMILIES[name]()
            graph = interlayer.export(model) if example is None else interlayer.export(model, example_inputs=example)
            cache[name] = model, graph, example
        return cache[name]

    return get


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_no_false_divergence(name, target, captured):
    model, graph, example = captured(name)
    built = interlayer.build(graph, target)
    report = verify(model, built, example_inputs=example)
    assert report.passed, report.table()
    assert report.first_divergence is None
    failing = [row.name for row in report.layers if row.compared and not row.passed]
    assert not failing, report.table()
    assert any(row.compared for row in report.layers), "no layer compared"


@pytest.mark.parametrize("name", ["residual-net", "keras-mobilenet-v2"])
def test_a_corrupted_weight_is_still_named(name, captured):
    model, graph, example = captured(name)
    built = interlayer.build(graph, "onnx")
    import onnx
    from onnx import numpy_helper

    first = next(node for node in graph.nodes if node.op == "conv")
    changed = onnx.ModelProto.FromString(built.SerializeToString())
    for index, tensor in enumerate(changed.graph.initializer):
        if tensor.name == f"{first.name}.weight" or tensor.name.startswith(f"{first.name}."):
            array = numpy_helper.to_array(tensor).copy()
            array *= -1.0  # the whole kernel negated: a wrong sign convention
            changed.graph.initializer[index].CopyFrom(numpy_helper.from_array(array, tensor.name))
            break
    else:
        pytest.fail(f"no initializer of {first.name}")
    report = verify(model, changed, example_inputs=example)
    failing = [row.name for row in report.layers if row.compared and not row.passed]
    assert failing and failing[0] == first.outputs[0], report.table()
    if name == "residual-net":  # a random MobileNetV2's softmax barely moves: its verdict may pass all the same
        assert not report.passed and report.first_divergence.name == first.outputs[0]
