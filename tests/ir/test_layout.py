"""Layout arithmetic: 'same' padding, kernel layouts, perms, flatten re-folding."""
from __future__ import annotations

import numpy as np
import pytest

import interlayer
from conformance.cases import CASES
from interlayer.ir import layout
from support import assert_equivalent, random_inputs


@pytest.mark.parametrize("size, kernel, stride, dilation, expected", [
    (5, 3, 1, 1, (1, 1)),
    (5, 4, 1, 1, (1, 2)),   # even kernel: the odd pad goes at the end
    (6, 4, 1, 1, (1, 2)),
    (8, 3, 2, 1, (0, 1)),   # stride 2: asymmetric
    (7, 3, 2, 1, (1, 1)),
    (7, 1, 2, 1, (0, 0)),
    (9, 3, 1, 2, (2, 2)),
])
def test_same_pads_match_tensorflow_rule(size, kernel, stride, dilation, expected):
    assert layout.same_pads(size, kernel, stride, dilation) == expected


def test_kernel_layouts_are_inverse():
    weight = np.random.default_rng(0).standard_normal((6, 3, 5, 4)).astype(np.float32)
    hwio = layout.kernel_to_channels_last(weight)
    assert hwio.shape == (5, 4, 3, 6)
    assert hwio[2, 1, 0, 5] == weight[5, 0, 2, 1]
    assert np.array_equal(layout.kernel_to_channels_first(hwio), weight)


def test_perm_compose_and_invert():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    last, first = layout.channels_last(4), layout.channels_first(4)
    assert np.array_equal(x.transpose(last).transpose(first), x)
    assert layout.compose(last, first) == (0, 1, 2, 3)
    assert layout.invert(last) == first
    p, q = (0, 3, 1, 2), (0, 2, 3, 1)
    assert np.array_equal(x.transpose(p).transpose(q), x.transpose(layout.compose(p, q)))


@pytest.mark.parametrize("case", ["conv-flatten-linear", "conv-flatten-channels-last-linear"])
@pytest.mark.parametrize("order", ["channels_first", "channels_last"])
def test_refold_flatten_is_exact_and_reversible(case, order):
    graph = CASES[case]()
    inputs = random_inputs(graph)
    folded = layout.refold_flatten(graph, order)
    flatten = next(n for n in folded.nodes if n.op == "flatten")
    assert flatten.attrs["order"] == order
    assert_equivalent(list(interlayer.run(folded, inputs).values())[0], list(interlayer.run(graph, inputs).values())[0])
    original_order = next(n for n in graph.nodes if n.op == "flatten").attrs.get("order", "channels_first")
    back = layout.refold_flatten(folded, original_order)
    for before, after in zip(graph.nodes, back.nodes):
        for name, array in before.weights.items():
            assert np.array_equal(after.weights[name], array), "refolding twice must restore every weight bit for bit"


def test_refold_leaves_a_flatten_that_is_an_output():
    graph = CASES["flatten-output"]()
    assert layout.refold_flatten(graph, "channels_last") is graph
