"""`interlayer diff`: nodes, ops, attributes, wiring, weights and graph inputs/outputs of two models compared."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

import interlayer
from interlayer import examples
from interlayer.cli import main
from interlayer.diff import compare_tensor, diff
from interlayer.errors import InterlayerError
from interlayer.ir import Node
from models.torch_models import ResidualNet, randomise
from support import chain_graph

STEPS = [("conv", {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3], "pads": [1, 1, 1, 1]}),
         ("batch_norm", {"num_features": 4}), ("relu", {}), ("global_avg_pool", {}),
         ("linear", {"in_features": 4, "out_features": 2})]


def small_graph():
    """conv_0 -> batch_norm_1 -> relu_2 -> global_avg_pool_3 -> linear_4 over (N, 3, 8, 8)."""
    return chain_graph(STEPS, (1, 3, 8, 8), name="small")


def changed(edit):
    graph = copy.deepcopy(small_graph())
    edit(graph)
    graph.outputs[0].shape = graph.shapes()[graph.outputs[0].name]
    return graph


def _cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def archives(tmp_path):
    """``save(graph, name) -> path``: archives in a fresh folder."""
    return lambda graph, name: interlayer.save(graph, tmp_path / f"{name}.safetensors")


def nudge(graph, tensor: str = "conv_0.weight", by: float = 1e-3, at=(0, 0, 0, 0)):
    node, weight = tensor.rsplit(".", 1)
    array = graph.node(node).weights[weight].copy()
    array[at] += np.float32(by)
    graph.node(node).weights[weight] = array


def test_identical_archives_are_equal(capsys, archives):
    a, b = archives(small_graph(), "a"), archives(small_graph(), "b")
    report = diff(a, b)
    assert report.equal
    assert len(report.tensors) == 8 and all(t.bit_identical and t.max_abs == 0 for t in report.tensors)
    code, out, _ = _cli(capsys, "diff", a, b)
    assert code == 0
    assert "EQUAL: same structure, 8 of 8 shared tensors equal." in out


def test_changed_weight_is_named_with_its_max_difference(capsys, archives):
    a, b = archives(small_graph(), "a"), archives(changed(nudge), "b")
    report = diff(a, b)
    assert not report.equal
    [tensor] = report.changed_tensors
    assert tensor.name == "conv_0.weight"
    assert tensor.max_abs == pytest.approx(1e-3, rel=1e-3)
    code, out, _ = _cli(capsys, "diff", a, b)
    assert code == 1
    assert "tensors that differ (1):\n  conv_0.weight: max |a - b| = 0.001" in out
    assert "DIFFERENT: 7 of 8 shared tensors equal; 1 tensors differ." in out


@pytest.mark.parametrize("atol, code", [(1e-2, 0), (1e-4, 1)], ids=["atol-above-difference", "atol-below-difference"])
def test_atol_lets_close_tensors_count_as_equal(capsys, archives, atol, code):
    a, b = archives(small_graph(), "a"), archives(changed(nudge), "b")
    assert _cli(capsys, "diff", a, b, "--atol", atol)[0] == code
    assert diff(a, b, atol=atol).equal == (code == 0)


def test_attribute_change_is_reported(capsys, archives):
    def stride(graph):
        graph.node("conv_0").attrs["strides"] = [2, 2]  # the pooled head keeps the graph valid

    a, b = archives(small_graph(), "a"), archives(changed(stride), "b")
    report = diff(a, b)
    assert report.attr_changes == [("conv_0", "strides", [1, 1], [2, 2])]
    assert report.changed_tensors == [] and not report.equal
    code, out, _ = _cli(capsys, "diff", a, b)
    assert code == 1 and "attribute changes (1):\n  conv_0.strides: [1, 1] -> [2, 2]" in out


def test_op_change_is_reported():
    def swap(graph):
        graph.node("relu_2").op = "sigmoid"

    report = diff(small_graph(), changed(swap))
    assert report.op_changes == [("relu_2", "relu", "sigmoid")]
    assert "op changes (1):" in "\n".join(report.lines())


def add_node(graph):
    graph.nodes.insert(3, Node("extra", "relu", ["relu_2"], ["extra"]))
    graph.node("global_avg_pool_3").inputs = ["extra"]


@pytest.mark.parametrize("direction", ["added", "removed"])
def test_node_added_or_removed_is_reported(archives, direction):
    plain, more = archives(small_graph(), "plain"), archives(changed(add_node), "more")
    report = diff(plain, more) if direction == "added" else diff(more, plain)
    assert getattr(report, f"nodes_{direction}") == ["extra"]
    assert getattr(report, f"nodes_{'removed' if direction == 'added' else 'added'}") == []
    inputs = (["relu_2"], ["extra"]) if direction == "added" else (["extra"], ["relu_2"])
    assert report.wiring_changes == [("global_avg_pool_3", "inputs", *inputs)]
    assert f"nodes {direction} (1):\n  extra" in "\n".join(report.lines())
    assert not report.equal


def test_weights_added_removed_and_dtype_or_shape_changes():
    def edit(graph):
        linear = graph.node("linear_4")
        linear.attrs["bias"] = False
        del linear.weights["bias"]
        graph.node("batch_norm_1").weights["scale"] = graph.node("batch_norm_1").weights["scale"].astype(np.float64)

    report = diff(small_graph(), changed(edit), atol=1.0)
    assert report.weights_removed == ["linear_4.bias"] and report.weights_added == []
    assert ("linear_4", "bias", True, False) in report.attr_changes
    [scale] = report.changed_tensors  # a dtype change is never within atol
    assert (scale.name, scale.dtype_a, scale.dtype_b, scale.max_abs) == ("batch_norm_1.scale", "float32", "float64", 0)
    assert "  batch_norm_1.scale: max |a - b| = 0 (the bits differ), dtype float32 -> float64" in report.lines()
    assert compare_tensor("t", np.zeros((2, 3)), np.zeros((3, 2)), 1.0).line() == "t: shape (2, 3) -> (3, 2)"


def test_nan_in_both_places_counts_as_equal_and_against_a_number_as_infinite():
    a = np.array([np.nan, 1.0], np.float32)
    assert compare_tensor("t", a, a + np.float32([0, 1e-3]), 1e-2).equal
    assert compare_tensor("t", a, np.float32([0.0, 1.0]), 1e-2).max_abs == np.inf


def test_graph_input_and_output_changes_are_reported():
    def edit(graph):
        graph.inputs[0].shape = ("N", 3, 16, 16)
        graph.inputs[0].perm = (0, 2, 3, 1)

    report = diff(small_graph(), changed(edit))
    assert report.input_changes == ['input 0 shape: ["N", 3, 8, 8] -> ["N", 3, 16, 16]']
    # how a framework holds an input is a note, not a change of the model
    assert "note: input 0 is held as perm null -> [0, 2, 3, 1] (each framework's layout; not a change)" in report.notes
    assert report.output_changes == [] and report.changed_tensors == [] and not report.equal


def test_json_report(capsys, archives, tmp_path):
    a, b = archives(small_graph(), "a"), archives(changed(nudge), "b")
    code, out, _ = _cli(capsys, "diff", a, b, "--json", tmp_path / "report.json")
    assert code == 1 and f"wrote {tmp_path / 'report.json'}" in out
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["equal"] is False and data["atol"] == 0.0
    rows = {row["name"]: row for row in data["tensors"]}
    assert len(rows) == 8 and not rows["conv_0.weight"]["equal"]
    assert rows["conv_0.weight"]["max_abs"] == pytest.approx(1e-3, rel=1e-3)
    assert rows["linear_4.bias"]["bit_identical"] is True


def test_negative_atol_is_an_error(capsys, archives):
    a = archives(small_graph(), "a")
    code, _, err = _cli(capsys, "diff", a, a, "--atol", "-1")
    assert code == 2 and "atol must be a finite number >= 0. Received: atol=-1.0" in err
    with pytest.raises(InterlayerError):
        diff(a, a, atol=float("nan"))


def test_factory_needs_input_shape_and_compares_with_its_archive(capsys, tmp_path):
    torch.manual_seed(0)
    archive = interlayer.save(interlayer.export(examples.lenet5(), example_inputs=(1, 1, 28, 28)),
                              tmp_path / "lenet.safetensors")
    torch.manual_seed(0)  # the factory builds the same weights again
    code, out, _ = _cli(capsys, "diff", "interlayer.examples:lenet5", archive, "--input-shape", "1,1,28,28")
    assert code == 0, out


def test_torch_model_against_its_keras_conversion_matches_by_name_with_identical_weights():
    model = randomise(ResidualNet())
    example = torch.randn(1, 3, 16, 16)
    source = interlayer.export(model, example_inputs=example)
    converted = interlayer.export(interlayer.convert(model, "keras", example_inputs=example))
    report = diff(source, converted)
    assert report.positional == []  # the Keras backend keeps the IR's node names
    assert len(report.tensors) == len(dict(source.tensors())) and report.changed_tensors == []
    assert all(t.bit_identical and t.max_abs == 0 for t in report.tensors)
    assert report.nodes_removed == [] and report.nodes_added  # Keras needs explicit padding layers
    assert all(converted.node(name).op == "pad" for name in report.nodes_added)
    assert any("input 0 is held as perm null -> [0, 2, 3, 1]" in note for note in report.notes)  # Keras: NHWC
    assert not report.equal


def lenet_twins():
    """examples.lenet5 (PyTorch) and examples.lenet5_keras holding the same weights: no layer name in common."""
    torch_model = randomise(examples.lenet5())
    keras_model = examples.lenet5_keras()
    convs = [m for m in torch_model if isinstance(m, torch.nn.Conv2d)]
    linears = [m for m in torch_model if isinstance(m, torch.nn.Linear)]
    for layer, module in zip([l for l in keras_model.layers if l.weights], convs + linears):
        weight = module.weight.detach().numpy()
        kernel = weight.transpose(2, 3, 1, 0) if weight.ndim == 4 else weight.T
        layer.set_weights([kernel, module.bias.detach().numpy()])
    return torch_model, keras_model


def test_same_network_from_keras_and_torch_is_paired_by_position(capsys):
    torch_model, keras_model = lenet_twins()
    a = interlayer.export(torch_model, example_inputs=(1, 1, 28, 28))
    b = interlayer.export(keras_model)
    report = diff(a, b)
    assert not report.equal and len(report.nodes_removed) == len(a.nodes)
    assert [t.name.rsplit(".", 1)[0] for t in report.positional[::2]] == ["0", "3", "6", "9", "11"]
    assert [t.other.rsplit(".", 1)[0] for t in report.positional[::2]] == [
        n.name for n in b.nodes if n.weights]
    assert len(report.positional) == 10 and report.unpaired == []
    assert all(t.bit_identical and t.max_abs == 0 for t in report.positional)
    text = "\n".join(report.lines())
    assert "positional pairing (weighted nodes paired in topological order by op and weight shapes, NOT by name" in text
    assert "no node name is shared between the two graphs" in text
    assert f"  0.weight <-> {report.positional[0].other}: bit-identical" in text
    assert "DIFFERENT: 0 of 0 shared tensors equal (10 of 10 positionally paired tensors equal)" in text


def test_positional_pairing_reports_a_changed_tensor():
    torch_model, keras_model = lenet_twins()
    with torch.no_grad():
        torch_model[9].weight[0, 0] += 0.5
    report = diff(interlayer.export(torch_model, example_inputs=(1, 1, 28, 28)), interlayer.export(keras_model))
    different = [t for t in report.positional if not t.equal]
    assert [t.name for t in different] == ["9.weight"]
    assert different[0].max_abs == pytest.approx(0.5, rel=1e-6)


def momentum(value: float):
    def edit(graph):
        graph.node("batch_norm_1").attrs["momentum"] = value
    return edit


def test_a_float_attribute_rounded_through_float32_is_no_change(capsys, archives):
    a, b = archives(changed(momentum(0.01)), "a"), archives(changed(momentum(0.00999999)), "b")
    report = diff(a, b)
    assert report.equal and report.attr_changes == []
    assert report.attrs_within_rtol == [("batch_norm_1", "momentum", 0.01, 0.00999999)]
    code, out, _ = _cli(capsys, "diff", a, b)
    assert code == 0
    assert "tensors compared bit for bit; float attributes within relative 1e-05 count as equal" in out
    assert ("float attributes equal within relative 1e-05 (rounding, not changes) (1):\n"
            "  batch_norm_1.momentum: 0.01 -> 0.00999999") in out
    assert "EQUAL: same structure, 8 of 8 shared tensors equal." in out


@pytest.mark.parametrize("attr_rtol, code", [(0.0, 1), (1e-9, 1), (1e-5, 0)], ids=["exact", "tighter", "default"])
def test_attr_rtol_sets_the_attribute_tolerance(capsys, archives, attr_rtol, code):
    a, b = archives(changed(momentum(0.01)), "a"), archives(changed(momentum(0.00999999)), "b")
    assert _cli(capsys, "diff", a, b, "--attr-rtol", attr_rtol)[0] == code
    report = diff(a, b, attr_rtol=attr_rtol)
    assert report.equal == (code == 0) and len(report.attr_changes) == code


def test_a_float_attribute_that_really_changed_is_a_change():
    def epsilon(graph):
        graph.node("batch_norm_1").attrs["epsilon"] = 1e-3  # Keras's default where PyTorch's is 1e-5

    report = diff(small_graph(), changed(epsilon))
    assert report.attr_changes == [("batch_norm_1", "epsilon", 1e-5, 1e-3)] and report.attrs_within_rtol == []
    assert not report.equal


@pytest.mark.parametrize("a, b, close", [
    ([1.0, 2.0], [1.0000001, 2.0], True), ([1.0, 2.0], [1.0, 2.1], False), ([1, 2], [1, 3], False),
    ({"x": 0.5}, {"x": 0.5000001}, True), (True, 1, False), ("same", "same", True), (None, 0.0, False),
    (float("nan"), float("nan"), True), (0.0, 1e-30, False),
], ids=["list", "list-changed", "ints", "dict", "bool-is-not-a-number", "string", "none", "nan", "zero"])
def test_attribute_values_close_within_rtol(a, b, close):
    from interlayer.diff import _close

    assert _close(a, b, 1e-5) is close


def test_the_json_report_carries_the_attribute_tolerance(capsys, archives, tmp_path):
    a, b = archives(changed(momentum(0.01)), "a"), archives(changed(momentum(0.00999999)), "b")
    assert _cli(capsys, "diff", a, b, "--json", tmp_path / "r.json")[0] == 0
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["attr_rtol"] == 1e-5
    assert data["attrs_within_rtol"] == [{"node": "batch_norm_1", "attr": "momentum", "a": 0.01, "b": 0.00999999}]


def test_a_keras_model_and_its_onnx_conversion_agree_on_batch_norm_momentum(tmp_path):
    """The issue's case: Keras's momentum 0.99 is the IR's 0.01, and comes back from ONNX (float32) as 0.00999999."""
    import keras

    from interlayer.conversion import convert_file

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv1"),
                              keras.layers.BatchNormalization(name="bn1"), keras.layers.ReLU(name="relu")])
    model.save(tmp_path / "cnn.keras")
    convert_file(tmp_path / "cnn.keras", "onnx", tmp_path / "cnn.onnx")
    report = diff(tmp_path / "cnn.keras", tmp_path / "cnn.onnx")
    assert [change for change in report.attr_changes if change[0] == "bn1"] == []
    assert [(n, k) for n, k, _, _ in report.attrs_within_rtol] == [("bn1", "momentum")]
    assert report.changed_tensors == []
