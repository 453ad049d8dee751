"""interlayer.verify and `interlayer verify`: outputs and every common layer compared, the first divergence
named, the inputs blamed when random inputs agree, and a JSON report."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer import examples
from interlayer.cli import main
from interlayer.conversion import convert_file
from interlayer.verify import verify
from package_check import assert_package_reproduces
from torch_models import randomise


@pytest.fixture(scope="module")
def lenet():
    torch.manual_seed(0)
    return randomise(examples.lenet5())


@pytest.fixture(scope="module")
def lenet_graph(lenet):
    return interlayer.export(lenet, example_inputs=(2, 1, 28, 28))


@pytest.mark.parametrize("target", ["keras", "torch", "graph"])
def test_a_faithful_conversion_agrees_layer_by_layer(lenet, lenet_graph, target, tmp_path):
    model = lenet_graph if target == "graph" else interlayer.build(lenet_graph, target)
    report = verify(lenet, model)
    assert report.passed and report.first_divergence is None
    assert [row.name for row in report.layers] == [node.name for node in lenet_graph.nodes]
    assert all(row.relative <= 1e-5 for row in report.layers)
    assert "equivalent" in report.table()
    if target == "torch":
        images = np.random.default_rng(3).standard_normal((2, 1, 28, 28)).astype(np.float32)
        assert_package_reproduces(model, [images], tmp_path / "package")


def test_a_corrupted_weight_is_named_as_the_first_divergence(lenet, lenet_graph):
    model = interlayer.build(lenet_graph, "keras")
    layer = model.get_layer("3")  # the second convolution
    kernel, bias = layer.get_weights()
    kernel[1, 2, 0, 3] += 0.5
    layer.set_weights([kernel, bias])
    report = verify(lenet, model)
    assert not report.passed
    assert report.first_divergence.name == "3" and report.first_divergence.op == "conv"
    assert all(row.passed for row in report.layers[:3])
    assert "first divergence at '3' (conv)" in report.verdict()


def test_keras_source_inputs_are_given_as_keras_takes_them():
    keras.utils.set_random_seed(0)
    source = examples.lenet5_keras()
    for variable in source.weights:
        variable.assign(np.random.default_rng(1).standard_normal(variable.shape).astype(np.float32) * 0.3)
    target = interlayer.convert(source, "torch")
    images = np.random.default_rng(2).standard_normal((3, 28, 28, 1)).astype(np.float32)  # NHWC, as Keras
    report = verify(source, target, [images])
    assert report.passed and report.inputs == "given"
    assert len(report.layers) >= 8  # Keras layers by name, brought to the canonical layout


def test_keras_layers_with_a_fused_activation_are_compared_after_it(tmp_path):
    """A Dense(activation=...) is two IR nodes; the Keras layer's output is the activation's, not the linear's."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(16, activation="tanh", name="hidden")(inputs)
    source = keras.Model(inputs, keras.layers.Dense(5, activation="softmax", name="scores")(hidden))
    target = interlayer.convert(source, "torch")
    report = verify(source, target)
    assert [row.name for row in report.layers] == ["hidden_activation", "scores_activation"]
    assert report.passed and all(row.passed for row in report.layers)
    assert_package_reproduces(target, [np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)],
                              tmp_path / "package")


class Squares(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x):
        return self.linear(x * x)


def test_inputs_to_blame_when_random_inputs_agree():
    """Inputs far outside any sensible range overflow float32 in both models: the conversion is not the cause."""
    source = randomise(Squares())
    target = interlayer.convert(source, "keras", example_inputs=(2, 4))
    report = verify(source, target, [np.full((2, 4), 1e30, np.float32)])
    assert not report.passed and report.inputs_to_blame
    assert "the difference comes from the given inputs" in report.verdict()
    assert report.to_json()["random_inputs"]["passed"] is True


def test_files_and_the_command_line(lenet, tmp_path, capsys):
    archive = tmp_path / "lenet.safetensors"
    convert_file(lenet, "archive", archive, example_inputs=(1, 1, 28, 28))
    keras_file = tmp_path / "lenet.keras"
    convert_file(archive, "keras", keras_file)
    package = tmp_path / "lenet_torch"
    convert_file(archive, "torch", package)
    for target in (keras_file, package):
        assert main(["verify", str(archive), str(target), "--json", str(tmp_path / "report.json")]) == 0
        data = json.loads((tmp_path / "report.json").read_text())
        assert data["passed"] and data["layers"] and data["first_divergence"] is None
    images = tmp_path / "images.npy"
    np.save(images, np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32))
    capsys.readouterr()
    assert main(["verify", str(archive), str(package), "--input", str(images)]) == 0
    assert "given inputs" in capsys.readouterr().out


def test_the_command_line_fails_when_the_models_differ(lenet, tmp_path, capsys):
    archive = tmp_path / "lenet.safetensors"
    convert_file(lenet, "archive", archive, example_inputs=(1, 1, 28, 28))
    other = randomise(examples.lenet5(), seed=7)
    other_archive = tmp_path / "other.safetensors"
    convert_file(other, "archive", other_archive, example_inputs=(1, 1, 28, 28))
    assert main(["verify", str(archive), str(other_archive)]) == 1
    assert "NOT equivalent" in capsys.readouterr().out


def test_convert_to_an_archive_checks_the_capture_and_says_so(capsys, tmp_path):
    assert main(["convert", "interlayer.examples:lenet5", "--input-shape", "1,1,28,28", "--to", "archive",
                 "-o", str(tmp_path / "lenet.safetensors")]) == 0
    assert "verified: the archive's graph against the source model" in capsys.readouterr().out


def test_onnx_target_agrees_layer_by_layer(lenet, lenet_graph):
    report = verify(lenet, interlayer.build(lenet_graph, "onnx"))
    assert report.passed
    assert [row.name for row in report.layers] == [node.name for node in lenet_graph.nodes]
