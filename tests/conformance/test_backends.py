"""Every backend builds every conformance case and matches the reference interpreter."""
from __future__ import annotations

import importlib

import numpy as np
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


SIZES = [{"batch": 2, "length": 5}, {"batch": 3, "length": 7, "seed": 2}]
"""the sizes every case runs at; a case with sizes kept symbolic runs at both"""


def symbolic(graph) -> bool:
    """Whether the graph keeps a size open besides the batch: a size name in an input, or an expression in an
    attribute (such a case runs at two sets of sizes)."""
    from interlayer.ir import ops

    if any(isinstance(d, str) and d != "N" for spec in graph.inputs for d in spec.shape):
        return True
    for node in graph.nodes:
        schema = ops.get(node.op)
        attrs = schema.fill(node.attrs)
        for attr in schema.attrs:
            values = attrs[attr.name] if attr.kind == "dims" else [attrs[attr.name]] if attr.kind == "dim" else []
            if any(isinstance(d, str) and d != "N" for d in values):
                return True
    return False


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_matches_reference(backend, case):
    if (backend, case) in SKIPS:
        pytest.skip(SKIPS[backend, case])
    graph = CASES[case]()
    model = interlayer.build(graph, backend)
    predict = importlib.import_module(f"interlayer.backends.{backend}").predict
    for sizes in SIZES if symbolic(graph) else SIZES[:1]:
        inputs = random_inputs(graph, **sizes)
        expected = list(interlayer.run(graph, inputs).values())
        actual = predict(model, inputs)
        assert len(actual) == len(expected)
        for index, (got, want) in enumerate(zip(actual, expected)):
            assert np.shape(got) == np.shape(want), f"{backend} {case} output {index} at {sizes}"
            if np.asarray(want).dtype.kind in "biu":
                np.testing.assert_array_equal(got, want, err_msg=f"{backend} {case} output {index} at {sizes}")
            else:
                assert_equivalent(got, want, what=f"{backend} {case} output {index} at {sizes}")
