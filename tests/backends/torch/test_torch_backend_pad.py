"""pad of the last len(pads) / 2 axes at any rank: PyTorch's padding modules by the number of padded axes; the
modes that copy values (which read one or two axes in front of the padded ones) with further leading axes
flattened around them, or a missing one added."""
from __future__ import annotations

import pytest
from torch import nn

import interlayer
from interlayer.backends.torch import build, predict
from support import assert_equivalent, random_inputs, typed_graph


@pytest.mark.parametrize("shape, pads, mode, layer, reshaped", [
    pytest.param(("N", "T", 6), [1, 2], "constant", nn.ZeroPad1d, False, id="constant-last-axis"),
    pytest.param(("N", "T", 6), [0, 1, 2, 0], "constant", nn.ZeroPad2d, False, id="constant-two-axes"),
    pytest.param(("N", "T", 6), [1, 2], "reflect", nn.ReflectionPad1d, False, id="reflect-sequence"),
    pytest.param(("N", 2, "T", 6), [1, 2], "edge", nn.ReplicationPad1d, True, id="edge-rank-4-one-axis"),
    pytest.param((6,), [2, 1], "wrap", nn.CircularPad1d, True, id="wrap-rank-1"),
    pytest.param(("N", 2, 3, "T", 6), [1, 1, 1, 1, 0, 2], "edge", nn.ReplicationPad3d, False, id="edge-3-axes"),
])
def test_pad_of_the_last_axes(shape, pads, mode, layer, reshaped):
    graph = typed_graph([("x", shape, "float32")], [("out", "pad", ["x"], {"pads": pads, "mode": mode})], ["out"])
    model = build(graph)
    assert [type(m) for m in model.children()] == [layer]
    assert ("flatten" in model.code or "unsqueeze" in model.code) == reshaped
    for sizes in ({"batch": 2, "length": 5}, {"batch": 3, "length": 7}):
        inputs = random_inputs(graph, **sizes)
        assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)["out"], what=f"at {sizes}")
