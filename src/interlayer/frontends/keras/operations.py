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

from ...ir import layout
from ...registry import register
from . import activation
from .context import Held, LayerContext, prefers
from .merge import aligned

_BINARY = {numpy_ops.Add: "add", numpy_ops.Subtract: "sub", numpy_ops.Multiply: "mul", numpy_ops.Divide: "div",
           numpy_ops.TrueDivide: "div", numpy_ops.Maximum: "maximum", numpy_ops.Minimum: "minimum"}
_COMMUTATIVE = {"add", "mul"}


@register("keras", "frontend", *_BINARY)
@prefers("any")
def binary(ctx: LayerContext, operation, inputs):
    """Two tensors (broadcast as numpy does), or a tensor and a constant on either side."""
    op = _BINARY[type(operation)]
    first, second = ctx.arguments(inputs)[:2]
    if isinstance(first, Held) and isinstance(second, Held):
        if first.rank != second.rank:
            ctx.unsupported(f"both operands must have one rank (the batch axis first). Expected equal ranks. "
                            f"Received: shapes {ctx.keras_shape(first)} and {ctx.keras_shape(second)}")
            return None
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
    array = ctx.constant(x, constant, dtype=_dtype(ctx, x))
    if array is None:
        return None
    return ctx.with_constant(op, x, array, first=constant_first and op not in _COMMUTATIVE)


def _numeric(value) -> np.ndarray | None:
    """A constant argument as an array: a number, a numpy array or an eager backend tensor; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.ndarray, np.generic)):
        return np.asarray(value)
    if keras.ops.is_tensor(value) and not isinstance(value, keras.KerasTensor):
        return np.asarray(keras.ops.convert_to_numpy(value))
    return None


def _dtype(ctx: LayerContext, x: Held) -> str:
    tensor = ctx.node.outputs[0]
    return str(getattr(tensor, "dtype", "float32") or "float32")


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


@register("keras", "frontend", numpy_ops.Mean)
@prefers("any")
def mean(ctx: LayerContext, operation, inputs):
    """keras.ops.mean over non-batch axes (e.g. the spatial axes of a squeeze-excitation)."""
    x, axis = inputs[0], operation.axis
    if axis is None:
        ctx.unsupported("a mean over every axis includes the batch axis. Expected axis to name non-batch axes. "
                        "Received: axis=None")
        return None
    keras_axes = [ctx.keras_axis(x, int(a)) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    if None in keras_axes:
        return None
    axes = sorted(x.perm[a] for a in keras_axes)
    keepdims = bool(operation.keepdims)
    if keepdims:
        perm = x.perm
    else:
        kept = [p for k, p in enumerate(x.perm) if k not in keras_axes]
        perm = tuple(sorted(kept).index(p) for p in kept)
    return ctx.add("reduce_mean", [x], {"axes": axes, "keepdims": keepdims}, perm=perm)


@register("keras", "frontend", numpy_ops.Tile)
@prefers("any")
def tile(ctx: LayerContext, operation, inputs):
    """keras.ops.tile(x, repeats), numpy's rule: fewer repeats than axes repeat the last axes. Each count belongs to
    the IR axis Keras holds at its position; the batch's must be 1."""
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
    if counts[0] != 1:
        ctx.unsupported(f"repeating the batch axis has no IR equivalent: the batch stays the batch. Expected 1 as "
                        f"the first repeat. Received: repeats={counts}")
        return None
    return ctx.add("tile", [x], {"repeats": [counts[i] for i in layout.invert(x.perm)]}, perm=x.perm)
