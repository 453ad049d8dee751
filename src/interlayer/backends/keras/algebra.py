"""Arithmetic, matmul, reductions, stack and split, laid out wherever their inputs are held.

* Element-wise ops keep the held perm: two inputs are brought to the perm of the one with the output's shape
  (Add, Subtract, Multiply; BinaryOp for divide and power), and a constant operand is transposed into the
  input's perm (a (C, 1, 1) constant on an NHWC-held map becomes (1, 1, C)) and kept as the weight of a
  ConstantOperand layer, so a .keras file saves it.
* ``x @ W`` with a 2-D constant is a Dense layer without bias; other matmuls need the last two axes held in
  canonical order (the axes in front may be held in any order).
* Reductions, stack and split map their axes through the perm: a mean over (2, 3) of an NHWC-held map is a
  GlobalAveragePooling2D, and no Permute is made.
"""
from __future__ import annotations

import keras
import numpy as np

from ...ir import layout
from ...registry import register
from .build import BuildContext, Held, assign, prefers
from .layers import BinaryOp, ConstantOperand, Reduce, Split, Stack

_KERAS_OPS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide", "pow": "power", "matmul": "matmul"}
_MERGES = {"add": keras.layers.Add, "sub": keras.layers.Subtract, "mul": keras.layers.Multiply}
_GLOBAL = {"reduce_mean": {1: keras.layers.GlobalAveragePooling1D, 2: keras.layers.GlobalAveragePooling2D,
                           3: keras.layers.GlobalAveragePooling3D},
           "reduce_max": {1: keras.layers.GlobalMaxPooling1D, 2: keras.layers.GlobalMaxPooling2D,
                          3: keras.layers.GlobalMaxPooling3D}}
_REDUCE = {"reduce_mean": "mean", "reduce_sum": "sum", "reduce_max": "max"}


def held_constant(array: np.ndarray, perm) -> np.ndarray:
    """A constant broadcast against an input held in ``perm``, as the Keras tensor sees it: brought to the
    input's rank, transposed by ``perm``, without the batch axis (which is 1)."""
    if array.ndim == 0:
        return array
    full = array.reshape((1,) * (len(perm) - array.ndim) + array.shape)
    return np.ascontiguousarray(np.transpose(full, perm)[0])


def with_constant(ctx: BuildContext, node, x: Held, other: np.ndarray) -> Held:
    """``x`` combined with the constant ``other`` (already in x's layout) by a ConstantOperand layer."""
    layer = ctx.layer(ConstantOperand, op=_KERAS_OPS[node.op], shape=other.shape,
                      constant_first=bool(ctx.attrs.get("constant_first")), trainable=ctx.attrs["trainable"])
    y = layer(x.tensor)
    assign(layer.other, other)
    return ctx.output(y, x.perm)


def common_perm(ctx: BuildContext, inputs: list[Held]) -> tuple[int, ...]:
    """The perm of the first input shaped like the output: the smaller, broadcast operands move to it."""
    full = [x for x in inputs if tuple(x.shape) == tuple(ctx.output_shape)]
    return (full or inputs)[0].perm


@register("keras", "backend", "add", "sub", "mul", "div", "pow")
@prefers("any")
def elementwise(ctx: BuildContext, node, inputs):
    if ctx.attrs["constant"]:
        x = inputs[0]
        return with_constant(ctx, node, x, held_constant(node.weights["other"], x.perm))
    perm = common_perm(ctx, inputs)
    tensors = [ctx.hold(x, perm).tensor for x in inputs]
    layer = ctx.layer(_MERGES[node.op]) if node.op in _MERGES else ctx.layer(BinaryOp, op=_KERAS_OPS[node.op])
    return ctx.output(layer(tensors), perm)


def _matrix_perm(x: Held) -> tuple[int, ...]:
    """``x``'s perm if it holds the last two axes last, in canonical order; else the identity."""
    rank = x.rank
    return x.perm if x.perm[-2:] == (rank - 2, rank - 1) else layout.identity(rank)


@register("keras", "backend", "matmul")
@prefers("identity")
def matmul(ctx: BuildContext, node, inputs):
    attrs = ctx.attrs
    x = inputs[0]
    if not attrs["constant"]:
        perm = _matrix_perm(x)
        tensors = [ctx.hold(item, perm).tensor for item in inputs]
        return ctx.output(ctx.layer(BinaryOp, op="matmul")(tensors), perm)
    other = node.weights["other"]
    if other.ndim == 2 and not attrs["constant_first"] and x.perm[-1] == x.rank - 1:
        layer = ctx.layer(keras.layers.Dense, units=other.shape[1], use_bias=False, trainable=attrs["trainable"])
        y = layer(x.tensor)
        assign(layer.kernel, other)  # x @ W is Dense's x @ kernel on the last axis, whatever the others hold
        return ctx.output(y, x.perm)
    x = ctx.hold(x, _matrix_perm(x))
    if x.rank > 2:  # the axes in front of the matrices broadcast like an element-wise constant's
        lead = other.reshape((1,) * (x.rank - other.ndim) + other.shape)
        other = np.ascontiguousarray(np.transpose(lead, x.perm)[0])
    return with_constant(ctx, node, x, other)


def _reduce_prefers(node) -> str:
    return "any" if node.attrs.get("keepdims") else "identity"


def dropped(perm, axes) -> tuple[int, ...]:
    """The perm of a value once ``axes`` (canonical) are removed from it and from its held tensor."""
    return tuple(p - sum(a < p for a in axes) for p in perm if p not in axes)


@register("keras", "backend", *_REDUCE)
@prefers(_reduce_prefers)
def reduce(ctx: BuildContext, node, inputs):
    x, axes, keepdims = inputs[0], ctx.attrs["axes"], ctx.attrs["keepdims"]
    held_axes = sorted(x.perm.index(axis) for axis in axes)
    out_perm = x.perm if keepdims else dropped(x.perm, axes)
    spatial = x.rank - 2
    if held_axes == list(range(1, x.rank - 1)) and spatial in _GLOBAL.get(node.op, {}):
        layer = ctx.layer(_GLOBAL[node.op][spatial], keepdims=keepdims)  # every axis but batch and the last
    else:
        layer = ctx.layer(Reduce, op=_REDUCE[node.op], axes=held_axes, keepdims=keepdims)
    return ctx.output(layer(x.tensor), out_perm)


@register("keras", "backend", "stack")
@prefers("identity")
def stack(ctx: BuildContext, node, inputs):
    """The new axis goes after the held axes that come before it canonically: identity stays identity."""
    axis = ctx.attrs["axis"]
    perm = inputs[0].perm
    position = sum(p < axis for p in perm)
    shifted = [p if p < axis else p + 1 for p in perm]
    tensors = [ctx.hold(x, perm).tensor for x in inputs]
    y = ctx.layer(Stack, axis=position)(tensors)
    return ctx.output(y, (*shifted[:position], axis, *shifted[position:]))


@register("keras", "backend", "split")
@prefers("any")
def split(ctx: BuildContext, node, inputs):
    x = inputs[0]
    layer = ctx.layer(Split, axis=x.perm.index(ctx.attrs["axis"]), sizes=ctx.attrs["sizes"])
    parts = layer(x.tensor)
    return [Held(part, x.perm, shape) for part, shape in zip(parts, ctx.output_shapes)]
