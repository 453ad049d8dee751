"""maximum and minimum as the variadic Max and Min (numpy broadcasting), concat as Concat."""
from __future__ import annotations

from ...registry import register
from .context import Step

_VARIADIC = {"maximum": "Max", "minimum": "Min"}


@register("onnx", "backend", *_VARIADIC)
def variadic(ctx: Step, node):
    return ctx.op(_VARIADIC[node.op], ctx.inputs)


@register("onnx", "backend", "concat")
def concat(ctx: Step, node):
    return ctx.op("Concat", ctx.inputs, axis=ctx.attrs["axis"])
