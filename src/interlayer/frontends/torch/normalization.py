"""Normalisations: batch norm (running statistics: inference), layer norm over the trailing axes, group norm,
instance norm (one channel per group, or running statistics), RMS norm (written out: its mean of squares,
``rsqrt`` and scale), local response norm (its window starts size // 2 channels before each channel).

Affine weights must be constants (a layer's parameters); a computed scale is applied with an element-wise
``mul``/``add`` after an unscaled norm.
"""
from __future__ import annotations

import numpy as np
import torch

from ...registry import register
from .context import Call, to_numpy

aten = torch.ops.aten


def _optional(ctx: Call, arg):
    """(array or None, key, computed IR value or None) of an optional affine tensor."""
    if arg is None:
        return None, None, None
    found = ctx.const(arg)
    if found is not None:
        return to_numpy(found.tensor), found.source, None
    return None, None, ctx.tensor(arg)


def _affine(ctx: Call, op: str, x: str, attrs: dict, weight_arg, bias_arg, channel_axis: int | None) -> str:
    """``op`` with constant scale/offset as weights, or unscaled then multiplied/shifted by computed ones."""
    scale, scale_key, scale_value = _optional(ctx, weight_arg)
    offset, offset_key, offset_value = _optional(ctx, bias_arg)
    if scale_value is None and offset_value is None:
        attrs = {**attrs, "scale": scale is not None, "center": offset is not None}
        weights = {"scale": scale, "offset": offset}
        return ctx.add(op, [x], attrs, {k: v for k, v in weights.items() if v is not None},
                       {"scale": scale_key, "offset": offset_key})
    value = ctx.add(op, [x], {**attrs, "scale": False, "center": False}, role="normalized")
    for role, computed, array, key, combine in (("scale", scale_value, scale, scale_key, "mul"),
                                                ("offset", offset_value, offset, offset_key, "add")):
        if computed is None and array is None:
            continue
        last = role == "offset" or (offset_value is None and offset is None)
        operand = computed if computed is not None else ctx.materialise(ctx.const(weight_arg if role == "scale"
                                                                                   else bias_arg))
        if channel_axis is not None:
            rank = ctx.rank(ctx.arg(0))
            operand = ctx.add("reshape", [operand], {"shape": [-1] + [1] * (rank - channel_axis - 1)},
                              role=f"{role}_shape")
        value = ctx.add(combine, [value, operand], role=None if last else role)
    return value


@register("torch", "frontend", aten.batch_norm, aten._native_batch_norm_legit_no_training)
def batch_norm(ctx: Call):
    x, weight_arg, bias_arg, mean_arg, var_arg = (ctx.arg(i) for i in range(5))
    if ctx.op == "batch_norm":
        training, momentum, eps = (ctx.literal(ctx.arg(i)) for i in (5, 6, 7))
    else:
        training, momentum, eps = False, ctx.literal(ctx.arg(5)), ctx.literal(ctx.arg(6))
    if training or mean_arg is None or var_arg is None:
        return ctx.unsupported("it normalises with the batch's own statistics (training mode, or "
                               "track_running_stats=False). Expected running statistics")
    mean, variance = ctx.const(mean_arg), ctx.const(var_arg)
    if mean is None or variance is None:
        return ctx.unsupported("its running statistics are computed from the inputs. Expected constant buffers")
    # the module's own momentum (None: a cumulative average), which the call receives as 0.0 at inference
    module_momentum = getattr(ctx.module, "momentum", momentum) if _is_batch_norm(ctx.module) else momentum
    attrs = {"num_features": int(ctx.shape(x)[1]), "epsilon": float(eps),
             "momentum": None if module_momentum is None else float(module_momentum)}
    scale, scale_key, scale_value = _optional(ctx, weight_arg)
    offset, offset_key, offset_value = _optional(ctx, bias_arg)
    if scale_value is not None or offset_value is not None:
        return ctx.unsupported("its weight or bias is computed from the inputs. Expected constant parameters")
    weights = {"mean": to_numpy(mean.tensor), "variance": to_numpy(variance.tensor), "scale": scale, "offset": offset}
    value = ctx.add("batch_norm", [ctx.tensor(x)], {**attrs, "scale": scale is not None, "center": offset is not None},
                    {k: v for k, v in weights.items() if v is not None},
                    {"scale": scale_key, "offset": offset_key, "mean": mean.source, "variance": variance.source})
    if ctx.op != "batch_norm":  # _native_batch_norm_legit_no_training returns (out, save_mean, save_rstd)
        return [value, None, None]
    return value


def _is_batch_norm(module) -> bool:
    return isinstance(module, torch.nn.modules.batchnorm._BatchNorm)


@register("torch", "frontend", aten.layer_norm)
def layer_norm(ctx: Call):
    x, normalized = ctx.arg(0, "input"), [int(d) for d in ctx.literal(ctx.arg(1, "normalized_shape"))]
    weight_arg, bias_arg = ctx.arg(2, "weight", None), ctx.arg(3, "bias", None)
    eps = float(ctx.literal(ctx.arg(4, "eps", 1e-5)))
    rank = ctx.rank(x)
    attrs = {"axes": list(range(rank - len(normalized), rank)), "normalized_shape": normalized, "epsilon": eps}
    if attrs["axes"][0] < 1:
        return ctx.unsupported(f"it normalises over every axis, axis 0 included. Expected normalized_shape to "
                               f"cover fewer than {rank} axes. Received: normalized_shape={tuple(normalized)}")
    return _affine(ctx, "layer_norm", ctx.tensor(x), attrs, weight_arg, bias_arg, None)


@register("torch", "frontend", aten.group_norm)
def group_norm(ctx: Call):
    x, groups = ctx.arg(0, "input"), int(ctx.literal(ctx.arg(1, "num_groups")))
    weight_arg, bias_arg = ctx.arg(2, "weight", None), ctx.arg(3, "bias", None)
    eps = float(ctx.literal(ctx.arg(4, "eps", 1e-5)))
    channels = ctx.shape(x)[1]
    if not isinstance(channels, int):
        return ctx.unsupported(f"its channel count is kept generic ({channels}), which group_norm cannot take. "
                               f"Expected a fixed number of channels: give the input as a spec with axis 1 fixed, "
                               f"such as 'x:float32[N,4,L]'")
    attrs = {"num_groups": groups, "num_channels": channels, "epsilon": eps}
    return _affine(ctx, "group_norm", ctx.tensor(x), attrs, weight_arg, bias_arg, 1)


@register("torch", "frontend", aten.instance_norm)
def instance_norm(ctx: Call):
    """Each example's channels normalised over their own positions: a ``group_norm`` of one channel per group;
    with running statistics used (``use_input_stats=False``), a ``batch_norm``."""
    x, weight_arg, bias_arg, mean_arg, var_arg = (ctx.arg(i) for i in range(5))
    use_input_stats, momentum, eps = (ctx.literal(ctx.arg(i)) for i in (5, 6, 7))
    channels = ctx.shape(x)[1]
    if not use_input_stats:
        mean, variance = ctx.const(mean_arg), ctx.const(var_arg)
        scale, scale_key, _ = _optional(ctx, weight_arg)
        offset, offset_key, _ = _optional(ctx, bias_arg)
        weights = {"mean": to_numpy(mean.tensor), "variance": to_numpy(variance.tensor), "scale": scale,
                   "offset": offset}
        attrs = {"num_features": int(channels), "epsilon": float(eps), "momentum": float(momentum),
                 "scale": scale is not None, "center": offset is not None}
        return ctx.add("batch_norm", [ctx.tensor(x)], attrs, {k: v for k, v in weights.items() if v is not None},
                       {"scale": scale_key, "offset": offset_key, "mean": mean.source, "variance": variance.source})
    attrs = {"num_groups": int(channels), "num_channels": int(channels), "epsilon": float(eps)}
    return _affine(ctx, "group_norm", ctx.tensor(x), attrs, weight_arg, bias_arg, 1)


@register("torch", "frontend", aten.rms_norm)
def rms_norm(ctx: Call):
    """``x / sqrt(mean(x^2 over the normalised axes) + eps) * weight``, written out."""
    x, normalized = ctx.arg(0, "input"), ctx.literal(ctx.arg(1, "normalized_shape"))
    weight_arg, eps = ctx.arg(2, "weight", None), ctx.literal(ctx.arg(3, "eps", None))
    if eps is None:
        eps = float(torch.finfo(getattr(torch, ctx.dtype(x))).eps)
    rank = ctx.rank(x)
    axes = list(range(rank - len(normalized), rank))
    value = ctx.tensor(x)
    squares = ctx.add("mul", [value, value], role="squares")
    mean = ctx.add("reduce_mean", [squares], {"axes": axes, "keepdims": True}, role="mean")
    shifted = ctx.add("add", [mean], {"constant": True}, {"other": np.asarray(eps, np.float32)}, role="eps")
    root = ctx.add("sqrt", [shifted], role="root")
    normed = ctx.add("div", [value, root], role=None if weight_arg is None else "normalized")
    if weight_arg is None:
        return normed
    weight = ctx.const(weight_arg)
    if weight is None:
        return ctx.add("mul", [normed, ctx.tensor(weight_arg)])
    array = to_numpy(weight.tensor)
    return ctx.add("mul", [normed], {"constant": True, "constant_shape": list(array.shape),
                                     "trainable": weight.trainable}, {"other": array}, {"other": weight.source})
