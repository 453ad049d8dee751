"""conv_transpose -> nn.ConvTranspose1d/2d/3d (a crop behind it where PyTorch's padding cannot say it);
resize -> nn.Upsample (F.interpolate for sizes computed at run time)."""
from __future__ import annotations

import math
import operator
from fractions import Fraction

import numpy as np
import torch.nn.functional as F
from torch import nn

from ...ir import dims
from ...registry import register
from .context import Step, known, parameter, per_rank, same_size, single

_CONV_TRANSPOSE = {3: nn.ConvTranspose1d, 4: nn.ConvTranspose2d, 5: nn.ConvTranspose3d}
_LINEAR = {3: "linear", 4: "bilinear", 5: "trilinear"}


@register("torch", "backend", "conv_transpose")
def conv_transpose(ctx: Step, node):
    attrs = ctx.attrs
    cls = per_rank(_CONV_TRANSPOSE, ctx, "transposed convolution")
    if cls is None:
        return None
    plan = [_axis_padding(*axis) for axis in _axes(attrs)]
    if None in plan:
        return ctx.unsupported(f"output_padding beyond the cropped end must be smaller than the stride or the "
                               f"dilation in PyTorch. Expected output_padding - pads_end < max(stride, dilation). "
                               f"Received: pads={attrs['pads']}, output_padding={attrs['output_padding']}, "
                               f"strides={attrs['strides']}, dilations={attrs['dilations']}")
    padding, output_padding, crop = zip(*plan)
    module = cls(attrs["in_channels"], attrs["out_channels"], single(attrs["kernel_size"]),
                 stride=single(attrs["strides"]), padding=single(list(padding)),
                 output_padding=single(list(output_padding)), groups=attrs["groups"], bias=attrs["bias"],
                 dilation=single(attrs["dilations"]))
    module.weight = parameter(node.weights["weight"])
    if attrs["bias"]:
        module.bias = parameter(node.weights["bias"])
    value = ctx.module(module, ctx.input)
    if any(c != slice(None) for c in crop):
        value = ctx.call(operator.getitem, value, (slice(None), slice(None), *crop), suffix="_crop")
    return value


def _axes(attrs):
    rank = len(attrs["kernel_size"])
    pads = attrs["pads"]
    return zip(pads[:rank], pads[rank:], attrs["output_padding"], attrs["strides"], attrs["dilations"])


def _axis_padding(begin: int, end: int, extra: int, stride: int, dilation: int):
    """(padding, output_padding, crop) of one axis: PyTorch crops ``padding`` from the begin and
    ``padding - output_padding`` from the end, with output_padding < max(stride, dilation); the slice crops
    what is left. The largest padding that works is taken, so the usual case needs no slice."""
    net_end = end - extra  # what the IR crops from the end of the full output (negative: zeros appended)
    for padding in range(begin, -1, -1):
        output_padding = max(padding - net_end, 0)
        if output_padding < max(stride, dilation):
            more_begin, more_end = begin - padding, net_end - (padding - output_padding)
            return padding, output_padding, slice(more_begin or None, -more_end if more_end else None)
    return None


@register("torch", "backend", "resize")
def resize(ctx: Step, node):
    attrs = ctx.attrs
    rank, mode, coordinates = len(ctx.shape()), attrs["mode"], attrs["coordinate_mode"]
    if mode == "nearest" and coordinates != "asymmetric":
        return ctx.unsupported(f"PyTorch's nearest resize reads floor(o * scale). Expected "
                               f"coordinate_mode='asymmetric' with mode='nearest'. Received: coordinate_mode="
                               f"{coordinates!r}")
    if mode == "linear" and (coordinates == "asymmetric" or rank not in _LINEAR):
        return ctx.unsupported(f"PyTorch's linear resize is 1-D to 3-D, half_pixel or align_corners. Expected one of "
                               f"those. Received: coordinate_mode={coordinates!r}, rank={rank}")
    options = {"mode": "nearest"} if mode == "nearest" else {
        "mode": _LINEAR[rank], "align_corners": coordinates == "align_corners"}
    if any(isinstance(d, str) for d in (*ctx.shape()[2:], *attrs["sizes"])):
        return _resize_symbolic(ctx, options)
    factors = _scale_factors(ctx)
    if factors is False:
        return ctx.unsupported(f"these scales give PyTorch another output size, or a copy of an axis whose length "
                               f"does not change. Expected floor(size * scale) = sizes, and scale 1 on such axes. "
                               f"Received: scales={attrs['scales']}, sizes={attrs['sizes']}, input shape={ctx.shape()}")
    if factors is None:
        return ctx.module(nn.Upsample(size=single(attrs["sizes"]), **options), ctx.input)
    return ctx.module(nn.Upsample(scale_factor=single(factors), recompute_scale_factor=False, **options), ctx.input)


def _resize_symbolic(ctx: Step, options: dict):
    """Sizes computed at run time: ``F.interpolate(x, size=(2 * H, 2 * W))`` where the sizes map coordinates;
    where the scales do, nn.Upsample(scale_factor=s), whose output is floor(n * s): exact where each size is that
    (``(3 * n) // 2`` for 1.5) or the input size is one the IR cannot name."""
    attrs = ctx.attrs
    if attrs["scales"] is None or attrs["coordinate_mode"] == "align_corners":
        return ctx.call(F.interpolate, ctx.input, size=ctx.sizes(attrs["sizes"]), **options)
    spatial, scales = ctx.shape()[2:], [Fraction(s) for s in attrs["scales"]]
    if all(f.denominator <= _DENOMINATOR and (not known(n) or same_size(m, dims.floordiv(dims.mul(n, f.numerator),
                                                                                         f.denominator)))
           for f, n, m in zip(scales, spatial, attrs["sizes"])):
        return ctx.module(nn.Upsample(scale_factor=single(list(attrs["scales"])), recompute_scale_factor=False,
                                      **options), ctx.input)
    return ctx.unsupported(f"these scales give PyTorch another output size at some input size. Expected sizes "
                           f"floor(input size * scale), with scales of small denominators (1.5, 2, 0.25). Received: "
                           f"scales={attrs['scales']}, sizes={attrs['sizes']}, input shape={list(spatial)}")


_DENOMINATOR = 1024
"""the largest denominator of a scale whose floor(n * scale) PyTorch computes exactly for any size n in range
(a float times a short dyadic fraction is exact)"""


def _scale_factors(ctx: Step):
    """None when the sizes map coordinates as the IR does (nn.Upsample(size=...)); the scale factors when
    PyTorch's scale_factor path computes the IR's sizes and coordinates; False when neither does."""
    attrs = ctx.attrs
    scales, spatial, sizes = attrs["scales"], ctx.shape()[2:], attrs["sizes"]
    if scales is None or attrs["coordinate_mode"] == "align_corners":
        return None
    if all(np.float32(1.0 / s) == np.float32(n) / np.float32(m) for s, n, m in zip(scales, spatial, sizes)):
        return None
    if any(math.floor(n * s) != m for s, n, m in zip(scales, spatial, sizes)):
        return False
    if attrs["mode"] == "linear" and any(n == m and s != 1.0 for s, n, m in zip(scales, spatial, sizes)):
        return False  # PyTorch's linear kernels copy such an axis
    return list(scales)
