"""interlayer's AveragePooling layer beyond the conformance cases: spatial sizes known only when the model runs
(its divisors then pooled from ones, ceil_mode's overflow computed from the run's sizes), its config, and the
windows it refuses."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import interlayer
from interlayer.backends.keras import build
from interlayer.backends.keras.layers import AveragePooling
from interlayer.ir import ops
from interlayer.ir.graph import Graph, Node, TensorSpec
from support import assert_equivalent

DYNAMIC = {  # (kernel, strides, pads, ceil_mode, count_include_pad) over a map of unknown spatial sizes
    "1d-stride2-ceil-include": ([3], [2], [1, 0], True, True),
    "2d-stride2-ceil-exclude": ([3, 2], [2, 2], [1, 1, 0, 1], True, False),
    "2d-stride1-asymmetric-exclude": ([3, 3], [1, 1], [1, 0, 0, 1], False, False),
    "3d-stride2-symmetric-include-ceil": ([3, 2, 3], [2, 2, 2], [1, 1, 1, 1, 1, 1], True, True),
}
SIZES = {1: [(9,), (8,)], 2: [(9, 6), (8, 5)], 3: [(7, 6, 5), (6, 5, 4)]}


def dynamic_graph(kernel, strides, pads, ceil_mode, include) -> Graph:
    attrs = ops.get("avg_pool").fill({"kernel_size": kernel, "strides": strides, "pads": pads, "ceil_mode": ceil_mode,
                                      "count_include_pad": include})
    spatial = ("H", "W", "D")[:len(kernel)]
    graph = Graph([Node("pool", "avg_pool", ["x"], ["pool"], attrs, {})], [TensorSpec("x", ("N", 3, *spatial))],
                  [TensorSpec("pool", ())], name="pool")
    graph.outputs[0].shape = graph.shapes()["pool"]
    return graph


@pytest.mark.parametrize("case", sorted(DYNAMIC))
def test_sizes_known_only_when_the_model_runs(case):
    graph = dynamic_graph(*DYNAMIC[case])
    model = build(graph)
    assert [type(layer) for layer in model.layers[1:]] == [AveragePooling]
    rank = len(model.inputs[0].shape) - 2
    assert model.inputs[0].shape[1:-1] == (None,) * rank
    perm = (0, *range(2, rank + 2), 1)
    run = tf.function(model, input_signature=[tf.TensorSpec((None,) * (rank + 1) + (3,))])  # sizes unknown: None
    for sizes in SIZES[rank]:
        x = np.random.default_rng(sum(sizes)).standard_normal((2, 3, *sizes)).astype(np.float32)
        expected = interlayer.run(graph, [x])["pool"]
        actual = np.transpose(run(np.transpose(x, perm)).numpy(), np.argsort(perm))
        assert_equivalent(actual, expected, what=f"{case} at sizes {sizes}")


def test_config_round_trip():
    layer = AveragePooling((3, 2), strides=(2, 1), padding=[(1, 0), (0, 1)], count_include_pad=True, ceil_mode=True)
    config = layer.get_config()
    again = AveragePooling.from_config(config)
    assert again.get_config() == config
    assert (again.pool_size, again.strides, again.padding) == ((3, 2), (2, 1), ((1, 0), (0, 1)))
    assert again.count_include_pad and again.ceil_mode


@pytest.mark.parametrize("kwargs, message", [
    ({"pool_size": (3,), "padding": [(2, 0)]}, "padding from 0 to half the window"),
    ({"pool_size": (3,), "strides": (0,)}, "strides >= 1"),
    ({"pool_size": (3, 3), "padding": [(1, 1)]}, "one length from 1 to 3"),
    ({"pool_size": (2, 2, 2, 2)}, "one length from 1 to 3"),
], ids=["padding-over-half", "stride-0", "padding-for-one-axis", "4d"])
def test_windows_it_refuses(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AveragePooling(**kwargs)
