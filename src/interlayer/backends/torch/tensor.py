"""flatten, reshape, transpose, pad, dropout, identity, tile (x.repeat) and concat (add is in algebra.py); no axis
is special, and sizes are computed at run time (``sizes.py``)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...ir import dims, layout
from ...registry import register
from .context import Step, known, torch_pads

_CONSTANT_PAD = {1: nn.ConstantPad1d, 2: nn.ConstantPad2d, 3: nn.ConstantPad3d}
_ZERO_PAD = {1: nn.ZeroPad1d, 2: nn.ZeroPad2d, 3: nn.ZeroPad3d}
_MODE_PAD = {
    "reflect": ({1: nn.ReflectionPad1d, 2: nn.ReflectionPad2d, 3: nn.ReflectionPad3d}, "reflection padding"),
    "edge": ({1: nn.ReplicationPad1d, 2: nn.ReplicationPad2d, 3: nn.ReplicationPad3d}, "replication padding"),
    "wrap": ({1: nn.CircularPad1d, 2: nn.CircularPad2d, 3: nn.CircularPad3d}, "circular padding"),
}
"""PyTorch's padding modules by the number of padded (last) axes: the IR's modes that copy the input's values
read inputs with one or two axes in front of those."""


@register("torch", "backend", "flatten")
def flatten(ctx: Step, node):
    value, rank = ctx.input, len(ctx.shape())
    if ctx.attrs["order"] == "channels_last" and rank > 2:  # (N, C, *spatial) read as (N, *spatial, C)
        value = ctx.method("permute", value, *layout.channels_last(rank), suffix="_permute")
    return ctx.module(nn.Flatten(), value)


@register("torch", "backend", "reshape")
def reshape(ctx: Step, node):
    """``x.reshape(N * T, 6)``: every axis's size, each expression computed at run time from the sizes the inputs
    bind. A -1 is written as the size the IR infers for it (torch.export would guard on how -1 divides); it
    stays -1 only where that size is a division the IR cannot simplify. A reshape that regroups several axes
    into several others goes through ``flatten()`` first: the same values, and a view torch.export traces for
    any size."""
    sizes = [want if want != -1 else d if known(d) and not (isinstance(d, str) and ("//" in d or "%" in d)) else -1
             for want, d in zip(ctx.attrs["shape"], ctx.out_shape)]
    x = ctx.input
    if _regroups(ctx.shape(), ctx.out_shape):
        x = ctx.method("flatten", x, suffix="_flat")
    return ctx.method("reshape", x, *(ctx.sizes(sizes) or [()]))  # x.reshape(()): a 0-d result


def _regroups(shape, target) -> bool:
    """Whether reshaping ``shape`` into ``target`` regroups several axes into several others (``(T, 3)`` into
    ``(3, T)``), where torch's view of it guards on the sizes; merges, splits and axes of size 1 it traces for any
    size. Axes are matched in order as the shortest runs of equal products."""
    source, result = [d for d in shape if d != 1], [d for d in target if d != 1]
    if not all(known(d) for d in (*source, *result)):
        return False  # a size the IR cannot name ("?"): torch's own reshape
    i = j = 0
    while i < len(source) and j < len(result):
        run = next(((p, span - p) for span in range(2, len(source) - i + len(result) - j + 1)
                    for p in range(1, span)
                    if i + p <= len(source) and j + span - p <= len(result)
                    and dims.equal(dims.product(source[i:i + p]), dims.product(result[j:j + span - p]))), None)
        if run is None or min(run) > 1:
            return True
        i, j = i + run[0], j + run[1]
    return i != len(source) or j != len(result)


@register("torch", "backend", "transpose")
def transpose(ctx: Step, node):
    return ctx.method("permute", ctx.input, *ctx.attrs["perm"])


@register("torch", "backend", "pad")
def pad(ctx: Step, node):
    """ZeroPad/ConstantPad, or ReflectionPad (reflect), ReplicationPad (edge), CircularPad (wrap), of the last
    len(pads) / 2 axes. The constant pads take any rank; the others read (C, *padded) or (N, C, *padded), so
    further leading axes are flattened into one around them and a missing one added."""
    value, mode, pads = ctx.attrs["value"], ctx.attrs["mode"], ctx.attrs["pads"]
    count = len(pads) // 2
    padding = torch_pads(pads, count)
    if mode == "constant":
        classes = _ZERO_PAD if value == 0.0 else _CONSTANT_PAD
        if count not in classes:
            return ctx.call(F.pad, ctx.input, padding, "constant", value)
        cls = classes[count]
        return ctx.module(cls(padding) if value == 0.0 else cls(padding, value), ctx.input)
    classes, what = _MODE_PAD[mode]
    if count not in classes:
        return ctx.unsupported(f"torch has no {what} of this many axes. Expected pads for 1 to 3 axes. "
                               f"Received: pads={pads}")
    shape = ctx.shape()
    leading = len(shape) - count - 1  # the axes in front of the one PyTorch takes for channels
    x = ctx.input
    if leading < 0:
        x = ctx.method("unsqueeze", x, 0, suffix="_unsqueeze")
    elif leading > 1:
        x = ctx.method("flatten", x, 0, leading - 1, suffix="_flatten")
    x = ctx.module(classes[count](padding), x)
    if leading < 0:
        return ctx.method("squeeze", x, 0, suffix="_squeeze")
    if leading > 1:
        return ctx.method("unflatten", x, 0, tuple(ctx.axis_size(axis) for axis in range(leading)),
                          suffix="_unflatten")
    return x


@register("torch", "backend", "dropout")
def dropout(ctx: Step, node):
    return ctx.module(nn.Dropout(ctx.attrs["rate"]), ctx.input)


@register("torch", "backend", "identity")
def identity(ctx: Step, node):
    return ctx.module(nn.Identity(), ctx.input)


@register("torch", "backend", "tile")
def tile(ctx: Step, node):
    return ctx.method("repeat", ctx.input, *ctx.attrs["repeats"])


@register("torch", "backend", "concat")
def concat(ctx: Step, node):
    return ctx.call(torch.cat, list(ctx.inputs), dim=ctx.attrs["axis"])
