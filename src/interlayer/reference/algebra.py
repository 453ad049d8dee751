"""Reference kernels: arithmetic, matmul, reductions, stack, split."""
from __future__ import annotations

import numpy as np

from .interpreter import kernel


def _operands(attrs, weights, xs):
    """The two operands in order: the inputs, or the input and the constant 'other' on its side."""
    if not attrs["constant"]:
        return xs
    if attrs.get("constant_first"):
        return weights["other"], xs[0]
    return xs[0], weights["other"]


@kernel("add")
def add(attrs, weights, *xs):
    first, *rest = _operands(attrs, weights, xs)
    return sum(rest, first)


@kernel("sub")
def sub(attrs, weights, *xs):
    left, right = _operands(attrs, weights, xs)
    return left - right


@kernel("mul")
def mul(attrs, weights, *xs):
    left, right = _operands(attrs, weights, xs)
    return left * right


@kernel("div")
def div(attrs, weights, *xs):
    left, right = _operands(attrs, weights, xs)
    return left / right


@kernel("pow")
def power(attrs, weights, *xs):
    left, right = _operands(attrs, weights, xs)
    return left ** right


@kernel("floor_div")
def floor_div(attrs, weights, *xs):
    left, right = _operands(attrs, weights, xs)
    return np.floor_divide(left, right)


@kernel("mod")
def mod(attrs, weights, *xs):
    left, right = _operands(attrs, weights, xs)
    return np.mod(left, right)


@kernel("matmul")
def matmul(attrs, weights, *xs):
    left, right = _operands(attrs, weights, xs)
    return left @ right


@kernel("reduce_mean")
def reduce_mean(attrs, weights, x):
    return x.mean(axis=tuple(attrs["axes"]), keepdims=attrs["keepdims"])


@kernel("reduce_sum")
def reduce_sum(attrs, weights, x):
    return x.sum(axis=tuple(attrs["axes"]), keepdims=attrs["keepdims"])


@kernel("reduce_max")
def reduce_max(attrs, weights, x):
    return x.max(axis=tuple(attrs["axes"]), keepdims=attrs["keepdims"])


@kernel("reduce_min")
def reduce_min(attrs, weights, x):
    return x.min(axis=tuple(attrs["axes"]), keepdims=attrs["keepdims"])


@kernel("stack")
def stack(attrs, weights, *xs):
    return np.stack(xs, axis=attrs["axis"])


@kernel("split")
def split(attrs, weights, x):
    parts = tuple(np.split(x, np.cumsum(attrs["sizes"])[:-1], axis=attrs["axis"]))
    return parts if len(parts) > 1 else parts[0]  # several outputs as a tuple, one as itself
