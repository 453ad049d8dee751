"""Fused patterns that start at an arithmetic node: the exact GELU exporters write as five nodes before opset 20.

``x * 0.5 * (1 + erf(x / sqrt(2)))`` is torch.onnx's ``nn.GELU()``: ``Div(x, sqrt 2) -> Erf -> Add(1) -> Mul(x) ->
Mul(0.5)`` (Mul by 1 / sqrt 2 instead of the Div, and either operand order, are matched too): the five nodes are one
``gelu``, not five nodes around an ``erf`` (as any other Erf is). Each node of the pattern must be the only reader of
the previous one.
"""
from __future__ import annotations

import math
from dataclasses import replace

import onnx

from .context import NodeContext
from .values import Const, Held


def erf_gelu(ctx: NodeContext) -> Held | None:
    """The fused ``gelu`` when ``ctx.node`` (a Div or Mul) starts the pattern, its four other nodes absorbed; None
    (nothing written, nothing reported) when it does not."""
    node = ctx.node
    scale = {"Div": math.sqrt(2.0), "Mul": 1.0 / math.sqrt(2.0)}.get(node.op_type)
    x_index = _other_than_constant(ctx, node, scale)
    if x_index is None:
        return None
    x_name = node.input[x_index]
    erf = ctx.only_consumer(0)
    if erf is None or erf.op_type != "Erf":
        return None
    add = _single_reader(ctx, erf)
    if add is None or add.op_type != "Add" or _other_than_constant(ctx, add, 1.0) is None:
        return None
    times_x = _single_reader(ctx, add)
    if times_x is None or times_x.op_type != "Mul" or x_name not in times_x.input:
        return None
    half = _single_reader(ctx, times_x)
    if half is None or half.op_type != "Mul" or _other_than_constant(ctx, half, 0.5) is None:
        return None
    held = ctx.held(x_index)
    out = None if held is None else ctx.add("gelu", [held.value], {"approximate": "none"})
    if out is None:
        return None
    result = replace(held, value=out)
    for absorbed in (erf, add, times_x):
        ctx.absorb(absorbed, [])
    ctx.absorb(half, [result])
    return result


def _other_than_constant(ctx: NodeContext, node: onnx.NodeProto, expected: float | None) -> int | None:
    """The index of the non-constant input of a two-input node whose other input is the scalar ``expected``."""
    if expected is None or len(node.input) != 2 or (node.domain or ""):
        return None
    for index in (0, 1):
        value = ctx.value_of(node.input[1 - index])
        if isinstance(value, Const) and value.array.size == 1 and \
                abs(float(value.array.reshape(())) - expected) <= 1e-6 * expected and \
                not isinstance(ctx.value_of(node.input[index]), Const):
            return index
    return None


def _single_reader(ctx: NodeContext, node: onnx.NodeProto) -> onnx.NodeProto | None:
    readers = ctx.capture.consumers.get(node.output[0], [])
    outputs = {o.name for o in ctx.capture.graph.output}
    return readers[0] if len(readers) == 1 and node.output[0] not in outputs and len(node.output) == 1 else None

