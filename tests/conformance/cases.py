"""The conformance suite: small IR graphs that every backend must build and run like the reference.

Each case is a function returning a Graph with seeded random weights. Ids are readable and stable.
"""
from __future__ import annotations

from support import chain_graph, single_op_graph

CASES = {}


def case(name: str, graph_fn):
    """Add a case: ``graph_fn()`` returns the graph. Families add theirs in cases_<family>.py."""
    assert name not in CASES, name
    CASES[name] = graph_fn


def conv(in_c, out_c, k, **extra):
    return {"in_channels": in_c, "out_channels": out_c, "kernel_size": list(k), **extra}


# linear
case("linear", lambda: single_op_graph("linear", {"in_features": 7, "out_features": 5}, [(2, 7)]))
case("linear-no-bias", lambda: single_op_graph("linear", {"in_features": 7, "out_features": 5, "bias": False}, [(2, 7)]))
# conv 2-D
case("conv2d", lambda: single_op_graph("conv", conv(3, 4, (3, 3)), [(2, 3, 9, 8)]))
case("conv2d-stride-dilation", lambda: single_op_graph(
    "conv", conv(3, 4, (3, 2), strides=[2, 1], dilations=[1, 2]), [(2, 3, 11, 10)]))
case("conv2d-pads-symmetric", lambda: single_op_graph("conv", conv(3, 4, (3, 3), pads=[1, 1, 1, 1]), [(2, 3, 8, 8)]))
case("conv2d-pads-same-even-kernel", lambda: single_op_graph(
    "conv", conv(2, 3, (3, 4), pads=[1, 1, 1, 2]), [(2, 2, 5, 6)]))
case("conv2d-pads-asymmetric-stride", lambda: single_op_graph(
    "conv", conv(2, 3, (3, 3), strides=[2, 2], pads=[0, 0, 1, 1]), [(2, 2, 8, 8)]))
case("conv2d-groups", lambda: single_op_graph("conv", conv(4, 6, (3, 3), groups=2), [(2, 4, 7, 7)]))
case("conv2d-depthwise", lambda: single_op_graph("conv", conv(4, 4, (3, 3), groups=4, pads=[1, 1, 1, 1]), [(2, 4, 7, 7)]))
case("conv2d-no-bias", lambda: single_op_graph("conv", conv(3, 4, (1, 1), bias=False), [(2, 3, 5, 5)]))
# conv 1-D
case("conv1d", lambda: single_op_graph("conv", conv(3, 5, (3,), strides=[2], pads=[1, 1]), [(2, 3, 12)]))
case("conv1d-same-even", lambda: single_op_graph("conv", conv(3, 5, (4,), pads=[1, 2]), [(2, 3, 12)]))
# pooling
case("max_pool2d", lambda: single_op_graph("max_pool", {"kernel_size": [2, 2], "strides": [2, 2]}, [(2, 3, 8, 8)]))
case("max_pool2d-pads", lambda: single_op_graph(
    "max_pool", {"kernel_size": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, [(2, 3, 9, 9)]))
case("max_pool2d-same", lambda: single_op_graph(
    "max_pool", {"kernel_size": [2, 2], "strides": [2, 2], "pads": [0, 0, 1, 1]}, [(2, 3, 7, 7)]))
case("max_pool2d-ceil", lambda: single_op_graph(
    "max_pool", {"kernel_size": [3, 3], "strides": [2, 2], "ceil_mode": True}, [(2, 3, 8, 8)]))
case("max_pool1d", lambda: single_op_graph("max_pool", {"kernel_size": [3], "strides": [2]}, [(2, 3, 11)]))
# zeros padded in front of a max pool win over negative windows (onnxruntime must not fold them into its pads)
case("max_pool2d-after-zero-pad", lambda: chain_graph([
    ("pad", {"pads": [1, 1, 1, 1]}), ("max_pool", {"kernel_size": [3, 3], "strides": [2, 2]})], (2, 3, 8, 8)))
case("avg_pool2d", lambda: single_op_graph("avg_pool", {"kernel_size": [2, 2], "strides": [2, 2]}, [(2, 3, 8, 8)]))
case("avg_pool2d-pads-include", lambda: single_op_graph(
    "avg_pool", {"kernel_size": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": True},
    [(2, 3, 9, 9)]))
case("avg_pool2d-pads-exclude", lambda: single_op_graph(
    "avg_pool", {"kernel_size": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": False},
    [(2, 3, 9, 9)]))
case("avg_pool2d-same", lambda: single_op_graph(
    "avg_pool", {"kernel_size": [2, 2], "strides": [2, 2], "pads": [0, 0, 1, 1]}, [(2, 3, 7, 7)]))
case("avg_pool2d-ceil", lambda: single_op_graph(
    "avg_pool", {"kernel_size": [3, 3], "strides": [2, 2], "ceil_mode": True}, [(2, 3, 8, 8)]))
case("avg_pool1d", lambda: single_op_graph("avg_pool", {"kernel_size": [2], "strides": [2]}, [(2, 3, 10)]))
case("global_avg_pool", lambda: single_op_graph("global_avg_pool", {}, [(2, 3, 5, 6)]))
case("global_avg_pool-keepdims", lambda: single_op_graph("global_avg_pool", {"keepdims": True}, [(2, 3, 5, 6)]))
case("global_max_pool", lambda: single_op_graph("global_max_pool", {}, [(2, 3, 5, 6)]))
case("global_max_pool1d", lambda: single_op_graph("global_max_pool", {}, [(2, 3, 7)]))
# normalisation
case("batch_norm2d", lambda: single_op_graph("batch_norm", {"num_features": 3, "epsilon": 1e-3}, [(2, 3, 4, 5)]))
case("batch_norm1d", lambda: single_op_graph("batch_norm", {"num_features": 6}, [(2, 6)]))
case("batch_norm-no-affine", lambda: single_op_graph(
    "batch_norm", {"num_features": 3, "center": False, "scale": False}, [(2, 3, 4, 4)]))
# activations
for _name, _attrs in [
    ("relu", {}), ("sigmoid", {}), ("tanh", {}), ("silu", {}), ("hard_swish", {}), ("hard_sigmoid", {}),
    ("leaky_relu", {"alpha": 0.2}), ("elu", {"alpha": 0.7}), ("gelu", {"approximate": "none"}),
    ("gelu", {"approximate": "tanh"}), ("clip", {"min": 0.0, "max": 6.0}),
]:
    _id = _name + "".join(f"-{v}" for v in _attrs.values())
    case(f"act-{_id}", lambda n=_name, a=_attrs: single_op_graph(n, a, [(2, 3, 5, 5)]))
case("softmax-features", lambda: single_op_graph("softmax", {"axis": 1}, [(2, 7)]))
case("softmax-channels", lambda: single_op_graph("softmax", {"axis": 1}, [(2, 3, 4, 4)]))
# tensor ops
case("dropout", lambda: single_op_graph("dropout", {"rate": 0.3}, [(2, 3, 4, 4)]))
case("identity", lambda: single_op_graph("identity", {}, [(2, 5)]))
case("pad2d", lambda: single_op_graph("pad", {"pads": [1, 2, 0, 1]}, [(2, 3, 4, 4)]))
case("pad1d", lambda: single_op_graph("pad", {"pads": [2, 1]}, [(2, 3, 5)]))
case("flatten-output", lambda: single_op_graph("flatten", {}, [(2, 3, 4, 5)]))
case("flatten-channels-last-output", lambda: single_op_graph("flatten", {"order": "channels_last"}, [(2, 3, 4, 5)]))
case("reshape", lambda: single_op_graph("reshape", {"shape": ["N", 4, 3]}, [(2, 12)]))
case("reshape-symbolic-length", lambda: chain_graph([
    ("reshape", {"shape": ["N", "T", 4, 3]}), ("transpose", {"perm": [0, 2, 1, 3]}),
    ("reshape", {"shape": ["N", 1, 4, "T", 3]}), ("reshape", {"shape": ["N", 4, -1, "T"]})], ("N", "T", 12)))
case("add", lambda: single_op_graph("add", {}, [(2, 3, 4, 4), (2, 3, 4, 4)]))
case("add-features", lambda: single_op_graph("add", {}, [(2, 5), (2, 5), (2, 5)]))
case("concat-channels", lambda: single_op_graph("concat", {"axis": 1}, [(2, 3, 4, 4), (2, 2, 4, 4)]))
case("concat-width", lambda: single_op_graph("concat", {"axis": 3}, [(2, 3, 4, 4), (2, 3, 4, 2)]))
case("concat-features", lambda: single_op_graph("concat", {"axis": 1}, [(2, 3), (2, 4)]))
# small networks: the layout has to flow through several ops
case("conv-flatten-linear", lambda: chain_graph([
    ("conv", conv(2, 4, (3, 3))), ("relu", {}), ("flatten", {}),
    ("linear", {"in_features": 4 * 5 * 4, "out_features": 6})], (2, 2, 7, 6)))
case("conv-flatten-channels-last-linear", lambda: chain_graph([
    ("conv", conv(2, 4, (3, 3))), ("flatten", {"order": "channels_last"}),
    ("linear", {"in_features": 4 * 5 * 4, "out_features": 6})], (2, 2, 7, 6)))
case("linear-reshape-transpose-conv", lambda: chain_graph([
    ("linear", {"in_features": 6, "out_features": 48}), ("reshape", {"shape": ["N", 4, 4, 3]}),
    ("transpose", {"perm": [0, 3, 1, 2]}), ("conv", conv(3, 2, (3, 3), pads=[1, 1, 1, 1])), ("tanh", {})],
    (2, 6)))
case("conv-softmax-channels", lambda: chain_graph([
    ("conv", conv(3, 4, (3, 3))), ("softmax", {"axis": 1})], (2, 3, 6, 6)))
case("conv-pool-bn-global", lambda: chain_graph([
    ("conv", conv(3, 8, (3, 3), pads=[1, 1, 1, 1])), ("batch_norm", {"num_features": 8}), ("relu", {}),
    ("max_pool", {"kernel_size": [2, 2], "strides": [2, 2]}), ("global_avg_pool", {}),
    ("linear", {"in_features": 8, "out_features": 3})], (2, 3, 8, 8)))


# the cases of later op families, each module adding its own with case(...)
from . import cases_algebra, cases_merge, cases_spatial  # noqa: E402,F401
from . import cases_recurrent  # noqa: E402,F401
from . import cases_attention  # noqa: E402,F401
from . import cases_math  # noqa: E402,F401
from . import cases_normalization  # noqa: E402,F401
from . import cases_pool_padding  # noqa: E402,F401
from . import cases_tile  # noqa: E402,F401
from . import cases_padding  # noqa: E402,F401
from . import cases_index  # noqa: E402,F401
