"""Reference kernels: group_norm, layer_norm, lrn."""
from __future__ import annotations

import numpy as np

from .interpreter import kernel


def _normalise(x, axes, epsilon):
    """(x - mean) / sqrt(variance + epsilon) over ``axes``, with the biased variance."""
    mean = x.mean(axis=axes, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon)


def _affine(y, attrs, weights, shape):
    if attrs["scale"]:
        y = y * weights["scale"].reshape(shape)
    if attrs["center"]:
        y = y + weights["offset"].reshape(shape)
    return y


@kernel("group_norm")
def group_norm(attrs, weights, x):
    n, c = x.shape[:2]
    groups = x.reshape(n, attrs["num_groups"], -1)  # contiguous channel blocks, with their spatial positions
    y = _normalise(groups, (2,), attrs["epsilon"]).reshape(x.shape)
    return _affine(y, attrs, weights, (1, c) + (1,) * (x.ndim - 2))


@kernel("layer_norm")
def layer_norm(attrs, weights, x):
    axes = tuple(attrs["axes"])
    y = _normalise(x, axes, attrs["epsilon"])
    shape = tuple(x.shape[d] if d in axes else 1 for d in range(x.ndim))
    return _affine(y, attrs, weights, shape)


@kernel("lrn")
def lrn(attrs, weights, x):
    """The window of channel c is c - before .. c - before + size - 1 of the squares padded with zeros."""
    size, before, channels = attrs["size"], attrs["before"], x.shape[1]
    widths = [(0, 0), (before, size - 1 - before)] + [(0, 0)] * (x.ndim - 2)
    squares = np.pad(x * x, widths)
    total = sum(squares[:, k:k + channels] for k in range(size))
    return x / (attrs["bias"] + attrs["alpha"] / size * total) ** attrs["beta"]
