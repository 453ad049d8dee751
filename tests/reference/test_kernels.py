"""The reference interpreter on hand-computed cases (no framework involved)."""
from __future__ import annotations

import numpy as np
import pytest

import interlayer
from interlayer.errors import ValidationError
from interlayer.ir import ops
from interlayer.reference import KERNELS
from support import chain_graph, single_op_graph


def _run(graph, *inputs):
    return list(interlayer.run(graph, list(inputs)).values())[0]


def test_every_op_has_a_kernel():
    from interlayer.reference import load_kernels

    load_kernels()
    assert sorted(KERNELS) == sorted(ops.OPS)


def test_conv_is_cross_correlation_with_explicit_pads():
    graph = single_op_graph("conv", {"in_channels": 1, "out_channels": 1, "kernel_size": [2], "pads": [1, 0]},
                            [(1, 1, 3)])
    graph.nodes[0].weights = {"weight": np.array([[[1.0, 10.0]]], np.float32), "bias": np.array([0.5], np.float32)}
    # padded input [0, 1, 2, 3]: windows (0,1) (1,2) (2,3)
    assert _run(graph, np.array([[[1.0, 2.0, 3.0]]], np.float32)).tolist() == [[[10.5, 21.5, 32.5]]]


@pytest.mark.parametrize("include, expected", [(True, [1 / 2, 5 / 2, 4 / 2]), (False, [1.0, 5 / 2, 4.0])],
                         ids=["count-include-pad", "exclude-pad"])
def test_avg_pool_divisor(include, expected):
    # padded [0, 1, 2, 3, 4, 0], windows (0, 1) (2, 3) (4, 0): the padding counts only when included
    graph = single_op_graph("avg_pool", {"kernel_size": [2], "strides": [2], "pads": [1, 1],
                                         "count_include_pad": include}, [(1, 1, 4)])
    np.testing.assert_allclose(_run(graph, np.array([[[1.0, 2.0, 3.0, 4.0]]], np.float32))[0, 0], expected)


def test_avg_pool_ceil_overflow_never_counts():
    graph = single_op_graph("avg_pool", {"kernel_size": [2], "strides": [2], "ceil_mode": True,
                                         "count_include_pad": True}, [(1, 1, 5)])
    out = _run(graph, np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]], np.float32))
    np.testing.assert_allclose(out[0, 0], [1.5, 3.5, 5.0])


def test_max_pool_padding_never_wins():
    graph = single_op_graph("max_pool", {"kernel_size": [3], "strides": [1], "pads": [1, 1]}, [(1, 1, 3)])
    assert _run(graph, np.array([[[-3.0, -2.0, -1.0]]], np.float32)).tolist() == [[[-2.0, -1.0, -1.0]]]


def test_flatten_orders():
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)
    first = single_op_graph("flatten", {}, [x.shape])
    last = single_op_graph("flatten", {"order": "channels_last"}, [x.shape])
    assert _run(first, x).tolist() == [list(range(12))]
    assert _run(last, x).tolist() == [x.transpose(0, 2, 3, 1).reshape(-1).tolist()]


def test_pad_negative_crops():
    graph = single_op_graph("pad", {"pads": [-1, 2]}, [(1, 1, 3)])
    assert _run(graph, np.array([[[1.0, 2.0, 3.0]]], np.float32)).tolist() == [[[2.0, 3.0, 0.0, 0.0]]]


@pytest.mark.parametrize("op, attrs, x, expected", [
    ("relu", {}, [-1.0, 2.0], [0.0, 2.0]),
    ("clip", {"min": 0.0, "max": 6.0}, [-1.0, 7.0], [0.0, 6.0]),
    ("leaky_relu", {"alpha": 0.2}, [-1.0, 2.0], [-0.2, 2.0]),
    ("elu", {"alpha": 2.0}, [-1.0, 2.0], [2.0 * (np.exp(-1.0) - 1.0), 2.0]),
    ("hard_sigmoid", {}, [-4.0, 0.0, 1.5, 4.0], [0.0, 0.5, 0.75, 1.0]),
    ("hard_swish", {}, [-4.0, 1.5, 4.0], [0.0, 1.125, 4.0]),
    ("gelu", {}, [1.0], [0.8413447460685429]),
    ("gelu", {"approximate": "tanh"}, [1.0], [0.8411919906082768]),
    ("silu", {}, [1.0], [0.7310585786300049]),
    ("softmax", {"axis": 1}, [0.0, np.log(3.0)], [0.25, 0.75]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_activation_values(op, attrs, x, expected):
    graph = single_op_graph(op, attrs, [(1, len(x))])
    np.testing.assert_allclose(_run(graph, np.array([x], np.float32))[0], expected, rtol=1e-6, atol=1e-7)


def test_batch_norm_formula():
    graph = single_op_graph("batch_norm", {"num_features": 2, "epsilon": 0.5}, [(1, 2)])
    graph.nodes[0].weights = {name: np.array(v, np.float32) for name, v in
                              {"scale": [2.0, 3.0], "offset": [1.0, -1.0], "mean": [1.0, 0.0],
                               "variance": [3.5, 0.5]}.items()}
    np.testing.assert_allclose(_run(graph, np.array([[5.0, 2.0]], np.float32))[0], [5.0, 5.0])


def test_inputs_by_name_position_or_single_array():
    graph = chain_graph([("relu", {})], (1, 3))
    x = np.array([[-1.0, 0.0, 1.0]], np.float32)
    for inputs in ({"x": x}, [x], x):
        assert list(interlayer.run(graph, inputs).values())[0].tolist() == [[0.0, 0.0, 1.0]]


def test_batch_is_symbolic():
    graph = chain_graph([("linear", {"in_features": 3, "out_features": 2})], (1, 3))
    assert _run(graph, np.ones((5, 3), np.float32)).shape == (5, 2)


def test_wrong_input_shape_is_a_clear_error():
    graph = chain_graph([("linear", {"in_features": 3, "out_features": 2})], (1, 3))
    with pytest.raises(ValidationError, match=r"input 'x' must have shape \['N', 3\]. Received: shape=\[2, 4\]"):
        interlayer.run(graph, np.ones((2, 4), np.float32))


def test_keep_all_returns_intermediates():
    graph = chain_graph([("relu", {}), ("tanh", {})], (1, 3))
    values = interlayer.run(graph, np.ones((1, 3), np.float32), keep_all=True)
    assert {"x", "relu_0", "tanh_1"} <= set(values)
