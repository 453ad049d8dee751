"""``keras.ops`` calls recorded in a functional graph (``x + y``, ``x * 0.5``, ``keras.ops.relu(x)``,
``keras.ops.tile(x, repeats)``...).

Such a call is an Operation, not a Layer; its constant arguments (Python numbers, numpy arrays) live in the
call node and become the constant operand of an algebra node, in the IR's axis order.
"""
from __future__ import annotations

import keras
import numpy as np
from keras.src.ops import nn as nn_ops
from keras.src.ops import numpy as numpy_ops

from ...ir import dims, layout
from ...registry import register
from . import activation
from .context import Held, LayerContext, prefers
from .merge import aligned

_BINARY = {numpy_ops.Add: "add", numpy_ops.Subtract: "sub", numpy_ops.Multiply: "mul", numpy_ops.Divide: "div",
           numpy_ops.TrueDivide: "div", numpy_ops.Maximum: "maximum", numpy_ops.Minimum: "minimum",
           numpy_ops.Power: "pow", numpy_ops.FloorDivide: "floor_div", numpy_ops.Mod: "mod"}
_COMMUTATIVE = {"add", "mul", "equal", "not_equal", "logical_and", "logical_or", "logical_xor"}


@register("keras", "frontend", *_BINARY)
@prefers("any")
def binary(ctx: LayerContext, operation, inputs):
    """Two tensors (broadcast as numpy does), or a tensor and a constant on either side."""
    return binary_op(ctx, _BINARY[type(operation)], inputs)


def binary_op(ctx: LayerContext, op: str, inputs):
    """The IR ``op`` of a binary ``keras.ops`` call: two tensors of one rank held alike, of different ranks in
    the IR's own order (numpy aligns them at the right, as the IR does), or a tensor and a constant."""
    first, second = ctx.arguments(inputs)[:2]
    if isinstance(first, Held) and isinstance(second, Held):
        if first.rank != second.rank:
            held = [ctx.identity(first), ctx.identity(second)]
            return ctx.add(op, held, perm=layout.identity(max(first.rank, second.rank)))
        held = aligned(ctx, [first, second])
        return ctx.add(op, held, perm=held[0].perm)
    x, constant, constant_first = (first, second, False) if isinstance(first, Held) else (second, first, True)
    constant = _numeric(constant)
    if not isinstance(x, Held) or constant is None:
        ctx.unsupported(f"the operands must be tensors of the model or numeric constants. Expected a tensor and a "
                        f"tensor or constant. Received: {type(first).__name__}, {type(second).__name__}")
        return None
    if op in ("maximum", "minimum"):
        ctx.unsupported(f"{op} with a constant operand has no IR op. Expected two tensors. "
                        f"Received: constant={np.asarray(constant).tolist()}")
        return None
    if constant.ndim > x.rank:
        x = ctx.identity(x)
    dtype = keras.backend.standardize_dtype(ctx.node.outputs[0].dtype)
    if dtype == "bool":  # a comparison: the constant is compared as the input's dtype
        dtype = ctx.dtype(x)
    elif "float" in dtype and "float" not in ctx.dtype(x):  # ids * 0.5: Keras computes in floats
        x = ctx.add("cast", [x], {"dtype": dtype}, perm=x.perm, name=f"{ctx.name}_cast")
    array = ctx.constant(x, constant, dtype=dtype)
    if array is None:
        return None
    return ctx.with_constant(op, x, array, first=constant_first and op not in _COMMUTATIVE)


def _numeric(value) -> np.ndarray | None:
    """A constant argument as an array: a number, a numpy array or an eager backend tensor; else None."""
    if isinstance(value, (bool, int, float, np.ndarray, np.generic)):
        return np.asarray(value)
    if keras.ops.is_tensor(value) and not isinstance(value, keras.KerasTensor):
        return np.asarray(keras.ops.convert_to_numpy(value))
    return None


def _unary(op: str, **attrs):
    def convert(ctx: LayerContext, operation, inputs):
        return ctx.add(op, [inputs[0]], attrs, perm=inputs[0].perm)

    return prefers("any")(convert)


_UNARY = {
    nn_ops.Relu: _unary("relu"), nn_ops.Relu6: _unary("clip", min=0.0, max=6.0), nn_ops.Sigmoid: _unary("sigmoid"),
    nn_ops.Silu: _unary("silu"), nn_ops.HardSilu: _unary("hard_swish"), numpy_ops.Tanh: _unary("tanh"),
    nn_ops.HardSigmoid: _unary("hard_sigmoid", alpha=1.0 / 6.0, beta=0.5),
}
for _cls, _convert in _UNARY.items():
    register("keras", "frontend", _cls)(_convert)


@register("keras", "frontend", nn_ops.LeakyRelu)
@prefers("any")
def leaky_relu(ctx: LayerContext, operation, inputs):
    return ctx.add("leaky_relu", [inputs[0]], {"alpha": float(operation.negative_slope)}, perm=inputs[0].perm)


@register("keras", "frontend", nn_ops.Elu)
@prefers("any")
def elu(ctx: LayerContext, operation, inputs):
    return ctx.add("elu", [inputs[0]], {"alpha": float(operation.alpha)}, perm=inputs[0].perm)


@register("keras", "frontend", nn_ops.Gelu)
@prefers("any")
def gelu(ctx: LayerContext, operation, inputs):
    """keras.ops.gelu defaults to the tanh approximation (the Activation 'gelu' to the exact form)."""
    approximate = "tanh" if operation.approximate else "none"
    return ctx.add("gelu", [inputs[0]], {"approximate": approximate}, perm=inputs[0].perm)


register("keras", "frontend", nn_ops.Softmax)(activation.softmax)  # keras.ops.softmax: as the layer


_REDUCE = {numpy_ops.Mean: "reduce_mean", numpy_ops.Sum: "reduce_sum", numpy_ops.Max: "reduce_max",
           numpy_ops.Min: "reduce_min"}


@register("keras", "frontend", *_REDUCE)
@prefers("any")
def reduce(ctx: LayerContext, operation, inputs):
    """keras.ops.mean, sum, max and min over some axes (the spatial axes of a squeeze-excitation), or all."""
    x, axis = inputs[0], operation.axis
    if getattr(operation, "initial", None) is not None:
        ctx.unsupported(f"a max or min with an initial value has no IR op. Expected initial=None. "
                        f"Received: initial={operation.initial}")
        return None
    axis = range(x.rank) if axis is None else axis if isinstance(axis, (list, tuple)) else [axis]
    keras_axes = [ctx.keras_axis(x, int(a), batch=True) for a in axis]
    if None in keras_axes:
        return None
    axes = sorted(x.perm[a] for a in keras_axes)
    keepdims = bool(operation.keepdims)
    if keepdims:
        perm = x.perm
    else:
        kept = [p for k, p in enumerate(x.perm) if k not in keras_axes]
        perm = tuple(sorted(kept).index(p) for p in kept)
    return ctx.add(_REDUCE[type(operation)], [x], {"axes": axes, "keepdims": keepdims}, perm=perm)


@register("keras", "frontend", numpy_ops.Tile)
@prefers("any")
def tile(ctx: LayerContext, operation, inputs):
    """keras.ops.tile(x, repeats), numpy's rule: fewer repeats than axes repeat the last axes. Each count belongs to
    the IR axis Keras holds at its position."""
    x, repeats = inputs[0], operation.repeats
    counts = list(repeats) if isinstance(repeats, (list, tuple)) else [repeats]
    if not all(isinstance(count, (int, np.integer)) and not isinstance(count, bool) for count in counts):
        ctx.unsupported(f"the repeats must be numbers. Expected ints. Received: repeats={repeats!r}")
        return None
    if len(counts) > x.rank:
        ctx.unsupported(f"more repeats than axes put new axes in front of the batch. Expected at most {x.rank} "
                        f"repeats for a rank {x.rank} input. Received: repeats={list(counts)}")
        return None
    counts = [1] * (x.rank - len(counts)) + [int(count) for count in counts]
    return ctx.add("tile", [x], {"repeats": [counts[i] for i in layout.invert(x.perm)]}, perm=x.perm)


@register("keras", "frontend", numpy_ops.Transpose)
@prefers("any")
def transpose(ctx: LayerContext, operation, inputs):
    """No node: the same IR value, held in the transposed order (Keras out = transpose(in, axes)); axis 0 may move."""
    x = inputs[0]
    axes = tuple(reversed(range(x.rank))) if operation.axes is None else tuple(int(a) % x.rank for a in operation.axes)
    return Held(x.value, layout.compose(x.perm, axes))


@register("keras", "frontend", numpy_ops.Concatenate)
@prefers("any")
def concatenate(ctx: LayerContext, operation, inputs):
    """keras.ops.concatenate along any axis (the batch's too), every input held as the first."""
    tensors = [x for x in ctx.arguments(inputs)[0]]
    if not all(isinstance(x, Held) for x in tensors):
        ctx.unsupported("concatenate joins tensors of the model. Expected no constants among its inputs. "
                        f"Received: {[type(x).__name__ for x in tensors]}")
        return None
    perm = tensors[0].perm
    axis = ctx.keras_axis(tensors[0], int(operation.axis), batch=True)
    if axis is None:
        return None
    return ctx.add("concat", [ctx.hold(x, perm) for x in tensors], {"axis": perm[axis]}, perm=perm)


@register("keras", "frontend", numpy_ops.Stack)
@prefers("any")
def stack(ctx: LayerContext, operation, inputs):
    """keras.ops.stack: the new axis at the same position of the IR value as of the Keras tensor."""
    tensors = ctx.arguments(inputs)[0]
    if not all(isinstance(x, Held) for x in tensors):
        ctx.unsupported("stack joins tensors of the model. Expected no constants among its inputs.")
        return None
    perm, rank = tensors[0].perm, tensors[0].rank + 1
    position = int(operation.axis) % rank
    shifted = [p if p < position else p + 1 for p in perm]
    held = [ctx.hold(x, perm) for x in tensors]
    return ctx.add("stack", held, {"axis": position}, perm=(*shifted[:position], position, *shifted[position:]))


@register("keras", "frontend", numpy_ops.GetItem)
@prefers("any")
def get_item(ctx: LayerContext, operation, inputs):
    """``x[key]`` with ints, slices of positive step and one Ellipsis: a slice of the IR axes held there, its
    bounds resolved against their sizes (size expressions where they are symbolic), then a reshape that drops
    the axes an int picked."""
    x, key = ctx.arguments(inputs)[:2]
    parts = _key_parts(ctx, x, key)
    if parts is None:
        return None
    shape = ctx.shape(x)
    axes, starts, ends, steps, dropped = [], [], [], [], []
    for position, part in enumerate(parts):
        axis, size = x.perm[position], shape[x.perm[position]]
        if isinstance(part, slice):
            if part == slice(None):
                continue
            start, end = _bound(part.start, size, 0), _bound(part.stop, size, size)
            end = dims.maximum(start, end) if not (isinstance(start, int) and isinstance(end, int)) else max(start, end)
            axes.append(axis), starts.append(start), ends.append(end), steps.append(part.step or 1)
        else:
            start = _bound(part, size, 0)
            axes.append(axis), starts.append(start), ends.append(dims.add(start, 1)), steps.append(1)
            dropped.append(axis)
    value = x
    if axes:
        value = ctx.add("slice", [x], {"axes": axes, "starts": starts, "ends": ends, "steps": steps}, perm=x.perm,
                        name=f"{ctx.name}_slice" if dropped else None)
    if not dropped:
        return value
    sliced = ctx.shape(value)
    target = [size for axis, size in enumerate(sliced) if axis not in dropped]
    perm = tuple(p - sum(d < p for d in dropped) for p in x.perm if p not in dropped)
    return ctx.add("reshape", [value], {"shape": target}, perm=perm)


def _key_parts(ctx: LayerContext, x, key) -> list | None:
    """One int or slice per Keras axis of ``x`` (the Ellipsis and the missing ones whole); None (after reporting)
    for anything else (a new axis, a tensor index, a negative step)."""
    key = list(key) if isinstance(key, (tuple, list)) else [key]
    if key.count(Ellipsis) > 1 or not isinstance(x, Held) or any(
            not (part is Ellipsis or isinstance(part, slice) or isinstance(part, (int, np.integer))
                 and not isinstance(part, bool)) for part in key):
        ctx.unsupported(f"only ints, slices and one Ellipsis index a tensor here. Expected x[0], x[:, 1:-1], "
                        f"x[..., ::2]. Received: key={key!r}")
        return None
    if Ellipsis in key:
        index = key.index(Ellipsis)
        key = key[:index] + [slice(None)] * (x.rank - len(key) + 1) + key[index + 1:]
    key = key + [slice(None)] * (x.rank - len(key))
    if len(key) != x.rank or any(isinstance(part, slice) and (part.step or 1) < 1 for part in key) or any(
            isinstance(part, slice) and not all(isinstance(b, (int, np.integer, type(None)))
                                                 for b in (part.start, part.stop, part.step)) for part in key):
        ctx.unsupported(f"the key must index at most the {x.rank} axes with int bounds and positive steps. "
                        f"Received: key={key!r}")
        return None
    return key


def _bound(bound, size, default):
    """A Python index or slice bound as a position in [0, size]: a negative one counts from the end."""
    if bound is None:
        return default
    bound = int(bound)
    if isinstance(size, int):
        return min(max(bound + size if bound < 0 else bound, 0), size)
    return dims.maximum(dims.add(size, bound), 0) if bound < 0 else dims.minimum(bound, size)
