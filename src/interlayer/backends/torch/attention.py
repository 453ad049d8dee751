"""batch_constant, expand, where and scaled_dot_product_attention as torch code."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...ir import dims
from ...registry import register
from .context import Step, parameter, same_size, tensor


@register("torch", "backend", "batch_constant")
def batch_constant(ctx: Step, node):
    """``value.expand(N, ...)``, N the size of x's axis 0: a parameter when trainable (a class token), else a
    buffer."""
    path = ctx.emitter.names.module(node.name)
    holder = nn.Module()
    if ctx.attrs["trainable"]:
        holder.register_parameter("value", parameter(node.weights["value"]))
    else:
        holder.register_buffer("value", tensor(node.weights["value"]))
    ctx.emitter.attach(path, holder)
    value = ctx.emitter.graph.create_node("get_attr", f"{path}.value", name=f"{node.name}_value")
    return ctx.method("expand", value, ctx.axis_size(0), *ctx.attrs["shape"])


@register("torch", "backend", "expand")
def expand(ctx: Step, node):
    """``x.expand(N, -1, 6)``: -1 keeps an axis whose size the result keeps, new axes in front and grown ones take
    their size, computed at run time."""
    shape, target = ctx.shape(), [dims.normal(d) for d in ctx.attrs["shape"]]
    new = len(target) - len(shape)
    sizes = [-1 if index >= new and same_size(shape[index - new], want) else ctx.size(want)
             for index, want in enumerate(target)]
    return ctx.method("expand", ctx.input, *sizes)


@register("torch", "backend", "where")
def where(ctx: Step, node):
    x, condition = ctx.inputs
    return ctx.method("masked_fill", x, ctx.call(torch.ne, condition, 0, suffix="_mask"), ctx.attrs["value"])


@register("torch", "backend", "scaled_dot_product_attention")
def scaled_dot_product_attention(ctx: Step, node):
    query, key, value, *mask = ctx.inputs
    return ctx.call(F.scaled_dot_product_attention, query, key, value, attn_mask=mask[0] if mask else None,
                    is_causal=ctx.attrs["causal"], scale=ctx.attrs["scale"])
