"""Torch frontend converters: merge ops (torch.maximum, torch.minimum and their Tensor methods)."""
from __future__ import annotations

import torch

from ...registry import register
from .context import Call

_OPS = {torch.maximum: "maximum", "maximum": "maximum", torch.minimum: "minimum", "minimum": "minimum"}


@register("torch", "frontend", torch.maximum, torch.minimum, "maximum", "minimum")
def extremum(ctx: Call, target):
    first, second = ctx.arg(0, "input"), ctx.arg(1, "other")
    if not (ctx.is_tensor(first) and ctx.is_tensor(second)):
        return ctx.unsupported(f"both operands must be tensors the model computed. Expected two tensors. "
                               f"Received: operands={first!r}, {second!r}")
    if len(ctx.shape(first)) != len(ctx.shape(second)):
        return ctx.unsupported(f"the operands must have equal ranks (the batch axis stays first). Expected equal "
                               f"ranks. Received: shapes={ctx.shape(first)}, {ctx.shape(second)}")
    return ctx.add(_OPS[target], [ctx.value(first), ctx.value(second)])
