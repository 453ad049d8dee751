"""Tensors made from sizes, casts, indexing, scans and einsum: the ``keras.ops`` calls of a functional graph
(``cast``, ``take``, ``take_along_axis``, ``where``, ``tril``/``triu``, ``einsum``, ``cumsum``, ``argmax``/``argmin``)
and interlayer's own layers for them (Constant, Full, Arange, Slice, Cumsum: ``backends/keras/index.py``).

Axes map through the held perm, as the Keras tensor holds its IR value: an argmax along the channels of a
channels-last map is the IR's argmax along axis 1, and einsum's letters follow each operand's axes.
"""
from __future__ import annotations

import keras
import numpy as np
from keras.src.ops import core as core_ops
from keras.src.ops import numpy as numpy_ops

from ...backends.keras.index import Arange, Constant, Cumsum, Full, Slice
from ...ir import layout
from ...registry import register
from .context import Held, LayerContext, array, prefers
from .sizes import sizes


def _dropped(perm, axis: int) -> tuple[int, ...]:
    """The perm of a value once the IR ``axis`` is removed from it and from its held tensor."""
    return tuple(p - (p > axis) for p in perm if p != axis)


def _operand(ctx: LayerContext, value, dtype: str, role: str) -> Held | None:
    """A call's argument as a held value: a tensor of the model, or a constant (a number, a numpy array) made a
    ``constant`` node of ``dtype``; None (after reporting) for anything else."""
    if isinstance(value, Held):
        return value
    if isinstance(value, (bool, int, float, np.ndarray, np.generic)):
        constant = np.asarray(value).astype(dtype)
        return ctx.add("constant", [], {"shape": list(constant.shape), "dtype": dtype}, {"value": constant},
                       perm=layout.identity(constant.ndim), name=f"{ctx.name}_{role}")
    ctx.unsupported(f"the {role} must be a tensor of the model or a numeric constant. Received: "
                    f"{type(value).__name__}")
    return None


def _axis(ctx: LayerContext, x: Held, axis) -> int | None:
    """A call's Keras axis of ``x`` (any axis, the batch's too); None (after reporting) for None (every axis,
    flattened, which has no IR op) or out of range."""
    if axis is None:
        ctx.unsupported("axis=None reads the flattened tensor, which has no IR op. Expected an axis. "
                        "Received: axis=None")
        return None
    return ctx.keras_axis(x, int(axis), batch=True)


# keras.ops calls ---------------------------------------------------------------------------------------------


@register("keras", "frontend", core_ops.Cast)
@prefers("any")
def cast(ctx: LayerContext, operation, inputs):
    dtype = keras.backend.standardize_dtype(operation.dtype)
    return ctx.add("cast", [inputs[0]], {"dtype": dtype}, perm=inputs[0].perm)


def _indexed(ctx: LayerContext, operation, inputs) -> tuple:
    """``(data, indices, position of the operation's axis among data's held axes)`` of take and
    take_along_axis; position None when an operand or the axis cannot be read (the problem is reported)."""
    data, indices = ctx.arguments(inputs)[:2]
    data = _operand(ctx, data, keras.backend.standardize_dtype(ctx.node.outputs[0].dtype), "data")
    indices = _operand(ctx, indices, "int64", "indices")
    if data is None or indices is None:
        return data, indices, None
    return data, indices, _axis(ctx, data, operation.axis)


@register("keras", "frontend", numpy_ops.Take)
@prefers("any")
def take(ctx: LayerContext, operation, inputs):
    """gather along the IR axis held there; the indices' axes, as held, take its place."""
    data, indices, position = _indexed(ctx, operation, inputs)
    if position is None:
        return None
    axis = data.perm[position]

    def moved(d):  # an axis of the data, as an axis of the output
        return d if d < axis else d + indices.rank - 1

    perm = (*map(moved, data.perm[:position]), *(axis + j for j in indices.perm),
            *map(moved, data.perm[position + 1:]))
    return ctx.add("gather", [data, indices], {"axis": axis}, perm=perm)


@register("keras", "frontend", numpy_ops.TakeAlongAxis)
@prefers("any")
def take_along_axis(ctx: LayerContext, operation, inputs):
    data, indices, position = _indexed(ctx, operation, inputs)
    if position is None:
        return None
    if indices.rank != data.rank:
        ctx.unsupported(f"take_along_axis's indices must have the data's rank. Expected rank {data.rank}. "
                        f"Received: rank {indices.rank}")
        return None
    indices = ctx.hold(indices, data.perm)
    return ctx.add("gather_elements", [data, indices], {"axis": data.perm[position]}, perm=data.perm)


@register("keras", "frontend", numpy_ops.Where)
@prefers("any")
def where(ctx: LayerContext, operation, inputs):
    """where(condition, x1, x2) of tensors or constants: the IR's select, broadcast as numpy does."""
    arguments = ctx.arguments(inputs)[:3]
    if len(arguments) != 3 or any(value is None for value in arguments):
        ctx.unsupported("where(condition) alone (the positions of the true values) has no IR op. Expected "
                        "where(condition, x1, x2)")
        return None
    dtype = keras.backend.standardize_dtype(ctx.node.outputs[0].dtype)
    held = [_operand(ctx, value, kind, role) for value, kind, role in
            zip(arguments, ("bool", dtype, dtype), ("condition", "x1", "x2"))]
    if None in held:
        return None
    if len({x.rank for x in held}) > 1:
        held = [ctx.identity(x) for x in held]
        return ctx.add("select", held, perm=layout.identity(max(x.rank for x in held)))
    held = ctx.common(held)
    return ctx.add("select", held, perm=held[0].perm)


@register("keras", "frontend", numpy_ops.Tril, numpy_ops.Triu)
@prefers("any")
def triangle(ctx: LayerContext, operation, inputs):
    """The matrices on the last two Keras axes: the IR's last two, held in order."""
    x = inputs[0]
    if x.perm[-2:] != (x.rank - 2, x.rank - 1):
        x = ctx.identity(x)
    attrs = {"upper": isinstance(operation, numpy_ops.Triu), "diagonal": int(operation.k)}
    return ctx.add("trilu", [x], attrs, perm=x.perm)


@register("keras", "frontend", numpy_ops.Einsum)
@prefers("any")
def einsum(ctx: LayerContext, operation, inputs):
    """Each operand's letters in its IR order (the letter of the Keras axis that holds each IR axis)."""
    equation = operation.subscripts.replace(" ", "")
    operands = [x for x in ctx.arguments(inputs) if isinstance(x, Held)]
    if "->" not in equation or "." in equation or len(operands) != len(equation.split("->")[0].split(",")):
        ctx.unsupported(f"einsum needs an explicit output, no ellipsis, and tensors of the model as operands. "
                        f"Expected 'ij,jk->ik'. Received: subscripts={operation.subscripts!r}")
        return None
    terms, output = equation.split("->")
    canonical = ["".join(term[x.perm.index(axis)] for axis in range(x.rank))
                 for term, x in zip(terms.split(","), operands)]
    return ctx.add("einsum", operands, {"equation": f"{','.join(canonical)}->{output}"},
                   perm=layout.identity(len(output)))


@register("keras", "frontend", numpy_ops.Cumsum)
@prefers("any")
def cumsum(ctx: LayerContext, operation, inputs):
    x = inputs[0]
    position = _axis(ctx, x, operation.axis)
    if position is None:
        return None
    if operation.dtype is not None:
        x = ctx.add("cast", [x], {"dtype": keras.backend.standardize_dtype(operation.dtype)}, perm=x.perm,
                    name=f"{ctx.name}_cast")
    return ctx.add("cumsum", [x], {"axis": x.perm[position]}, perm=x.perm)


@register("keras", "frontend", numpy_ops.Argmax, numpy_ops.Argmin)
@prefers("any")
def search(ctx: LayerContext, operation, inputs):
    """The IR's int64 position (Keras's int32: the capture casts it back)."""
    x = inputs[0]
    position = _axis(ctx, x, operation.axis)
    if position is None:
        return None
    op = "argmax" if isinstance(operation, numpy_ops.Argmax) else "argmin"
    axis, keepdims = x.perm[position], bool(operation.keepdims)
    return ctx.add(op, [x], {"axis": axis, "keepdims": keepdims}, perm=x.perm if keepdims else _dropped(x.perm, axis))


# interlayer's layers -----------------------------------------------------------------------------------------


@register("keras", "frontend", Constant)
@prefers("any")
def constant(ctx: LayerContext, layer, inputs):
    """The layer's weight; its inputs only anchor it in the model."""
    value = array(layer.value)
    attrs = {"shape": list(layer.shape), "dtype": layer.value_dtype,
             "trainable": bool(layer.trainable) and "float" in layer.value_dtype}
    return ctx.add("constant", [], attrs, {"value": value.astype(layer.value_dtype)},
                   perm=layout.identity(len(layer.shape)), sources={"value": layer.value})


@register("keras", "frontend", Full)
@prefers("any")
def full(ctx: LayerContext, layer, inputs):
    shape = sizes(ctx, layer, inputs, layer.shape)
    attrs = {"shape": shape, "value": float(layer.value), "dtype": layer.value_dtype}
    return ctx.add("full", [], attrs, perm=layout.identity(len(shape)))


@register("keras", "frontend", Arange)
@prefers("any")
def arange(ctx: LayerContext, layer, inputs):
    start, limit = sizes(ctx, layer, inputs, [layer.start, layer.limit])
    attrs = {"start": start, "limit": limit, "step": layer.step, "dtype": layer.value_dtype}
    return ctx.add("arange", [], attrs, perm=(0,))


@register("keras", "frontend", Slice)
@prefers("any")
def slice_(ctx: LayerContext, layer, inputs):
    x = inputs[0]
    starts = sizes(ctx, layer, inputs[1:], layer.starts)
    ends = sizes(ctx, layer, inputs[1:], layer.ends)
    attrs = {"axes": [x.perm[axis] for axis in layer.axes], "starts": starts, "ends": ends,
             "steps": list(layer.steps)}
    return ctx.add("slice", [x], attrs, perm=x.perm)


@register("keras", "frontend", Cumsum)
@prefers("any")
def cumsum_layer(ctx: LayerContext, layer, inputs):
    x = inputs[0]
    attrs = {"axis": x.perm[layer.axis], "exclusive": layer.exclusive, "reverse": layer.reverse}
    return ctx.add("cumsum", [x], attrs, perm=x.perm)
