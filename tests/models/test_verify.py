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
    assert "verified: the captured graph against the source model" in capsys.readouterr().out


def test_onnx_target_agrees_layer_by_layer(lenet, lenet_graph):
    report = verify(lenet, interlayer.build(lenet_graph, "onnx"))
    assert report.passed
    assert [row.name for row in report.layers] == [node.name for node in lenet_graph.nodes]


# no false divergences: every value compared in the layout both sides hold it in ---------------------------------


def _square_keras_cnn():
    """A Keras CNN whose maps are 16x16 with 16 channels (NHWC and NCHW shapes coincide: the layout cannot be read
    from the shape), BatchNorm statistics random, a Flatten before Dense (Keras and PyTorch flatten in other
    orders) and a global pooling."""
    keras.utils.set_random_seed(3)
    image = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", name="stem")(image)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(6.0, name="stem_relu")(x)
    branch = keras.layers.Conv2D(16, 1, name="project")(x)
    x = keras.layers.Add(name="add")([x, branch])
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    flat = keras.layers.Flatten(name="flat")(keras.layers.MaxPooling2D(4, name="shrink")(x))
    x = keras.layers.Concatenate(name="join")([pooled, flat])
    model = keras.Model(image, keras.layers.Dense(5, name="head")(x))
    rng = np.random.default_rng(4)
    for weight in model.weights:
        low = 0.5 if "variance" in weight.path else -0.5
        weight.assign(rng.uniform(low, low + 1.5, weight.shape).astype("float32"))
    return model


@pytest.mark.parametrize("target", ["torch", "pt2", "keras", "onnx", "archive"])
def test_no_false_divergence_on_a_correct_conversion(target, tmp_path, capsys):
    source = tmp_path / "cnn.keras"
    _square_keras_cnn().save(source)
    output = tmp_path / {"torch": "cnn_torch", "pt2": "cnn.pt2", "keras": "converted.keras", "onnx": "cnn.onnx",
                         "archive": "cnn.safetensors"}[target]
    assert main(["convert", str(source), "--to", "torch" if target == "pt2" else target, "-o", str(output)]) == 0
    capsys.readouterr()
    assert main(["verify", str(source), str(output), "--json", str(tmp_path / "v.json")]) == 0
    printed = capsys.readouterr().out
    data = json.loads((tmp_path / "v.json").read_text())
    assert data["passed"] and data["first_divergence"] is None, printed
    compared = [row for row in data["layers"] if row["compared"]]
    assert all(row["passed"] for row in compared), printed
    assert " NO" not in printed and "first divergence" not in printed
    if target in ("torch", "keras", "onnx", "archive"):  # each exposes its layers; every one is compared
        names = {row["name"] for row in compared}
        wanted = {"stem", "stem_bn", "project", "add", "pool", "flat", "join", "head"}
        if target == "torch":  # a package exposes its modules (hooks); the add and the join are plain code
            wanted -= {"add", "join"}
        assert wanted <= names, printed


def test_a_value_whose_layout_cannot_be_told_is_not_compared(tmp_path):
    """A Keras model that interlayer neither built nor captured as the graph's source: a 16x16x16 map fits both
    layouts, so it is reported as not compared, never as a divergence."""
    from interlayer.verify import Unmapped
    from interlayer.backends.keras.probe import activations

    model = _square_keras_cnn()
    graph = interlayer.export(model)
    graph.source = {"framework": "elsewhere"}  # as if captured from another model
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    found = activations(model, [x], graph)
    assert isinstance(found["stem"], Unmapped) and "fits both" in found["stem"]
    assert not isinstance(found["head"], Unmapped)


def test_first_divergence_only_when_the_verdict_fails(lenet, lenet_graph):
    model = interlayer.build(lenet_graph, "torch")
    report = verify(lenet, model)
    report.layers[2].passed = False  # a value beyond tolerance while every output agrees
    assert report.passed and report.first_divergence is None
    assert "first divergence" not in report.table()
    assert report.to_json()["first_divergence"] is None


def test_inputs_in_the_wrong_layout_for_a_keras_source_are_refused_by_name(tmp_path, capsys):
    source = tmp_path / "cnn.keras"
    _square_keras_cnn().save(source)
    assert main(["convert", str(source), "--to", "onnx", "-o", str(tmp_path / "cnn.onnx")]) == 0
    np.save(tmp_path / "nchw.npy", np.zeros((2, 3, 32, 32), np.float32))
    capsys.readouterr()
    assert main(["verify", str(source), str(tmp_path / "cnn.onnx"), "--input", str(tmp_path / "nchw.npy")]) == 2
    err = capsys.readouterr().err
    assert "'image' of shape (2, 3, 32, 32), where the source takes (N, 32, 32, 3)" in err and "NHWC" in err


@pytest.mark.parametrize("target", ["keras", "onnx", "archive"])
def test_diff_of_a_keras_model_and_its_conversion_is_equal(target, tmp_path, capsys):
    """The same model held by another framework is the same graph: input layouts are notes, a flatten of a
    transposed map or in another order and ONNX's pooling-then-flatten read as the source's, a momentum rounded
    through 1 - m in float32 is rounding; a changed epsilon is still a change."""
    source = tmp_path / "cnn.keras"
    _square_keras_cnn().save(source)
    output = tmp_path / {"keras": "converted.keras", "onnx": "cnn.onnx", "archive": "cnn.safetensors"}[target]
    assert main(["convert", str(source), "--to", target, "-o", str(output)]) == 0
    capsys.readouterr()
    assert main(["diff", str(source), str(output)]) == 0, capsys.readouterr().out
    assert "EQUAL" in capsys.readouterr().out
    changed = _square_keras_cnn()
    changed.get_layer("stem_bn").epsilon = 1e-2
    changed.save(tmp_path / "changed.keras")
    assert main(["diff", str(tmp_path / "changed.keras"), str(output)]) == 1
    assert "stem_bn.epsilon" in capsys.readouterr().out
