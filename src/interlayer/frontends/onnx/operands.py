"""Any input of a node as an IR value: for the ops whose operands may all be tensors (Where, Gather, Einsum, a
comparison...), where the IR has no constant attribute to hold a constant operand.

A computed value is written batch-first (``Views.materialize``). A constant becomes a ``constant`` node holding it
as it is (its dtype kept), once per ONNX value. A batch-dependent constant (``values.Dual``) is a ``full`` of the
batch's shape when it holds one value (the zeros of ``ConstantOfShape(Shape(x))``), else its one row repeated along
the batch (``constant`` then ``expand``). A scalar size made from the batch (``Shape(x)[0] + 1``) is read as a size
expression over ``"N"`` by :func:`size_of`.
"""
from __future__ import annotations

import numpy as np

from ...ir.graph import BATCH
from ...ir.ops.index import DTYPES
from .values import BATCHES, Const, Dual, Held


def tensor(ctx, index: int, role: str | None = None) -> str | None:
    """Input ``index`` as an IR value; None after reporting when it cannot be one."""
    value = ctx.input(index)
    role = role or f"input{index}"
    if isinstance(value, Held):
        return ctx.materialize(value)
    name = ctx.node.input[index]
    key = ("operand", name)
    if key in ctx.capture.materialized:
        return ctx.capture.materialized[key]
    made = _constant(ctx, value.array, ctx.source(index), role) if isinstance(value, Const) else \
        _dual(ctx, value, role) if isinstance(value, Dual) else None
    if made is not None:
        ctx.capture.materialized[key] = made
    return made


def _constant(ctx, array: np.ndarray, source: str | None, role: str) -> str | None:
    array = np.asarray(array)
    if array.dtype.name not in DTYPES:
        if array.dtype.kind not in "iu":
            return ctx.unsupported(f"a constant operand of dtype {array.dtype} has no IR dtype. Expected one of "
                                   f"{list(DTYPES)}. Received: dtype={array.dtype}")
        array = array.astype(np.int64)  # uint16/32/64 indices and sizes
    attrs = {"shape": list(array.shape), "dtype": array.dtype.name}
    return ctx.add("constant", [], attrs, {"value": np.array(array, order="C")}, sources={"value": source},
                   role=role)


def _dual(ctx, value: Dual, role: str) -> str | None:
    shape = value.shape
    dtype = value.first.dtype
    if value.first.size and _uniform(value.first) and _uniform(value.second) and \
            value.first.flat[0] == value.second.flat[0]:
        fill = value.first.flat[0].item()
        return ctx.add("full", [], {"shape": list(shape), "value": float(fill), "dtype": dtype.name}, role=role)
    row = value.batch_free()
    if row is None:
        return ctx.unsupported(f"a value computed from the batch size must be one value, or one row repeated along "
                               f"the batch, to be an IR tensor. Received: a value of shape {list(shape)} that "
                               f"differs along the batch")
    made = _constant(ctx, row, None, f"{role}_row")
    return None if made is None else ctx.add("expand", [made], {"shape": list(shape)}, role=role)


def _uniform(array: np.ndarray) -> bool:
    return bool(np.all(array == array.flat[0])) if array.size else False


def size_of(value) -> int | str | None:
    """A scalar size: an int for a constant, a size expression ``a*N + b`` for a batch-dependent one that follows
    the batch linearly at the two batch sizes it was evaluated for; None otherwise."""
    if isinstance(value, Const) and value.array.size == 1 and value.array.dtype.kind in "iu":
        return int(value.array.reshape(()))
    if isinstance(value, Const) and value.array.size == 1 and float(value.array.reshape(())).is_integer():
        return int(value.array.reshape(()))
    if not isinstance(value, Dual) or value.first.size != 1 or value.second.size != 1:
        return None
    first, second = (float(v.reshape(())) for v in (value.first, value.second))
    slope = (second - first) / (BATCHES[1] - BATCHES[0])
    start = first - slope * BATCHES[0]
    if not (slope.is_integer() and start.is_integer()):
        return None
    from ...ir import dims

    return dims.normal(f"{int(slope)}*{BATCH} + {int(start)}")
