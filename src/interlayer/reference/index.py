"""Reference kernels of tensors made from sizes, casts, slicing, indexing, scans and einsum. Floats are held in
float64 like every other value of the interpreter; a cast to a narrower float rounds to it."""
from __future__ import annotations

import numpy as np

from .interpreter import kernel


def numpy_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _held(array: np.ndarray, dtype: str) -> np.ndarray:
    """A value of IR ``dtype`` as the interpreter holds it: floats rounded to that dtype, then float64."""
    target = numpy_dtype(dtype)
    if target.kind in "fV":
        return np.asarray(array).astype(target).astype(np.float64)
    return np.asarray(array).astype(target)


@kernel("constant")
def constant(attrs, weights):
    return weights["value"]


@kernel("full")
def full(attrs, weights):
    return _held(np.full(attrs["shape"], attrs["value"]), attrs["dtype"])


@kernel("arange")
def arange(attrs, weights):
    return _held(np.arange(attrs["start"], attrs["limit"], attrs["step"]), attrs["dtype"])


@kernel("cast")
def cast(attrs, weights, x):
    return _held(x, attrs["dtype"])


@kernel("slice")
def slice_(attrs, weights, x):
    index = [slice(None)] * x.ndim
    for axis, start, end, step in zip(attrs["axes"], attrs["starts"], attrs["ends"], attrs["steps"]):
        index[axis] = slice(start, end, step)
    return x[tuple(index)]


@kernel("gather")
def gather(attrs, weights, x, indices):
    return np.take(x, np.asarray(indices, dtype=np.int64), axis=attrs["axis"])


@kernel("gather_elements")
def gather_elements(attrs, weights, x, indices):
    indices = np.asarray(indices, dtype=np.int64)
    size = x.shape[attrs["axis"]]
    return np.take_along_axis(x, np.where(indices < 0, indices + size, indices), axis=attrs["axis"])


@kernel("select")
def select(attrs, weights, condition, a, b):
    return np.where(np.asarray(condition, dtype=bool), a, b)


@kernel("cumsum")
def cumsum(attrs, weights, x):
    axis = attrs["axis"]
    x = x.astype(np.int64) if x.dtype == np.bool_ else x
    if attrs["reverse"]:
        x = np.flip(x, axis)
    sums = np.cumsum(x, axis=axis)
    if attrs["exclusive"]:
        sums = sums - x
    return np.flip(sums, axis) if attrs["reverse"] else sums


@kernel("argmax")
def argmax(attrs, weights, x):
    return np.argmax(x, axis=attrs["axis"], keepdims=attrs["keepdims"]).astype(np.int64)


@kernel("argmin")
def argmin(attrs, weights, x):
    return np.argmin(x, axis=attrs["axis"], keepdims=attrs["keepdims"]).astype(np.int64)


@kernel("trilu")
def trilu(attrs, weights, x):
    return np.triu(x, attrs["diagonal"]) if attrs["upper"] else np.tril(x, attrs["diagonal"])


@kernel("einsum")
def einsum(attrs, weights, *xs):
    return np.einsum(attrs["equation"].replace(" ", ""), *xs)
