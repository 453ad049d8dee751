"""Normalisation: BatchNormalization (inference), LayerNormalization, InstanceNormalization, GroupNormalization,
LRN.

ONNX's BatchNormalization ``momentum`` is Keras's (``running = running * m + batch * (1 - m)``); the IR keeps
PyTorch's, ``1 - m``. InstanceNormalization is a ``group_norm`` with one group per channel; GroupNormalization is
read from opset 21 (one scale and bias per channel). LRN's window starts floor((size - 1) / 2) channels before each
channel, the IR's default ``before``.
"""
from __future__ import annotations

import numpy as np

from ...registry import register
from .context import NodeContext, readable


def _constants(ctx: NodeContext, names: dict[int, str]) -> dict[int, np.ndarray] | None:
    found = {index: ctx.constant(index, what) for index, what in names.items() if ctx.present(index)}
    return None if any(v is None for v in found.values()) else found


def _unused_outputs(ctx: NodeContext, first: int, what: str) -> bool:
    """False (after reporting) when an output from ``first`` on (training statistics) is read."""
    read = [i for i in range(first, len(ctx.node.output)) if ctx.is_read(i)]
    if read:
        ctx.unsupported(f"{what} output(s) {read} are read. Expected only output 0 used (inference). "
                        f"Received: a model that reads them")
        return False
    return True


@register("onnx", "frontend", ("BatchNormalization", 1))
def batch_norm(ctx: NodeContext, node):
    """Every version at inference: spatial=1 (the default before opset 9), training_mode=0 (opset 14)."""
    if not ctx.attr("spatial", 1):
        return ctx.unsupported("spatial must be 1. Expected statistics per channel. Received: spatial=0 (per "
                               "element statistics)")
    if ctx.attr("training_mode", 0):
        return ctx.unsupported("training_mode must be 0. Expected inference with the running statistics. "
                               "Received: training_mode=1")
    x = ctx.value(0)
    found = _constants(ctx, {1: "the scale", 2: "the bias B", 3: "the running mean", 4: "the running variance"})
    if x is None or found is None or not _unused_outputs(ctx, 1, "the training statistics"):
        return None
    momentum = float(f"{1.0 - float(np.float32(ctx.attr('momentum', 0.9))):.7g}")
    channels = int(found[1].size)
    attrs = {"num_features": channels, "epsilon": readable(ctx.attr("epsilon", 1e-5)), "momentum": momentum}
    weights = {"scale": found[1].reshape(-1), "offset": found[2].reshape(-1), "mean": found[3].reshape(-1),
               "variance": found[4].reshape(-1)}
    sources = {"scale": ctx.source(1), "offset": ctx.source(2), "mean": ctx.source(3), "variance": ctx.source(4)}
    return ctx.add("batch_norm", [x], attrs, weights, sources=sources)


@register("onnx", "frontend", ("LayerNormalization", 17))
def layer_norm(ctx: NodeContext, node):
    """Normalise over the axes from ``axis`` (default -1) to the last; Scale and B broadcast to their sizes. Over
    the last axis alone it runs on any view of its input."""
    held = ctx.held(0)
    found = _constants(ctx, {1: "the scale", 2: "the bias B"})
    if held is None or found is None or not _unused_outputs(ctx, 1, "the mean and inverse deviation"):
        return None
    axis = ctx.attr("axis", -1)
    if axis in (-1, held.rank - 1):
        view = ctx.last_axis(held)
        if view is None:
            return None
        return ctx.along_last(view, _layer_norm(ctx, view.value, len(view.split) - 1, found))
    x = ctx.value(0)
    axis = None if x is None else ctx.axis(axis, len(ctx.ir_shape(x)))
    return None if axis is None else _layer_norm(ctx, x, axis, found)


def _layer_norm(ctx: NodeContext, x: str, axis: int, found: dict):
    shape = ctx.ir_shape(x)
    sizes = list(shape[axis:])
    if any(isinstance(d, str) for d in sizes):
        return ctx.unsupported(f"the normalised axes must be static. Received: shape={list(shape)}, axis={axis}")
    weights, sources = {}, {}
    for index, name in ((1, "scale"), (2, "offset")):
        if index in found:
            try:
                weights[name] = np.ascontiguousarray(np.broadcast_to(found[index], sizes))
            except ValueError:
                return ctx.unsupported(f"the {name} must broadcast to the normalised sizes {sizes}. "
                                       f"Received: shape={list(found[index].shape)}")
            sources[name] = ctx.source(index)
    attrs = {"axes": list(range(axis, len(shape))), "normalized_shape": sizes,
             "epsilon": readable(ctx.attr("epsilon", 1e-5)), "scale": "scale" in weights, "center": "offset" in weights}
    return ctx.add("layer_norm", [x], attrs, weights, sources=sources)


@register("onnx", "frontend", ("InstanceNormalization", 1))
def instance_norm(ctx: NodeContext, node):
    x = ctx.value(0)
    found = _constants(ctx, {1: "the scale", 2: "the bias B"})
    if x is None or found is None:
        return None
    channels = int(found[1].size)
    attrs = {"num_groups": channels, "num_channels": channels, "epsilon": readable(ctx.attr("epsilon", 1e-5))}
    return ctx.add("group_norm", [x], attrs, {"scale": found[1].reshape(-1), "offset": found[2].reshape(-1)},
                   sources={"scale": ctx.source(1), "offset": ctx.source(2)})


@register("onnx", "frontend", ("GroupNormalization", 21))
def group_norm(ctx: NodeContext, node):
    """Opset 21 on (opsets 18-20 had one scale per group; onnx.checker refuses them as deprecated)."""
    x = ctx.value(0)
    found = _constants(ctx, {1: "the scale", 2: "the bias"})
    if x is None or found is None:
        return None
    channels, groups = ctx.ir_shape(x)[1], int(ctx.attr("num_groups"))
    if isinstance(channels, str):
        return ctx.unsupported(f"the channel axis must be static. Received: shape={list(ctx.ir_shape(x))}")
    attrs = {"num_groups": groups, "num_channels": int(channels), "epsilon": readable(ctx.attr("epsilon", 1e-5))}
    return ctx.add("group_norm", [x], attrs, {"scale": found[1].reshape(-1), "offset": found[2].reshape(-1)},
                   sources={"scale": ctx.source(1), "offset": ctx.source(2)})


@register("onnx", "frontend", ("LRN", 1))
def lrn(ctx: NodeContext, node):
    size = ctx.attr("size")
    if size is None:
        return ctx.unsupported("the attribute size is missing. Expected the window's channel count (required by "
                               "ONNX). Received: size=None")
    x = ctx.value(0)
    attrs = {"size": int(size), "alpha": readable(ctx.attr("alpha", 1e-4)), "beta": readable(ctx.attr("beta", 0.75)),
             "bias": readable(ctx.attr("bias", 1.0)), "before": (int(size) - 1) // 2}
    return None if x is None else ctx.add("lrn", [x], attrs)
