"""Sizes at run time: an IR size (an int, or a size expression over the names the graph inputs bind, ``ir/dims.py``)
as a 1-element int64 ONNX tensor, and shape tensors of several sizes.

A name is read with ``Shape(start=axis, end=axis + 1)`` of the graph input that binds it (``check.bound_names``),
an expression is computed from those reads with int64 Add, Sub, Mul, Neg, Max, Min, Mod (``fmod=0``: the sign of
the divisor, Python's ``%``) and Div. ONNX's integer Div truncates toward zero; Python's ``//`` floors, so a
floor division is ``Div(a - Mod(a, b), b)`` unless both operands are known to be >= 0 (a size read from a shape
divided by a positive int), where the two agree. Every size, and every step of one, is made once per model and
shared by the nodes that need it.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...ir import dims

INT64 = np.dtype(np.int64)


def size(ctx, dim: Any) -> str:
    """A 1-element int64 tensor holding ``dim`` when the model runs."""
    dim = dims.normal(dim)
    memo, key = ctx.emitter.sizes, ("size", dim)
    if key not in memo:
        if isinstance(dim, int):
            memo[key] = ctx.const(np.asarray([dim], np.int64), INT64, "size")
            if dim >= 0:
                ctx.emitter.natural.add(memo[key])
        else:
            bindings = {name: _read(ctx, name) for name in dims.names(dim)}
            memo[key] = _value(ctx, dims.evaluate(dim, bindings, _operations(ctx)))
    return memo[key]


def shape_tensor(ctx, sizes: Sequence[Any]) -> str:
    """A 1-D int64 tensor of ``sizes`` (for Reshape, Expand, ConstantOfShape, Slice): one constant when every size
    is an int, else a Concat of the runs of ints and the computed sizes."""
    sizes = [dims.normal(d) for d in sizes]
    if all(isinstance(d, int) for d in sizes):
        return ctx.ints(sizes)
    parts, run = [], []
    for dim in sizes:
        if isinstance(dim, int):
            run.append(dim)
            continue
        if run:
            parts.append(ctx.ints(run))
            run = []
        parts.append(size(ctx, dim))
    if run:
        parts.append(ctx.ints(run))
    return parts[0] if len(parts) == 1 else ctx.op("Concat", parts, axis=0, suffix="sizes")


def scalar(ctx, dim: Any) -> str:
    """A 0-d int64 tensor holding ``dim`` (Range's start and limit)."""
    dim = dims.normal(dim)
    if isinstance(dim, int):
        return ctx.const(np.int64(dim), INT64, "scalar")
    return ctx.op("Squeeze", [size(ctx, dim), ctx.ints([0], "axes")], suffix="scalar")


def _read(ctx, name: str) -> str:
    """The size a graph input binds to ``name``, read from its shape."""
    memo, key = ctx.emitter.sizes, ("shape", name)
    if key not in memo:
        source, axis = ctx.emitter.bound[name]
        memo[key] = ctx.op("Shape", [source], start=axis, end=axis + 1, dtype=INT64, suffix=f"size_{name}")
        ctx.emitter.natural.add(memo[key])
    return memo[key]


def _value(ctx, value: Any) -> str:
    """An operand as an ONNX value: an int becomes a 1-element constant."""
    return size(ctx, value) if isinstance(value, int) else value


def _operations(ctx) -> dict:
    """The operations table of ``dims.evaluate``: ints are folded in Python, anything else becomes an int64 ONNX
    node (one per distinct operation and operands). ``natural`` holds the values known to be >= 0."""
    natural = ctx.emitter.natural

    def node(op_type: str, operands: Sequence[Any], is_natural, **attrs) -> str:
        names = [_value(ctx, value) for value in operands]
        memo, key = ctx.emitter.sizes, ("op", op_type, tuple(sorted(attrs.items())), tuple(names))
        if key not in memo:
            memo[key] = ctx.op(op_type, names, dtype=INT64, suffix="size", **attrs)
            if is_natural(names):
                natural.add(memo[key])
        return memo[key]

    def every(names):
        return all(name in natural for name in names)

    def never(names):
        return False

    def ints(a, b):
        return isinstance(a, int) and isinstance(b, int)

    def floordiv(a, b):
        if ints(a, b):
            return a // b
        if isinstance(b, int) and b > 0 and _value(ctx, a) in natural:
            return node("Div", [a, b], every)
        return node("Div", [node("Sub", [a, mod(a, b)], never), b], never)

    def mod(a, b):
        if ints(a, b):
            return a % b
        return node("Mod", [a, b], lambda names: isinstance(b, int) and b > 0, fmod=0)

    def binary(op_type: str, python, is_natural):
        return lambda a, b: python(a, b) if ints(a, b) else node(op_type, [a, b], is_natural)

    return {
        "+": binary("Add", lambda a, b: a + b, every),
        "-": binary("Sub", lambda a, b: a - b, never),
        "*": binary("Mul", lambda a, b: a * b, every),
        "//": floordiv,
        "%": mod,
        "max": binary("Max", max, lambda names: any(name in natural for name in names)),
        "min": binary("Min", min, every),
        "neg": lambda a: -a if isinstance(a, int) else node("Neg", [a], never),
    }
