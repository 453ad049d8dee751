"""Every conformance case built as ONNX passes ``onnx.checker.check_model(full_check=True)`` (strict shape
inference included) at the default opset and the newest one, and its initializers are exactly the weights it
reads."""
from __future__ import annotations

import onnx
import pytest

from conformance.cases import CASES
from interlayer.backends.onnx.build import DEFAULT_OPSET, OPSETS, build


@pytest.mark.parametrize("opset", sorted({DEFAULT_OPSET, OPSETS[-1]}))
@pytest.mark.parametrize("case", sorted(CASES))
def test_conformance_case_passes_the_full_checker(case, opset):
    graph = CASES[case]()
    model = build(graph, opset=opset, check=False)
    onnx.checker.check_model(model, full_check=True)
    assert [entry.version for entry in model.opset_import] == [opset]
    read = {name for node in model.graph.node for name in node.input}
    unused = [tensor.name for tensor in model.graph.initializer if tensor.name not in read]
    assert not unused, f"{case}: initializers no node reads: {unused}"
    assert [value.name for value in model.graph.output] == [spec.name for spec in graph.outputs]
    assert [value.name for value in model.graph.input] == [spec.name for spec in graph.inputs]
