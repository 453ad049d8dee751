"""The onnx package's own test models, read by the ONNX frontend: ONNX -> IR -> reference interpreter, and the graph
built by each backend, must reproduce the outputs stored beside each model.

Every case directory of ``onnx/backend/test/data/{pytorch-converted,pytorch-operator,simple}`` (``model.onnx`` and
``test_data_set_0/{input,output}_*.pb``) and every model-zoo file of ``light/`` (``light_<name>.onnx`` and
``light_<name>_output_0.pb``, whose input is ``arange(n) / n`` as onnx's backend runner makes it) is a case.
``real/`` holds only download pointers to the ``light/`` files and is not a case directory.

Tolerance: 1e-5 relative to the largest expected magnitude everywhere. The stored outputs were computed in float32
by PyTorch, Caffe2 or onnxruntime; the reference interpreter computes in float64 and the backends in float32, and
every case stays within 4e-7 of them. A NaN expected (Pow of a negative base) must be a NaN at the same place.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import interlayer
from interlayer.errors import InterlayerError
from interlayer.frontends.onnx.files import load_model
from support import assert_equivalent

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
DIRECTORIES = ("pytorch-converted", "pytorch-operator", "simple")
BACKENDS = ("torch", "keras")
RTOL = 1e-5

_SEQUENCES = "sequence types: the IR's values are tensors (SequenceConstruct/SequenceInsert/SplitToSequence)"
_STRINGS = "string tensors: the IR's values are numbers (StringNormalizer)"
_FLOAT64_GARBAGE = ("its float64 inputs are uninitialised memory, values from 1e-316 to 1e+223 outside float32's "
                    "range; the backends compute in float32 (the reference interpreter, in float64, matches)")

# The one skip list: "<directory>/<case>" skips the case, "<directory>/<case>@<backend>" its build in that backend.
# Reasons are what the IR or the backend lacks; a skipped case is still converted in test_reference and must still
# be refused, so that an entry cannot outlive its reason.
SKIPS: dict[str, str] = {
    # the IR lacks the types
    **{f"simple/test_sequence_model{k}": _SEQUENCES for k in range(1, 9)},
    **{f"simple/test_strnorm_model_{name}": _STRINGS for name in (
        "monday_casesensintive_lower", "monday_casesensintive_nochangecase", "monday_casesensintive_upper",
        "monday_empty_output", "monday_insensintive_upper_twodim", "nostopwords_nochangecase")},
    "simple/test_gradient_of_add": "scalar graph inputs (no batch axis) and the training-domain Gradient op",
    "simple/test_gradient_of_add_and_mul": "scalar graph inputs (no batch axis) and the training-domain Gradient op",
    **{f"simple/test_expand_shape_model{k}": ("Expand to a shape given as a graph input: the IR's sizes are read "
                                              "from the inputs' shapes, not from their values")
       for k in range(1, 5)},
    # a backend lacks what the case needs
    "pytorch-converted/test_MaxPool1d_stride_padding_dilation@keras": "Keras pooling has no dilation",
    "pytorch-converted/test_MaxPool2d_stride_padding_dilation@keras": "Keras pooling has no dilation",
    "light/light_squeezenet@keras": ("the model's constant weights make logits of 9.5e9 whose float32 rounding "
                                     "(1024 at that size) in Keras's summation order decides the softmax; the "
                                     "reference and the PyTorch build agree with onnxruntime"),
    "pytorch-operator/test_operator_addconstant@torch": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_addconstant@keras": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_add_size1_broadcast@torch": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_add_size1_broadcast@keras": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_add_size1_singleton_broadcast@torch": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_add_size1_singleton_broadcast@keras": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_add_broadcast@torch": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_add_broadcast@keras": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_add_size1_right_broadcast@torch": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_add_size1_right_broadcast@keras": _FLOAT64_GARBAGE,
    "pytorch-operator/test_operator_chunk@keras": ("a split of axis 0, the batch axis Keras leaves open (None): "
                                                   "Keras's shape inference of the backend's Split layer fails"),
}

SLOW_REFERENCE = {"light/light_densenet121", "light/light_vgg19"}
"""Cases whose reference run takes longer than a few seconds (hundreds of convolutions at 224x224 in numpy)."""
SLOW_BUILD = {"light/light_densenet121", "light/light_vgg19", "light/light_resnet50", "light/light_inception_v2"}
"""Cases whose backend builds take longer than a few seconds."""


def _cases() -> dict[str, tuple[Path, list[Path] | None, list[Path]]]:
    """case id -> (model file, input files or None for the light models' arange input, expected output files)."""
    found = {}
    for directory in DIRECTORIES:
        for case in sorted((DATA / directory).iterdir()):
            data = case / "test_data_set_0"
            found[f"{directory}/{case.name}"] = (case / "model.onnx", sorted(data.glob("input_*.pb")),
                                                 sorted(data.glob("output_*.pb")))
    for path in sorted((DATA / "light").glob("light_*.onnx")):
        found[f"light/{path.stem}"] = (path, None, [path.with_name(f"{path.stem}_output_0.pb")])
    return found


CASES = _cases()


def _read(path: Path) -> np.ndarray:
    return np.array(numpy_helper.to_array(onnx.TensorProto.FromString(path.read_bytes())))  # a writable copy


def _inputs(model: onnx.ModelProto, files: list[Path] | None) -> list[np.ndarray]:
    if files is not None:
        return [_read(path) for path in files]
    initializers = {i.name for i in model.graph.initializer}
    arrays = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in value.type.tensor_type.shape.dim)
        arrays.append((np.arange(int(np.prod(shape))).reshape(shape) / np.prod(shape)).astype(np.float32))
    return arrays


def _assert_outputs(actual: list, expected: list[np.ndarray], what: str) -> None:
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
    for index, (got, want) in enumerate(zip(actual, expected)):
        got = np.asarray(got, np.float64)
        holes = np.isnan(want)
        assert np.array_equal(np.isnan(got), holes), f"{what} output {index}: NaNs differ"
        assert_equivalent(np.where(holes, 0.0, got), np.where(holes, 0.0, want), rtol=RTOL,
                          what=f"{what} output {index}")


def _params(backend: str | None = None):
    for case in CASES:
        marks = []
        slow = SLOW_REFERENCE if backend is None else SLOW_BUILD
        if case in slow:
            marks.append(pytest.mark.slow)
        yield pytest.param(case, id=case, marks=marks)


@pytest.mark.parametrize("case", _params())
def test_reference(case):
    path, input_files, output_files = CASES[case]
    if case in SKIPS:
        with pytest.raises(InterlayerError):
            interlayer.export(load_model(path))
        pytest.skip(SKIPS[case])
    model = load_model(path)
    graph = interlayer.export(model)
    with np.errstate(invalid="ignore"):  # Pow of a negative base: NaN, as expected
        actual = list(interlayer.run(graph, _inputs(model, input_files)).values())
    _assert_outputs(actual, [_read(p) for p in output_files], f"reference {case}")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", _params("build"))
def test_backend(case, backend):
    reason = SKIPS.get(case) or SKIPS.get(f"{case}@{backend}")
    if reason:
        pytest.skip(reason)
    path, input_files, output_files = CASES[case]
    model = load_model(path)
    built = interlayer.build(interlayer.export(model), backend)
    predict = importlib.import_module(f"interlayer.backends.{backend}").predict if backend == "torch" else \
        importlib.import_module("interlayer.execute").predict
    actual = predict(built, _inputs(model, input_files))
    _assert_outputs(actual, [_read(p) for p in output_files], f"{backend} {case}")


def test_skips_name_existing_cases_and_backends():
    stale = []
    for key in SKIPS:
        case, _, backend = key.partition("@")
        if case not in CASES or (backend and backend not in BACKENDS):
            stale.append(key)
    assert not stale, f"SKIPS entries without a case: {stale}"


def test_every_directory_has_cases():
    for directory in (*DIRECTORIES, "light"):
        assert any(case.startswith(f"{directory}/") for case in CASES), directory
