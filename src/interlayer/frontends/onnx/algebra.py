"""Arithmetic: Add, Sub, Mul, Div, Pow (a constant operand becomes the op's weight ``other``), Sum, Max, Min,
ReduceMean, ReduceSum, ReduceMax, Where.

Before opset 7 the binary ops broadcast the ONNX-1 way: with ``broadcast=1`` the second operand's axes line up
with the first's from ``axis`` on (from the end by default); from opset 7 they follow numpy. A Div or Mul may start
the five-node exact GELU of ``patterns.py``. ReduceSum reads its
axes from an input since opset 13, ReduceMean and ReduceMax since opset 18.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...registry import register
from . import values as views
from .context import NodeContext
from .patterns import erf_gelu
from .values import Const, Dual

_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow"}
_COMMUTATIVE = ("add", "mul")


def constant_operand(value) -> tuple[np.ndarray, str | None] | None:
    """A constant operand (a Dual that only repeats one row along the batch counts, with batch size 1)."""
    if isinstance(value, Const):
        return value.array, value.source
    if isinstance(value, Dual):
        row = value.batch_free()
        return None if row is None else (row, None)
    return None


@register("onnx", "frontend", ("Add", 1), ("Sub", 1), ("Mul", 1), ("Div", 1), ("Pow", 1))
def binary_legacy(ctx: NodeContext, node):
    """Opsets 1-6: ``broadcast=1`` aligns the second operand at ``axis`` (its trailing axes by default)."""
    return _binary(ctx, _BINARY[node.op_type], legacy=bool(ctx.attr("broadcast", 0)))


@register("onnx", "frontend", ("Add", 7), ("Sub", 7), ("Mul", 7), ("Div", 7), ("Pow", 7))
def binary(ctx: NodeContext, node):
    """Opset 7 on: numpy broadcasting."""
    return _binary(ctx, _BINARY[node.op_type], legacy=False)


def _binary(ctx: NodeContext, op: str, legacy: bool):
    if op in ("div", "mul") and not legacy:
        fused = erf_gelu(ctx)
        if fused is not None:
            return fused
    constants = [constant_operand(ctx.input(i)) for i in (0, 1)]
    if constants[0] is None and constants[1] is None:
        return _both_computed(ctx, op)
    index = 0 if constants[0] is not None else 1
    if constants[1 - index] is not None:
        return ctx.unsupported("both operands are constants the walk could not fold")
    held = ctx.held(1 - index)
    if held is None:
        return None
    array, source = constants[index]
    if legacy and index == 1:
        axis = ctx.attr("axis", held.rank - array.ndim)
        axis = axis + held.rank if axis < 0 else axis
        array = array.reshape((1,) * axis + array.shape + (1,) * (held.rank - axis - array.ndim))
    if array.ndim > held.rank and not any(d != 1 for d in array.shape[:array.ndim - held.rank]):
        extra = array.ndim - held.rank  # unit axes in front of the result: a view of the op's result
        result = _with_constant(ctx, op, index, held, array.reshape(array.shape[extra:]), source)
        result = ctx.held_as(result) if isinstance(result, str) else result
        return None if result is None else ctx.reshape(result, (1,) * extra + tuple(result.shape))
    if array.ndim > held.rank:
        return ctx.unsupported(f"a constant operand must not have more axes than the computed one (they would go in "
                               f"front of the batch). Received: constant shape={list(array.shape)}, input shape="
                               f"{list(held.shape)}")
    return _with_constant(ctx, op, index, held, array, source)


def _with_constant(ctx: NodeContext, op: str, index: int, held, array: np.ndarray, source):
    """``op`` of the computed input and the constant input ``index`` (its rank at most the input's)."""
    attrs = {"constant": True}
    if index == 0 and op not in _COMMUTATIVE:
        attrs["constant_first"] = True
    if array.size == 1 or not held.canonical(ctx.ir_shape(held.value)):
        return _on_view(ctx, op, held, array, attrs, source)
    array = _fitted(ctx, array, held.rank)
    if array is None:
        return None
    attrs["constant_shape"] = list(array.shape)
    return ctx.add(op, [held.value], attrs, {"other": array}, sources={"other": source})


def _on_view(ctx: NodeContext, op: str, held, array: np.ndarray, attrs: dict, source):
    """A scalar, or a constant along the last axis only, applied to the IR value behind the view ``held``; any
    other constant to the value written batch-first."""
    full = array.reshape((1,) * (held.rank - array.ndim) + array.shape)
    if array.size == 1:
        other = _float_array(array.reshape(()))
        out = ctx.add(op, [held.value], {**attrs, "constant_shape": []}, {"other": other}, sources={"other": source})
        return None if out is None else replace(held, value=out)
    if any(d != 1 for d in full.shape[:-1]):
        x = ctx.materialize(held)
        fitted = None if x is None else _fitted(ctx, array, held.rank)
        if fitted is None:
            return None
        return ctx.add(op, [x], {**attrs, "constant_shape": list(fitted.shape)}, {"other": fitted},
                       sources={"other": source})
    view = ctx.last_axis(held)
    if view is None:
        return None
    other = _float_array(full.reshape(-1))
    out = ctx.add(op, [view.value], {**attrs, "constant_shape": list(other.shape)}, {"other": other},
                  sources={"other": source})
    return ctx.along_last(view, out)


def _both_computed(ctx: NodeContext, op: str):
    """Two computed operands. A lower-rank operand gets unit axes in front (numpy); operands read through the
    same view run on their IR values, others batch-first."""
    a, b = ctx.held(0), ctx.held(1)
    if a is None or b is None:
        return None
    if a.rank != b.rank:
        low, high = (a, b) if a.rank < b.rank else (b, a)
        lifted = views.reshape(low, (1,) * (high.rank - low.rank) + tuple(low.shape))
        if isinstance(lifted, str):
            return ctx.unsupported(lifted)
        a, b = (lifted, high) if a.rank < b.rank else (high, lifted)
    a_form, b_form = (views.reshape(h, h.shape) for h in (a, b))
    if not isinstance(a_form, str) and not isinstance(b_form, str) and \
            (a_form.split, a_form.perm, a_form.groups) == (b_form.split, b_form.perm, b_form.groups) and \
            not (a.canonical(ctx.ir_shape(a.value)) and b.canonical(ctx.ir_shape(b.value))):
        a_form, b_form = ctx.split_form(a_form), ctx.split_form(b_form)
        if a_form is None or b_form is None:
            return None
        out = ctx.add(op, [a_form.value, b_form.value])
        return None if out is None else replace(a_form, value=out)
    x, y = ctx.materialize(a), ctx.materialize(b)
    if x is None or y is None:
        return None
    return ctx.add(op, [x, y])


def _float_array(array: np.ndarray) -> np.ndarray:
    return np.array(array, dtype=array.dtype if array.dtype.kind == "f" else np.float32)


def _fitted(ctx: NodeContext, array: np.ndarray, rank: int) -> np.ndarray | None:
    """The constant with its leading unit axes dropped (a scalar 0-d), as a float; None after reporting when it
    would broadcast over the batch axis or add axes in front of it."""
    while array.ndim and array.shape[0] == 1:
        array = array[0]
    if array.ndim >= rank:
        return ctx.unsupported(f"a constant operand must not broadcast over the batch axis. Expected at most "
                               f"{rank - 1} axes after its leading size-1 axes. Received: constant shape="
                               f"{list(array.shape)}, input rank={rank}")
    return np.array(array, dtype=array.dtype if array.dtype.kind == "f" else np.float32)


@register("onnx", "frontend", ("Sum", 1), ("Max", 1), ("Min", 1))
def variadic(ctx: NodeContext, node):
    """Sum, Max, Min of computed values of one rank (a single input is itself)."""
    op = {"Sum": "add", "Max": "maximum", "Min": "minimum"}[node.op_type]
    values = [ctx.value(i) for i in range(len(node.input))]
    if any(v is None for v in values):
        return None
    if len(values) == 1:
        return values[0]
    if len({len(ctx.ir_shape(v)) for v in values}) > 1:
        return ctx.unsupported(f"every operand must have the same rank, the batch first. Received: shapes="
                               f"{[list(ctx.ir_shape(v)) for v in values]}")
    return ctx.add(op, values)


_REDUCE = {"ReduceMean": "reduce_mean", "ReduceSum": "reduce_sum", "ReduceMax": "reduce_max"}


@register("onnx", "frontend", ("ReduceMean", 1), ("ReduceSum", 1), ("ReduceMax", 1))
def reduce_attribute(ctx: NodeContext, node):
    """Before ReduceSum-13 and ReduceMean/ReduceMax-18: the axes are an attribute (all axes when absent)."""
    return _reduce(ctx, _REDUCE[node.op_type], ctx.attr("axes"), noop=False)


@register("onnx", "frontend", ("ReduceSum", 13), ("ReduceMean", 18), ("ReduceMax", 18))
def reduce_input(ctx: NodeContext, node):
    """ReduceSum from 13, ReduceMean/ReduceMax from 18: the axes are the optional constant input 1."""
    axes = None
    if ctx.present(1):
        array = ctx.constant(1, "the axes (input 1)")
        if array is None:
            return None
        axes = array.reshape(-1).tolist()
    return _reduce(ctx, _REDUCE[node.op_type], axes, noop=bool(ctx.attr("noop_with_empty_axes", 0)))


def _reduce(ctx: NodeContext, op: str, axes, noop: bool):
    x = ctx.value(0)
    if x is None:
        return None
    rank = len(ctx.ir_shape(x))
    if not axes:
        if noop:
            return x
        return ctx.unsupported(f"a reduction over every axis includes the batch. Expected axes that leave axis 0. "
                               f"Received: axes={axes}")
    found = [ctx.axis(int(a), rank, "each reduced axis") for a in axes]
    if any(a is None for a in found):
        return None
    return ctx.add(op, [x], {"axes": sorted(set(found)), "keepdims": bool(ctx.attr("keepdims", 1))})


@register("onnx", "frontend", ("Where", 9))
def where(ctx: NodeContext, node):
    """``Where(condition, value, x)`` with a scalar constant ``value``: the masked fill ``where``."""
    fill = constant_operand(ctx.input(1))
    if fill is None or fill[0].size != 1 or constant_operand(ctx.input(2)) is not None:
        return ctx.unsupported("Where is read as a masked fill: input 1 (chosen where the condition holds) a "
                               "constant scalar, input 2 computed. Expected Where(condition, scalar, x). Received: "
                               "another combination")
    x, condition = ctx.value(2), ctx.value(0)
    if x is None or condition is None:
        return None
    if len(ctx.ir_shape(x)) != len(ctx.ir_shape(condition)):
        return ctx.unsupported(f"the condition and the input must have the same rank. Received: shapes="
                               f"{[list(ctx.ir_shape(x)), list(ctx.ir_shape(condition))]}")
    return ctx.add("where", [x, condition], {"value": float(fill[0].reshape(()))})
