"""interlayer's own Keras layers (written by the Keras backend), so a model it built can be captured again."""
from __future__ import annotations

from ...backends.keras.attention import BatchConstant, Expand, MaskedFill, ScaledDotProductAttention
from ...backends.keras.layers import (AveragePooling, BinaryOp, Clip, ConstantOperand, ConstantPadding, Gelu,
                                      HardSigmoid, LocalResponseNormalization, Padding, Reduce, Resize, SizedReshape,
                                      Split, Stack, Tile)
from ...backends.keras.math import Elementwise, LogSoftmax, Shrink, ThresholdedSoftplus
from ...ir import layout
from ...registry import register
from .context import LayerContext, array, prefers
from .sizes import sizes


def _pads_spatial(layer) -> str:
    return "channels_last" if getattr(layer, "axes", None) is None else "any"


@register("keras", "frontend", ConstantPadding, Padding)
@prefers(_pads_spatial)
def padding(ctx: LayerContext, layer, inputs):
    """The layer's mode is the IR's; its value fills 'constant' padding only. The IR pads the last axes: the
    spatial axes of a channels-last map (the layer's default), or the IR axes the layer's ``axes`` hold, moved
    last by a transpose where they are not."""
    value = layer.value if layer.mode == "constant" else 0.0
    if layer.axes is None:
        x = ctx.channels_last(inputs[0])
        pairs = list(layer.padding)
    else:
        x = inputs[0]
        padded = {x.perm[axis]: pair for axis, pair in zip(layer.axes, layer.padding)}
        last = tuple(range(x.rank - len(padded), x.rank))
        if tuple(sorted(padded)) != last:  # hold the padded axes as the IR's last, in their order
            order = sorted(p for p in x.perm if p not in padded) + sorted(padded)  # the new IR value's axes
            x = ctx.hold(x, tuple(order.index(p) for p in x.perm))
            padded = {order.index(axis): pair for axis, pair in padded.items()}
        pairs = [padded[axis] for axis in last]
    pads = [begin for begin, _ in pairs] + [end for _, end in pairs]
    return ctx.add("pad", [x], {"pads": pads, "value": value, "mode": layer.mode}, perm=x.perm)


@register("keras", "frontend", Clip)
@prefers("any")
def clip(ctx: LayerContext, layer, inputs):
    return ctx.add("clip", [inputs[0]], {"min": layer.min_value, "max": layer.max_value}, perm=inputs[0].perm)


@register("keras", "frontend", HardSigmoid)
@prefers("any")
def hard_sigmoid(ctx: LayerContext, layer, inputs):
    return ctx.add("hard_sigmoid", [inputs[0]], {"alpha": layer.alpha, "beta": layer.beta}, perm=inputs[0].perm)


@register("keras", "frontend", Gelu)
@prefers("any")
def gelu(ctx: LayerContext, layer, inputs):
    approximate = "tanh" if layer.approximate else "none"
    return ctx.add("gelu", [inputs[0]], {"approximate": approximate}, perm=inputs[0].perm)


# the math and normalization families' layers -----------------------------------------------------------------


@register("keras", "frontend", Elementwise)
@prefers("any")
def elementwise(ctx: LayerContext, layer, inputs):
    return ctx.add(Elementwise.OPS[layer.function], [inputs[0]], perm=inputs[0].perm)


@register("keras", "frontend", ThresholdedSoftplus)
@prefers("any")
def thresholded_softplus(ctx: LayerContext, layer, inputs):
    return ctx.add("softplus", [inputs[0]], {"threshold": layer.threshold}, perm=inputs[0].perm)


@register("keras", "frontend", LogSoftmax)
@prefers("any")
def log_softmax(ctx: LayerContext, layer, inputs):
    """Along the layer's axis of the tensor as Keras holds it: the IR axis ``perm[axis]``."""
    x = inputs[0]
    return ctx.add("log_softmax", [x], {"axis": x.perm[layer.axis % x.rank]}, perm=x.perm)


@register("keras", "frontend", Shrink)
@prefers("any")
def shrink(ctx: LayerContext, layer, inputs):
    return ctx.add("shrink", [inputs[0]], {"lambd": layer.lambd, "bias": layer.bias}, perm=inputs[0].perm)


@register("keras", "frontend", LocalResponseNormalization)
@prefers("channels_last")
def local_response_normalization(ctx: LayerContext, layer, inputs):
    """The layer normalises across its input's last axis: held channels-last, that is the IR's channel axis."""
    x = ctx.channels_last(inputs[0])
    attrs = {"size": layer.size, "alpha": layer.alpha, "beta": layer.beta, "bias": layer.bias, "before": layer.before}
    return ctx.add("lrn", [x], attrs, perm=x.perm)


# the algebra and spatial families' layers ------------------------------------------------------------------

_KERAS_OPS = {"add": "add", "subtract": "sub", "multiply": "mul", "divide": "div", "power": "pow", "matmul": "matmul",
              "floor_divide": "floor_div", "mod": "mod", "equal": "equal", "not_equal": "not_equal", "less": "less",
              "less_equal": "less_equal", "greater": "greater", "greater_equal": "greater_equal",
              "logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor"}
_UNORDERED = ("add", "mul", "equal", "not_equal", "logical_and", "logical_or", "logical_xor")
"""ops whose schema has no constant_first: the constant's side does not matter"""


@register("keras", "frontend", ConstantOperand)
@prefers("any")
def constant_operand(ctx: LayerContext, layer, inputs):
    """``op(x, other)``: ``other`` is held as the input is, broadcast as numpy does (matrices stay 2-D); a
    constant with more axes than the input needs the input in the IR's own order."""
    x, op = inputs[0], _KERAS_OPS[layer.op]
    other = array(layer.other)
    matrix = op == "matmul"
    if matrix and other.ndim > 2 and x.perm[-2:] != (x.rank - 2, x.rank - 1):
        ctx.unsupported(f"a matmul's matrices must be held in the IR's order. Expected the last two axes held last. "
                        f"Received: perm={x.perm}")
        return None
    if other.ndim > x.rank:
        x = ctx.identity(x)
    if matrix and other.ndim == 2:
        constant = other  # x @ W on the last axis, whatever the others hold
    else:
        constant = ctx.constant(x, other, dtype=other.dtype, min_rank=2 if matrix else 0)
    if constant is None:
        return None
    first = layer.constant_first and op not in _UNORDERED
    trainable = layer.trainable and getattr(layer, "other_dtype", None) is None
    return ctx.with_constant(op, x, constant, first=first, trainable=trainable, source=layer.other)


@register("keras", "frontend", BinaryOp)
@prefers("any")
def binary_op(ctx: LayerContext, layer, inputs):
    """Inputs of one rank held alike (a matmul's matrices in the IR's order), of several ranks in the IR's own
    order (numpy aligns them at the right, as the IR does); more than two folded from the left."""
    op = _KERAS_OPS[layer.op]
    if len({x.rank for x in inputs}) > 1:
        held = [ctx.identity(x) for x in inputs]
    else:
        held = ctx.common(inputs)
        if op == "matmul" and held[0].perm[-2:] != (held[0].rank - 2, held[0].rank - 1):
            held = [ctx.identity(x) for x in inputs]
    perm = held[0].perm if len({x.rank for x in held}) == 1 else layout.identity(max(x.rank for x in held))
    if op == "add" or len(held) == 2:
        return ctx.add(op, held, perm=perm)
    result = held[0]
    for index, x in enumerate(held[1:], start=1):
        name = None if index == len(held) - 1 else f"{ctx.name}_{op}{index}"
        result = ctx.add(op, [result, x], perm=perm, name=name)
    return result


@register("keras", "frontend", Reduce)
@prefers("any")
def reduce(ctx: LayerContext, layer, inputs):
    x = inputs[0]
    axes = sorted(x.perm[axis] for axis in layer.axes)
    kept = [p for position, p in enumerate(x.perm) if position not in layer.axes]
    perm = x.perm if layer.keepdims else tuple(sorted(kept).index(p) for p in kept)
    return ctx.add(f"reduce_{layer.op}", [x], {"axes": axes, "keepdims": bool(layer.keepdims)}, perm=perm)


@register("keras", "frontend", Stack)
@prefers("any")
def stack(ctx: LayerContext, layer, inputs):
    """Keras stacks at held position ``axis``; the IR at canonical axis ``axis`` with the others shifted."""
    perm, rank = inputs[0].perm, inputs[0].rank + 1
    position = int(layer.axis) + rank if int(layer.axis) < 0 else int(layer.axis)
    if not 0 <= position < rank:
        ctx.unsupported(f"the axis must be an axis of the result. Expected {-rank} <= axis < {rank}. "
                        f"Received: axis={layer.axis}")
        return None
    shifted = [p if p < position else p + 1 for p in perm]
    held = [ctx.hold(x, perm) for x in inputs]
    return ctx.add("stack", held, {"axis": position}, perm=(*shifted[:position], position, *shifted[position:]))


@register("keras", "frontend", Split)
@prefers("any")
def split(ctx: LayerContext, layer, inputs):
    x = inputs[0]
    return ctx.add_outputs("split", [x], {"axis": x.perm[int(layer.axis)], "sizes": list(layer.sizes)}, perm=x.perm)


@register("keras", "frontend", Resize)
@prefers("channels_last")
def resize(ctx: LayerContext, layer, inputs):
    """Sizes known when the model runs are this graph's size expressions (``sizes.sizes``)."""
    x = ctx.channels_last(inputs[0])
    attrs = {"sizes": sizes(ctx, layer, inputs[1:], layer.sizes), "mode": layer.mode,
             "coordinate_mode": layer.coordinate_mode,
             "scales": None if layer.scales is None else list(layer.scales)}
    return ctx.add("resize", [x], attrs, perm=x.perm)


@register("keras", "frontend", SizedReshape)
@prefers("identity")
def sized_reshape(ctx: LayerContext, layer, inputs):
    """The layer (of models saved before IR format 2) keeps axis 0 and copies some sizes from its input."""
    x = ctx.identity(inputs[0])
    shape = ctx.shape(x)
    target = [shape[0]] + [shape[axis] if axis >= 0 else size for size, axis in zip(layer.sizes, layer.copies)]
    return ctx.add("reshape", [x], {"shape": target}, perm=tuple(range(len(target))))


@register("keras", "frontend", Tile)
@prefers("any")
def tile(ctx: LayerContext, layer, inputs):
    """The layer's counts are in the order its input is held: each belongs to the IR axis held there."""
    x, held = inputs[0], [layer.first, *layer.repeats]
    return ctx.add("tile", [x], {"repeats": [int(held[i]) for i in layout.invert(x.perm)]}, perm=x.perm)


# the pool family's layer -----------------------------------------------------------------------------------


@register("keras", "frontend", AveragePooling)
@prefers("channels_last")
def average_pooling(ctx: LayerContext, layer, inputs):
    """Explicit pads, ceil_mode and count_include_pad: the IR's avg_pool as it is."""
    x = ctx.channels_last(inputs[0])
    attrs = {"kernel_size": list(layer.pool_size), "strides": list(layer.strides),
             "pads": [begin for begin, _ in layer.padding] + [end for _, end in layer.padding],
             "ceil_mode": layer.ceil_mode, "count_include_pad": layer.count_include_pad}
    return ctx.add("avg_pool", [x], attrs, perm=x.perm)


# the attention family's layers ------------------------------------------------------------------------------


@register("keras", "frontend", BatchConstant)
@prefers("any")
def batch_constant(ctx: LayerContext, layer, inputs):
    value = array(layer.value)
    attrs = {"shape": list(value.shape), "trainable": bool(layer.trainable)}
    return ctx.add("batch_constant", [inputs[0]], attrs, {"value": value[None]}, perm=tuple(range(value.ndim + 1)),
                   sources={"value": layer.value})


@register("keras", "frontend", Expand)
@prefers("any")
def expand(ctx: LayerContext, layer, inputs):
    """The layer (of models saved before IR format 2) keeps axis 0 and gives the sizes after it, as held."""
    x = inputs[0]
    held = [ctx.keras_shape(x)[0], *(int(size) for size in layer.shape)]
    return ctx.add("expand", [x], {"shape": [held[position] for position in layout.invert(x.perm)]}, perm=x.perm)


@register("keras", "frontend", MaskedFill)
@prefers("any")
def masked_fill(ctx: LayerContext, layer, inputs):
    held = ctx.common(inputs)
    return ctx.add("where", held, {"value": layer.value}, perm=held[0].perm)


@register("keras", "frontend", ScaledDotProductAttention)
@prefers("identity")
def scaled_dot_product_attention(ctx: LayerContext, layer, inputs):
    held = [ctx.identity(x) for x in inputs]
    return ctx.add("scaled_dot_product_attention", held, {"scale": layer.scale, "causal": layer.causal},
                   perm=held[0].perm)
