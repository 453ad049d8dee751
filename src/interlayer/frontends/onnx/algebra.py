"""Arithmetic: Add, Sub, Mul, Div, Pow, Mod (a constant operand becomes the op's weight ``other``), Sum, Max, Min,
ReduceMean, ReduceSum, ReduceMax, ReduceMin, Where.

Before opset 7 the binary ops broadcast the ONNX-1 way: with ``broadcast=1`` the second operand's axes line up
with the first's from ``axis`` on (from the end by default); from opset 7 they follow numpy. A Div or Mul may start
the five-node exact GELU of ``patterns.py``; a Div of integers truncates (a cast after the division). ReduceSum
reads its axes from an input since opset 13, ReduceMean, ReduceMax and ReduceMin since opset 18; no axes reduce
every axis. Where with a scalar fill is the masked fill ``where``, any other ``select``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...registry import register
from . import values as views
from .context import NodeContext
from .patterns import erf_gelu
from .values import Const, Dual, Held

_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow"}
_COMMUTATIVE = ("add", "mul", "equal", "not_equal", "logical_and", "logical_or", "logical_xor")
"""ops whose operands may swap: a constant on the left needs no ``constant_first``"""


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
    result = binary_op(ctx, _BINARY[node.op_type], legacy=bool(ctx.attr("broadcast", 0)))
    return _truncated(ctx, result) if node.op_type == "Div" else result


@register("onnx", "frontend", ("Add", 7), ("Sub", 7), ("Mul", 7), ("Div", 7), ("Pow", 7))
def binary(ctx: NodeContext, node):
    """Opset 7 on: numpy broadcasting."""
    result = binary_op(ctx, _BINARY[node.op_type], legacy=False)
    return _truncated(ctx, result) if node.op_type == "Div" else result


def _truncated(ctx: NodeContext, result):
    """ONNX's integer Div truncates toward zero: the IR's true division cast back to the integers (a cast from
    float truncates toward zero)."""
    dtype = ctx.capture.dtypes.get(ctx.node.output[0], "float32")
    if result is None or np.dtype(dtype).kind not in "iu":
        return result
    value = result.value if isinstance(result, Held) else result
    out = ctx.add("cast", [value], {"dtype": dtype}, role="truncated")
    return None if out is None else replace(result, value=out) if isinstance(result, Held) else out


@register("onnx", "frontend", ("Mod", 10))
def mod(ctx: NodeContext, node):
    """fmod=0 is Python's % (the IR's mod); fmod=1 is C's fmod, the sign of the dividend:
    sign(a) * (|a| mod |b|)."""
    if not ctx.attr("fmod", 0):
        return binary_op(ctx, "mod", legacy=False)
    a, b = ctx.tensor(0), ctx.tensor(1)
    if a is None or b is None:
        return None
    magnitudes = [ctx.add("abs", [a], role="abs_a"), ctx.add("abs", [b], role="abs_b")]
    rest = ctx.add("mod", magnitudes, role="remainder")
    return ctx.add("mul", [rest, ctx.add("sign", [a], role="sign")])


def binary_op(ctx: NodeContext, op: str, legacy: bool):
    """The IR's binary ``op`` of the node's two inputs: a constant one as the op's weight ``other``."""
    if op in ("div", "mul") and not legacy:
        fused = erf_gelu(ctx)
        if fused is not None:
            return fused
    constants = [constant_operand(ctx.input(i)) for i in (0, 1)]
    if constants[0] is None and constants[1] is None:
        if not all(isinstance(ctx.input(i), Held) for i in (0, 1)):  # a value made from the batch size
            values = [ctx.tensor(0), ctx.tensor(1)]
            return None if None in values else ctx.add(op, values)
        return _both_computed(ctx, op, legacy)
    index = 0 if constants[0] is not None else 1
    if constants[1 - index] is not None:
        return ctx.unsupported("both operands are constants the walk could not fold")
    held = ctx.held(1 - index)
    if held is None:
        return None
    array, source = constants[index]
    array = _operand_array(array, ctx.dtype(1 - index))
    if legacy and index == 1:
        axis = ctx.attr("axis", held.rank - array.ndim)
        axis = axis + held.rank if axis < 0 else axis
        array = array.reshape((1,) * axis + array.shape + (1,) * (held.rank - axis - array.ndim))
    if array.ndim > held.rank and not any(d != 1 for d in array.shape[:array.ndim - held.rank]):
        extra = array.ndim - held.rank  # unit axes in front of the result: a view of the op's result
        result = _with_constant(ctx, op, index, held, array.reshape(array.shape[extra:]), source)
        result = ctx.held_as(result) if isinstance(result, str) else result
        return None if result is None else ctx.reshape(result, (1,) * extra + tuple(result.shape))
    return _with_constant(ctx, op, index, held, array, source)


def _with_constant(ctx: NodeContext, op: str, index: int, held, array: np.ndarray, source):
    """``op`` of the computed input and the constant input ``index`` (its rank at most the input's)."""
    attrs = {"constant": True}
    if index == 0 and op not in _COMMUTATIVE:
        attrs["constant_first"] = True
    if (array.size == 1 or not held.canonical(ctx.ir_shape(held.value))) and array.ndim <= held.rank:
        return _on_view(ctx, op, held, array, attrs, source)
    x = ctx.materialize(held)
    array = _fitted(array, held.rank)
    attrs["constant_shape"] = list(array.shape)
    return None if x is None else ctx.add(op, [x], attrs, {"other": array}, sources={"other": source})


def _on_view(ctx: NodeContext, op: str, held, array: np.ndarray, attrs: dict, source):
    """A scalar, or a constant along the last axis only, applied to the IR value behind the view ``held``; any
    other constant to the value written batch-first."""
    full = array.reshape((1,) * (held.rank - array.ndim) + array.shape)
    if array.size == 1:
        other = array.reshape(())
        out = ctx.add(op, [held.value], {**attrs, "constant_shape": []}, {"other": other}, sources={"other": source})
        return None if out is None else replace(held, value=out)
    if any(d != 1 for d in full.shape[:-1]):
        x = ctx.materialize(held)
        if x is None:
            return None
        fitted = _fitted(array, held.rank)
        return ctx.add(op, [x], {**attrs, "constant_shape": list(fitted.shape)}, {"other": fitted},
                       sources={"other": source})
    view = ctx.last_axis(held)
    if view is None:
        return None
    other = full.reshape(-1)
    out = ctx.add(op, [view.value], {**attrs, "constant_shape": list(other.shape)}, {"other": other},
                  sources={"other": source})
    return ctx.along_last(view, out)


def _both_computed(ctx: NodeContext, op: str, legacy: bool = False):
    """Two computed operands, broadcast as numpy does (ONNX-1's ``broadcast=1`` first gives the second operand
    unit axes after its own, from ``axis`` on). Operands of one rank read through the same view run on their IR
    values; others are written batch-first."""
    a, b = ctx.held(0), ctx.held(1)
    if a is None or b is None:
        return None
    if a.rank == b.rank:
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
    if legacy and b.rank < a.rank:
        axis = ctx.attr("axis", a.rank - b.rank)
        axis = axis + a.rank if axis < 0 else axis
        trailing = a.rank - axis - b.rank
        if trailing:
            y = ctx.add("reshape", [y], {"shape": [*ctx.ir_shape(y), *([1] * trailing)]}, role="aligned")
    return ctx.add(op, [x, y])


def _operand_array(array: np.ndarray, dtype: str) -> np.ndarray:
    """A constant operand in the dtype it is computed in: a float as it is; an integer or bool one as float32
    beside a float operand, as it is beside an integer one (int64 ids compared with an int64 constant)."""
    if array.dtype.kind == "f" or np.dtype(dtype).kind in "biu":
        return np.asarray(array)
    return np.asarray(array, dtype=np.float32)


def _fitted(array: np.ndarray, rank: int) -> np.ndarray:
    """The constant without the leading unit axes that make no difference to its numpy broadcast against a rank
    ``rank`` operand (a scalar 0-d)."""
    while array.ndim and array.shape[0] == 1 and array.ndim <= rank:
        array = array[0]
    return np.array(array, order="C")


@register("onnx", "frontend", ("Sum", 1), ("Max", 1), ("Min", 1))
def variadic(ctx: NodeContext, node):
    """Sum, Max, Min of computed values, broadcast as numpy does (a single input is itself)."""
    op = {"Sum": "add", "Max": "maximum", "Min": "minimum"}[node.op_type]
    values = [ctx.value(i) for i in range(len(node.input))]
    if any(v is None for v in values):
        return None
    if len(values) == 1:
        return values[0]
    return ctx.add(op, values)


_REDUCE = {"ReduceMean": "reduce_mean", "ReduceSum": "reduce_sum", "ReduceMax": "reduce_max",
           "ReduceMin": "reduce_min"}


@register("onnx", "frontend", ("ReduceMean", 1), ("ReduceSum", 1), ("ReduceMax", 1), ("ReduceMin", 1))
def reduce_attribute(ctx: NodeContext, node):
    """Before ReduceSum-13 and ReduceMean/ReduceMax-18: the axes are an attribute (all axes when absent)."""
    return _reduce(ctx, _REDUCE[node.op_type], ctx.attr("axes"), noop=False)


@register("onnx", "frontend", ("ReduceSum", 13), ("ReduceMean", 18), ("ReduceMax", 18), ("ReduceMin", 18))
def reduce_input(ctx: NodeContext, node):
    """ReduceSum from 13, ReduceMean/ReduceMax/ReduceMin from 18: the axes are the optional constant input 1."""
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
        axes = list(range(rank))
    found = [ctx.axis(int(a), rank, "each reduced axis") for a in axes]
    if any(a is None for a in found):
        return None
    return ctx.add(op, [x], {"axes": sorted(set(found)), "keepdims": bool(ctx.attr("keepdims", 1))})


@register("onnx", "frontend", ("Where", 9))
def where(ctx: NodeContext, node):
    """``Where(condition, value, x)`` with a scalar constant ``value`` and a computed ``x`` of the condition's
    rank is the masked fill ``where``; any other is ``select`` of three tensors."""
    fill = constant_operand(ctx.input(1))
    if fill is not None and fill[0].size == 1 and constant_operand(ctx.input(2)) is None \
            and ctx.dtype(2) == "float32" and len(ctx.shape(2)) == len(ctx.shape(0)):
        x, condition = ctx.value(2), ctx.value(0)
        if x is None or condition is None:
            return None
        return ctx.add("where", [x, condition], {"value": float(fill[0].reshape(()))})
    values = [ctx.tensor(index) for index in range(3)]
    return None if any(v is None for v in values) else ctx.add("select", values)
