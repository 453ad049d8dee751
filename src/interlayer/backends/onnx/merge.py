"""maximum and minimum as the variadic Max and Min (numpy broadcasting), concat as Concat; integer inputs stay
integers (``Step.common``)."""
from __future__ import annotations

from ...registry import register
from .context import BOOL, INT64, Step

_VARIADIC = {"maximum": "Max", "minimum": "Min"}


@register("onnx", "backend", *_VARIADIC)
def variadic(ctx: Step, node):
    values = ctx.common(ctx.raws)
    return ctx.op(_VARIADIC[node.op], [ctx.cast(value, INT64) if ctx.dtype_of(value) == BOOL else value
                                       for value in values])  # Max and Min take numbers


@register("onnx", "backend", "concat")
def concat(ctx: Step, node):
    return ctx.op("Concat", ctx.common(ctx.raws), axis=ctx.attrs["axis"])
