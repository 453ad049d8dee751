"""keras.ops calls on ids, masks and positions in a functional model (comparisons, logic, casts, take, where,
cumsum, argmax, einsum, indexing, stack, transposes that move the batch): captured graph == Keras, integers and
bools exactly, at two batch sizes."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from interlayer.frontends.keras import capture
from keras_helpers import keras_outputs, randomize, reference_outputs
from support import assert_equivalent

ops = keras.ops


def typed_inputs(model, batch: int, seed: int = 1) -> list[np.ndarray]:
    """Seeded inputs of each model input's dtype and shape (unknown sizes 5): ids in [0, 4), masks mostly True."""
    rng = np.random.default_rng(seed)
    found = []
    for tensor in model.inputs:
        shape = (batch, *(5 if size is None else size for size in tensor.shape[1:]))
        if tensor.dtype == "bool":
            found.append(rng.random(shape) < 0.7)
        elif "int" in tensor.dtype:
            found.append(rng.integers(0, 4, shape).astype(tensor.dtype))
        else:
            found.append(rng.standard_normal(shape).astype(tensor.dtype))
    return found


def check_typed(model):
    randomize(model)
    graph = capture(model)
    for batch in (2, 3):
        inputs = typed_inputs(model, batch)
        for index, (got, want) in enumerate(zip(reference_outputs(graph, inputs), keras_outputs(model, inputs))):
            if want.dtype.kind in "biu":
                np.testing.assert_array_equal(got, want, err_msg=f"{model.name} output {index}")
            else:
                assert_equivalent(got, want, what=f"{model.name} output {index}")
    return graph


def ids_model(fn, name: str):
    ids = keras.Input((None,), dtype="int64", name="ids")
    return keras.Model(ids, fn(ids), name=name)


def sequence_model(fn, name: str):
    x = keras.Input((None, 6), name="x")
    return keras.Model(x, fn(layers.Dense(6)(x)), name=name)


def image_model(fn, name: str):
    x = keras.Input((6, 5, 3), name="image")
    return keras.Model(x, fn(layers.Conv2D(4, 3, padding="same")(x)), name=name)


MODELS = {
    "positions-of-kept-ids": lambda: ids_model(
        lambda ids: ops.cumsum(ops.cast(ops.not_equal(ids, 1), "int64"), axis=1) * ops.cast(ids > 0, "int64"), "p"),
    "last-kept-position": lambda: ids_model(lambda ids: ops.argmax(ops.cumsum(ids, axis=1), axis=-1), "last"),
    "ids-scaled-to-floats": lambda: ids_model(lambda ids: ids * 0.5 + 1, "scaled"),
    "integer-arithmetic": lambda: ids_model(lambda ids: ops.floor_divide(ids - 7, 2) + ops.mod(ids, 3), "int"),
    "masks-combined": lambda: ids_model(
        lambda ids: ops.cast(ops.logical_or(ops.logical_not(ids < 1), ops.equal(ids, 0)), "float32"), "masks"),
    "take-rows-of-a-table": lambda: ids_model(
        lambda ids: ops.take(np.arange(20, dtype=np.float32).reshape(5, 4), ids, axis=0), "rows"),
    "take-channels-of-a-map": lambda: image_model(lambda y: ops.take(y, np.array([3, -4, 1]), axis=-1), "take"),
    "take-along-the-length": lambda: sequence_model(
        lambda y: ops.take_along_axis(y, ops.cast(ops.argmax(y, axis=1, keepdims=True), "int64"), axis=1), "along"),
    "where-with-a-scalar": lambda: sequence_model(lambda y: ops.where(y > 0, y, -1.0), "where"),
    "lower-and-upper-triangles": lambda: image_model(lambda y: ops.tril(y) + ops.triu(y, 1), "tri"),
    "einsum-of-a-channels-last-map": lambda: image_model(lambda y: ops.einsum("nhwc,nhwd->ncd", y, y), "einsum"),
    "last-step-and-a-range": lambda: sequence_model(lambda y: ops.concatenate([y[:, -1], y[:, 0, 1:3]], -1), "items"),
    "ellipsis-and-a-step": lambda: image_model(lambda y: y[..., ::2] * 2.0, "ellipsis"),
    "stack-and-concatenate-on-the-batch": lambda: sequence_model(
        lambda y: ops.concatenate([ops.stack([y, -y], axis=0)[0], y], axis=0), "batch"),
    "transpose-the-batch-to-the-end": lambda: sequence_model(lambda y: ops.transpose(y, (1, 2, 0)) * 3.0, "moved"),
    "sum-max-min-over-the-batch": lambda: sequence_model(
        lambda y: ops.sum(y, axis=0) + ops.max(y, axis=(0, 1)) - ops.min(y), "reduce"),
}


@pytest.mark.parametrize("case", sorted(MODELS))
def test_operation_matches_keras(case):
    check_typed(MODELS[case]())


def test_argmax_keeps_keras_int32():
    """Keras's argmax is int32, the IR's int64: the graph casts it, so its output has Keras's dtype."""
    graph = check_typed(MODELS["last-kept-position"]())
    assert [node.op for node in graph.nodes][-2:] == ["argmax", "cast"]
    assert graph.outputs[0].dtype == "int32"


def test_unknown_sizes_get_names_of_their_own():
    graph = capture(MODELS["positions-of-kept-ids"]())
    assert graph.inputs[0].shape == ("N", "ids_1") and graph.inputs[0].dtype == "int64"
