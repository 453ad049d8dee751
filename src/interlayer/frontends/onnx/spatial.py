"""Resizing: Upsample (opsets 7-9) and Resize (opset 10, and 11 on) -> ``resize``.

ONNX has more ways to map output positions to input coordinates than the IR, and rounds nearest neighbours in
four ways, so each axis is checked rather than translated: the frontend computes the interpolation matrix ONNX
defines for the static sizes (as onnxruntime computes it, in float32) and looks for the IR coordinate mode (with or
without the scales) whose matrix is the same. An axis where none matches is refused. Upsample and Resize-10 map
coordinates asymmetrically and read nearest neighbours at ``floor`` when enlarging and ``ceil`` when shrinking
(onnxruntime's rule for them); Resize-11 reads ``coordinate_transformation_mode`` and ``nearest_mode``.
"""
from __future__ import annotations

import math

import numpy as np

from ...reference.spatial import resize_matrix
from ...registry import register
from .context import NodeContext

_IR_MODES = ("asymmetric", "half_pixel", "align_corners")
_ROUND = {
    "round_prefer_floor": lambda x: np.where(x - np.floor(x) == 0.5, np.floor(x), np.round(x)),
    "round_prefer_ceil": lambda x: np.floor(x + np.float32(0.5)),
    "floor": np.floor,
    "ceil": np.ceil,
}


@register("onnx", "frontend", ("Upsample", 7))
def upsample_attribute(ctx: NodeContext, node):
    """Opsets 7-8: the scales are an attribute."""
    return _resize(ctx, list(ctx.attr("scales", [])), None, legacy=True)


@register("onnx", "frontend", ("Upsample", 9), ("Resize", 10))
def upsample(ctx: NodeContext, node):
    """Upsample-9 and Resize-10: the scales are input 1."""
    scales = ctx.constant(1, "the scales (input 1)")
    return None if scales is None else _resize(ctx, scales.reshape(-1).tolist(), None, legacy=True)


@register("onnx", "frontend", ("Resize", 11))
def resize(ctx: NodeContext, node):
    """Opset 11 on: scales (input 2) or sizes (input 3); roi is read only by tf_crop_and_resize (refused)."""
    scales = sizes = None
    if ctx.present(2):
        array = ctx.constant(2, "the scales (input 2)")
        if array is None:
            return None
        scales = array.reshape(-1).tolist() if array.size else None
    if ctx.present(3):
        sizes = ctx.shape_operand(3, "the sizes (input 3)")
        if sizes is None:
            return None
        sizes = sizes or None
    for name, default in (("antialias", 0), ("exclude_outside", 0)):
        if ctx.attr(name, default) != default and ctx.attr("mode", "nearest") != "nearest":
            return ctx.unsupported(f"{name} must be {default}. Received: {name}={ctx.attr(name)}")
    policy = ctx.attr("keep_aspect_ratio_policy", "stretch")
    if sizes is not None and policy != "stretch":
        return ctx.unsupported(f"keep_aspect_ratio_policy must be 'stretch'. Received: {policy!r}")
    return _resize(ctx, scales, sizes, legacy=False)


def _resize(ctx: NodeContext, scales, sizes, legacy: bool):
    x = ctx.value(0)
    if x is None:
        return None
    shape = ctx.ir_shape(x)
    rank = len(shape)
    mode = ctx.attr("mode", "nearest")
    if mode not in ("nearest", "linear", "bilinear", "trilinear"):
        return ctx.unsupported(f"mode must be 'nearest' or 'linear'. Received: mode={mode!r}")
    mode = "nearest" if mode == "nearest" else "linear"
    axes = ctx.attr("axes")
    if axes is not None:
        axes = [a % rank for a in axes]
        full_scales = None if scales is None else [1.0] * rank
        full_sizes = None if sizes is None else list(shape)
        for k, axis in enumerate(axes):
            if scales is not None:
                full_scales[axis] = scales[k]
            if sizes is not None:
                full_sizes[axis] = sizes[k]
        scales, sizes = full_scales, full_sizes
    if (scales is None) == (sizes is None) or len(scales if sizes is None else sizes) != rank:
        return ctx.unsupported(f"exactly one of scales and sizes must be given, one entry per axis ({rank}). "
                               f"Received: scales={scales}, sizes={sizes}")
    if any(isinstance(d, str) for d in shape[2:]):
        return ctx.unsupported(f"the spatial sizes must be static. Received: shape={list(shape)}")
    if sizes is not None:
        scales = None
        outs = list(sizes)
        if outs[0] not in (shape[0], ctx.capture.fixed_batch) or outs[1] != shape[1]:
            return ctx.unsupported(f"the batch and channel axes must keep their sizes. Received: sizes={sizes}, "
                                   f"input shape={list(shape)}")
    else:
        if scales[0] != 1 or scales[1] != 1:
            return ctx.unsupported(f"the batch and channel axes must not be scaled. Received: scales={scales}")
        outs = [None, None] + [int(math.floor(np.float32(n) * np.float32(s))) for n, s in zip(shape[2:], scales[2:])]
    spatial_scales = None if scales is None else [float(np.float32(s)) for s in scales[2:]]
    coordinate = "asymmetric" if legacy else ctx.attr("coordinate_transformation_mode", "half_pixel")
    rounding = ("legacy" if legacy else ctx.attr("nearest_mode", "round_prefer_floor"))
    if coordinate in ("tf_crop_and_resize", "half_pixel_symmetric") or (mode == "nearest" and rounding not in
                                                                          (*_ROUND, "legacy")):
        return ctx.unsupported(f"the IR has no equivalent of coordinate_transformation_mode={coordinate!r} with "
                               f"nearest_mode={rounding!r}. Expected one of asymmetric, half_pixel, "
                               f"pytorch_half_pixel, align_corners, tf_half_pixel_for_nn")
    wanted = []
    for axis in range(2, rank):
        n, m = int(shape[axis]), int(outs[axis])
        scale = None if spatial_scales is None else spatial_scales[axis - 2]
        wanted.append(_onnx_matrix(n, m, scale, mode, coordinate, rounding))
    choice = _ir_choice(wanted, shape[2:], outs[2:], spatial_scales, mode)
    if choice is None:
        return ctx.unsupported(f"no IR resize reads the same input positions as ONNX's coordinate_transformation_"
                               f"mode={coordinate!r}, nearest_mode={rounding!r} for input sizes {list(shape[2:])} -> "
                               f"{list(outs[2:])}. Expected a resize the IR's asymmetric, half_pixel or align_corners "
                               f"mode reproduces exactly")
    coordinate_mode, ir_scales = choice
    attrs = {"sizes": [int(d) for d in outs[2:]], "scales": ir_scales, "mode": mode,
             "coordinate_mode": coordinate_mode}
    return ctx.add("resize", [x], attrs)


def _ir_choice(wanted, spatial, outs, scales, mode):
    """The first (coordinate_mode, scales) whose IR matrices equal ``wanted`` on every axis."""
    for coordinate_mode in _IR_MODES:
        for candidate in ([scales, None] if scales is not None else [None]):
            if coordinate_mode == "align_corners" and candidate is not None:
                continue
            ok = True
            for k, (n, m) in enumerate(zip(spatial, outs)):
                scale = None if candidate is None else candidate[k]
                got = resize_matrix(int(n), int(m), mode, coordinate_mode, scale)
                if not _same(got, wanted[k], mode):
                    ok = False
                    break
            if ok:
                return coordinate_mode, candidate
    return None


def _same(got: np.ndarray, wanted: np.ndarray, mode: str) -> bool:
    if got.shape != wanted.shape:
        return False
    if mode == "nearest":
        return np.array_equal(got.argmax(axis=1), wanted.argmax(axis=1))
    return bool(np.abs(got - wanted).max() <= 1e-6)


def _onnx_matrix(n: int, m: int, scale, mode: str, coordinate: str, rounding: str) -> np.ndarray:
    """The (m, n) matrix ONNX's Resize applies along one axis, computed in float32 as onnxruntime does."""
    f32 = np.float32
    s = f32(scale) if scale is not None else f32(m) / f32(n)
    o = np.arange(m, dtype=f32)
    if coordinate == "half_pixel":
        x = (o + f32(0.5)) / s - f32(0.5)
    elif coordinate == "pytorch_half_pixel":
        x = (o + f32(0.5)) / s - f32(0.5) if m > 1 else np.zeros(m, f32)
    elif coordinate == "align_corners":
        x = o * (f32(n - 1) / f32(m - 1)) if m > 1 else np.zeros(m, f32)
    elif coordinate == "tf_half_pixel_for_nn":
        x = (o + f32(0.5)) / s
    else:  # asymmetric
        x = o / s
    matrix = np.zeros((m, n))
    rows = np.arange(m)
    if mode == "nearest":
        if rounding == "legacy":
            index = np.ceil(x) if s < 1 else np.floor(x)
        else:
            index = _ROUND[rounding](x)
        matrix[rows, np.clip(index.astype(np.int64), 0, n - 1)] = 1.0
        return matrix
    x = np.clip(x, f32(0), f32(n - 1))
    low = np.floor(x).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    fraction = (x - low).astype(np.float64)
    np.add.at(matrix, (rows, low), 1.0 - fraction)
    np.add.at(matrix, (rows, high), fraction)
    return matrix
