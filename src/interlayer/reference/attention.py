"""Reference kernels: batch_constant, expand, where, scaled_dot_product_attention."""
from __future__ import annotations

import math

import numpy as np

from .interpreter import kernel


@kernel("batch_constant")
def batch_constant(attrs, weights, x):
    value = weights["value"]
    return np.broadcast_to(value, (x.shape[0], *value.shape[1:])).copy()


@kernel("expand")
def expand(attrs, weights, x):
    return np.broadcast_to(x, tuple(attrs["shape"])).copy()


@kernel("where")
def where(attrs, weights, x, condition):
    return np.where(condition != 0, attrs["value"], x)


@kernel("scaled_dot_product_attention")
def scaled_dot_product_attention(attrs, weights, query, key, value, mask=None):
    scale = attrs["scale"] if attrs["scale"] is not None else 1 / math.sqrt(query.shape[-1])
    scores = (query @ np.swapaxes(key, -1, -2)) * scale
    if attrs["causal"]:
        rows, columns = scores.shape[-2:]
        scores = np.where(np.tril(np.ones((rows, columns), dtype=bool)), scores, -np.inf)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (shifted / shifted.sum(axis=-1, keepdims=True)) @ value
