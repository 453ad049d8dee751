"""Arithmetic, matmul, reductions, stack and split, laid out wherever their inputs are held.

* Element-wise ops keep the held perm: inputs of one rank are brought to the perm of the one with the output's
  shape (Add, Subtract, Multiply for floats of one size on Keras's axis 0, which those merges take for the
  batch; else BinaryOp, as for divide, power, floor_div and mod), inputs of different ranks to the IR's own
  order (numpy broadcasting aligns them at the right). A constant operand is transposed into the input's perm (a
  (C, 1, 1) constant on an NHWC-held map becomes (1, 1, C)) and kept, in its own dtype, as the weight of a
  ConstantOperand layer, so a .keras file saves it.
* ``x @ W`` with a 2-D constant is a Dense layer without bias; other matmuls need the last two axes held in
  canonical order (the axes in front may be held in any order).
* Reductions, stack and split map their axes through the perm: a mean over (2, 3) of an NHWC-held map is a
  GlobalAveragePooling2D, and no Permute is made.
"""
from __future__ import annotations

import keras
import numpy as np

from ...ir import dims, layout
from ...registry import register
from .build import BuildContext, Held, assign, prefers
from .layers import BinaryOp, ConstantOperand, Reduce, Split, Stack

_KERAS_OPS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide", "pow": "power",
              "floor_div": "floor_divide", "mod": "mod", "matmul": "matmul", "equal": "equal",
              "not_equal": "not_equal", "less": "less", "less_equal": "less_equal", "greater": "greater",
              "greater_equal": "greater_equal", "logical_and": "logical_and", "logical_or": "logical_or",
              "logical_xor": "logical_xor"}
"""the keras.ops function of each binary IR op"""
_MERGES = {"add": keras.layers.Add, "sub": keras.layers.Subtract, "mul": keras.layers.Multiply}
_GLOBAL = {"reduce_mean": {1: keras.layers.GlobalAveragePooling1D, 2: keras.layers.GlobalAveragePooling2D,
                           3: keras.layers.GlobalAveragePooling3D},
           "reduce_max": {1: keras.layers.GlobalMaxPooling1D, 2: keras.layers.GlobalMaxPooling2D,
                          3: keras.layers.GlobalMaxPooling3D}}
_REDUCE = {"reduce_mean": "mean", "reduce_sum": "sum", "reduce_max": "max", "reduce_min": "min"}


def held_constant(array: np.ndarray, perm, min_rank: int = 0) -> np.ndarray:
    """A constant broadcast against an input held in ``perm``, as the Keras tensor sees it: brought to the
    input's rank and transposed by ``perm``, then without its axis 0 where that is 1 (numpy broadcasting puts it
    back), down to ``min_rank`` axes. A constant of higher rank than the input is left as it is (the input is
    then held in the IR's order)."""
    if array.ndim == 0 or array.ndim > len(perm):
        return array
    held = np.transpose(array.reshape((1,) * (len(perm) - array.ndim) + array.shape), perm)
    if held.ndim > min_rank and held.shape[0] == 1:
        held = held[0]
    return np.ascontiguousarray(held)


def with_constant(ctx: BuildContext, node, x: Held, other: np.ndarray) -> Held:
    """``x`` combined with the constant ``other`` (already in x's layout) by a ConstantOperand layer; the output
    held as ``x``, or in the IR's order when the constant has more axes."""
    floating = other.dtype.kind == "f" or other.dtype.name == "bfloat16"
    layer = ctx.layer(ConstantOperand, op=_KERAS_OPS[node.op], shape=other.shape,
                      constant_first=bool(ctx.attrs.get("constant_first")), trainable=ctx.attrs["trainable"],
                      other_dtype=None if floating else other.dtype.name)
    y = layer(x.tensor)
    assign(layer.other, other)
    return ctx.output(y, x.perm if other.ndim <= x.rank else layout.identity(other.ndim))


def constant_operand(ctx: BuildContext, node, x: Held) -> Held:
    """``op(x, other)`` of a node with the constant operand 'other', in x's layout."""
    other = node.weights["other"]
    if other.ndim > x.rank:
        x = ctx.identity(x)
    return with_constant(ctx, node, x, held_constant(other, x.perm))


def common_perm(ctx: BuildContext, inputs: list[Held]) -> tuple[int, ...]:
    """The perm of the first input shaped like the output: the smaller, broadcast operands move to it."""
    full = [x for x in inputs if tuple(x.shape) == tuple(ctx.output_shape)]
    return (full or inputs)[0].perm


def same_layout(ctx: BuildContext, inputs: list[Held]) -> tuple[list[Held], tuple[int, ...]]:
    """Inputs of an element-wise op held alike, and the perm of the result: the perm of an input shaped like the
    output when their ranks are equal; else each in the IR's own order (numpy broadcasting aligns the ranks at
    the right)."""
    if len({x.rank for x in inputs}) == 1:
        perm = common_perm(ctx, inputs)
        return [ctx.hold(x, perm) for x in inputs], perm
    return [ctx.identity(x) for x in inputs], layout.identity(len(ctx.output_shape))


def mergeable(ctx: BuildContext, held: list[Held]) -> bool:
    """Whether a Keras merge layer (Add, Concatenate, Maximum...) computes the op on ``held``: float inputs of
    one rank and one size on Keras's axis 0, which a merge takes for the batch (it would declare a broadcast one
    as size 1 and any other dtype as float)."""
    if len({x.rank for x in held}) != 1 or any("float" not in ctx.input_dtype(i) for i in range(len(held))):
        return False
    return len({dims.normal(x.shape[x.perm[0]]) for x in held}) == 1


@register("keras", "backend", "add", "sub", "mul", "div", "pow", "floor_div", "mod")
@prefers("any")
def elementwise(ctx: BuildContext, node, inputs):
    if ctx.attrs["constant"]:
        return constant_operand(ctx, node, inputs[0])
    held, perm = same_layout(ctx, inputs)
    if node.op in _MERGES and mergeable(ctx, held):
        layer = ctx.layer(_MERGES[node.op])
    else:
        layer = ctx.layer(BinaryOp, op=_KERAS_OPS[node.op])
    return ctx.output(layer([x.tensor for x in held]), perm)


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
        if len({item.rank for item in inputs}) > 1:  # the axes in front broadcast aligned at the right
            tensors, perm = [ctx.identity(item).tensor for item in inputs], layout.identity(len(ctx.output_shape))
        else:
            perm = _matrix_perm(x)
            tensors = [ctx.hold(item, perm).tensor for item in inputs]
        return ctx.output(ctx.layer(BinaryOp, op="matmul")(tensors), perm)
    other = node.weights["other"]
    floating = other.dtype.kind == "f" or other.dtype.name == "bfloat16"
    if other.ndim == 2 and not attrs["constant_first"] and x.perm[-1] == x.rank - 1 and floating:
        layer = ctx.layer(keras.layers.Dense, units=other.shape[1], use_bias=False, trainable=attrs["trainable"])
        y = layer(x.tensor)
        assign(layer.kernel, other)  # x @ W is Dense's x @ kernel on the last axis, whatever the others hold
        return ctx.output(y, x.perm)
    x = ctx.hold(x, _matrix_perm(x) if other.ndim <= x.rank else layout.identity(x.rank))
    # the axes in front of the matrices broadcast like an element-wise constant's
    return with_constant(ctx, node, x, held_constant(other, x.perm, min_rank=2))


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
