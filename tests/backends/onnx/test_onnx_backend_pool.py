"""Native ONNX pooling against the reference over a grid of small windows: explicit begin/end pads, strides,
dilations, ceil_mode and count_include_pad. This is the evidence behind backends/onnx/pool.py's claim that
onnxruntime's MaxPool and AveragePool compute the IR's windows and divisors exactly."""
from __future__ import annotations

import itertools

import pytest

import interlayer
from interlayer.backends.onnx import predict
from support import assert_equivalent, random_inputs, single_op_graph


def _grid(op: str):
    extra = (("dilations", (1, 2)),) if op == "max_pool" else (("count_include_pad", (False, True)),)
    name, choices = extra[0]
    for n, k, s, pads, ceil, option in itertools.product((5, 6), (2, 3), (1, 2, 3), ((0, 0), (1, 0), (0, 1), (1, 1)),
                                                         (False, True), choices):
        span = (k - 1) * (option if name == "dilations" else 1) + 1
        if 2 * max(pads) > k * (option if name == "dilations" else 1) or n + sum(pads) < span:
            continue
        attrs = {"kernel_size": [k], "strides": [s], "pads": list(pads), "ceil_mode": ceil, name: [option] if
                 name == "dilations" else option}
        label = f"{op}-n{n}-k{k}-s{s}-p{pads[0]}{pads[1]}-{'ceil' if ceil else 'floor'}-{name}{int(option)}"
        yield pytest.param(op, attrs, (2, 3, n), id=label)


_2D = [
    pytest.param("max_pool", {"kernel_size": [3, 2], "strides": [2, 3], "pads": [1, 0, 0, 1], "ceil_mode": True},
                 (2, 3, 7, 8), id="max_pool2d-asymmetric-ceil"),
    pytest.param("avg_pool", {"kernel_size": [3, 3], "strides": [2, 2], "pads": [0, 1, 1, 0], "ceil_mode": True,
                              "count_include_pad": True}, (2, 3, 8, 7), id="avg_pool2d-asymmetric-ceil-include"),
    pytest.param("avg_pool", {"kernel_size": [2, 3], "strides": [3, 2], "pads": [1, 1, 0, 1], "ceil_mode": True,
                              "count_include_pad": False}, (2, 3, 7, 9), id="avg_pool2d-asymmetric-ceil-exclude"),
]


@pytest.mark.parametrize("op, attrs, shape", [*_grid("max_pool"), *_grid("avg_pool"), *_2D])
def test_pooling_matches_reference(op, attrs, shape):
    graph = single_op_graph(op, attrs, [shape])
    inputs = random_inputs(graph)
    expected = interlayer.run(graph, inputs)[op]
    assert_equivalent(predict(interlayer.build(graph, "onnx"), inputs)[0], expected, what=op)
