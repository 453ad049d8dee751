"""Every backend builds every conformance case and matches the reference interpreter."""
from __future__ import annotations

import importlib

import pytest

import interlayer
from support import assert_equivalent, random_inputs

from .cases import CASES

BACKENDS = ("torch", "keras", "onnx")

# The one skip list: (backend, case) -> why the backend cannot express the case exactly.
SKIPS: dict[tuple[str, str], str] = {
    ("keras", "conv_transpose2d-dilation"): "Keras's Conv2DTranspose with dilation_rate > 1 fails on TensorFlow's CPU",
    ("torch", "gru-reset-before"): "PyTorch has no GRU with reset_after=False (the build refuses: test_recurrent_models)",
    ("torch", "gru-reset-before-bidirectional"): "PyTorch has no GRU with reset_after=False (as above)",
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_matches_reference(backend, case):
    if (backend, case) in SKIPS:
        pytest.skip(SKIPS[backend, case])
    graph = CASES[case]()
    inputs = random_inputs(graph)
    expected = list(interlayer.run(graph, inputs).values())
    model = interlayer.build(graph, backend)
    actual = importlib.import_module(f"interlayer.backends.{backend}").predict(model, inputs)
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"{backend} {case} output {index}")
