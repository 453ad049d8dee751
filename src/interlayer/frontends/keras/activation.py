"""Activations: the Activation layer, ReLU, LeakyReLU, ELU, PReLU, Softmax, and activations fused into other
layers."""
from __future__ import annotations

from typing import Callable

import keras
import numpy as np

from ...registry import register
from .context import Held, LayerContext, array, prefers
from .math import log_softmax_last

Emit = Callable[[LayerContext, Held, str], Held]


def _unary(op: str, **attrs) -> Emit:
    return lambda ctx, x, name: ctx.add(op, [x], attrs, perm=x.perm, name=name)


def _softmax(ctx: LayerContext, x: Held, name: str) -> Held | None:
    axis = ctx.keras_axis(x, -1, batch=True)
    return None if axis is None else ctx.add("softmax", [x], {"axis": x.perm[axis]}, perm=x.perm, name=name)


# Keras activation function (with its default arguments, as a layer or a string calls it) -> IR
_FUNCTIONS: dict[Callable, Emit] = {
    keras.activations.relu: _unary("relu"),
    keras.activations.relu6: _unary("clip", min=0.0, max=6.0),
    keras.activations.leaky_relu: _unary("leaky_relu", alpha=0.2),
    keras.activations.elu: _unary("elu", alpha=1.0),
    keras.activations.gelu: _unary("gelu", approximate="none"),
    keras.activations.silu: _unary("silu"),
    keras.activations.sigmoid: _unary("sigmoid"),
    keras.activations.tanh: _unary("tanh"),
    keras.activations.hard_sigmoid: _unary("hard_sigmoid", alpha=1.0 / 6.0, beta=0.5),
    keras.activations.hard_silu: _unary("hard_swish"),
    keras.activations.hard_tanh: _unary("clip", min=-1.0, max=1.0),
    keras.activations.mish: _unary("mish"),
    keras.activations.softmax: _softmax,
    keras.activations.exponential: _unary("exp"),
    keras.activations.softplus: _unary("softplus"),
    keras.activations.selu: _unary("selu"),
    keras.activations.log_softmax: log_softmax_last,
    keras.activations.softsign: _unary("softsign"),
    keras.activations.hard_shrink: _unary("shrink", lambd=0.5, bias=0.0),
    keras.activations.soft_shrink: _unary("shrink", lambd=0.5, bias=0.5),
}


def apply(ctx: LayerContext, function: Callable, x: Held, name: str) -> Held | None:
    """The IR of Keras activation ``function`` on ``x``: ``x`` itself for linear, None (reported) when unknown."""
    if function is keras.activations.linear:
        return x
    emit = _FUNCTIONS.get(function)
    if emit is None:
        label = getattr(function, "__name__", repr(function))
        ctx.unsupported(f"activation '{label}' has no IR op. Expected one of "
                        f"{sorted(['linear', *(f.__name__ for f in _FUNCTIONS)])}. Received: activation={label!r}")
        return None
    return emit(ctx, x, name)


def fused(ctx: LayerContext, layer, y: Held | None) -> Held | None:
    """A layer's own ``activation`` argument, as a second node named ``<layer>_activation``."""
    if y is None:
        return None
    return apply(ctx, layer.activation, y, f"{ctx.name}_activation")


@register("keras", "frontend", keras.layers.Activation)
@prefers("any")
def activation(ctx: LayerContext, layer, inputs):
    return apply(ctx, layer.activation, inputs[0], ctx.name)


@register("keras", "frontend", keras.layers.ReLU)
@prefers("any")
def relu(ctx: LayerContext, layer, inputs):
    x = inputs[0]
    if float(layer.threshold) != 0.0:
        ctx.unsupported(f"threshold must be 0: the IR's relu ops switch at 0. Received: threshold={layer.threshold}")
        return None
    slope, top = float(layer.negative_slope), layer.max_value
    if slope == 0.0 and top is None:
        return ctx.add("relu", [x], perm=x.perm)
    if slope == 0.0:
        return ctx.add("clip", [x], {"min": 0.0, "max": float(top)}, perm=x.perm)
    y = ctx.add("leaky_relu", [x], {"alpha": slope}, perm=x.perm)
    return y if top is None else ctx.add("clip", [y], {"min": None, "max": float(top)}, perm=x.perm,
                                         name=f"{ctx.name}_max")


@register("keras", "frontend", keras.layers.LeakyReLU)
@prefers("any")
def leaky_relu(ctx: LayerContext, layer, inputs):
    return ctx.add("leaky_relu", [inputs[0]], {"alpha": float(layer.negative_slope)}, perm=inputs[0].perm)


@register("keras", "frontend", keras.layers.ELU)
@prefers("any")
def elu(ctx: LayerContext, layer, inputs):
    return ctx.add("elu", [inputs[0]], {"alpha": float(layer.alpha)}, perm=inputs[0].perm)


@register("keras", "frontend", keras.layers.Softmax)
@prefers("any")
def softmax(ctx: LayerContext, layer, inputs):
    x, axis = inputs[0], layer.axis
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            ctx.unsupported(f"softmax over several axes has no IR op. Expected one axis. Received: axis={axis}")
            return None
        axis = axis[0]
    index = ctx.keras_axis(x, int(axis), batch=True)
    return None if index is None else ctx.add("softmax", [x], {"axis": x.perm[index]}, perm=x.perm)


@register("keras", "frontend", keras.layers.PReLU)
@prefers("any")
def prelu(ctx: LayerContext, layer, inputs):
    """One slope for every element, or one per position of a single Keras axis (the others in shared_axes)."""
    x = inputs[0]
    alpha = array(layer.alpha)  # the input's shape without the batch axis, shared axes of size 1
    varying = [axis + 1 for axis, size in enumerate(alpha.shape) if size != 1]
    if len(varying) > 1:
        ctx.unsupported(f"the IR's prelu has one slope, or one per channel. Expected every axis but one in "
                        f"shared_axes. Received: alpha shape={alpha.shape}, shared_axes={layer.shared_axes}")
        return None
    if varying:
        x = ctx.hold_channel_axis(x, varying[0])
    slopes = np.ascontiguousarray(alpha.reshape(-1))
    return ctx.add("prelu", [x], {"num_parameters": int(slopes.size)}, {"slope": slopes}, perm=x.perm,
                   sources={"slope": layer.alpha})
