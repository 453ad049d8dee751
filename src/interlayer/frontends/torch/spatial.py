"""Transposed convolution (ConvTranspose1d/2d/3d) and resizing (nn.Upsample, UpsamplingNearest2d,
UpsamplingBilinear2d, F.interpolate).

ConvTranspose's padding_mode needs no check: PyTorch accepts only 'zeros', both when the layer is made and
when it runs (so a changed attribute fails the capture's run of the model, naming it).
"""
from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import nn

from ...registry import register
from .context import Call, ntuple, to_numpy


@register("torch", "frontend", nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
def conv_transpose(ctx: Call, module: nn.ConvTranspose2d):
    rank = len(module.kernel_size)
    source = ctx.shape(ctx.node.args[0])
    if len(source) != rank + 2:
        return ctx.unsupported(f"the input must be batched. Expected a rank {rank + 2} input (N, C, *spatial). "
                               f"Received: shape={source}")
    kernel, strides, dilations = list(module.kernel_size), list(module.stride), list(module.dilation)
    padding = ntuple(module.padding, rank)
    # forward(x, output_size=...) picks output_padding itself: read it off the recorded output length
    full = [(n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(source[2:], strides, padding, dilations, kernel)]
    output_padding = [out - length for out, length in zip(ctx.shape()[2:], full)]
    attrs = {"in_channels": module.in_channels, "out_channels": module.out_channels, "kernel_size": kernel,
             "strides": strides, "dilations": dilations, "pads": padding * 2, "output_padding": output_padding,
             "groups": module.groups, "bias": module.bias is not None}
    weights = {"weight": to_numpy(module.weight), "bias": None if module.bias is None else to_numpy(module.bias)}
    return ctx.add("conv_transpose", [ctx.input], attrs, weights, sources={"weight": "weight", "bias": "bias"})


_MODES = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear"}


@register("torch", "frontend", nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d, F.interpolate)
def resize(ctx: Call, target):
    mode = ctx.option("mode", 3, "nearest")
    antialias = ctx.option("antialias", 6, False)
    if antialias:
        ctx.unsupported(f"antialias must be False. Expected plain interpolation; the IR has no antialiasing filter. "
                        f"Received: antialias={antialias}")
    if mode not in _MODES:
        ctx.unsupported(f"mode must be one of {sorted(_MODES)}. Expected nearest or (bi/tri)linear interpolation. "
                        f"Received: mode={mode!r}")
    if antialias or mode not in _MODES:
        return None
    if mode == "nearest":
        coordinate_mode = "asymmetric"
    else:
        coordinate_mode = "align_corners" if ctx.option("align_corners", 4, None) else "half_pixel"
    source, sizes = ctx.shape(ctx.node.args[0])[2:], list(ctx.shape()[2:])
    attrs = {"sizes": sizes, "mode": _MODES[mode], "coordinate_mode": coordinate_mode,
             "scales": _scales(ctx, source, sizes, _MODES[mode], coordinate_mode)}
    return ctx.add("resize", [ctx.input], attrs)


def _scales(ctx: Call, source, sizes, mode: str, coordinate_mode: str) -> list[float] | None:
    """PyTorch maps coordinates with 1 / scale_factor when it is given and not recomputed; None when that is
    the sizes' own ratio (in float32, as PyTorch computes both) or does not matter."""
    factor = ctx.option("scale_factor", 2, None)
    if factor is None or ctx.option("recompute_scale_factor", 5, None) or coordinate_mode == "align_corners":
        return None
    factors = [float(f) for f in (factor if isinstance(factor, (list, tuple)) else [factor] * len(sizes))]
    if mode == "linear":  # PyTorch's linear kernels copy an axis whose length does not change
        factors = [1.0 if n == m else f for f, n, m in zip(factors, source, sizes)]
    if all(np.float32(1.0 / f) == np.float32(n) / np.float32(m) for f, n, m in zip(factors, source, sizes)):
        return None
    return factors
