"""Fully connected layers: Gemm, and MatMul (with the Add of a bias fused into it) -> ``linear``.

Gemm is ``alpha * A' @ B' + beta * C``: with transB=1, B is already the IR's (out, in) weight; with transB=0 it
is transposed. alpha and beta are folded into the weight and bias when the products are exact in the weight's
dtype, and refused otherwise. A Gemm of computed matrices (or with A transposed) is written out: ``matmul``, then
``mul`` by alpha and ``add`` of beta * C. MatMul with a constant 2-D right operand is a ``linear`` without bias,
or with the bias of an Add that is its only reader (what torch.onnx writes for ``nn.Linear`` on a 3-D input); any
other MatMul is a ``matmul`` (with the constant operand as the weight ``other``).
"""
from __future__ import annotations

import numpy as np

from ...registry import register
from .algebra import constant_operand
from .context import NodeContext
from .values import Const


@register("onnx", "frontend", ("Gemm", 1))
def gemm(ctx: NodeContext, node):
    if ctx.attr("transA", 0) or not isinstance(ctx.input(1), Const) or isinstance(ctx.input(0), Const) or \
            (ctx.present(2) and not isinstance(ctx.input(2), Const)):
        return _gemm_of_tensors(ctx)
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


def _gemm_of_tensors(ctx: NodeContext):
    """alpha * A' @ B' + beta * C written out (``matmul``, ``transpose``, ``mul``, ``add``) when A is transposed
    or B or C is computed: the matrix product of two inputs (torch.mm, torch.addmm)."""
    a, b = ctx.tensor(0), ctx.tensor(1)
    if a is None or b is None:
        return None
    if ctx.attr("transA", 0):
        a = ctx.add("transpose", [a], {"perm": [1, 0]}, role="a_transposed")
    if ctx.attr("transB", 0):
        b = ctx.add("transpose", [b], {"perm": [1, 0]}, role="b_transposed")
    alpha, beta = float(ctx.attr("alpha", 1.0)), float(ctx.attr("beta", 1.0))
    with_c = ctx.present(2) and beta != 0.0
    product = ctx.add("matmul", [a, b], role="product" if alpha != 1.0 or with_c else None)
    if alpha != 1.0:
        product = _times(ctx, product, alpha, "alpha" if with_c else None)
    if not with_c:
        return product
    c = ctx.tensor(2)
    if c is not None and beta != 1.0:
        c = _times(ctx, c, beta, "beta")
    return None if c is None or product is None else ctx.add("add", [product, c])


def _times(ctx: NodeContext, value: str | None, factor: float, role: str | None) -> str | None:
    attrs = {"constant": True, "constant_shape": []}
    return ctx.add("mul", [value], attrs, {"other": np.array(factor, np.float32)}, role=role)


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
    if min(len(ctx.ir_shape(a)), len(ctx.ir_shape(b))) < 2:
        return ctx.unsupported(f"the IR's matmul multiplies matrices. Expected operands of rank >= 2. Received: "
                               f"shapes={[list(ctx.ir_shape(a)), list(ctx.ir_shape(b))]}")
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
