"""Comparisons and logic as torch code: ``ids != 1``, ``x < y`` (bool results, numpy broadcasting), and
torch.logical_and/or/xor/not."""
from __future__ import annotations

import operator

import torch

from ...registry import register
from .algebra import operands
from .context import Step

_COMPARISONS = {"equal": operator.eq, "not_equal": operator.ne, "less": operator.lt, "less_equal": operator.le,
                "greater": operator.gt, "greater_equal": operator.ge}
_LOGIC = {"logical_and": torch.logical_and, "logical_or": torch.logical_or, "logical_xor": torch.logical_xor}


@register("torch", "backend", *_COMPARISONS)
def compare(ctx: Step, node):
    """A 0-d constant is a Python literal (``ids == 2``), in its place when it comes first (``2 < x``)."""
    return ctx.call(_COMPARISONS[node.op], *operands(ctx, node))


@register("torch", "backend", *_LOGIC)
def logic(ctx: Step, node):
    """torch.logical_* read any dtype as != 0, as numpy's do; a constant is a tensor (they take no literal)."""
    return ctx.call(_LOGIC[node.op], *operands(ctx, node, literal=False))


@register("torch", "backend", "logical_not")
def logical_not(ctx: Step, node):
    return ctx.call(torch.logical_not, ctx.input)
