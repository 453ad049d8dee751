"""Helpers of the torch backend tests."""
from __future__ import annotations

import interlayer
from interlayer.backends.torch import build, predict
from support import assert_equivalent, random_inputs, single_op_graph


def check_built_layers(op: str, attrs: dict, shape: tuple, layers: list[type]) -> None:
    """One node of ``op`` builds as exactly ``layers`` (in order) and matches the reference interpreter."""
    graph = single_op_graph(op, attrs, [shape])
    inputs = random_inputs(graph)
    model = build(graph)
    assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)[op], what=op)
    assert [type(m) for _, m in model.named_children()] == layers
