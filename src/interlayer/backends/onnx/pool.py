"""max_pool, avg_pool, global_avg_pool and global_max_pool as MaxPool, AveragePool, GlobalAveragePool and
GlobalMaxPool.

ONNX pooling has the IR's explicit begin/end pads, and onnxruntime's windows match the IR's exactly: max pooling
ignores padded positions (-inf), ceil_mode drops a last window that would start in the end padding (PyTorch's
rule, which the ONNX spec states too), and average pooling divides by the positions inside the input, plus the
explicit padding with count_include_pad, never the positions past it (tests/backends/onnx/test_onnx_backend_pool.py
checks a grid of small configurations against the reference).

onnx's own shape inference (1.23) does not drop that last window, so where it would, a Slice to the IR's length
follows the pool: a no-op in onnxruntime, and what keeps ``onnx.checker``'s strict shape inference (and any runtime
reading ceil_mode the other way) in agreement. One difference remains: a dilated max pooling window that covers no
input position at all gives onnxruntime's lowest float instead of -inf; such a node is refused.
"""
from __future__ import annotations

from ...registry import register
from .context import Step


def _window(attrs) -> dict:
    return {"kernel_shape": list(attrs["kernel_size"]), "strides": list(attrs["strides"]),
            "pads": list(attrs["pads"]), "ceil_mode": int(attrs["ceil_mode"])}


@register("onnx", "backend", "max_pool")
def max_pool(ctx: Step, node):
    empty = _empty_window(ctx)
    if empty is not None:
        return ctx.unsupported(f"a max pooling window covers only padding on spatial axis {empty}; the IR gives "
                               f"-inf there, onnxruntime the lowest float. Expected every window to cover an input "
                               f"position. Received: pads={ctx.attrs['pads']}, dilations={ctx.attrs['dilations']}, "
                               f"input shape={list(ctx.shape())}")
    value = ctx.op("MaxPool", [ctx.input()], dilations=list(ctx.attrs["dilations"]), **_window(ctx.attrs))
    return _drop_last_windows(ctx, value, ctx.attrs["dilations"])


def _empty_window(ctx: Step) -> int | None:
    """The first spatial axis where some window's taps all fall in the padding (only possible with dilation)."""
    attrs = ctx.attrs
    for axis, (size, out) in enumerate(zip(ctx.shape()[2:], ctx.out_shape()[2:])):
        if isinstance(size, str) or isinstance(out, str) or attrs["dilations"][axis] == 1:
            continue
        kernel, stride, dilation = attrs["kernel_size"][axis], attrs["strides"][axis], attrs["dilations"][axis]
        for start in range(-attrs["pads"][axis], out * stride - attrs["pads"][axis], stride):
            if not any(0 <= start + tap * dilation < size for tap in range(kernel)):
                return axis
    return None


@register("onnx", "backend", "avg_pool")
def avg_pool(ctx: Step, node):
    value = ctx.op("AveragePool", [ctx.input()], count_include_pad=int(ctx.attrs["count_include_pad"]),
                   **_window(ctx.attrs))
    return _drop_last_windows(ctx, value, [1] * len(ctx.attrs["kernel_size"]))


def _drop_last_windows(ctx: Step, value: str, dilations) -> str:
    """A Slice to the IR's output length on each axis where ceil_mode without the start-inside rule (onnx's shape
    inference) would give one more window."""
    attrs = ctx.attrs
    if not attrs["ceil_mode"]:
        return value
    rank = len(attrs["kernel_size"])
    axes, ends = [], []
    for axis, (size, want) in enumerate(zip(ctx.shape()[2:], ctx.out_shape()[2:])):
        if isinstance(size, str) or isinstance(want, str):
            continue
        span = (attrs["kernel_size"][axis] - 1) * dilations[axis] + 1
        padded = size + attrs["pads"][axis] + attrs["pads"][rank + axis]
        if -(-(padded - span) // attrs["strides"][axis]) + 1 != want:
            axes.append(2 + axis)
            ends.append(want)
    return ctx.slice(value, [0] * len(axes), ends, axes) if axes else value


@register("onnx", "backend", "global_avg_pool")
def global_avg_pool(ctx: Step, node):
    return _global(ctx, "GlobalAveragePool")


@register("onnx", "backend", "global_max_pool")
def global_max_pool(ctx: Step, node):
    return _global(ctx, "GlobalMaxPool")


def _global(ctx: Step, op_type: str):
    """The global pools keep the spatial axes as size 1; without keepdims they are squeezed away."""
    value = ctx.op(op_type, [ctx.input()])
    if ctx.attrs["keepdims"]:
        return value
    return ctx.squeeze(value, list(range(2, len(ctx.shape()))))
