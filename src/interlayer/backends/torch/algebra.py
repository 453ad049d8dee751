"""Arithmetic, matmul, reductions, stack and split as plain torch code: ``x + y``, ``x @ w``, ``ids // 2``,
``torch.mean(...)``; broadcasting is numpy's, as the IR's.

A constant operand (the weight ``other``) becomes, by one rule:

* an ``nn.Parameter`` at ``<node>.other`` when the IR marks it ``trainable`` (a layer scale stays trainable);
* otherwise a Python literal when it is 0-d (a Python float holds every float16/bfloat16/float32/float64 value
  exactly, and torch computes ``x * 0.5`` in ``x``'s dtype as it did ``x * tensor(0.5)``; an integer constant is
  a Python int, ``ids // 2``, and a bool one a Python bool, so integer arithmetic stays integer);
* otherwise a buffer at ``<node>.other``: saved in the state dict, never trained.
"""
from __future__ import annotations

import operator

import torch
from torch import fx, nn

from ...registry import register
from .context import Step, parameter, tensor

_OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
              "pow": operator.pow, "matmul": operator.matmul, "floor_div": operator.floordiv, "mod": operator.mod}
"""``//`` and ``%`` on tensors are torch.floor_divide and torch.remainder: numpy's floor and sign of the divisor."""
_REDUCTIONS = {"reduce_mean": torch.mean, "reduce_sum": torch.sum, "reduce_max": torch.amax, "reduce_min": torch.amin}


def constant(ctx: Step, node, literal: bool = True):
    """The constant operand as a literal (unless ``literal`` is False), or a get_attr of the parameter or buffer
    ``<node>.other``."""
    array = node.weights["other"]
    if array.ndim == 0 and not ctx.attrs["trainable"] and literal:
        kind = array.dtype.kind
        return bool(array) if kind == "b" else int(array) if kind in "iu" else float(array)
    path = ctx.emitter.names.module(node.name)
    holder = nn.Module()
    if ctx.attrs["trainable"]:
        holder.register_parameter("other", parameter(array))
    else:
        holder.register_buffer("other", tensor(array))
    ctx.emitter.attach(path, holder)
    return ctx.emitter.graph.create_node("get_attr", f"{path}.other", name=f"{node.name}_other")


def operands(ctx: Step, node, literal: bool = True) -> list:
    """The inputs, or the input and the constant in their order."""
    if not ctx.attrs["constant"]:
        return ctx.inputs
    other = constant(ctx, node, literal)
    return [other, ctx.input] if ctx.attrs.get("constant_first") else [ctx.input, other]


@register("torch", "backend", "add")
def add(ctx: Step, node):
    first, *rest = operands(ctx, node)
    for index, value in enumerate(rest):
        first = ctx.call(operator.add, first, value, suffix="" if index == len(rest) - 1 else f"_{index}")
    return first


@register("torch", "backend", "sub", "mul", "div", "pow", "matmul", "floor_div", "mod")
def binary(ctx: Step, node) -> fx.Node:
    return ctx.call(_OPERATORS[node.op], *operands(ctx, node))


@register("torch", "backend", *_REDUCTIONS)
def reduce(ctx: Step, node):
    return ctx.call(_REDUCTIONS[node.op], ctx.input, dim=tuple(ctx.attrs["axes"]), keepdim=ctx.attrs["keepdims"])


@register("torch", "backend", "stack")
def stack(ctx: Step, node):
    return ctx.call(torch.stack, list(ctx.inputs), dim=ctx.attrs["axis"])


@register("torch", "backend", "split")
def split(ctx: Step, node):
    parts = ctx.call(torch.split, ctx.input, list(ctx.attrs["sizes"]), dim=ctx.attrs["axis"])
    return [ctx.call(operator.getitem, parts, index, suffix=f"_{index}") for index in range(len(node.outputs))]
