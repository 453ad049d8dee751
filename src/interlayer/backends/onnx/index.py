"""Tensors made from sizes, casts, slicing, indexing, scans and searches, triangles and einsum as ONNX operators.

constant is the initializer ``<node>.value`` in its own dtype. full is ConstantOfShape and arange an int64 Range
then a Cast (numpy.arange of ints, then astype, as the reference computes them), their sizes computed at run time
(``sizes.py``). cast is Cast (floats to integers truncate, anything to bool is != 0, as numpy's astype). slice is
Slice of the resolved positions; gather, gather_elements and select are Gather, GatherElements and Where, which
read negative indices from the end as numpy does. cumsum is CumSum (a bool input counted as int64), argmax and
argmin ArgMax and ArgMin (the first of equal values), trilu Trilu, einsum Einsum.
"""
from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from ...registry import register
from .context import BOOL, INT64, Step, is_float, numpy_dtype

_INDICES = (np.dtype(np.int32), INT64)
_SCANNED = (np.dtype(np.int32), INT64, np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
"""the dtypes onnxruntime's CumSum, ArgMax and ArgMin take; others are scanned as int64 or float32"""


def _scanned(ctx: Step, value: str) -> str:
    dtype = ctx.dtype_of(value)
    return value if dtype in _SCANNED else ctx.cast(value, np.float32 if is_float(dtype) else INT64)


def _indices(ctx: Step, index: int) -> str:
    value = ctx.raw(index)
    return value if ctx.dtype_of(value) in _INDICES else ctx.cast(value, INT64)  # floats truncate, as numpy's


@register("onnx", "backend", "constant")
def constant(ctx: Step, node):
    return ctx.weight("value", cast=False)


@register("onnx", "backend", "full")
def full(ctx: Step, node):
    """ConstantOfShape of the fill in the IR dtype (bfloat16 through float32 before opset 20, which adds it)."""
    dtype = numpy_dtype(ctx.attrs["dtype"])
    made = np.dtype(np.float32) if dtype.name == "bfloat16" and ctx.opset < 20 else dtype
    fill = np.asarray([ctx.attrs["value"]]).astype(made)
    value = ctx.op("ConstantOfShape", [ctx.dims(ctx.attrs["shape"])], value=numpy_helper.from_array(fill),
                   dtype=made)
    return ctx.cast(value, dtype)


@register("onnx", "backend", "arange")
def arange(ctx: Step, node):
    attrs = ctx.attrs
    step = ctx.const(np.int64(attrs["step"]), INT64, "step")
    positions = ctx.op("Range", [ctx.scalar(attrs["start"]), ctx.scalar(attrs["limit"]), step], dtype=INT64)
    return ctx.cast(positions, numpy_dtype(attrs["dtype"]))


@register("onnx", "backend", "cast")
def cast(ctx: Step, node):
    return ctx.cast(ctx.raw(), numpy_dtype(ctx.attrs["dtype"]))


@register("onnx", "backend", "slice")
def slice_(ctx: Step, node):
    attrs = ctx.attrs
    return ctx.op("Slice", [ctx.raw(), ctx.dims(attrs["starts"]), ctx.dims(attrs["ends"]),
                            ctx.ints(attrs["axes"], "axes"), ctx.ints(attrs["steps"], "steps")])


@register("onnx", "backend", "gather")
def gather(ctx: Step, node):
    return ctx.op("Gather", [ctx.raw(0), _indices(ctx, 1)], axis=ctx.attrs["axis"])


@register("onnx", "backend", "gather_elements")
def gather_elements(ctx: Step, node):
    return ctx.op("GatherElements", [ctx.raw(0), _indices(ctx, 1)], axis=ctx.attrs["axis"])


@register("onnx", "backend", "select")
def select(ctx: Step, node):
    condition = ctx.cast(ctx.raw(0), BOOL)  # nonzero is True
    a, b = ctx.common([ctx.raw(1), ctx.raw(2)])
    return ctx.op("Where", [condition, a, b], dtype=ctx.dtype_of(a))


@register("onnx", "backend", "cumsum")
def cumsum(ctx: Step, node):
    attrs = ctx.attrs
    x = _scanned(ctx, ctx.raw())
    return ctx.op("CumSum", [x, ctx.const(np.int64(attrs["axis"]), INT64, "axis")],
                  exclusive=int(attrs["exclusive"]), reverse=int(attrs["reverse"]))


@register("onnx", "backend", "argmax", "argmin")
def search(ctx: Step, node):
    op_type = "ArgMax" if node.op == "argmax" else "ArgMin"
    return ctx.op(op_type, [_scanned(ctx, ctx.raw())], axis=ctx.attrs["axis"], keepdims=int(ctx.attrs["keepdims"]),
                  select_last_index=0, dtype=INT64)


@register("onnx", "backend", "trilu")
def trilu(ctx: Step, node):
    diagonal = ctx.const(np.int64(ctx.attrs["diagonal"]), INT64, "diagonal")
    return ctx.op("Trilu", [ctx.raw(), diagonal], upper=int(ctx.attrs["upper"]))


@register("onnx", "backend", "einsum")
def einsum(ctx: Step, node):
    return ctx.op("Einsum", ctx.common(ctx.raws), equation=ctx.attrs["equation"].replace(" ", ""))
