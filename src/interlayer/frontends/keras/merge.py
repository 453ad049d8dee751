"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.

Keras merges equal-rank inputs with numpy broadcasting, and first expands a lower-rank input at axis 1 until
the ranks agree ((N, C) against (N, H, W, C) becomes (N, 1, 1, C)). Every input is then held as the one that
has the output's shape, so the IR computes in the layout Keras does. Multiply's product of several inputs is a
chain of ``mul`` nodes (``<layer>_mul<i>`` then ``<layer>``), as Keras multiplies them from the left.
"""
from __future__ import annotations

import keras
import numpy as np

from ...registry import register
from .context import Held, LayerContext, prefers


def aligned(ctx: LayerContext, inputs: list[Held]) -> list[Held]:
    """The inputs expanded to one rank as Keras's merge layers do, then held alike."""
    rank = max(x.rank for x in inputs)
    expanded = []
    for index, x in enumerate(inputs):
        if x.rank < rank:
            shape = ctx.keras_shape(x)[1:]
            x = ctx.reshape(x, (1,) * (rank - x.rank) + tuple(shape), name=f"{ctx.name}_expand{index}")
        expanded.append(x)
    return ctx.common(expanded)


def chain(ctx: LayerContext, op: str, inputs: list[Held]) -> Held:
    """A binary op folded from the left over the inputs: nodes ``<layer>_<op>1 ... <layer>``."""
    result = inputs[0]
    for index, x in enumerate(inputs[1:], start=1):
        name = None if index == len(inputs) - 1 else f"{ctx.name}_{op}{index}"
        result = ctx.add(op, [result, x], perm=result.perm, name=name)
    return result


@register("keras", "frontend", keras.layers.Add)
@prefers("any")
def add(ctx: LayerContext, layer, inputs):
    inputs = aligned(ctx, inputs)
    return ctx.add("add", inputs, perm=inputs[0].perm)


@register("keras", "frontend", keras.layers.Subtract)
@prefers("any")
def subtract(ctx: LayerContext, layer, inputs):
    inputs = aligned(ctx, inputs)
    return ctx.add("sub", inputs, perm=inputs[0].perm)


@register("keras", "frontend", keras.layers.Multiply)
@prefers("any")
def multiply(ctx: LayerContext, layer, inputs):
    return chain(ctx, "mul", aligned(ctx, inputs))


@register("keras", "frontend", keras.layers.Average)
@prefers("any")
def average(ctx: LayerContext, layer, inputs):
    """Keras sums from the left and divides by the count (a division, not a product with 1/n)."""
    inputs = aligned(ctx, inputs)
    total = ctx.add("add", inputs, perm=inputs[0].perm, name=f"{ctx.name}_sum")
    return ctx.with_constant("div", total, np.asarray(len(inputs), dtype=np.float32))


@register("keras", "frontend", keras.layers.Maximum, keras.layers.Minimum)
@prefers("any")
def extremum(ctx: LayerContext, layer, inputs):
    op = "maximum" if isinstance(layer, keras.layers.Maximum) else "minimum"
    inputs = aligned(ctx, inputs)
    return ctx.add(op, inputs, perm=inputs[0].perm)


@register("keras", "frontend", keras.layers.Concatenate)
@prefers("any")
def concatenate(ctx: LayerContext, layer, inputs):
    perm = inputs[0].perm
    axis = ctx.keras_axis(inputs[0], int(layer.axis), batch=True)
    if axis is None:
        return None
    return ctx.add("concat", [ctx.hold(x, perm) for x in inputs], {"axis": perm[axis]}, perm=perm)
