"""torch.maximum / torch.minimum and their Tensor methods: captured graph == torch."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from torch_frontend_support import Fn, Fn2, check_capture

CASES = [
    pytest.param(lambda: Fn2(lambda m, x, y: torch.maximum(x, y)), [(1, 3, 4, 4), (1, 3, 4, 4)], "maximum",
                 id="torch.maximum"),
    pytest.param(lambda: Fn2(lambda m, x, y: torch.minimum(x, y)), [(1, 3, 4, 4), (1, 3, 4, 4)], "minimum",
                 id="torch.minimum"),
    pytest.param(lambda: Fn2(lambda m, x, y: x.maximum(y)), [(1, 5), (1, 5)], "maximum", id="Tensor.maximum"),
    pytest.param(lambda: Fn2(lambda m, x, y: x.minimum(y)), [(1, 5), (1, 5)], "minimum", id="Tensor.minimum"),
    pytest.param(lambda: Fn2(lambda m, x, y: torch.maximum(x, y)), [(1, 3, 4, 4), (1, 3, 1, 1)], "maximum",
                 id="torch.maximum-broadcast"),
    pytest.param(lambda: Fn(lambda m, x: torch.minimum(m.layers[0](x), x), nn.Conv2d(3, 3, 3, padding=1)),
                 [(1, 3, 5, 5)], "minimum", id="torch.minimum-of-conv-and-input"),
]


@pytest.mark.parametrize("make, shapes, op", CASES)
def test_extremum_matches_torch(make, shapes, op):
    graph = check_capture(make(), [torch.zeros(shape) for shape in shapes])
    assert op in [node.op for node in graph.nodes]


def test_operand_of_another_rank_is_broadcast():
    """The concrete tracer refused an operand of another rank; it is reshaped to the same rank first."""
    graph = check_capture(Fn(lambda m, x: torch.maximum(x, torch.full((3,), 0.25))), [torch.zeros(1, 3)])
    assert [node.op for node in graph.nodes] == ["constant", "reshape", "maximum"]
    assert graph.nodes[1].attrs["shape"] == [1, 3]


def test_operands_of_two_dtypes_compute_in_the_promoted_one():
    graph = check_capture(Fn2(lambda m, x, y: torch.minimum(x > 0, y)), [torch.zeros(1, 3), torch.zeros(1, 3)])
    assert [node.op for node in graph.nodes] == ["greater", "cast", "minimum"]
    assert graph.nodes[1].attrs == {"dtype": "float32"}
