"""One small numpy function per op. They define the IR's semantics."""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..ir.ops.schema import get, spatial_out
from .interpreter import kernel

_erf = np.frompyfunc(math.erf, 1, 1)


@kernel("linear")
def linear(attrs, weights, x):
    y = x @ weights["weight"].T
    return y + weights["bias"] if attrs["bias"] else y


def _pad(x, pads, value, extra_end=None):
    rank = x.ndim - 2
    extra_end = extra_end or [0] * rank
    widths = [(0, 0), (0, 0)] + [(pads[i], pads[rank + i] + extra_end[i]) for i in range(rank)]
    return np.pad(x, widths, constant_values=value)


def _windows(x, attrs, dilations):
    """(N, C, *out, *kernel) views of an already padded input."""
    kernel_size, strides = attrs["kernel_size"], attrs["strides"]
    rank = len(kernel_size)
    spans = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilations)]
    view = sliding_window_view(x, spans, axis=tuple(range(2, 2 + rank)))
    index = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in strides)
    index += tuple(slice(None, None, d) for d in dilations)
    return view[index]


@kernel("conv")
def conv(attrs, weights, x):
    groups, rank = attrs["groups"], len(attrs["kernel_size"])
    win = _windows(_pad(x, attrs["pads"], 0.0), attrs, attrs["dilations"])
    n, c = win.shape[:2]
    out_shape = win.shape[2:2 + rank]
    win = win.reshape(n, groups, c // groups, *win.shape[2:])
    w = weights["weight"]
    w = w.reshape(groups, w.shape[0] // groups, *w.shape[1:])
    axes = "hwd"[:rank]
    taps = "ijk"[:rank]
    y = np.einsum(f"ngc{axes}{taps},goc{taps}->ngo{axes}", win, w, optimize=True)
    y = y.reshape(n, -1, *out_shape)
    if attrs["bias"]:
        y = y + weights["bias"].reshape(1, -1, *([1] * rank))
    return y


def _ceil_extra(x, attrs, dilations):
    """End padding that makes a floor-mode window pass produce the ceil_mode output length."""
    rank = len(attrs["kernel_size"])
    extra = []
    for i in range(rank):
        k, s, d = attrs["kernel_size"][i], attrs["strides"][i], dilations[i]
        begin, end = attrs["pads"][i], attrs["pads"][rank + i]
        out = spatial_out(x.shape[2 + i], k, s, d, begin, end, attrs["ceil_mode"])
        needed = (out - 1) * s + (k - 1) * d + 1
        extra.append(max(needed - (x.shape[2 + i] + begin + end), 0))
    return extra


@kernel("max_pool")
def max_pool(attrs, weights, x):
    extra = _ceil_extra(x, attrs, attrs["dilations"])
    padded = _pad(x, attrs["pads"], -np.inf, extra)
    rank = len(attrs["kernel_size"])
    return _windows(padded, attrs, attrs["dilations"]).max(axis=tuple(range(-rank, 0)))


@kernel("avg_pool")
def avg_pool(attrs, weights, x):
    rank = len(attrs["kernel_size"])
    ones_dilation = [1] * rank
    extra = _ceil_extra(x, attrs, ones_dilation)
    axes = tuple(range(-rank, 0))
    total = _windows(_pad(x, attrs["pads"], 0.0, extra), attrs, ones_dilation).sum(axis=axes)
    # the divisor: input positions, plus explicit padding when count_include_pad, never the ceil overflow
    ones = np.ones((1, 1, *x.shape[2:]))
    ones = _pad(ones, attrs["pads"], 1.0 if attrs["count_include_pad"] else 0.0)
    ones = _pad(ones, [0] * (2 * rank), 0.0, extra)
    count = _windows(ones, attrs, ones_dilation).sum(axis=axes)
    return total / count


@kernel("global_avg_pool")
def global_avg_pool(attrs, weights, x):
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=attrs["keepdims"])


@kernel("global_max_pool")
def global_max_pool(attrs, weights, x):
    return x.max(axis=tuple(range(2, x.ndim)), keepdims=attrs["keepdims"])


@kernel("batch_norm")
def batch_norm(attrs, weights, x):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - weights["mean"].reshape(shape)) / np.sqrt(weights["variance"].reshape(shape) + attrs["epsilon"])
    if attrs["scale"]:
        y = y * weights["scale"].reshape(shape)
    if attrs["center"]:
        y = y + weights["offset"].reshape(shape)
    return y


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@kernel("relu")
def relu(attrs, weights, x):
    return np.maximum(x, 0.0)


@kernel("clip")
def clip(attrs, weights, x):
    return np.clip(x, attrs["min"], attrs["max"])


@kernel("leaky_relu")
def leaky_relu(attrs, weights, x):
    return np.where(x >= 0, x, attrs["alpha"] * x)


@kernel("elu")
def elu(attrs, weights, x):
    return np.where(x > 0, x, attrs["alpha"] * np.expm1(np.minimum(x, 0.0)))


@kernel("gelu")
def gelu(attrs, weights, x):
    if attrs["approximate"] == "tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


@kernel("silu")
def silu(attrs, weights, x):
    return x * _sigmoid(x)


@kernel("sigmoid")
def sigmoid(attrs, weights, x):
    return _sigmoid(x)


@kernel("tanh")
def tanh(attrs, weights, x):
    return np.tanh(x)


@kernel("hard_sigmoid")
def hard_sigmoid(attrs, weights, x):
    return np.clip(attrs["alpha"] * x + attrs["beta"], 0.0, 1.0)


@kernel("hard_swish")
def hard_swish(attrs, weights, x):
    return x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)


@kernel("mish")
def mish(attrs, weights, x):
    return x * np.tanh(np.logaddexp(0.0, x))


@kernel("prelu")
def prelu(attrs, weights, x):
    slope = weights["slope"]
    if attrs["num_parameters"] > 1:
        slope = slope.reshape(-1, *([1] * (x.ndim - 2)))
    return np.where(x >= 0, x, slope * x)


@kernel("softmax")
def softmax(attrs, weights, x):
    shifted = np.exp(x - x.max(axis=attrs["axis"], keepdims=True))
    return shifted / shifted.sum(axis=attrs["axis"], keepdims=True)


@kernel("flatten")
def flatten(attrs, weights, x):
    if attrs["order"] == "channels_last":
        x = x.transpose(0, *range(2, x.ndim), 1)
    return x.reshape(x.shape[0], -1)


@kernel("reshape")
def reshape(attrs, weights, x):
    return x.reshape(attrs["shape"])


@kernel("transpose")
def transpose(attrs, weights, x):
    return x.transpose(attrs["perm"])


@kernel("pad")
def pad(attrs, weights, x):
    pads = attrs["pads"]
    rank = len(pads) // 2  # the last ``rank`` axes are padded
    kept = [(0, 0)] * (x.ndim - rank)
    if attrs["mode"] != "constant":  # numpy's mode names are the IR's; the schema allows no negative pads here
        get("pad").infer(attrs, [x.shape])  # the reach rule on sizes that were symbolic (numpy would reflect twice)
        widths = kept + [(pads[i], pads[rank + i]) for i in range(rank)]
        return np.pad(x, widths, mode=attrs["mode"])
    y = np.pad(x, kept + [(max(pads[i], 0), max(pads[rank + i], 0)) for i in range(rank)],
               constant_values=attrs["value"])
    index = [slice(None)] * (x.ndim - rank)
    for i in range(rank):
        begin, end = -min(pads[i], 0), -min(pads[rank + i], 0)
        index.append(slice(begin, y.shape[x.ndim - rank + i] - end))
    return y[tuple(index)]


@kernel("dropout")
def dropout(attrs, weights, x):
    return x


@kernel("identity")
def identity(attrs, weights, x):
    return x


@kernel("tile")
def tile(attrs, weights, x):
    return np.tile(x, attrs["repeats"])


@kernel("concat")
def concat(attrs, weights, *xs):
    return np.concatenate(xs, axis=attrs["axis"])
