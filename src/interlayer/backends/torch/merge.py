"""maximum -> a chain of torch.maximum, minimum -> a chain of torch.minimum (both broadcast as numpy does)."""
from __future__ import annotations

import torch

from ...registry import register
from .context import Step

_FUNCTIONS = {"maximum": torch.maximum, "minimum": torch.minimum}


@register("torch", "backend", "maximum", "minimum")
def extremum(ctx: Step, node):
    function = _FUNCTIONS[node.op]
    first, *rest = ctx.inputs
    for index, value in enumerate(rest):
        first = ctx.call(function, first, value, suffix="" if index == len(rest) - 1 else f"_{index}")
    return first
