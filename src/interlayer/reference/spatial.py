"""Reference kernels: transposed convolution, resize."""
from __future__ import annotations

import numpy as np

from .interpreter import kernel
from .kernels import conv, pad


@kernel("conv_transpose")
def conv_transpose(attrs, weights, x):
    """The full output as a stride-1 conv of the zero-stuffed input with the flipped kernel, then
    output_padding and pads applied as one constant pad (negative amounts crop), then the bias."""
    kernel_size, strides, dilations = attrs["kernel_size"], attrs["strides"], attrs["dilations"]
    rank, groups = len(kernel_size), attrs["groups"]
    stuffed = np.zeros((*x.shape[:2], *[(n - 1) * s + 1 for n, s in zip(x.shape[2:], strides)]))
    stuffed[(slice(None), slice(None), *(slice(None, None, s) for s in strides))] = x
    w = weights["weight"]  # (in, out/groups, *k) -> conv's (out, in/groups, *k), flipped in space
    w = w.reshape(groups, w.shape[0] // groups, *w.shape[1:]).swapaxes(1, 2).reshape(-1, w.shape[0] // groups,
                                                                                    *kernel_size)
    w = np.flip(w, axis=tuple(range(2, 2 + rank)))
    spans = [d * (k - 1) for k, d in zip(kernel_size, dilations)]
    full = conv({"kernel_size": kernel_size, "strides": [1] * rank, "dilations": dilations, "pads": spans * 2,
                 "groups": groups, "bias": False}, {"weight": w}, stuffed)
    pads = attrs["pads"]
    crop = [-p for p in pads[:rank]] + [extra - p for extra, p in zip(attrs["output_padding"], pads[rank:])]
    y = pad({"pads": crop, "value": 0.0, "mode": "constant"}, {}, full)
    if attrs["bias"]:
        y = y + weights["bias"].reshape(1, -1, *([1] * rank))
    return y


def _coordinates(n: int, m: int, coordinate_mode: str, scale, dtype) -> np.ndarray:
    """The input coordinate each of the ``m`` output positions reads, computed in ``dtype``."""
    o = np.arange(m, dtype=dtype)
    if coordinate_mode == "align_corners":
        return o * dtype((n - 1) / (m - 1)) if m > 1 else np.zeros(m, dtype)
    step = dtype(1.0 / scale) if scale is not None else dtype(n) / dtype(m)
    if coordinate_mode == "asymmetric":
        return o * step
    return np.maximum((o + dtype(0.5)) * step - dtype(0.5), dtype(0))  # half_pixel, clamped at 0 as PyTorch


def resize_matrix(n: int, m: int, mode: str, coordinate_mode: str, scale: float | None = None) -> np.ndarray:
    """The (m, n) matrix that resizes one axis of length n to m: ``out = matrix @ x`` along that axis.

    ``scale`` is the op's ``scales`` entry for the axis (None: m / n). Nearest rows are one-hot; linear rows
    hold the two weights (1 - f, f), or a single 1 where both indices are clamped to the same input.
    """
    rows = np.arange(m)
    matrix = np.zeros((m, n))
    if mode == "nearest":  # float32, as PyTorch computes floorf(o * scale)
        index = np.floor(_coordinates(n, m, coordinate_mode, scale, np.float32)).astype(np.int64)
        matrix[rows, np.minimum(index, n - 1)] = 1.0
        return matrix
    x = _coordinates(n, m, coordinate_mode, scale, np.float64)
    low = np.floor(x)
    fraction = x - low
    first = np.minimum(low.astype(np.int64), n - 1)
    np.add.at(matrix, (rows, first), 1.0 - fraction)
    np.add.at(matrix, (rows, np.minimum(first + 1, n - 1)), fraction)
    return matrix


def resize_matrices(attrs, spatial) -> list[np.ndarray]:
    """One :func:`resize_matrix` per spatial axis of an input with spatial sizes ``spatial``."""
    scales = attrs["scales"] or [None] * len(spatial)
    return [resize_matrix(n, m, attrs["mode"], attrs["coordinate_mode"], scale)
            for n, m, scale in zip(spatial, attrs["sizes"], scales)]


@kernel("resize")
def resize(attrs, weights, x):
    """Separable: each spatial axis is multiplied by its interpolation matrix in turn."""
    for axis, matrix in enumerate(resize_matrices(attrs, x.shape[2:])):
        x = np.moveaxis(np.tensordot(x, matrix, axes=([2 + axis], [1])), -1, 2 + axis)
    return x
