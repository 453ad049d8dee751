"""Integer, bool and index code: dtypes kept end to end (ids stay int64, masks bool, outputs come back with their
dtype), constants as buffers of their dtype, tensors made from sizes on the input's device, and the package of
such a module."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.backends.torch import build, predict
from models.package_check import assert_package_reproduces
from support import assert_equivalent, random_inputs, typed_graph

F = "float32"


def mask_graph():
    """Token ids -> a padding mask (bool) and positions counted along it (int64); the argmax of a float input
    (int64); features picked by a constant index (negative included) where the mask holds, else zero (float)."""
    return typed_graph([("ids", ("N", "T"), "int64"), ("x", ("N", "T", 6), F)], [
        ("kept", "not_equal", ["ids"], {"constant": True}, {"other": np.int64(0)}),
        ("count", "cumsum", ["kept"], {"axis": 1, "exclusive": True}),
        ("best", "argmax", ["x"], {"axis": 2}),
        ("index", "constant", [], {"shape": [3], "dtype": "int64"}, {"value": np.array([5, -1, 2], np.int64)}),
        ("picked", "gather", ["x", "index"], {"axis": 2}),
        ("zero", "full", [], {"shape": ["N", "T", 3], "value": 0.0}),
        ("kept_column", "reshape", ["kept"], {"shape": ["N", "T", 1]}),
        ("kept3", "expand", ["kept_column"], {"shape": ["N", "T", 3]}),
        ("chosen", "select", ["kept3", "picked", "zero"], {})],
        ["kept", "count", "best", "chosen"], ranges={"ids": (0, 3)})


@pytest.fixture(scope="module")
def mask_model():
    return build(mask_graph())


def test_outputs_come_back_with_their_dtypes(mask_model):
    graph = mask_graph()
    inputs = random_inputs(graph)
    kept, count, best, chosen = predict(mask_model, inputs)
    expected = interlayer.run(graph, inputs)
    assert (kept.dtype, count.dtype, best.dtype, chosen.dtype) == (np.bool_, np.int64, np.int64, np.float32)
    np.testing.assert_array_equal(kept, expected["kept"])
    np.testing.assert_array_equal(count, expected["count"])
    np.testing.assert_array_equal(best, expected["best"])
    assert_equivalent(chosen, expected["chosen"])


def test_ids_are_compared_as_integers_with_an_integer_literal(mask_model):
    assert "ids != 0" in mask_model.code


def test_an_integer_constant_is_a_buffer_of_its_dtype(mask_model):
    assert mask_model.index.dtype == torch.int64
    assert "index" in dict(mask_model.named_buffers())


def test_a_trainable_constant_is_a_parameter():
    graph = typed_graph([("x", ("N", 4), F)], [
        ("scale", "constant", [], {"shape": [4], "trainable": True}), ("out", "mul", ["x", "scale"], {})], ["out"])
    model = build(graph)
    assert isinstance(model.scale, nn.Parameter)


def test_a_constant_sharing_another_ones_tensor_reads_the_same_parameter():
    from interlayer.ir.builder import GraphBuilder

    table = np.arange(8, dtype=np.float32).reshape(2, 4)
    builder = GraphBuilder("tied", "test", "0")
    builder.input("x", ("N", 4))
    first, second = (builder.add("constant", [], {"shape": [2, 4], "trainable": True}, {"value": table}, name=name,
                                 sources={"value": "embedding.weight"}) for name in ("first", "second"))
    both = builder.add("add", [first, second], {}, name="both")
    rows = builder.add("reduce_sum", [both], {"axes": [0]}, name="rows")
    builder.add("add", ["x", rows], {}, name="out")
    builder.output("out")
    graph = builder.finish()
    model = build(graph)
    assert [name for name, _ in model.named_parameters()] == ["first"]
    inputs = random_inputs(graph)
    assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)["out"])


def test_an_int32_running_sum_stays_int32():
    graph = typed_graph([("ids", ("N", "T"), "int32")], [("out", "cumsum", ["ids"], {"axis": 1})], ["out"])
    inputs = random_inputs(graph)
    actual = predict(build(graph), inputs)[0]
    assert actual.dtype == np.int32
    np.testing.assert_array_equal(actual, interlayer.run(graph, inputs)["out"])


def test_tensors_made_from_sizes_follow_the_input_device():
    graph = typed_graph([("x", ("N", "T", 6), F)], [
        ("positions", "arange", [], {"limit": "T", "dtype": F}),
        ("column", "reshape", ["positions"], {"shape": ["T", 1]}),
        ("ones", "full", [], {"shape": ["N", "T", 1], "value": 1.0}),
        ("shifted", "add", ["x", "column"], {}), ("out", "mul", ["shifted", "ones"], {})], ["out"])
    model = build(graph).to("meta")
    result = model(torch.empty(2, 5, 6, device="meta"))
    assert result.device.type == "meta" and tuple(result.shape) == (2, 5, 6)


def test_package_of_integer_and_index_code_reproduces_the_module(mask_model, tmp_path):
    assert_package_reproduces(mask_model, random_inputs(mask_graph(), batch=3, length=7), tmp_path / "pkg")


def test_package_of_a_model_with_nan_outputs_is_written(tmp_path):
    """NaN where the built model has NaN (the log of a negative number, a fully masked row) is agreement."""
    from interlayer.backends.torch import write_package

    graph = typed_graph([("x", ("N", "T", 6), F)], [("out", "log", ["x"], {})], ["out"])
    write_package(build(graph), tmp_path / "pkg")
    assert (tmp_path / "pkg" / "model.py").exists()


@pytest.mark.parametrize("actual, expected, error", [
    pytest.param([1.0, np.nan], [1.0, np.nan], 0.0, id="nan-in-both"),
    pytest.param([1.0, 2.0], [1.0, np.nan], float("inf"), id="nan-in-one"),
    pytest.param(np.array([1, 2]), np.array([1, 3]), float("inf"), id="integers-differ"),
    pytest.param(np.array([True]), np.array([True]), 0.0, id="bools-equal"),
])
def test_output_error(actual, expected, error):
    from interlayer.backends.torch.build import output_error

    assert output_error(np.asarray(actual), np.asarray(expected)) == error
