"""Indexing, scans, searches, triangles, contractions and ranges: GatherElements, CumSum, ArgMax, ArgMin, Trilu,
Einsum and Range.

Their operands may be constants (``operands.py`` makes them IR values). CumSum reads its axis, Trilu its diagonal
from a constant input. ArgMax and ArgMin keep the first of equal values (select_last_index=1 is refused). Einsum's
implicit form (no '->') lists the letters used once, in alphabetical order, as numpy does. A Range whose inputs
are all constants is folded; one whose limit follows the batch (``arange(x.shape[0])``) is the IR's arange of a
size expression.
"""
from __future__ import annotations

import re

from ...registry import register
from .context import NodeContext
from .operands import size_of


@register("onnx", "frontend", ("GatherElements", 11))
def gather_elements(ctx: NodeContext, node):
    data, indices = ctx.tensor(0), ctx.tensor(1)
    if data is None or indices is None:
        return None
    axis = ctx.axis(ctx.attr("axis", 0), len(ctx.ir_shape(data)))
    return None if axis is None else ctx.add("gather_elements", [data, indices], {"axis": axis})


@register("onnx", "frontend", ("CumSum", 11))
def cumsum(ctx: NodeContext, node):
    x = ctx.value(0)
    axis = ctx.ints(1, "the axis (input 1)")
    if x is None or axis is None:
        return None
    axis = ctx.axis(axis[0], len(ctx.ir_shape(x)))
    attrs = {"exclusive": bool(ctx.attr("exclusive", 0)), "reverse": bool(ctx.attr("reverse", 0))}
    return None if axis is None else ctx.add("cumsum", [x], {"axis": axis, **attrs})


@register("onnx", "frontend", ("ArgMax", 1), ("ArgMin", 1))
def search(ctx: NodeContext, node):
    if ctx.attr("select_last_index", 0):
        return ctx.unsupported("the IR's argmax and argmin give the first of equal values. Expected "
                               "select_last_index=0. Received: select_last_index=1")
    x = ctx.value(0)
    if x is None:
        return None
    axis = ctx.axis(ctx.attr("axis", 0), len(ctx.ir_shape(x)))
    op = "argmax" if node.op_type == "ArgMax" else "argmin"
    return None if axis is None else ctx.add(op, [x], {"axis": axis, "keepdims": bool(ctx.attr("keepdims", 1))})


@register("onnx", "frontend", ("Trilu", 14))
def trilu(ctx: NodeContext, node):
    x = ctx.tensor(0)
    diagonal = ctx.ints(1, "the diagonal k (input 1)") if ctx.present(1) else [0]
    if x is None or diagonal is None:
        return None
    return ctx.add("trilu", [x], {"upper": bool(ctx.attr("upper", 1)), "diagonal": diagonal[0]})


_IMPLICIT = re.compile(r"^[a-zA-Z]+(,[a-zA-Z]+)*$")


@register("onnx", "frontend", ("Einsum", 12))
def einsum(ctx: NodeContext, node):
    equation = ctx.attr("equation", "").replace(" ", "")
    if "." in equation:
        return ctx.unsupported(f"the IR's einsum names every axis by a letter. Expected no ellipsis. Received: "
                               f"equation={equation!r}")
    if _IMPLICIT.match(equation):  # numpy's implicit output: the letters used once, sorted
        letters = equation.replace(",", "")
        equation += "->" + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    operands = [ctx.tensor(index) for index in range(len(node.input))]
    return None if any(o is None for o in operands) else ctx.add("einsum", operands, {"equation": equation})


@register("onnx", "frontend", ("Range", 11))
def arange(ctx: NodeContext, node):
    """Reached only when an input depends on the batch (constants are folded): sizes that follow it linearly."""
    start, limit, delta = (size_of(ctx.input(index)) for index in range(3))
    if start is None or limit is None or not isinstance(delta, int) or delta == 0:
        return ctx.unsupported("the IR's arange counts by a constant integer step between sizes known from the "
                               "inputs' shapes. Expected start and limit that are constants or follow the batch "
                               "size, and a constant nonzero integer delta. Received: values computed otherwise")
    dtype = ctx.capture.dtypes.get(node.output[0], "int64")
    return ctx.add("arange", [], {"start": start, "limit": limit, "step": delta, "dtype": dtype})
