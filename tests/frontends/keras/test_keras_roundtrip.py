"""Every layer case of test_keras_layers through the backends: Keras -> IR -> Keras reproduces the source within
float rounding, and the rebuilt model (interlayer's own Keras layers included) is captured again to a graph that
computes the same; Keras -> IR -> PyTorch is within 1e-5."""
from __future__ import annotations

import numpy as np
import pytest

import interlayer
from interlayer.execute import predict
from interlayer.tolerance import relative_error
from interlayer.frontends.keras import capture

from keras_helpers import keras_outputs, native_inputs, randomize, reference_outputs
from test_keras_layers import MODELS

KERAS_RTOL = 1e-6  # the same Keras layers on the same weights: float rounding only


def _captured(case: str):
    """The case's graph, canonical inputs and the Keras source's (canonical) outputs."""
    source = randomize(MODELS[case]())
    graph = capture(source)
    canonical = [x if spec.perm is None else np.transpose(x, np.argsort(spec.perm))
                 for x, spec in zip(native_inputs(source), graph.inputs)]
    return graph, canonical, predict(source, canonical, graph)


@pytest.mark.parametrize("case", sorted(MODELS))
def test_keras_to_keras_and_back(case):
    graph, canonical, expected = _captured(case)
    rebuilt = interlayer.build(graph, "keras")
    actual = predict(rebuilt, canonical)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert relative_error(got, want) <= KERAS_RTOL, f"{case} output {index}: {relative_error(got, want):.2e}"
    # the rebuilt model holds its inputs its own way: compare it and its new graph on its own native inputs
    perms = rebuilt._interlayer_perms["inputs"]
    native = [x if perm is None else np.transpose(x, perm) for x, perm in zip(canonical, perms)]
    again = capture(rebuilt)
    for index, (got, want) in enumerate(zip(reference_outputs(again, native), keras_outputs(rebuilt, native))):
        assert relative_error(got, want) <= 1e-5, f"{case} recaptured output {index}: {relative_error(got, want):.2e}"


@pytest.mark.parametrize("case", sorted(MODELS))
def test_keras_to_torch(case):
    graph, canonical, expected = _captured(case)
    actual = predict(interlayer.build(graph, "torch"), canonical)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert relative_error(got, want) <= 1e-5, f"{case} output {index}: {relative_error(got, want):.2e}"
