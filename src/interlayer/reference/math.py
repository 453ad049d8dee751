"""Kernels of the math family, in float64."""
from __future__ import annotations

import math

import numpy as np

from ..ir.ops.math import SELU_ALPHA, SELU_SCALE
from .interpreter import kernel

_erf = np.frompyfunc(math.erf, 1, 1)  # the C library's erf, accurate in float64


@kernel("exp")
def exp(attrs, weights, x):
    return np.exp(x)


@kernel("log")
def log(attrs, weights, x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


@kernel("sqrt")
def sqrt(attrs, weights, x):
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


@kernel("abs")
def absolute(attrs, weights, x):
    return np.abs(x)


@kernel("neg")
def neg(attrs, weights, x):
    return np.negative(x)


@kernel("softplus")
def softplus(attrs, weights, x):
    y = np.logaddexp(0.0, x)
    threshold = attrs["threshold"]
    return y if threshold is None else np.where(x > threshold, x, y)


@kernel("selu")
def selu(attrs, weights, x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


@kernel("sign")
def sign(attrs, weights, x):
    return np.sign(x)


@kernel("softsign")
def softsign(attrs, weights, x):
    return x / (1.0 + np.abs(x))


@kernel("erf")
def erf(attrs, weights, x):
    return np.asarray(_erf(x), dtype=np.float64)


@kernel("floor")
def floor(attrs, weights, x):
    return np.floor(x)


@kernel("ceil")
def ceil(attrs, weights, x):
    return np.ceil(x)


@kernel("shrink")
def shrink(attrs, weights, x):
    lambd, bias = attrs["lambd"], attrs["bias"]
    return np.where(x > lambd, x - bias, np.where(x < -lambd, x + bias, 0.0))


@kernel("log_softmax")
def log_softmax(attrs, weights, x):
    shifted = x - x.max(axis=attrs["axis"], keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=attrs["axis"], keepdims=True))


@kernel("sin")
def sin(attrs, weights, x):
    return np.sin(x)


@kernel("cos")
def cos(attrs, weights, x):
    return np.cos(x)
