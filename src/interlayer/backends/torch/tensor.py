"""flatten, reshape, transpose, pad, dropout, identity, tile (x.repeat) and concat (add is in algebra.py)."""
from __future__ import annotations

import torch
from torch import nn

from ...ir import layout
from ...registry import register
from .context import Step, per_rank, torch_pads

_CONSTANT_PAD = {3: nn.ConstantPad1d, 4: nn.ConstantPad2d, 5: nn.ConstantPad3d}
_ZERO_PAD = {3: nn.ZeroPad1d, 4: nn.ZeroPad2d, 5: nn.ZeroPad3d}
_MODE_PAD = {
    "reflect": ({3: nn.ReflectionPad1d, 4: nn.ReflectionPad2d, 5: nn.ReflectionPad3d}, "reflection padding"),
    "edge": ({3: nn.ReplicationPad1d, 4: nn.ReplicationPad2d, 5: nn.ReplicationPad3d}, "replication padding"),
    "wrap": ({3: nn.CircularPad1d, 4: nn.CircularPad2d, 5: nn.CircularPad3d}, "circular padding"),
}
"""The IR's modes that copy the input's values, as PyTorch's padding modules (each takes rank 3 to 5 inputs)."""


@register("torch", "backend", "flatten")
def flatten(ctx: Step, node):
    value, rank = ctx.input, len(ctx.shape())
    if ctx.attrs["order"] == "channels_last" and rank > 2:  # (N, C, *spatial) read as (N, *spatial, C)
        value = ctx.method("permute", value, *layout.channels_last(rank), suffix="_permute")
    return ctx.module(nn.Flatten(), value)


@register("torch", "backend", "reshape")
def reshape(ctx: Step, node):
    """``torch.reshape(x, (-1, ...))``; a symbolic size is read from the input (``x.size(1)``) at run time."""
    shape, target = ctx.shape(), ctx.attrs["shape"]
    sizes = [ctx.method("size", ctx.input, shape.index(d), suffix=f"_size{index}") if isinstance(d, str) else d
             for index, d in enumerate(target)]
    batch = ctx.method("size", ctx.input, 0, suffix="_batch") if -1 in target else -1
    return ctx.call(torch.reshape, ctx.input, (batch, *sizes))


@register("torch", "backend", "transpose")
def transpose(ctx: Step, node):
    return ctx.method("permute", ctx.input, *ctx.attrs["perm"])


@register("torch", "backend", "pad")
def pad(ctx: Step, node):
    """ZeroPad/ConstantPad, or ReflectionPad (reflect), ReplicationPad (edge), CircularPad (wrap)."""
    value, mode = ctx.attrs["value"], ctx.attrs["mode"]
    padding = torch_pads(ctx.attrs["pads"], len(ctx.shape()) - 2)
    if mode != "constant":
        classes, what = _MODE_PAD[mode]
        cls = per_rank(classes, ctx, what)
        return None if cls is None else ctx.module(cls(padding), ctx.input)
    classes = _ZERO_PAD if value == 0.0 else _CONSTANT_PAD
    cls = per_rank(classes, ctx, "constant padding")
    if cls is None:
        return None
    return ctx.module(cls(padding) if value == 0.0 else cls(padding, value), ctx.input)


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
