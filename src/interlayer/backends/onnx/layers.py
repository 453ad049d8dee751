"""linear as Gemm (transB=1, the IR weight as is) on a matrix, MatMul + Add on a higher rank input; conv as Conv with
its explicit begin/end pads; batch_norm as BatchNormalization in inference form."""
from __future__ import annotations

import numpy as np

from ...registry import register
from .context import Step


@register("onnx", "backend", "linear")
def linear(ctx: Step, node):
    x, bias = ctx.input(), ctx.attrs["bias"]
    if len(ctx.shape()) == 2:
        return ctx.op("Gemm", [x, ctx.weight("weight")] + ([ctx.weight("bias")] if bias else []), transB=1)
    weight = np.ascontiguousarray(np.asarray(node.weights["weight"]).T)
    y = ctx.op("MatMul", [x, ctx.derived("weight_transposed", weight)])
    return ctx.op("Add", [y, ctx.weight("bias")]) if bias else y


@register("onnx", "backend", "conv")
def conv(ctx: Step, node):
    attrs = ctx.attrs
    inputs = [ctx.input(), ctx.weight("weight")] + ([ctx.weight("bias")] if attrs["bias"] else [])
    return ctx.op("Conv", inputs, kernel_shape=list(attrs["kernel_size"]), strides=list(attrs["strides"]),
                  dilations=list(attrs["dilations"]), pads=list(attrs["pads"]), group=attrs["groups"])


@register("onnx", "backend", "batch_norm")
def batch_norm(ctx: Step, node):
    """A missing scale is ones and a missing offset zeros (exact). ONNX's momentum (used in training only) is the
    weight of the running value, 1 - the IR's."""
    attrs = ctx.attrs
    count = attrs["num_features"]
    scale = ctx.weight("scale") if attrs["scale"] else ctx.const(np.ones(count), suffix="ones")
    offset = ctx.weight("offset") if attrs["center"] else ctx.const(np.zeros(count), suffix="zeros")
    momentum = None if attrs["momentum"] is None else 1.0 - attrs["momentum"]
    return ctx.op("BatchNormalization", [ctx.input(), scale, offset, ctx.weight("mean"), ctx.weight("variance")],
                  epsilon=float(attrs["epsilon"]), momentum=momentum)
