"""Windows and grids over spatial axes: max and average pooling (1-D to 3-D, ceil_mode, padding counted or not),
adaptive pooling (global when the output is 1, a plain pool when the output divides the input), padding in
PyTorch's four modes (``F.pad``, the padding layers, a conv's ``padding_mode``), and resizing
(``F.interpolate``, ``nn.Upsample``)."""
from __future__ import annotations

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


def _unbatched(ctx: Call, rank: int) -> bool:
    if ctx.rank(ctx.arg(0)) != rank + 2:
        ctx.unsupported(f"the input must be batched. Expected a rank {rank + 2} input (N, C, *spatial). "
                        f"Received: shape={ctx.shape(ctx.arg(0))}")
        return True
    return False


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
    if _unbatched(ctx, rank):
        return None
    attrs = _window(ctx, rank)
    attrs.update(dilations=_per_axis(ctx.literal(ctx.arg(4, "dilation", 1)), rank),
                 ceil_mode=bool(ctx.literal(ctx.arg(5, "ceil_mode", False))))
    value = ctx.add("max_pool", [ctx.tensor(ctx.arg(0))], attrs)
    if ctx.op.endswith("with_indices"):
        if len(ctx.node.users) > 1 or any(user.args[1] != 0 for user in ctx.node.users):
            return ctx.unsupported("it returns the positions of the maxima. Expected pooled values only; the IR "
                                   "has no indices output")
        return [value, None]
    return value


@register("torch", "frontend", aten.avg_pool1d, aten.avg_pool2d, aten.avg_pool3d)
def avg_pool(ctx: Call):
    rank = _rank(ctx)
    if _unbatched(ctx, rank):
        return None
    divisor = ctx.literal(ctx.arg(6, "divisor_override", None))
    if divisor is not None:
        return ctx.unsupported(f"divisor_override must be None. Expected the window's own count as divisor. "
                               f"Received: divisor_override={divisor}")
    attrs = _window(ctx, rank)
    attrs.update(ceil_mode=bool(ctx.literal(ctx.arg(4, "ceil_mode", False))),
                 count_include_pad=bool(ctx.literal(ctx.arg(5, "count_include_pad", True))))
    return ctx.add("avg_pool", [ctx.tensor(ctx.arg(0))], attrs)


@register("torch", "frontend", aten.adaptive_avg_pool1d, aten.adaptive_avg_pool2d, aten.adaptive_avg_pool3d,
          aten._adaptive_avg_pool2d, aten.adaptive_max_pool1d, aten.adaptive_max_pool2d, aten.adaptive_max_pool3d)
def adaptive_pool(ctx: Call):
    """Output size 1: a global pool; an output size that divides the input: a plain pool (same windows)."""
    kind = "max" if "max" in ctx.op else "avg"
    rank = int(ctx.op.rstrip("d")[-1])
    if _unbatched(ctx, rank):
        return None
    spatial = ctx.shape(ctx.arg(0))[2:]
    requested = ctx.literal(ctx.arg(1, "output_size"))
    requested = requested if isinstance(requested, (list, tuple)) else [requested] * rank
    out = [size if wanted is None else wanted for wanted, size in zip(requested, spatial)]
    x = ctx.tensor(ctx.arg(0))
    if all(o == 1 for o in out):
        value = ctx.add(f"global_{kind}_pool", [x], {"keepdims": True})
    elif all(isinstance(s, int) and isinstance(o, int) and s % o == 0 for s, o in zip(spatial, out)):
        kernel = [s // o for s, o in zip(spatial, out)]
        value = ctx.add(f"{kind}_pool", [x], {"kernel_size": kernel, "strides": kernel})
    elif all(dims.equal(s, o) for s, o in zip(spatial, out)):
        value = x
    else:
        return ctx.unsupported(f"output_size must be 1 or divide the input size. Expected windows of one size, as "
                               f"IR pooling has. Received: output_size={requested}, input size={tuple(spatial)}")
    if kind == "max" and ctx.op.startswith("adaptive_max"):
        if any(user.args[1] != 0 for user in ctx.node.users):
            return ctx.unsupported("it returns the positions of the maxima. Expected pooled values only")
        return [value, None]
    return value


_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@register("torch", "frontend", aten.pad, aten.constant_pad_nd, aten.reflection_pad1d, aten.reflection_pad2d,
          aten.reflection_pad3d, aten.replication_pad1d, aten.replication_pad2d, aten.replication_pad3d,
          aten._pad_circular)
def pad(ctx: Call):
    """torch lists pads last axis first, (begin, end) pairs; the IR lists the begins of the padded axes in
    order, then their ends."""
    x = ctx.arg(0)
    pads = [int(p) for p in ctx.literal(ctx.arg(1, "pad" if ctx.op in ("pad", "constant_pad_nd", "_pad_circular")
                                                 else "padding"))]
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
    if not any(begins + ends):
        return ctx.tensor(x)
    return ctx.add("pad", [ctx.tensor(x)], {"pads": begins + ends, "value": float(value or 0.0),
                                           "mode": _MODES[mode]})


_RESIZE = {"upsample_nearest": "nearest", "upsample_linear": "linear", "upsample_bilinear": "linear",
           "upsample_trilinear": "linear", "_upsample_nearest_exact": None, "upsample_bicubic": None}


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
    attrs = {"sizes": sizes, "mode": mode, "coordinate_mode": coordinate_mode,
             "scales": _scales(factors, source, sizes, mode, coordinate_mode)}
    return ctx.add("resize", [ctx.tensor(x)], attrs)


def _scales(factors, source, sizes, mode: str, coordinate_mode: str) -> list[float] | None:
    """PyTorch maps coordinates with 1 / scale_factor when it is given; None when that is the sizes' own ratio
    (in float32, as PyTorch computes both) or does not matter."""
    if not factors or coordinate_mode == "align_corners":
        return None
    factors = [float(f) for f in factors]
    if mode == "linear":  # PyTorch's linear kernels copy an axis whose length does not change
        factors = [1.0 if dims.equal(n, m) else f for f, n, m in zip(factors, source, sizes)]
    if all(_same_ratio(f, n, m) for f, n, m in zip(factors, source, sizes)):
        return None
    return factors


def _same_ratio(factor: float, source, size) -> bool:
    """Whether ``1 / factor`` maps coordinates as ``source / size`` does: in float32 for fixed sizes (as PyTorch
    computes both), exactly for a whole factor of a symbolic size (``2*H``)."""
    if isinstance(source, int) and isinstance(size, int):
        return np.float32(1.0 / factor) == np.float32(source) / np.float32(size)
    return float(factor).is_integer() and dims.equal(dims.mul(source, int(factor)), size)
