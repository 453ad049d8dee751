"""Fully connected layers: Gemm, and MatMul (with the Add of a bias fused into it) -> ``linear``.

Gemm is ``alpha * A' @ B' + beta * C``: with transB=1, B is already the IR's (out, in) weight; with transB=0 it
is transposed. alpha and beta are folded into the weight and bias when the products are exact in the weight's
dtype, and refused otherwise. MatMul with a constant 2-D right operand is a ``linear`` without bias, or with the
bias of an Add that is its only reader (what torch.onnx writes for ``nn.Linear`` on a 3-D input); any other
MatMul is a ``matmul`` (with the constant operand as the weight ``other``).
"""
from __future__ import annotations

import numpy as np

from ...registry import register
from .algebra import constant_operand
from .context import NodeContext


@register("onnx", "frontend", ("Gemm", 1))
def gemm(ctx: NodeContext, node):
    if ctx.attr("transA", 0):
        return ctx.unsupported("transA must be 0. Expected A as (batch, features). Received: transA=1 (A is "
                               "(features, batch), its batch on axis 1)")
    held = ctx.held(0)
    b = ctx.constant(1, "the weight B")
    c = ctx.constant(2, "the bias C") if ctx.present(2) else None
    if held is None or b is None or (ctx.present(2) and c is None):
        return None
    if b.ndim != 2 or held.rank != 2:
        return ctx.unsupported(f"A and B must be matrices. Received: A shape={list(held.shape)}, "
                               f"B shape={list(b.shape)}")
    weight = b if ctx.attr("transB", 0) else np.ascontiguousarray(b.T)
    out, features = weight.shape
    weight = _scaled(ctx, weight, ctx.attr("alpha", 1.0), "alpha")
    bias = None
    if c is not None:
        if c.size == 1:
            bias = np.full((out,), c.reshape(()), c.dtype)
        elif c.shape[-1] == out and all(d == 1 for d in c.shape[:-1]):
            bias = c.reshape(out)
        else:
            return ctx.unsupported(f"the bias C must be one value or one per output feature. Expected shape [{out}] "
                                   f"or [1, {out}]. Received: C shape={list(c.shape)} (a bias per batch row)")
        bias = _scaled(ctx, bias, ctx.attr("beta", 1.0), "beta")
    if weight is None or (c is not None and bias is None):
        return None
    features_view = ctx.last_axis(held)
    if features_view is None:
        return None
    attrs = {"in_features": int(features), "out_features": int(out), "bias": bias is not None}
    out = ctx.add("linear", [features_view.value], attrs, {"weight": weight, "bias": bias},
                  sources={"weight": ctx.source(1), "bias": ctx.source(2)})
    return ctx.along_last(features_view, out)


def _scaled(ctx: NodeContext, array: np.ndarray, factor: float, name: str) -> np.ndarray | None:
    """``factor * array`` when exact in the array's dtype (1, powers of two...); None after reporting."""
    if factor == 1.0:
        return array
    product = array.astype(np.float64) * float(np.float32(factor))
    scaled = product.astype(array.dtype)
    if not np.array_equal(scaled.astype(np.float64), product):
        return ctx.unsupported(f"{name} must fold exactly into the weights. Expected {name}=1 or a factor whose "
                               f"products are exact in {array.dtype} (a power of two). Received: {name}={factor}. "
                               f"Fold it into the weights before exporting")
    return scaled


@register("onnx", "frontend", ("MatMul", 1))
def matmul(ctx: NodeContext, node):
    left, right = ctx.input(0), ctx.input(1)
    from .values import Const

    if isinstance(right, Const) and right.array.ndim == 2 and not isinstance(left, Const):
        return _linear(ctx, right.array)
    if isinstance(left, Const) or isinstance(right, Const):
        index = 0 if isinstance(left, Const) else 1
        x = ctx.value(1 - index)
        constant = ctx.constant(index, "the constant operand")
        if x is None or constant is None:
            return None
        attrs = {"constant": True, "constant_shape": list(constant.shape)}
        if index == 0:
            attrs["constant_first"] = True
        return ctx.add("matmul", [x], attrs, {"other": constant.astype(np.float32) if constant.dtype.kind != "f"
                                              else constant}, sources={"other": ctx.source(index)})
    a, b = ctx.value(0), ctx.value(1)
    if a is None or b is None:
        return None
    if len(ctx.ir_shape(a)) != len(ctx.ir_shape(b)):
        return ctx.unsupported(f"both operands must have the same rank (the batch first). Received: shapes="
                               f"{[list(ctx.ir_shape(a)), list(ctx.ir_shape(b))]}")
    return ctx.add("matmul", [a, b])


def _linear(ctx: NodeContext, matrix: np.ndarray):
    """``x @ matrix`` as a linear layer; with the bias of an Add that is the MatMul's only reader, fused. It runs
    along the last axis of any view of its input (a time-major sequence stays time-major)."""
    held = ctx.held(0)
    view = None if held is None else ctx.last_axis(held)
    if view is None:
        return None
    features, out = matrix.shape
    add, bias, source = _bias_add(ctx, out)
    attrs = {"in_features": int(features), "out_features": int(out), "bias": bias is not None}
    weights = {"weight": np.ascontiguousarray(matrix.T), "bias": bias}
    out = ctx.add("linear", [view.value], attrs, weights, sources={"weight": ctx.source(1), "bias": source})
    result = ctx.along_last(view, out)
    if add is not None and result is not None:
        ctx.absorb(add, [result])
    return result


def _bias_add(ctx: NodeContext, out: int):
    """The Add reading only this MatMul's output and a constant bias of ``out`` entries: (node, bias, source)."""
    add = ctx.only_consumer(0)
    if add is None or add.op_type != "Add" or (add.domain or "") != "" or ctx.opset < 7:
        return None, None, None
    others = [name for name in add.input if name != ctx.node.output[0]]
    if len(others) != 1 or len(add.input) != 2:
        return None, None, None
    found = constant_operand(ctx.value_of(others[0]))
    if found is None:
        return None, None, None
    bias, source = found
    rank = len(ctx.shape(0))
    if bias.ndim > rank or bias.shape[-1:] != (out,) or any(d != 1 for d in bias.shape[:-1]):
        return None, None, None
    return add, bias.reshape(out), source
