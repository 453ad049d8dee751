"""conv_transpose as ConvTranspose (the IR's kernel layout, pads and output_padding are ONNX's); resize as Resize
where onnxruntime reads exactly the IR's input positions, otherwise as the IR's own interpolation, axis by axis.

Resize is exact in these cases (tests/backends/onnx/test_onnx_backend_resize.py checks them against
onnxruntime):

* linear: the IR's coordinate mode by its ONNX name, with the output 'sizes' (or, when the IR's 'scales' map the
  coordinates, the scales, if onnxruntime's output size floor(n * scale) is the IR's). Coordinates are computed in
  float32 by onnxruntime and float64 by the reference: the weights differ by float rounding only.
* nearest: onnxruntime computes the input index floor(x) in float32 by its own formula (x = o / scale,
  ((o + 0.5) / scale) - 0.5, o * (n - 1) / (m - 1)), the IR by PyTorch's (o * (1 / scale)...). Both are
  evaluated here for every output position; Resize is used when they pick the same input everywhere.

Otherwise, nearest is a Gather of the IR's indices and linear a MatMul with the IR's interpolation matrix on each
axis that changes (``reference.spatial.resize_matrix``), which compute the IR's definition itself.
"""
from __future__ import annotations

import math

import numpy as np

from ...reference.spatial import resize_matrix
from ...registry import register
from .context import INT64, Step


@register("onnx", "backend", "conv_transpose")
def conv_transpose(ctx: Step, node):
    attrs = ctx.attrs
    inputs = [ctx.input(), ctx.weight("weight")] + ([ctx.weight("bias")] if attrs["bias"] else [])
    return ctx.op("ConvTranspose", inputs, kernel_shape=list(attrs["kernel_size"]), strides=list(attrs["strides"]),
                  dilations=list(attrs["dilations"]), pads=list(attrs["pads"]),
                  output_padding=list(attrs["output_padding"]), group=attrs["groups"])


@register("onnx", "backend", "resize")
def resize(ctx: Step, node):
    attrs = ctx.attrs
    spatial, sizes, scales = list(ctx.shape()[2:]), list(attrs["sizes"]), attrs["scales"]
    mode, coordinates = attrs["mode"], attrs["coordinate_mode"]
    options = {"mode": mode, "coordinate_transformation_mode": coordinates}
    if mode == "nearest":
        options["nearest_mode"] = "floor"
    ir = [resize_matrix(n, m, mode, coordinates, s) for n, m, s in zip(spatial, sizes, scales or [None] * len(sizes))]
    by_scales = scales is not None and coordinates != "align_corners" and _scales_fit(spatial, sizes, scales)
    if mode == "linear" and (scales is None or coordinates == "align_corners"):
        return _resize_sizes(ctx, options)
    if mode == "linear" and by_scales:
        return _resize_scales(ctx, options, scales)
    if mode == "nearest" and by_scales and _same_indices(ir, spatial, sizes, coordinates, scales):
        return _resize_scales(ctx, options, scales)
    if mode == "nearest" and _same_indices(ir, spatial, sizes, coordinates, None):
        return _resize_sizes(ctx, options)
    return _separable(ctx, ir, mode)


def _resize_sizes(ctx: Step, options: dict) -> str:
    """Resize to the IR's sizes; the batch and channels (the batch is symbolic) are read at run time."""
    x = ctx.input()
    front = ctx.op("Shape", [x], start=0, end=2, dtype=INT64, suffix="batch_channels")
    sizes = ctx.op("Concat", [front, ctx.ints(ctx.attrs["sizes"], "spatial_sizes")], axis=0, suffix="sizes")
    return ctx.op("Resize", [x, "", "", sizes], **options)


def _resize_scales(ctx: Step, options: dict, scales) -> str:
    factors = ctx.const(np.asarray([1.0, 1.0, *scales], np.float32), np.float32, "scales")
    return ctx.op("Resize", [ctx.input(), "", factors], **options)


def _scales_fit(spatial, sizes, scales) -> bool:
    """Whether onnxruntime's Resize with these scales makes the IR's sizes (floor(n * scale) in float32) and
    interpolates every axis by its scale (it copies an axis whose length does not change, whatever the scale)."""
    f = np.float32
    return all(math.floor(f(s) * f(n)) == m and (m != n or s == 1.0) for s, n, m in zip(scales, spatial, sizes))


def onnxruntime_indices(n: int, m: int, coordinates: str, scale: float | None) -> np.ndarray:
    """The input index onnxruntime's nearest Resize (nearest_mode floor) reads for each of ``m`` outputs, in its
    float32 arithmetic: ``scale`` is the given scale, or m / n computed in float32 from the sizes. An axis whose
    length does not change is copied."""
    if m == n:
        return np.arange(n)
    f = np.float32
    o = np.arange(m, dtype=f)
    factor = f(scale) if scale is not None else f(m) / f(n)
    if coordinates == "asymmetric":
        x = o / factor
    elif coordinates == "half_pixel":
        x = ((o + f(0.5)) / factor) - f(0.5)
    else:  # align_corners
        x = np.zeros(m, f) if m == 1 else (o * f(n - 1)) / f(m - 1)
    return np.clip(np.floor(x).astype(np.int64), 0, n - 1)


def _same_indices(ir, spatial, sizes, coordinates, scales) -> bool:
    scales = scales or [None] * len(sizes)
    return all(np.array_equal(matrix.argmax(axis=1), onnxruntime_indices(n, m, coordinates, s))
               for matrix, n, m, s in zip(ir, spatial, sizes, scales))


def _separable(ctx: Step, matrices, mode: str) -> str:
    """Each spatial axis that changes, by the IR's own definition: nearest gathers the IR's indices; linear
    multiplies by the (m, n) interpolation matrix along that axis."""
    value, rank = ctx.input(), len(ctx.shape())
    for index, matrix in enumerate(matrices):
        axis = 2 + index
        if matrix.shape[0] == matrix.shape[1] and np.array_equal(matrix, np.eye(matrix.shape[0])):
            continue
        if mode == "nearest":
            indices = ctx.ints(matrix.argmax(axis=1), f"indices_{axis}")
            value = ctx.op("Gather", [value, indices], axis=axis)
            continue
        perm = list(range(rank))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        moved = ctx.transpose(value, perm)  # the axis last, then x @ matrix^T
        weights = ctx.const(np.ascontiguousarray(matrix.T), suffix=f"interpolation_{axis}")
        value = ctx.transpose(ctx.op("MatMul", [moved, weights]), perm)
    return value
