"""Normalisations: batch norm (running statistics: inference), layer norm over the trailing axes, group norm
(written out over a reshape when the channel count is a size the model leaves generic), instance norm (one
channel per group, or running statistics), RMS norm (written out: its mean of squares, ``rsqrt`` and scale), local
response norm (``F.local_response_norm``'s average of squares over a padded channel window, recognised as the IR's
``lrn``: its window starts size // 2 channels before each channel).

Affine weights must be constants (a layer's parameters); a computed scale is applied with an element-wise
``mul``/``add`` after an unscaled norm.
"""
from __future__ import annotations

import numpy as np
import torch

from ...registry import register
from . import patterns
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


def _affine(ctx: Call, op: str, x: str, attrs: dict, weight_arg, bias_arg, channel_axis: int | None,
            role: str | None = None) -> str:
    """``op`` with constant scale/offset as weights, or unscaled then multiplied/shifted by computed ones."""
    scale, scale_key, scale_value = _optional(ctx, weight_arg)
    offset, offset_key, offset_value = _optional(ctx, bias_arg)
    if scale_value is None and offset_value is None:
        attrs = {**attrs, "scale": scale is not None, "center": offset is not None}
        weights = {"scale": scale, "offset": offset}
        return ctx.add(op, [x], attrs, {k: v for k, v in weights.items() if v is not None},
                       {"scale": scale_key, "offset": offset_key}, role=role)
    value = ctx.add(op, [x], {**attrs, "scale": False, "center": False}, role="normalized")
    for part, computed, array, key, combine in (("scale", scale_value, scale, scale_key, "mul"),
                                                ("offset", offset_value, offset, offset_key, "add")):
        if computed is None and array is None:
            continue
        last = part == "offset" or (offset_value is None and offset is None)
        operand = computed if computed is not None else ctx.materialise(ctx.const(weight_arg if part == "scale"
                                                                                   else bias_arg))
        if channel_axis is not None:
            rank = ctx.rank(ctx.arg(0))
            operand = ctx.add("reshape", [operand], {"shape": [-1] + [1] * (rank - channel_axis - 1)},
                              role=f"{part}_shape")
        value = ctx.add(combine, [value, operand], role=role if last else part)
    return value


@register("torch", "frontend", aten.batch_norm, aten._native_batch_norm_legit_no_training,
          aten._native_batch_norm_legit)
def batch_norm(ctx: Call):
    """With running statistics: the IR's ``batch_norm``. Without them (``track_running_stats=False``, or a call
    with ``training=True``) each channel is normalised with the statistics of the batch itself, over axis 0 and
    the spatial axes, as PyTorch computes it: written out (``_batch_statistics``)."""
    x, weight_arg, bias_arg = (ctx.arg(i) for i in range(3))
    if ctx.op == "batch_norm":
        mean_arg, var_arg = ctx.arg(3), ctx.arg(4)
        training, momentum, eps = (ctx.literal(ctx.arg(i)) for i in (5, 6, 7))
    elif ctx.op == "_native_batch_norm_legit" and ctx.overload == "no_stats":
        mean_arg = var_arg = None
        training, momentum, eps = (ctx.literal(ctx.arg(i)) for i in (3, 4, 5))
    else:
        mean_arg, var_arg = ctx.arg(3), ctx.arg(4)
        training = ctx.literal(ctx.arg(5)) if ctx.op == "_native_batch_norm_legit" else False
        momentum, eps = (ctx.literal(ctx.arg(i)) for i in ((6, 7) if ctx.op == "_native_batch_norm_legit" else (5, 6)))
    several = ctx.op != "batch_norm"  # the _native_ forms return (out, save_mean, save_rstd)
    if training or mean_arg is None or var_arg is None:
        value = _batch_statistics(ctx, x, weight_arg, bias_arg, float(eps))
        return [value, None, None] if several and value is not None else value
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
    return [value, None, None] if several else value


def _batch_statistics(ctx: Call, x, weight_arg, bias_arg, eps: float) -> str:
    """``(x - mean) / sqrt(variance + eps) * weight + bias`` with the biased mean and variance of each channel over
    the batch and the spatial axes (every axis but 1)."""
    rank = ctx.rank(x)
    if rank < 2:
        return ctx.unsupported(f"a batch norm of a rank {rank} input. Expected (N, C, ...)")
    last = weight_arg is None and bias_arg is None
    normed = _standardised(ctx, ctx.tensor(x), [0, *range(2, rank)], eps, last)
    return _scaled(ctx, normed, weight_arg, bias_arg, [1] * (rank - 2))


def _is_batch_norm(module) -> bool:
    return isinstance(module, torch.nn.modules.batchnorm._BatchNorm)


@register("torch", "frontend", aten.layer_norm)
def layer_norm(ctx: Call):
    x, normalized = ctx.arg(0, "input"), list(ctx.literal(ctx.arg(1, "normalized_shape")))
    weight_arg, bias_arg = ctx.arg(2, "weight", None), ctx.arg(3, "bias", None)
    eps = float(ctx.literal(ctx.arg(4, "eps", 1e-5)))
    rank = ctx.rank(x)
    axes = list(range(rank - len(normalized), rank))
    if not all(isinstance(size, int) for size in normalized):  # F.layer_norm(x, x.shape[-2:]): generic sizes
        normed = _standardised(ctx, ctx.tensor(x), axes, eps, last=weight_arg is None and bias_arg is None)
        return _scaled(ctx, normed, weight_arg, bias_arg, [])
    if len(normalized) < rank:
        folded = _over_permuted(ctx, x, axes, normalized, eps, weight_arg, bias_arg)
        if folded is not None:
            return folded
        attrs = {"axes": axes, "normalized_shape": normalized, "epsilon": eps}
        return _affine(ctx, "layer_norm", ctx.tensor(x), attrs, weight_arg, bias_arg, None)
    # every axis normalised (an unbatched input): the IR's layer_norm keeps axis 0, so a leading axis of 1 is added
    shape = list(ctx.shape(x))
    grown = ctx.add("reshape", [ctx.tensor(x)], {"shape": [1, *shape]}, role="grown")
    attrs = {"axes": list(range(1, rank + 1)), "normalized_shape": normalized, "epsilon": eps}
    normed = _affine(ctx, "layer_norm", grown, attrs, weight_arg, bias_arg, None, role="normalized")
    return ctx.add("reshape", [normed], {"shape": shape})


def _over_permuted(ctx: Call, x, axes: list[int], normalized: list, eps: float, weight_arg, bias_arg):
    """A layer norm of a transposed tensor that only it reads (ConvNeXt's channels-first LayerNorm is
    ``permute(0, 2, 3, 1)``, ``F.layer_norm``, ``permute(0, 3, 1, 2)``): the norm of the tensor before the
    transpose over the same axes, where they are (``axes=[1]``), then that transpose, which the one after the
    norm cancels. None when the axes are not in the same order there, or one of them is axis 0."""
    value = ctx.tensor(x)
    producer = next((node for node in reversed(ctx.capture.builder.nodes) if value in node.outputs), None)
    if producer is None or producer.op != "transpose" or len(getattr(x, "users", ())) != 1:
        return None
    perm = producer.attrs["perm"]
    source_axes = [perm[axis] for axis in axes]
    if source_axes != sorted(source_axes) or source_axes[0] < 1:
        return None
    attrs = {"axes": source_axes, "normalized_shape": normalized, "epsilon": eps}
    normed = _affine(ctx, "layer_norm", producer.inputs[0], attrs, weight_arg, bias_arg, None)
    return ctx.add("transpose", [normed], {"perm": list(perm)}, role="permuted")


def _standardised(ctx: Call, value: str, axes: list[int], eps: float, last: bool) -> str:
    """``(x - mean) / sqrt(variance + eps)`` over ``axes``, the variance biased, written out (for norms whose
    sizes the IR's norm ops cannot take: generic channel counts, the batch's own statistics). ``last``: this is
    the call's result (else its node is the helper ``normalized``)."""
    mean = ctx.add("reduce_mean", [value], {"axes": axes, "keepdims": True}, role="mean")
    centred = ctx.add("sub", [value, mean], role="centred")
    squares = ctx.add("mul", [centred, centred], role="squares")
    variance = ctx.add("reduce_mean", [squares], {"axes": axes, "keepdims": True}, role="variance")
    shifted = ctx.add("add", [variance], {"constant": True}, {"other": np.asarray(eps, dtype=ctx.dtype())},
                      role="eps")
    root = ctx.add("sqrt", [shifted], role="root")
    return ctx.add("div", [centred, root], role=None if last else "normalized")


def _scaled(ctx: Call, value: str, weight_arg, bias_arg, trailing: list) -> str:
    """``value * weight + bias`` for weights of the channels (``trailing`` ones after them: [1, 1] for (C, H, W))
    or of the trailing axes (``trailing`` empty); constant weights kept as constants, with their names."""
    for part, arg, combine in (("scale", weight_arg, "mul"), ("offset", bias_arg, "add")):
        if arg is None:
            continue
        final = part == "offset" or bias_arg is None
        const = ctx.const(arg)
        if const is not None:
            array = to_numpy(const.tensor)
            array = array.reshape([-1] + trailing) if trailing else array
            value = ctx.add(combine, [value], {"constant": True, "constant_shape": list(array.shape),
                                               "trainable": const.trainable}, {"other": array},
                            {"other": const.source}, role=None if final else part)
            continue
        operand = ctx.tensor(arg)
        if trailing:
            operand = ctx.add("reshape", [operand], {"shape": [-1] + trailing}, role=f"{part}_shape")
        value = ctx.add(combine, [value, operand], role=None if final else part)
    return value


@register("torch", "frontend", aten.group_norm)
def group_norm(ctx: Call):
    x, groups = ctx.arg(0, "input"), int(ctx.literal(ctx.arg(1, "num_groups")))
    weight_arg, bias_arg = ctx.arg(2, "weight", None), ctx.arg(3, "bias", None)
    eps = float(ctx.literal(ctx.arg(4, "eps", 1e-5)))
    channels = ctx.shape(x)[1]
    if not isinstance(channels, int):
        return _written_group_norm(ctx, x, groups, eps, weight_arg, bias_arg)
    attrs = {"num_groups": groups, "num_channels": channels, "epsilon": eps}
    return _affine(ctx, "group_norm", ctx.tensor(x), attrs, weight_arg, bias_arg, 1)


def _written_group_norm(ctx: Call, x, groups, eps: float, weight_arg, bias_arg) -> str:
    """A group norm over a channel count that is a generic size (no weights fix it): each sample's groups as
    rows of an (N, groups, -1) reshape, normalised with their biased variance, reshaped back."""
    shape = list(ctx.shape(x))
    rows = ctx.add("reshape", [ctx.tensor(x)], {"shape": [shape[0], groups, -1]}, role="groups")
    normed = _standardised(ctx, rows, [2], eps, last=False)
    last = weight_arg is None and bias_arg is None
    value = ctx.add("reshape", [normed], {"shape": shape}, role=None if last else "ungrouped")
    return _scaled(ctx, value, weight_arg, bias_arg, [1] * (len(shape) - 2))


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
    if not isinstance(channels, int):  # a generic channel count (no weights fix it): one group per channel
        return _written_group_norm(ctx, x, channels, float(eps), weight_arg, bias_arg)
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


@patterns.recogniser(torch.ops.aten.div)
def written_local_response_norm(ctx: Call):
    """``F.local_response_norm(x, size, alpha, beta, k)`` (and ``nn.LocalResponseNorm``) as torch writes it:
    ``x / (avg_pool(pad(x * x)) * alpha + k) ** beta``, the average over a window of ``size`` channels padded
    ``size // 2`` before and ``(size - 1) // 2`` after with zeros (counted): the IR's ``lrn``."""
    if ctx.overload != "Tensor" or len(ctx.node.args) < 2:
        return None
    x, power = ctx.node.args[:2]
    found = _lrn_window(ctx, x, power)
    if found is None:
        return None
    size, alpha, beta, k = found
    return ctx.add("lrn", [ctx.tensor(x)], {"size": size, "alpha": alpha, "beta": beta, "bias": k,
                                            "before": size // 2})


def _lrn_window(ctx: Call, x, power):
    """(size, alpha, beta, k) when ``power`` is F.local_response_norm's denominator of ``x``; None otherwise."""
    if not (patterns.calls(power, "pow") and patterns.calls(power.args[0], "add")):
        return None
    beta, shifted = patterns.number(ctx, power.args[1]), power.args[0]
    if patterns.argument(shifted, 2, "alpha", 1) != 1 or not patterns.calls(shifted.args[0], "mul"):
        return None
    k, scaled = patterns.number(ctx, shifted.args[1]), shifted.args[0]
    alpha, average = patterns.number(ctx, scaled.args[1]), scaled.args[0]
    if None in (beta, k, alpha):
        return None
    if patterns.calls(average, "view", "reshape"):
        average = average.args[0]
    if not (patterns.calls(average, "squeeze") and patterns.calls(average.args[0], "avg_pool2d", "avg_pool3d")):
        return None
    pool = average.args[0]
    kernel = list(patterns.argument(pool, 1, "kernel_size", []))
    window = [patterns.argument(pool, i, name, default) for i, name, default in (
        (2, "stride", []), (3, "padding", 0), (4, "ceil_mode", False), (5, "count_include_pad", True),
        (6, "divisor_override", None))]
    rest = [1] * (len(kernel) - 1)
    if not kernel or kernel[1:] != rest or list(window[0]) not in ([1] * len(kernel), []) or window[1] not in (
            0, [0] * len(kernel)) or window[2] or not window[3] or window[4] is not None:
        return None
    size, padded = int(kernel[0]), pool.args[0]
    if not patterns.calls(padded, "pad", "constant_pad_nd"):
        return None
    pads = list(padded.args[1])
    value = patterns.argument(padded, 3 if patterns.calls(padded, "pad") else 2, "value", None) or 0
    mode = patterns.argument(padded, 2, "mode", "constant") if patterns.calls(padded, "pad") else "constant"
    if mode != "constant" or value != 0 or pads != [0, 0] * (len(kernel) - 1) + [size // 2, (size - 1) // 2]:
        return None
    grown = padded.args[0]
    if not patterns.calls(grown, "unsqueeze", "view", "reshape"):
        return None
    squares = grown.args[0]
    if not (patterns.calls(squares, "mul") and squares.args[0] is x and squares.args[1] is x):
        return None
    return size, alpha, beta, k
