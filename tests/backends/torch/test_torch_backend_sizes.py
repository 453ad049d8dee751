"""Sizes at run time: the built forward reads each size a graph input binds from that input and computes size
expressions as Python arithmetic over them, so one module runs at any size; the package's model.py shows the
arithmetic where it is used, and the .pt2 program keeps every named size dynamic."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import interlayer
from interlayer.backends.torch import build, predict, write_package
from interlayer.backends.torch.export import dynamic_shapes, other_sizes, write_program
from interlayer.backends.torch.package import load_package
from support import assert_equivalent, assert_varies, random_inputs, typed_graph

F = "float32"


def heads_graph():
    """(N, T, 6): the batch merged with the length, features split into heads, the last step sliced off, and a
    causal mask made from the length alone."""
    return typed_graph([("x", ("N", "T", 6), F)], [
        ("rows", "reshape", ["x"], {"shape": ["N*T", 6]}),
        ("scaled", "mul", ["rows"], {"constant": True, "constant_shape": [6]}),
        ("heads", "reshape", ["scaled"], {"shape": ["N", "T", 2, 3]}),
        ("moved", "transpose", ["heads"], {"perm": [0, 2, 1, 3]}),
        ("ones", "full", [], {"shape": ["T", "T"], "value": 1.0}),
        ("causal", "trilu", ["ones"], {"upper": False}),
        ("scores", "einsum", ["moved", "moved"], {"equation": "nhtd,nhsd->nhts"}),
        ("masked", "mul", ["scores", "causal"], {}),
        ("first", "slice", ["masked"], {"axes": [2], "starts": [0], "ends": ["T - 1"]}),
        ("out", "reshape", ["first"], {"shape": ["2*N", "T - 1", "T"]})], ["out"])


@pytest.fixture(scope="module")
def heads_model():
    return build(heads_graph())


def test_forward_reads_each_size_once_from_the_input_that_binds_it(heads_model):
    code = heads_model.code
    assert code.count(".size(") == 2
    assert re.search(r"\bN = x\.size\(0\)", code) and re.search(r"\bT = x\.size\(1\)", code)
    reads = [line for line in code.splitlines() if ".size(" in line]
    body = [line for line in code.splitlines() if "=" in line]
    assert body[:2] == reads, "the sizes are read at the top of forward"


def test_forward_computes_size_expressions_as_python_arithmetic(heads_model):
    code = heads_model.code
    assert re.search(r"= N \* T\b", code) and re.search(r"= 2 \* N\b", code) and re.search(r"= T - 1\b", code)
    assert "torch.full((T, T)" in code


@pytest.mark.parametrize("sizes", [{"batch": 1, "length": 3}, {"batch": 2, "length": 5}, {"batch": 4, "length": 9}],
                         ids=["1x3", "2x5", "4x9"])
def test_a_module_built_once_runs_at_any_size(heads_model, sizes):
    graph = heads_graph()
    inputs = random_inputs(graph, **sizes)
    actual = predict(heads_model, inputs)[0]
    assert actual.shape == (2 * sizes["batch"], sizes["length"] - 1, sizes["length"])
    assert_equivalent(actual, interlayer.run(graph, inputs)["out"])


def test_sizes_no_code_reads_are_not_read():
    graph = typed_graph([("x", ("N", "T", 6), F)], [("out", "relu", ["x"], {})], ["out"])
    assert ".size(" not in build(graph).code


def test_size_names_become_valid_python_names():
    graph = typed_graph([("x", ("batch", "len", 6), F)], [
        ("rows", "reshape", ["x"], {"shape": ["batch*len", 6]}),
        ("out", "reshape", ["rows"], {"shape": ["batch", "len", 6]})], ["out"])
    model = build(graph)
    assert re.search(r"\blen_ = x\.size\(1\)", model.code) and "batch = x.size(0)" in model.code
    inputs = random_inputs(graph, batch=3, length=4)
    assert_equivalent(predict(model, inputs)[0], inputs[0])


def test_a_size_bound_by_a_second_input_is_read_from_it():
    graph = typed_graph([("x", ("N", "T", 6), F), ("y", ("N", "S", 6), F)], [
        ("both", "concat", ["x", "y"], {"axis": 1}),
        ("out", "reshape", ["both"], {"shape": ["N", "T + S", 3, 2]})], ["out"])
    model = build(graph)
    assert "S = y.size(1)" in model.code and "T = x.size(1)" in model.code
    inputs = random_inputs(graph, sizes={"N": 2, "T": 3, "S": 5})
    assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)["out"])


def test_expand_keeps_the_axes_it_does_not_grow():
    graph = typed_graph([("x", ("N", 1, 6), F), ("y", ("N", "T", 6), F)], [
        ("grown", "expand", ["x"], {"shape": ["N", "T", 6]}), ("out", "add", ["grown", "y"], {})], ["out"])
    assert "x.expand(-1, T, -1)" in build(graph).code


@pytest.mark.parametrize("sizes, scales, mode, coordinates, written", [
    pytest.param(["2*H", "2*W"], None, "nearest", "asymmetric", "interpolate", id="sizes-nearest"),
    pytest.param(["2*H", "2*W"], None, "linear", "align_corners", "interpolate", id="sizes-align-corners"),
    pytest.param(["2*H", "2*W"], [2.0, 2.0], "linear", "half_pixel", "Upsample", id="scales-linear"),
    pytest.param(["(3*H)//2", "(3*W)//2"], [1.5, 1.5], "nearest", "asymmetric", "Upsample", id="scales-one-and-a-half"),
])
def test_resize_to_sizes_computed_at_run_time(sizes, scales, mode, coordinates, written):
    graph = typed_graph([("x", ("N", 3, "H", "W"), F)], [
        ("out", "resize", ["x"], {"sizes": sizes, "scales": scales, "mode": mode, "coordinate_mode": coordinates})],
        ["out"])
    model = build(graph)
    assert written in model.code or written in {type(m).__name__ for m in model.modules()}
    for length in (4, 7):
        inputs = random_inputs(graph, length=length)
        assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)["out"], what=f"length {length}")


# the package -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def heads_package(heads_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sizes") / "pkg"
    write_package(heads_model, folder)
    return folder


def _forward(folder) -> str:
    text = (folder / "model.py").read_text()
    return text[text.index("    def forward"):text.index("def load")]


def test_package_writes_size_arithmetic_where_it_is_used(heads_package):
    forward = _forward(heads_package)
    assert "N = x.size(0)" in forward and "T = x.size(1)" in forward
    assert "x.reshape(N * T, 6)" in forward
    assert ".reshape(2 * N, T - 1, T)" in forward
    assert "torch.full((T, T), 1.0, dtype = torch.float32, device = x.device)" in forward
    assert "[:, :, :T - 1]" in forward, "a slice is written in Python's notation"
    assert not re.search(r"^\s*(size|device)\w* = ", forward, re.M), "no line of its own for a size or a device"
    assert "slice(" not in forward


@pytest.mark.parametrize("line, written", [
    pytest.param("y = torch.reshape(x, (size, 6))", "y = torch.reshape(x, (T - 1, 6))", id="argument"),
    pytest.param("y = size * x", "y = (T - 1) * x", id="operand-in-parentheses"),
    pytest.param("y = x[size]", "y = x[T - 1]", id="index"),
    pytest.param("y = x[(slice(None, None, None), slice(size, None, 2))]", "y = x[:, T - 1::2]", id="slices"),
    pytest.param('y = getattr(self.a, "0")(x)[(slice(1, None, None),)]', 'y = getattr(self.a, "0")(x)[1:]',
                 id="only-the-index-rewritten"),
    pytest.param("y = torch.functional.einsum('ij->ji', x)", "y = torch.einsum('ij->ji', x)", id="public-name"),
])
def test_forward_text_inlines_sizes_and_writes_slices(line, written):
    from interlayer.backends.torch.forward_text import readable

    assert readable(["    size = T - 1", "    " + line], {"size"}) == ["    " + written]


@pytest.mark.parametrize("sizes", [{"batch": 1, "length": 4}, {"batch": 3, "length": 8}], ids=["1x4", "3x8"])
def test_package_runs_at_any_size(heads_package, sizes):
    graph = heads_graph()
    inputs = random_inputs(graph, **sizes)
    assert_equivalent(predict(load_package(heads_package), inputs)[0], interlayer.run(graph, inputs)["out"])


# the .pt2 program -------------------------------------------------------------------------------------------


def test_program_shapes_name_every_size_the_graph_names():
    graph = typed_graph([("x", ("N", "T", 6), F), ("y", ("N", "S", 6), F)], [
        ("out", "concat", ["x", "y"], {"axis": 1})], ["out"])
    first, second = dynamic_shapes(graph, 2)
    assert sorted(first) == [0, 1] and sorted(second) == [0, 1]
    assert (first[0].__name__, first[1].__name__, second[1].__name__) == ("N", "T", "S")
    assert first[0] is second[0], "one Dim per name, shared by every input it sizes"


def test_other_sizes_grow_each_named_size_and_repeat_the_values():
    graph = typed_graph([("ids", ("N", "T"), "int64"), ("w", (3, "T"), F)], [
        ("float", "cast", ["ids"], {"dtype": F}), ("out", "add", ["float", "w"], {})], ["out"])
    ids, w = np.arange(6).reshape(2, 3), np.ones((3, 3), np.float32)
    grown_ids, grown_w = other_sizes(graph, [ids, w])
    assert grown_ids.shape == (3, 4) and grown_w.shape == (3, 4)
    assert set(grown_ids.ravel()) <= set(ids.ravel()), "values are the input's own (token ids stay valid)"


def _run_program(path, inputs):
    program = torch.export.load(path).module()
    with torch.no_grad():
        return program(*[torch.from_numpy(x) for x in inputs]).numpy()


@pytest.mark.parametrize("length", [3, 11], ids=["shorter", "longer"])
def test_program_traced_at_one_length_runs_at_another(heads_model, tmp_path, length):
    graph = heads_graph()
    write_program(heads_model, tmp_path / "m.pt2", random_inputs(graph, batch=2, length=5))
    inputs = random_inputs(graph, batch=3, length=length, seed=4)
    actual = _run_program(tmp_path / "m.pt2", inputs)
    assert actual.shape == (6, length - 1, length)
    assert_equivalent(actual, interlayer.run(graph, inputs)["out"])


def test_program_of_token_ids_runs_at_another_length(tmp_path):
    graph = typed_graph([("ids", ("N", "T"), "int64")], [
        ("table", "constant", [], {"shape": [10, 4]}), ("rows", "gather", ["table", "ids"], {"axis": 0}),
        ("positions", "arange", [], {"limit": "T", "dtype": F}),
        ("column", "reshape", ["positions"], {"shape": ["T", 1]}), ("out", "add", ["rows", "column"], {})], ["out"],
        ranges={"ids": (-10, 10)})
    write_program(build(graph), tmp_path / "m.pt2", random_inputs(graph, batch=2, length=5))
    short, long = (random_inputs(graph, batch=1, length=n, seed=n) for n in (3, 12))
    for inputs in (short, long):
        assert_equivalent(_run_program(tmp_path / "m.pt2", inputs), interlayer.run(graph, inputs)["out"])
    assert_varies(_run_program(tmp_path / "m.pt2", short)[:, :3], _run_program(tmp_path / "m.pt2", long)[:, :3])


def test_program_of_a_reshape_that_regroups_axes_runs_at_any_length(tmp_path):
    """(N, 1, 4, T, 3) read as (N, 4, 3, T): torch's view of it guards on T (T % 3), so it goes through flatten()."""
    graph = typed_graph([("x", ("N", "T", 12), F)], [
        ("heads", "reshape", ["x"], {"shape": ["N", "T", 4, 3]}),
        ("moved", "transpose", ["heads"], {"perm": [0, 2, 1, 3]}),
        ("grouped", "reshape", ["moved"], {"shape": ["N", 1, 4, "T", 3]}),
        ("out", "reshape", ["grouped"], {"shape": ["N", 4, -1, "T"]})], ["out"])
    model = build(graph)
    assert "grouped.flatten()" in model.code and "moved.flatten()" not in model.code
    write_program(model, tmp_path / "m.pt2", random_inputs(graph, batch=2, length=5))
    for length in (3, 6, 9):
        inputs = random_inputs(graph, batch=2, length=length)
        assert_equivalent(_run_program(tmp_path / "m.pt2", inputs), interlayer.run(graph, inputs)["out"],
                          what=f"length {length}")


def test_program_of_a_model_that_holds_for_part_of_a_range_still_runs_at_other_sizes(tmp_path):
    """torch refuses a named size's whole range where the model needs part of it (here H // 2 must not be 1):
    the program is exported with torch's own dynamic sizes instead, and still runs at other sizes."""
    graph = typed_graph([("x", ("N", 3, "H", "W"), F)], [
        ("out", "slice", ["x"], {"axes": [2, 3], "starts": [0, "W//2"], "ends": ["H//2", "W"]})], ["out"])
    write_program(build(graph), tmp_path / "m.pt2", random_inputs(graph, batch=2, length=6))
    inputs = random_inputs(graph, sizes={"N": 3, "H": 10, "W": 7})
    assert_equivalent(_run_program(tmp_path / "m.pt2", inputs), interlayer.run(graph, inputs)["out"])
