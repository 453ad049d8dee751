"""IR format 2 in the Keras backend: sizes computed when the model runs (one model, several sizes), ops on axis 0,
int and bool values end to end, and interlayer's layers for them surviving a .keras file and read back by the
Keras frontend."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import interlayer
from interlayer.backends.keras import build, predict, run_native
from interlayer.frontends.keras import capture
from interlayer.ir import layout
from support import assert_equivalent, random_inputs, typed_graph

F = "float32"
SEQ = [("x", ("N", "T", 6), F)]
IDS = [("ids", ("N", "T"), "int64")]
MAP = [("x", ("N", 3, "H", "W"), F)]

THREE_SIZES = [{"batch": 1, "length": 3}, {"batch": 2, "length": 5}, {"batch": 4, "length": 9}]
"""a model built once must compute every size it does not know from its inputs, at each of these"""


def layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def assert_reference(graph, model, sizes: dict) -> None:
    """The model's outputs equal the reference interpreter's: integers and bools exactly, in their dtype."""
    inputs = random_inputs(graph, **sizes)
    expected = list(interlayer.run(graph, inputs).values())
    actual = predict(model, inputs)
    for index, (got, want) in enumerate(zip(actual, expected)):
        what = f"{graph.name} output {index} at {sizes}"
        if want.dtype.kind in "biu":
            assert got.dtype == want.dtype, what
            np.testing.assert_array_equal(got, want, err_msg=what)
        else:
            assert_equivalent(got, want, what=what)


# one model, sizes computed when it runs ----------------------------------------------------------------------

SIZED = {
    "reshape-merge-batch-and-length": lambda: typed_graph(SEQ, [
        ("rows", "reshape", ["x"], {"shape": ["N*T", 6]}), ("out", "reshape", ["rows"], {"shape": ["N", -1, 3]})],
        ["out"]),
    "positions-from-the-length": lambda: typed_graph(SEQ, [
        ("positions", "arange", [], {"start": 1, "limit": "2*T + 1", "step": 2, "dtype": F}),
        ("column", "reshape", ["positions"], {"shape": ["T", 1]}), ("out", "mul", ["x", "column"], {})], ["out"]),
    "causal-mask-from-full": lambda: typed_graph(SEQ, [
        ("ones", "full", [], {"shape": ["T", "T"], "value": 1.0}), ("lower", "trilu", ["ones"], {"upper": False}),
        ("x_t", "transpose", ["x"], {"perm": [0, 2, 1]}), ("scores", "matmul", ["x", "x_t"], {}),
        ("out", "mul", ["scores", "lower"], {})], ["out"]),
    "slice-the-last-step": lambda: typed_graph(SEQ, [
        ("out", "slice", ["x"], {"axes": [1], "starts": ["T - 1"], "ends": ["T"]})], ["out"]),
    "expand-to-the-batch": lambda: typed_graph(SEQ, [
        ("row", "constant", [], {"shape": [6]}), ("grown", "expand", ["row"], {"shape": ["N", "T", 6]}),
        ("out", "add", ["grown", "x"], {})], ["out"]),
    "max-pool-ceil-of-an-image": lambda: typed_graph(MAP, [
        ("out", "max_pool", ["x"], {"kernel_size": [2, 2], "strides": [3, 3], "ceil_mode": True})], ["out"]),
}


@pytest.mark.parametrize("case", sorted(SIZED))
def test_one_model_runs_at_three_sizes(case):
    graph = SIZED[case]()
    model = build(graph)
    for sizes in THREE_SIZES:
        assert_reference(graph, model, sizes)


def test_sized_layers_read_the_graph_inputs_that_bind_their_names():
    model = build(SIZED["reshape-merge-batch-and-length"]())
    layer = next(layer for layer in model.layers if type(layer).__name__ == "ReshapeTo")
    assert layer.shape == ("N*T", 6)
    assert layer.bindings == {"N": (0, 0), "T": (0, 1)}  # the model's one input, its axes 0 and 1
    assert layer.output.shape == (None, 6)


# the batch is an axis like any other ------------------------------------------------------------------------

AXIS_0 = {
    "transpose-batch-to-the-middle-then-dense": lambda: typed_graph(SEQ, [
        ("moved", "transpose", ["x"], {"perm": [1, 0, 2]}),
        ("merged", "reshape", ["moved"], {"shape": ["T", "N*6"]}), ("out", "softmax", ["merged"], {"axis": 0})],
        ["out"]),
    "concat-stack-and-split-on-axis-0": lambda: typed_graph([*SEQ, ("y", ("N", "T", 6), F)], [
        ("joined", "concat", ["x", "y"], {"axis": 0}), ("stacked", "stack", ["x", "y"], {"axis": 0}),
        ("parts", "split", ["stacked"], {"axis": 0, "sizes": [1, 1]}),
        ("out", "mul", ["stacked"], {"constant": True, "constant_shape": [2, 1, 1, 6]},
         {"other": np.arange(12, dtype=np.float32).reshape(2, 1, 1, 6)})], ["out", "joined", "parts:0"]),
    "reduce-and-tile-the-batch": lambda: typed_graph(SEQ, [
        ("mean", "reduce_max", ["x"], {"axes": [0], "keepdims": True}),
        ("out", "tile", ["mean"], {"repeats": [3, 1, 2]})], ["out"]),
    "pad-the-batch-and-crop-the-length": lambda: typed_graph(SEQ, [
        ("out", "pad", ["x"], {"pads": [1, 1, 0, 0, -1, 2], "value": 0.5})], ["out"]),
}


@pytest.mark.parametrize("case", sorted(AXIS_0))
def test_ops_on_axis_0(case):
    graph = AXIS_0[case]()
    model = build(graph)
    for sizes in THREE_SIZES[1:]:
        assert_reference(graph, model, sizes)


def test_a_transpose_that_moves_axis_0_is_no_permute():
    """Keras's Permute keeps axis 0 in place: a perm that moves it is a keras.ops.transpose in the graph."""
    model = build(AXIS_0["transpose-batch-to-the-middle-then-dense"]())
    assert "Permute" not in layer_types(model)
    assert "Transpose" in [type(operation).__name__ for operation in model.operations]


def test_graph_inputs_keep_their_whole_shape():
    graph = typed_graph([("a", ("N", 4), F), ("b", (4, "M"), F)], [("out", "matmul", ["a", "b"], {})], ["out"])
    model = build(graph)
    assert [tuple(tensor.shape) for tensor in model.inputs] == [(None, 4), (4, None)]
    assert_reference(graph, model, {"batch": 3, "length": 7})


# int and bool values --------------------------------------------------------------------------------------


def test_ids_and_masks_keep_their_dtypes():
    graph = typed_graph([*IDS, ("keep", ("N", "T"), "bool")], [
        ("pad", "not_equal", ["ids"], {"constant": True}, {"other": np.int64(0)}),
        ("mask", "logical_and", ["pad", "keep"], {}), ("positions", "cumsum", ["mask"], {"axis": 1}),
        ("last", "argmax", ["positions"], {"axis": 1})], ["mask", "positions", "last"], ranges={"ids": (0, 3)})
    model = build(graph)
    assert [tensor.dtype for tensor in model.inputs] == ["int64", "bool"]
    inputs = random_inputs(graph)
    mask, positions, last = predict(model, inputs)
    assert (mask.dtype, positions.dtype, last.dtype) == (np.bool_, np.int64, np.int64)
    assert_reference(graph, model, {"batch": 3, "length": 6})


def test_an_integer_constant_operand_is_an_integer_weight():
    graph = typed_graph(IDS, [("out", "floor_div", ["ids"], {"constant": True}, {"other": np.int64(3)})], ["out"],
                        ranges={"ids": (-9, 9)})
    model = build(graph)
    layer = model.get_layer("out")
    assert type(layer).__name__ == "ConstantOperand" and layer.other.dtype == "int64"
    assert not layer.trainable_weights
    assert_reference(graph, model, {"batch": 2, "length": 4})


# interlayer's layers: saved, loaded and read back ---------------------------------------------------------

LAYERS = {
    "ReshapeTo": SIZED["reshape-merge-batch-and-length"],
    "BroadcastTo": SIZED["expand-to-the-batch"],
    "Full": SIZED["causal-mask-from-full"],
    "Arange": SIZED["positions-from-the-length"],
    "Slice": SIZED["slice-the-last-step"],
    "Constant": lambda: typed_graph(SEQ, [
        ("index", "constant", [], {"shape": [3], "dtype": "int64"}, {"value": np.array([5, -6, 2], np.int64)}),
        ("out", "gather", ["x", "index"], {"axis": 2})], ["out"]),
    "Cumsum": lambda: typed_graph(SEQ, [
        ("out", "cumsum", ["x"], {"axis": 1, "exclusive": True, "reverse": True})], ["out"]),
    "Resize": lambda: typed_graph(MAP, [
        ("out", "resize", ["x"], {"sizes": ["2*H", "W + 3"], "mode": "linear", "coordinate_mode": "align_corners"})],
        ["out"]),
    "Padding": AXIS_0["pad-the-batch-and-crop-the-length"],
    "Tile": AXIS_0["reduce-and-tile-the-batch"],
    "ConstantOperand": lambda: typed_graph(IDS, [
        ("small", "less", ["ids"], {"constant": True}, {"other": np.int64(2)})], ["small"]),
    "BinaryOp": lambda: typed_graph([*IDS, ("d", ("N", "T"), "int64")], [
        ("out", "mod", ["ids", "d"], {})], ["out"], ranges={"ids": (-9, 9), "d": (1, 4)}),
}


def _native(model, graph, sizes: dict) -> list[np.ndarray]:
    perms = model._interlayer_perms["inputs"]
    return [x if perm is None else np.transpose(x, perm) for x, perm in zip(random_inputs(graph, **sizes), perms)]


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_survives_a_keras_file(name, tmp_path):
    graph = LAYERS[name]()
    model = build(graph)
    assert name in layer_types(model)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    for sizes in THREE_SIZES[1:]:
        inputs = _native(model, graph, sizes)
        for got, want in zip(run_native(loaded, inputs), run_native(model, inputs)):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_is_read_back_by_the_keras_frontend(name):
    """Keras -> IR: the recaptured graph computes what the built model does, at two sizes (its own size names)."""
    graph = LAYERS[name]()
    model = build(graph)
    again = capture(model)
    for sizes in THREE_SIZES[1:]:
        inputs = _native(model, graph, sizes)
        canonical = [x if spec.perm is None else np.transpose(x, layout.invert(spec.perm))
                     for x, spec in zip(inputs, again.inputs)]
        results = interlayer.run(again, canonical)
        for spec, got in zip(again.outputs, run_native(model, inputs)):
            want = results[spec.name] if spec.perm is None else np.transpose(results[spec.name], spec.perm)
            if got.dtype.kind in "biu":
                np.testing.assert_array_equal(got, want)
            else:
                assert_equivalent(got, want, what=f"{name} at {sizes}")


def test_every_interlayer_layer_has_a_frontend_reader():
    """Whatever the backend writes, the frontend reads: Keras -> IR -> Keras -> IR."""
    from interlayer.registry import lookup

    classes = [cls for name, cls in keras.saving.get_custom_objects().items() if name.startswith("interlayer>")]
    assert {"ReshapeTo", "BroadcastTo", "Constant", "Full", "Arange", "Slice", "Cumsum"} <= {c.__name__ for c in classes}
    assert [cls.__name__ for cls in classes if lookup("keras", "frontend", cls) is None] == []
