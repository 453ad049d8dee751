"""Operands of element-wise calls: tensors in the dtype the call computes in, and constants kept as constants.

torch promotes operands (``ids * 1.0`` computes in float, ``mask & causal`` in bool); the IR does not promote, so
each operand is cast to the call's computing dtype first. A constant operand (a parameter, a buffer, a Python
number) becomes the op's constant ``other``, bit for bit, in that dtype: a binary op then has one input.
"""
from __future__ import annotations

import numpy as np

from ...ir import dims
from .context import Call, Const, to_numpy


def computing_dtype(ctx: Call, *args) -> str:
    """The dtype torch computes an element-wise call of ``args`` in (``torch.result_type`` over their dtypes and
    ranks, Python numbers as numbers)."""
    import torch

    tensors = [torch.empty((1,) * arg.meta["val"].dim(), dtype=arg.meta["val"].dtype)
               for arg in args if _is_tensor_node(arg)]
    numbers = [arg for arg in args if isinstance(arg, (bool, int, float))]
    numbers += [1 if isinstance(arg.meta.get("val"), torch.SymInt) else 1.0 for arg in args if _is_size_node(arg)]
    combined = tensors[0]
    for other in tensors[1:] + numbers:
        rank = max(combined.dim(), other.dim() if isinstance(other, torch.Tensor) else 0)
        combined = torch.empty((1,) * rank, dtype=torch.result_type(combined, other))
    return str(combined.dtype).rsplit(".", 1)[-1]


def _is_tensor_node(arg) -> bool:
    return hasattr(arg, "meta") and hasattr(arg.meta.get("val"), "dim")


def _is_size_node(arg) -> bool:
    """An fx node whose value is a size the model computed (a ``SymInt``), used as a number."""
    return hasattr(arg, "meta") and not _is_tensor_node(arg) and arg.meta.get("val") is not None


def as_dtype(ctx: Call, arg, dtype: str, role: str = "cast") -> str:
    """The IR value of a tensor argument in ``dtype`` (a ``cast`` node when it has another); a size the model
    computed becomes a 0-d tensor of its value (the one element of ``arange(size, size + 1)``)."""
    if _is_size_node(arg) and ctx.value(arg) is not None:  # (None: a value read as a number, refused already)
        size = ctx.size(arg)
        column = ctx.add("arange", [], {"start": size, "limit": dims.add(size, 1), "dtype": "int64"},
                         role=f"{role}_size")
        scalar = ctx.add("reshape", [column], {"shape": []}, role=f"{role}_scalar")
        return scalar if dtype == "int64" else ctx.add("cast", [scalar], {"dtype": dtype}, role=role)
    value = ctx.tensor(arg)
    if _is_tensor_node(arg) and ctx.dtype(arg) != dtype:
        return ctx.add("cast", [value], {"dtype": dtype}, role=role)
    return value


def constant_array(ctx: Call, arg, dtype: str) -> np.ndarray | None:
    """A constant operand (a Python number or a constant tensor) as an array of ``dtype``; None otherwise."""
    if isinstance(arg, (bool, int, float)):
        return np.asarray(arg, dtype=_numpy(dtype))
    if _is_size_node(arg) and isinstance(ctx.value(arg), (int, float)):  # a size that is a fixed number
        return np.asarray(ctx.value(arg), dtype=_numpy(dtype))
    found = ctx.const(arg)
    if found is None:
        return None
    return np.asarray(to_numpy(found.tensor)).astype(_numpy(dtype), copy=False)


def _numpy(dtype: str):
    if dtype == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def binary(ctx: Call, op: str, left, right, dtype: str | None = None, role: str | None = None) -> str:
    """``op`` of two operands in the computing dtype (``dtype`` when given): two inputs, or one input and the
    constant ``other`` (on the left with ``constant_first``)."""
    dtype = dtype or computing_dtype(ctx, left, right)
    right_constant = constant_array(ctx, right, dtype)
    left_constant = constant_array(ctx, left, dtype) if right_constant is None else None
    if right_constant is not None and not _is_const_tensor(ctx, left):
        return with_constant(ctx, op, as_dtype(ctx, left, dtype), right_constant, _source(ctx, right), False, role)
    if left_constant is not None:
        return with_constant(ctx, op, as_dtype(ctx, right, dtype), left_constant, _source(ctx, left), True, role)
    return ctx.add(op, [as_dtype(ctx, left, dtype, "left"), as_dtype(ctx, right, dtype, "right")], role=role)


def _is_const_tensor(ctx: Call, arg) -> bool:
    if _is_size_node(arg):
        return False
    return isinstance(ctx.value(arg), Const) or isinstance(arg, (bool, int, float))


def _source(ctx: Call, arg) -> tuple[str | None, bool]:
    found = ctx.const(arg)
    return (found.source, found.trainable) if found is not None else (None, False)


def with_constant(ctx: Call, op: str, value: str, array: np.ndarray, source=(None, False), first: bool = False,
                  role: str | None = None) -> str:
    """``op`` of an IR value and a constant array (``first``: the constant on the left), one input and the weight
    ``other``; ``source`` is the constant's (state_dict key, trainable)."""
    key, trainable = source
    attrs = {"constant": True, "constant_shape": list(array.shape), "trainable": bool(trainable)}
    if first and op not in ("add", "mul", "equal", "not_equal", "logical_and", "logical_or", "logical_xor"):
        attrs["constant_first"] = True
    return ctx.add(op, [value], attrs, {"other": array}, sources={"other": key}, role=role)
