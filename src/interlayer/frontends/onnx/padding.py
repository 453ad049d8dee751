"""Window padding: ONNX ``pads`` or ``auto_pad`` resolved to the IR's explicit ``pads`` (begins, then ends)."""
from __future__ import annotations

import math

from .context import NodeContext

AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def window_pads(ctx: NodeContext, spatial, kernel, strides, dilations) -> list[int] | None:
    """Explicit pads of a Conv or pooling window. SAME_UPPER and SAME_LOWER give ceil(size / stride) outputs per
    axis, the odd pad at the end (UPPER) or the beginning (LOWER), computed against the static input sizes;
    VALID is no padding; NOTSET reads ``pads`` (zeros by default). None after reporting."""
    rank = len(kernel)
    auto = ctx.attr("auto_pad", "NOTSET") or "NOTSET"
    if auto not in AUTO_PADS:
        return ctx.unsupported(f"auto_pad must be one of {list(AUTO_PADS)}. Received: auto_pad={auto!r}")
    if auto == "NOTSET":
        pads = list(ctx.attr("pads", [0] * (2 * rank)))
        if len(pads) != 2 * rank:
            return ctx.unsupported(f"pads must have {2 * rank} entries. Received: pads={pads}")
        return [int(p) for p in pads]
    if auto == "VALID":
        return [0] * (2 * rank)
    if any(isinstance(size, str) for size in spatial):
        return ctx.unsupported(f"auto_pad={auto} needs static spatial sizes to be made explicit. Expected ints. "
                               f"Received: spatial sizes={list(spatial)}. Export the model with static sizes")
    begins, ends = [], []
    for size, k, stride, dilation in zip(spatial, kernel, strides, dilations):
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
        small, large = total // 2, total - total // 2
        begins.append(small if auto == "SAME_UPPER" else large)
        ends.append(large if auto == "SAME_UPPER" else small)
    return begins + ends
