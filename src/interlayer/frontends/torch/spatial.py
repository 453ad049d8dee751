"""Windows and grids over spatial axes: max and average pooling (1-D to 3-D, ceil_mode, padding counted or not),
adaptive pooling (global when the output is 1, a plain pool when the output divides a fixed input, else each
output position's own window, axis by axis), padding in PyTorch's four modes (``F.pad``, the padding layers, a
conv's ``padding_mode``), resizing (``F.interpolate``, ``nn.Upsample``), and pixel (un)shuffles."""
from __future__ import annotations

import math

import numpy as np
import torch

from ...ir import dims
from ...registry import register
from .context import Call

aten = torch.ops.aten


def _per_axis(value, rank: int) -> list[int]:
    if isinstance(value, (list, tuple)):
        items = [int(v) for v in value]
        return items * rank if len(items) == 1 else items
    return [int(value)] * rank


def _rank(ctx: Call) -> int:
    return int(ctx.op.split("pool")[-1][0]) if "pool" in ctx.op else ctx.rank(ctx.arg(0)) - 2


class _Batched:
    """A pooling call's input as (N, C, *spatial): an unbatched (C, *spatial) input, which PyTorch pools as one
    sample, gets an axis of 1 in front (and the result loses it again in ``finish``)."""

    def __init__(self, ctx: Call, rank: int):
        self.ctx = ctx
        produced = ctx.node.meta["val"]  # the values, or (values, positions of the maxima)
        produced = produced[0] if isinstance(produced, (list, tuple)) else produced
        value, source = ctx.tensor(ctx.arg(0)), list(ctx.shape(ctx.arg(0)))
        result = list(ctx.capture.names.shape(produced.shape))
        self.unbatched = len(source) == rank + 1
        self.result = result
        if self.unbatched:
            value = ctx.add("reshape", [value], {"shape": [1, *source]}, role="batched")
            source, result = [1, *source], [1, *result]
        self.value, self.spatial, self.out = value, source[2:], result[2:]
        self.role = "pooled" if self.unbatched else None
        """the role of the node that pools (the reshape that removes the axis again is the call's own)"""

    def finish(self, value: str) -> str:
        return self.ctx.add("reshape", [value], {"shape": self.result}) if self.unbatched else value


def _window(ctx: Call, rank: int) -> dict:
    kernel = _per_axis(ctx.literal(ctx.arg(1, "kernel_size")), rank)
    stride = ctx.literal(ctx.arg(2, "stride", []))
    strides = _per_axis(stride, rank) if stride not in (None, [], ()) else list(kernel)
    padding = _per_axis(ctx.literal(ctx.arg(3, "padding", 0)), rank)
    return {"kernel_size": kernel, "strides": strides, "pads": padding + padding}


@register("torch", "frontend", aten.max_pool1d, aten.max_pool2d, aten.max_pool3d, aten.max_pool1d_with_indices,
          aten.max_pool2d_with_indices, aten.max_pool3d_with_indices)
def max_pool(ctx: Call):
    rank = _rank(ctx)
    attrs = _window(ctx, rank)
    attrs.update(dilations=_per_axis(ctx.literal(ctx.arg(4, "dilation", 1)), rank),
                 ceil_mode=bool(ctx.literal(ctx.arg(5, "ceil_mode", False))))
    if ctx.op.endswith("with_indices") and _positions_read(ctx):
        return ctx.unsupported("it returns the positions of the maxima (return_indices=True), which the IR has no "
                               "output for. Expected pooled values only")
    x = _Batched(ctx, rank)
    value = x.finish(ctx.add("max_pool", [x.value], attrs, role=x.role))
    return [value, None] if ctx.op.endswith("with_indices") else value


def _positions_read(ctx: Call) -> bool:
    """Whether anything reads the second result (the positions of the maxima) of the call."""
    return any(user.args[1] != 0 and len(user.users) > 0 for user in ctx.node.users)


@register("torch", "frontend", aten.avg_pool1d, aten.avg_pool2d, aten.avg_pool3d)
def avg_pool(ctx: Call):
    rank = _rank(ctx)
    divisor = ctx.literal(ctx.arg(6, "divisor_override", None))
    if divisor is not None:
        return ctx.unsupported(f"divisor_override must be None. Expected the window's own count as divisor. "
                               f"Received: divisor_override={divisor}")
    attrs = _window(ctx, rank)
    attrs.update(ceil_mode=bool(ctx.literal(ctx.arg(4, "ceil_mode", False))),
                 count_include_pad=bool(ctx.literal(ctx.arg(5, "count_include_pad", True))))
    x = _Batched(ctx, rank)
    return x.finish(ctx.add("avg_pool", [x.value], attrs, role=x.role))


@register("torch", "frontend", aten.adaptive_avg_pool1d, aten.adaptive_avg_pool2d, aten.adaptive_avg_pool3d,
          aten._adaptive_avg_pool2d, aten.adaptive_max_pool1d, aten.adaptive_max_pool2d, aten.adaptive_max_pool3d)
def adaptive_pool(ctx: Call):
    """Output size 1: a global pool; an output size that divides a fixed input: a plain pool (same windows);
    otherwise each output position's window (``_adaptive_windows``)."""
    kind = "max" if "max" in ctx.op else "avg"
    rank = int(ctx.op.rstrip("d")[-1])
    if ctx.op.startswith("adaptive_max") and _positions_read(ctx):
        return ctx.unsupported("it returns the positions of the maxima (return_indices=True), which the IR has no "
                               "output for. Expected pooled values only")
    x = _Batched(ctx, rank)
    spatial, out = x.spatial, x.out
    if all(o == 1 for o in out):
        value = ctx.add(f"global_{kind}_pool", [x.value], {"keepdims": True}, role=x.role)
    elif all(dims.equal(s, o) for s, o in zip(spatial, out)):
        value = x.value
    elif all(isinstance(s, int) and isinstance(o, int) and s % o == 0 for s, o in zip(spatial, out)):
        kernel = [s // o for s, o in zip(spatial, out)]
        value = ctx.add(f"{kind}_pool", [x.value], {"kernel_size": kernel, "strides": kernel}, role=x.role)
    else:
        value = _adaptive_windows(ctx, x.value, kind, spatial, out, x.role)
    value = x.finish(value)
    return [value, None] if ctx.op.startswith("adaptive_max") else value


def _adaptive_windows(ctx: Call, x: str, kind: str, spatial, out, role: str | None) -> str:
    """Adaptive pooling whose windows differ in size (an output that does not divide the input, or an input of a
    generic size): output position i of an axis of size s pools [floor(i * s / o), ceil((i + 1) * s / o)), as
    PyTorch does. A window is a product of one range per axis, and mean and max reduce axis by axis, so each axis
    is pooled in turn: one slice and reduction per output position, joined along the axis."""
    reduce = "reduce_mean" if kind == "avg" else "reduce_max"
    value = x
    axes = [axis for axis, (s, o) in enumerate(zip(spatial, out)) if not dims.equal(s, o)]
    for count, index in enumerate(axes):
        axis, size, wanted = index + 2, spatial[index], out[index]
        last = count == len(axes) - 1
        if wanted == 1:
            value = ctx.add(reduce, [value], {"axes": [axis], "keepdims": True}, role=role if last else f"axis{axis}")
            continue
        parts = []
        for i in range(int(wanted)):
            start = dims.floordiv(dims.mul(size, i), wanted)
            end = dims.floordiv(dims.add(dims.mul(size, i + 1), wanted - 1), wanted)
            window = ctx.add("slice", [value], {"axes": [axis], "starts": [start], "ends": [end]},
                             role=f"axis{axis}_window{i}")
            parts.append(ctx.add(reduce, [window], {"axes": [axis], "keepdims": True}, role=f"axis{axis}_pooled{i}"))
        value = ctx.add("concat", parts, {"axis": axis}, role=role if last else f"axis{axis}")
    return value


_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@register("torch", "frontend", aten.pad, aten.constant_pad_nd, aten.reflection_pad1d, aten.reflection_pad2d,
          aten.reflection_pad3d, aten.replication_pad1d, aten.replication_pad2d, aten.replication_pad3d,
          aten._pad_circular)
def pad(ctx: Call):
    """torch lists pads last axis first, (begin, end) pairs; the IR lists the begins of the padded axes in
    order, then their ends."""
    x = ctx.arg(0)
    pads = list(ctx.literal(ctx.arg(1, "pad" if ctx.op in ("pad", "constant_pad_nd", "_pad_circular")
                                       else "padding")))
    if ctx.op == "pad":
        mode, value = ctx.literal(ctx.arg(2, "mode", "constant")), ctx.literal(ctx.arg(3, "value", None))
    elif ctx.op == "constant_pad_nd":
        mode, value = "constant", ctx.literal(ctx.arg(2, "value", 0))
    else:
        mode = ("reflect" if ctx.op.startswith("reflection") else "replicate" if ctx.op.startswith("replication")
                else "circular")
        value = None
    if mode not in _MODES:
        return ctx.unsupported(f"padding mode {mode!r} has no IR equivalent. Expected one of {sorted(_MODES)}")
    count = len(pads) // 2
    begins = [pads[2 * (count - 1 - i)] for i in range(count)]
    ends = [pads[2 * (count - 1 - i) + 1] for i in range(count)]
    if all(p == 0 for p in begins + ends):
        return ctx.tensor(x)
    if any(isinstance(p, str) for p in begins + ends):
        if mode != "constant":
            return ctx.unsupported(f"{mode} padding by a size computed from the input's sizes. Expected pads that "
                                   f"are numbers, or constant padding. Received: pads={begins + ends}")
        return _padded_by_sizes(ctx, x, begins, ends, float(value or 0.0))
    if mode != "constant" and any(p < 0 for p in begins + ends):
        return _padded_and_cropped(ctx, x, begins, ends, mode)
    return ctx.add("pad", [ctx.tensor(x)], {"pads": begins + ends, "value": float(value or 0.0),
                                           "mode": _MODES[mode]})


def _padded_and_cropped(ctx: Call, x, begins: list, ends: list, mode: str) -> str:
    """Negative pads crop, which the IR's non-constant modes do not: a ``slice`` and a ``pad`` of the positive
    parts, in PyTorch's order (circular padding wraps what is left of the cropped input; reflection and
    replication pad the input first, then crop)."""
    shape = list(ctx.shape(x))
    first = len(shape) - len(begins)
    grow = [max(p, 0) for p in begins + ends]

    def crop(value: str, sizes: list, role: str | None) -> str:
        axes = [first + i for i in range(len(begins)) if begins[i] < 0 or ends[i] < 0]
        starts = [max(-begins[axis - first], 0) for axis in axes]
        stops = [dims.sub(sizes[axis], max(-ends[axis - first], 0)) for axis in axes]
        return ctx.add("slice", [value], {"axes": axes, "starts": starts, "ends": stops}, role=role)

    if mode == "circular":
        cropped = crop(ctx.tensor(x), shape, "cropped")
        return ctx.add("pad", [cropped], {"pads": grow, "value": 0.0, "mode": _MODES[mode]})
    if not any(grow):
        return crop(ctx.tensor(x), shape, None)
    padded = ctx.add("pad", [ctx.tensor(x)], {"pads": grow, "value": 0.0, "mode": _MODES[mode]}, role="padded")
    sizes = [dims.add(dims.add(size, grow[axis - first]), grow[axis - first + len(begins)]) if axis >= first
             else size for axis, size in enumerate(shape)]
    return crop(padded, sizes, None)


def _padded_by_sizes(ctx: Call, x, begins: list, ends: list, value: float) -> str:
    """Constant padding whose widths are size expressions (Swin pads a map to a multiple of its window): each
    padded axis joined with blocks of the fill (``full``) as wide as its pads."""
    shape = list(ctx.shape(x))
    result = ctx.tensor(x)
    first = len(shape) - len(begins)
    for index, (begin, end) in enumerate(zip(begins, ends)):
        axis = first + index
        parts = []
        for side, width in (("begin", begin), ("end", end)):
            if width == 0:
                continue
            block = [*shape[:axis], width, *shape[axis + 1:]]
            parts.append((side, ctx.add("full", [], {"shape": block, "value": value, "dtype": ctx.dtype(x)},
                                        role=f"{side}{axis}")))
        if not parts:
            continue
        pieces = [v for side, v in parts if side == "begin"] + [result] + [v for side, v in parts if side == "end"]
        last = index == len(begins) - 1
        result = ctx.add("concat", pieces, {"axis": axis}, role=None if last else f"axis{axis}")
        shape[axis] = dims.add(dims.add(shape[axis], begin), end)
    return result


_RESIZE = {"upsample_nearest": "nearest", "upsample_linear": "linear", "upsample_bilinear": "linear",
           "upsample_trilinear": "linear", "_upsample_nearest_exact": None, "upsample_bicubic": None}


@register("torch", "frontend", aten._upsample_bilinear2d_aa, aten._upsample_bicubic2d_aa)
def antialiased_resize(ctx: Call):
    return ctx.unsupported("antialiased resizing (F.interpolate(..., antialias=True)) has no IR equivalent. "
                           "Expected antialias=False. Received: antialias=True")


@register("torch", "frontend", aten.upsample_nearest1d, aten.upsample_nearest2d, aten.upsample_nearest3d,
          aten.upsample_linear1d, aten.upsample_bilinear2d, aten.upsample_trilinear3d, aten.upsample_bicubic2d,
          aten._upsample_nearest_exact1d, aten._upsample_nearest_exact2d)
def resize(ctx: Call):
    family = ctx.op.rstrip("123d").rstrip("_")
    mode = _RESIZE.get(family)
    if mode is None:
        return ctx.unsupported(f"{family} has no IR equivalent. Expected nearest or (bi/tri)linear interpolation")
    x = ctx.arg(0)
    align_corners = False
    if mode == "linear":
        align_corners = bool(ctx.literal(ctx.arg(2, "align_corners", False)))
    factors = ctx.literal(ctx.arg(2 if mode == "nearest" else 3, "scale_factors", None)) \
        if ctx.overload == "vec" else None
    coordinate_mode = "asymmetric" if mode == "nearest" else ("align_corners" if align_corners else "half_pixel")
    source, sizes = ctx.shape(x)[2:], list(ctx.shape()[2:])
    if factors and coordinate_mode != "align_corners":
        unsure = [(f, n) for f, n, m in zip(factors, source, sizes) if _sometimes_unchanged(ctx, float(f), n, m)]
        if unsure:  # no one resize is right for every size: those sizes are fixed at the example's
            factor = float(unsure[0][0])
            ctx.fix([size for _, size in unsure],
                    f"scale_factor={factor} keeps an axis unchanged below {math.ceil(1.0 / (factor - 1.0))} "
                    f"positions (PyTorch then copies it instead of scaling it), and scales it above")
    attrs = {"sizes": sizes, "mode": mode, "coordinate_mode": coordinate_mode,
             "scales": _scales(factors, source, sizes, coordinate_mode)}
    return ctx.add("resize", [ctx.tensor(x)], attrs)


def _sometimes_unchanged(ctx: Call, factor: float, source, size) -> bool:
    """Whether an axis of generic size ``source`` resized by ``factor`` may keep its size and be copied (PyTorch's
    nearest and linear kernels copy an axis whose size does not change, whatever the factor says), for sizes
    where that differs from scaling: 1 < factor < 1.5 keeps sizes 2 <= n < 1 / (factor - 1)."""
    if isinstance(source, int) or not 1.0 < factor < 1.5 or dims.equal(source, size):
        return False
    least = math.ceil(1.0 / (factor - 1.0))
    return not ctx.capture.names.at_least(source, least)


def _scales(factors, source, sizes, coordinate_mode: str) -> list[float] | None:
    """PyTorch maps coordinates with 1 / scale_factor when it is given; None when that is the sizes' own ratio
    (in float32, as PyTorch computes both) or does not matter."""
    if not factors or coordinate_mode == "align_corners":
        return None
    # PyTorch's nearest and linear kernels copy an axis whose length does not change
    factors = [1.0 if dims.equal(n, m) else float(f) for f, n, m in zip(factors, source, sizes)]
    if all(_same_ratio(f, n, m) for f, n, m in zip(factors, source, sizes)):
        return None
    return factors


def _same_ratio(factor: float, source, size) -> bool:
    """Whether ``1 / factor`` maps coordinates as ``source / size`` does: in float32 for fixed sizes (as PyTorch
    computes both), exactly for a whole factor of a symbolic size (``2*H``)."""
    if isinstance(source, int) and isinstance(size, int):
        return np.float32(1.0 / factor) == np.float32(source) / np.float32(size)
    return float(factor).is_integer() and dims.equal(dims.mul(source, int(factor)), size)


@register("torch", "frontend", aten.pixel_shuffle, aten.pixel_unshuffle)
def pixel_shuffle(ctx: Call):
    """(N, C*r*r, H, W) -> (N, C, H*r, W*r) (``pixel_shuffle``) and back (``pixel_unshuffle``): a reshape that
    splits the blocks out, a transpose that interleaves them with the spatial axes, a reshape that merges them."""
    x, factor = ctx.arg(0), int(ctx.literal(ctx.arg(1)))
    shape = list(ctx.shape(x))
    if len(shape) != 4:
        return ctx.unsupported(f"a pixel shuffle of a rank {len(shape)} tensor. Expected (N, C, H, W)")
    batch, blocks = shape[0], factor * factor
    if ctx.op == "pixel_shuffle":
        channels, height, width = dims.floordiv(shape[1], blocks), shape[2], shape[3]
        split = [batch, channels, factor, factor, height, width]
        perm = [0, 1, 4, 2, 5, 3]
        result = [batch, channels, dims.mul(height, factor), dims.mul(width, factor)]
    else:
        channels, height, width = shape[1], dims.floordiv(shape[2], factor), dims.floordiv(shape[3], factor)
        split = [batch, channels, height, factor, width, factor]
        perm = [0, 1, 3, 5, 2, 4]
        result = [batch, dims.mul(channels, blocks), height, width]
    blocks = ctx.add("reshape", [ctx.tensor(x)], {"shape": split}, role="blocks")
    moved = ctx.add("transpose", [blocks], {"perm": perm}, role="interleaved")
    return ctx.add("reshape", [moved], {"shape": result})
