"""Convolutions: Conv and ConvTranspose, 1-D to 3-D, with constant weights; auto_pad made explicit."""
from __future__ import annotations

from ...registry import register
from .context import NodeContext
from .padding import AUTO_PADS, window_pads


def _weights(ctx: NodeContext):
    """The input value, the constant weight and the optional constant bias; None after reporting."""
    x = ctx.value(0)
    weight = ctx.constant(1, "the weight W")
    bias = ctx.constant(2, "the bias B") if ctx.present(2) else None
    if x is None or weight is None or (ctx.present(2) and bias is None):
        return None
    shape = ctx.ir_shape(x)
    if len(shape) != weight.ndim or weight.ndim < 3:
        return ctx.unsupported(f"the weight W must have the input's rank (N, C, *spatial). Received: W shape="
                               f"{list(weight.shape)}, input shape={list(shape)}")
    kernel = list(weight.shape[2:])
    declared = ctx.attr("kernel_shape")
    if declared is not None and list(declared) != kernel:
        return ctx.unsupported(f"kernel_shape must match the weight. Expected {kernel}. Received: "
                               f"kernel_shape={list(declared)}")
    return x, shape, weight, bias, kernel


@register("onnx", "frontend", ("Conv", 1))
def conv(ctx: NodeContext, node):
    found = _weights(ctx)
    if found is None:
        return None
    x, shape, weight, bias, kernel = found
    rank = len(kernel)
    strides = list(ctx.attr("strides", [1] * rank))
    dilations = list(ctx.attr("dilations", [1] * rank))
    groups = int(ctx.attr("group", 1))
    pads = window_pads(ctx, shape[2:], kernel, strides, dilations)
    if pads is None:
        return None
    attrs = {"in_channels": int(weight.shape[1]) * groups, "out_channels": int(weight.shape[0]),
             "kernel_size": kernel, "strides": strides, "dilations": dilations, "pads": pads, "groups": groups,
             "bias": bias is not None}
    return ctx.add("conv", [x], attrs, {"weight": weight, "bias": bias},
                   sources={"weight": ctx.source(1), "bias": ctx.source(2)})


@register("onnx", "frontend", ("ConvTranspose", 1))
def conv_transpose(ctx: NodeContext, node):
    """The full transposed output is cropped by ``pads``; ``output_shape`` (or SAME's ``size * stride``) sets
    the crop as onnxruntime does: SAME_UPPER crops the odd row at the end, SAME_LOWER and an explicit
    output_shape at the beginning; an output longer than the full one gets zeros at the end (output_padding)."""
    found = _weights(ctx)
    if found is None:
        return None
    x, shape, weight, bias, kernel = found
    rank = len(kernel)
    strides = list(ctx.attr("strides", [1] * rank))
    dilations = list(ctx.attr("dilations", [1] * rank))
    groups = int(ctx.attr("group", 1))
    extra = list(ctx.attr("output_padding", [0] * rank))
    auto = ctx.attr("auto_pad", "NOTSET") or "NOTSET"
    if auto not in AUTO_PADS:
        return ctx.unsupported(f"auto_pad must be one of {list(AUTO_PADS)}. Received: auto_pad={auto!r}")
    wanted = ctx.attr("output_shape")
    pads = list(ctx.attr("pads", [0] * (2 * rank)))
    if auto == "VALID":
        pads = [0] * (2 * rank)
    if wanted is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        if any(isinstance(size, str) for size in shape[2:]):
            return ctx.unsupported(f"output_shape/auto_pad need static spatial sizes. Received: shape={list(shape)}")
        wanted = list(wanted)[-rank:] if wanted is not None else [size * s for size, s in zip(shape[2:], strides)]
        pads = [0] * (2 * rank)
        for i in range(rank):
            full = (shape[2 + i] - 1) * strides[i] + extra[i] + (kernel[i] - 1) * dilations[i] + 1
            total = full - wanted[i]
            if total < 0:
                extra[i] -= total
                continue
            small, large = total // 2, total - total // 2
            pads[i], pads[rank + i] = (small, large) if auto == "SAME_UPPER" else (large, small)
    attrs = {"in_channels": int(weight.shape[0]), "out_channels": int(weight.shape[1]) * groups,
             "kernel_size": kernel, "strides": strides, "dilations": dilations, "pads": [int(p) for p in pads],
             "output_padding": [int(e) for e in extra], "groups": groups, "bias": bias is not None}
    return ctx.add("conv_transpose", [x], attrs, {"weight": weight, "bias": bias},
                   sources={"weight": ctx.source(1), "bias": ctx.source(2)})
