"""The conformance suite at the newest opset the backend writes (native Gelu, Mish, GroupNormalization, ReduceMean
axes as an input): every case matches the reference like the default opset does in tests/conformance."""
from __future__ import annotations

import pytest

import interlayer
from conformance.cases import CASES
from interlayer.backends.onnx import predict
from interlayer.backends.onnx.build import OPSETS
from support import assert_equivalent, random_inputs

NEWEST = OPSETS[-1]


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_matches_reference_at_newest_opset(case):
    graph = CASES[case]()
    inputs = random_inputs(graph)
    expected = list(interlayer.run(graph, inputs).values())
    actual = predict(interlayer.build(graph, "onnx", opset=NEWEST), inputs)
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"onnx opset {NEWEST} {case} output {index}")


@pytest.mark.parametrize("case, op_type", [("act-gelu-none", "Gelu"), ("act-gelu-tanh", "Gelu"),
                                           ("act-mish", "Mish"), ("group_norm", "GroupNormalization"),
                                           ("pad2d-wrap-asymmetric", "Pad"), ("pad3d-wrap-symmetric", "Pad")])
def test_newest_opset_uses_the_native_operator(case, op_type):
    newest = interlayer.build(CASES[case](), "onnx", opset=NEWEST)
    default = interlayer.build(CASES[case](), "onnx")
    assert op_type in {node.op_type for node in newest.graph.node}
    assert op_type not in {node.op_type for node in default.graph.node}
