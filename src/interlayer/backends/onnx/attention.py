"""batch_constant, expand, where and scaled_dot_product_attention as ONNX operators.

Attention is written out as the IR defines it: MatMul(query, key^T), Mul by the scale, the causal mask (a lower
triangle made at run time, so any sequence length works) and the optional mask (boolean: Where; float: Add),
Softmax over the last axis, MatMul with value.
"""
from __future__ import annotations

import math

import numpy as np
from onnx import numpy_helper

from ...ir import dims
from ...registry import register
from .context import BOOL, INT64, Step


@register("onnx", "backend", "batch_constant")
def batch_constant(ctx: Step, node):
    """Expand of the value (1, *shape) to (batch of x, *shape)."""
    batch = ctx.op("Shape", [ctx.raw()], start=0, end=1, dtype=INT64, suffix="batch")
    shape = ctx.op("Concat", [batch, ctx.ints(ctx.attrs["shape"])], axis=0, suffix="expanded_shape")
    return ctx.op("Expand", [ctx.weight("value"), shape])


@register("onnx", "backend", "expand")
def expand(ctx: Step, node):
    """ONNX Expand broadcasts both ways, numpy's way: a size the input already has on its (right-aligned) axis is
    written 1, so that only the sizes that grow are computed."""
    shape, target = ctx.shape(), [dims.normal(d) for d in ctx.attrs["shape"]]
    offset = len(target) - len(shape)
    sizes = [1 if isinstance(d, str) and i >= offset and shape[i - offset] == d else d for i, d in enumerate(target)]
    return ctx.op("Expand", [ctx.raw(), ctx.dims(sizes)])


def _condition(ctx: Step, index: int) -> str:
    value = ctx.raw(index)
    return value if ctx.dtype_of(value) == BOOL else ctx.cast(value, BOOL)  # nonzero is True


@register("onnx", "backend", "where")
def where(ctx: Step, node):
    return ctx.op("Where", [_condition(ctx, 1), ctx.const(ctx.attrs["value"], suffix="value"), ctx.input(0)],
                  dtype=ctx.dtype)


@register("onnx", "backend", "scaled_dot_product_attention")
def scaled_dot_product_attention(ctx: Step, node):
    attrs = ctx.attrs
    query, key, value = ctx.input(0), ctx.input(1), ctx.input(2)
    rank, head = len(ctx.shape(0)), ctx.shape(0)[-1]
    scale = attrs["scale"]
    if scale is None and isinstance(head, str):
        return ctx.unsupported(f"the default scale 1/sqrt(head size) needs a static head size. Expected an int "
                               f"last axis of query, or the attribute 'scale'. Received: query shape="
                               f"{list(ctx.shape(0))}")
    scale = 1.0 / math.sqrt(head) if scale is None else scale
    key_t = ctx.transpose(key, [*range(rank - 2), rank - 1, rank - 2])
    scores = ctx.op("Mul", [ctx.op("MatMul", [query, key_t]), ctx.const(scale, suffix="scale")])
    blocked = None
    if attrs["causal"]:
        size = ctx.op("Shape", [scores], start=-2, dtype=INT64, suffix="scores_size")
        ones = ctx.op("ConstantOfShape", [size], value=numpy_helper.from_array(np.asarray([True])), dtype=BOOL,
                      suffix="ones")
        lower = ctx.op("Trilu", [ones], upper=0, suffix="causal_mask")
        blocked = ctx.const(-np.inf, suffix="minus_inf")
        scores = ctx.op("Where", [lower, scores, blocked], dtype=ctx.dtype)
    if len(node.inputs) > 3:
        mask = ctx.raw(3)
        if ctx.dtype_of(mask) == BOOL:
            blocked = blocked or ctx.const(-np.inf, suffix="minus_inf")
            scores = ctx.op("Where", [mask, scores, blocked], dtype=ctx.dtype)
        else:
            scores = ctx.op("Add", [scores, ctx.input(3)])
    weights = ctx.op("Softmax", [scores], axis=rank - 1)
    return ctx.op("MatMul", [weights, value])
