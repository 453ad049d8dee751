"""Pooling: MaxPool, AveragePool (explicit pads or auto_pad, ceil_mode, dilations, count_include_pad) and
GlobalAveragePool, GlobalMaxPool. Strides default to 1, as ONNX says (PyTorch's default is the kernel)."""
from __future__ import annotations

from ...registry import register
from .context import NodeContext
from .padding import window_pads


def _window(ctx: NodeContext, dilated: bool):
    x = ctx.value(0)
    if x is None:
        return None
    shape = ctx.ir_shape(x)
    kernel = [int(k) for k in ctx.attr("kernel_shape", [])]
    rank = len(kernel)
    if rank != len(shape) - 2:
        return ctx.unsupported(f"kernel_shape must have one entry per spatial axis. Received: kernel_shape={kernel}, "
                               f"input shape={list(shape)}")
    strides = [int(s) for s in ctx.attr("strides", [1] * rank)]
    dilations = [int(d) for d in ctx.attr("dilations", [1] * rank)]
    if not dilated and dilations != [1] * rank:
        return ctx.unsupported(f"dilations must be 1 for average pooling. Received: dilations={dilations}")
    pads = window_pads(ctx, shape[2:], kernel, strides, dilations)
    if pads is None:
        return None
    attrs = {"kernel_size": kernel, "strides": strides, "pads": pads, "ceil_mode": bool(ctx.attr("ceil_mode", 0))}
    if dilated:
        attrs["dilations"] = dilations
    return x, attrs


@register("onnx", "frontend", ("MaxPool", 1))
def max_pool(ctx: NodeContext, node):
    if ctx.is_read(1):
        return ctx.unsupported("the Indices output is read. Expected only the pooled values used. Received: a "
                               "reader of output 1")
    if ctx.attr("storage_order", 0):
        return ctx.unsupported("storage_order must be 0 (row-major). Received: storage_order=1")
    found = _window(ctx, dilated=True)
    return None if found is None else ctx.add("max_pool", [found[0]], found[1])


@register("onnx", "frontend", ("AveragePool", 1))
def avg_pool(ctx: NodeContext, node):
    found = _window(ctx, dilated=False)
    if found is None:
        return None
    x, attrs = found
    attrs["count_include_pad"] = bool(ctx.attr("count_include_pad", 0))
    return ctx.add("avg_pool", [x], attrs)


@register("onnx", "frontend", ("GlobalAveragePool", 1), ("GlobalMaxPool", 1))
def global_pool(ctx: NodeContext, node):
    x = ctx.value(0)
    op = "global_avg_pool" if node.op_type == "GlobalAveragePool" else "global_max_pool"
    return None if x is None else ctx.add(op, [x], {"keepdims": True})
