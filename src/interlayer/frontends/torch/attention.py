"""``F.scaled_dot_product_attention``: the IR op with its scale, causal flag and mask (boolean: True keeps;
float: added); grouped-query attention (``enable_gqa``, fewer key/value heads) repeats each key/value head for
its group of query heads first, as ``repeat_interleave`` would."""
from __future__ import annotations

import torch

from ...ir import dims
from ...registry import register
from .context import Call

aten = torch.ops.aten


@register("torch", "frontend", aten.scaled_dot_product_attention)
def scaled_dot_product_attention(ctx: Call):
    query, key, value = ctx.arg(0, "query"), ctx.arg(1, "key"), ctx.arg(2, "value")
    mask = ctx.arg(3, "attn_mask", None)
    dropout = float(ctx.literal(ctx.arg(4, "dropout_p", 0.0)))
    causal = bool(ctx.literal(ctx.arg(5, "is_causal", False)))
    scale = ctx.literal(ctx.arg(6, "scale", None))
    gqa = bool(ctx.literal(ctx.arg(None, "enable_gqa", False)))
    if dropout:
        return ctx.unsupported(f"attention dropout at inference. Expected dropout_p=0. Received: dropout_p={dropout}")
    keys, values = ctx.tensor(key), ctx.tensor(value)
    if gqa:
        keys, values = (_grouped(ctx, arg, tensor, ctx.shape(query)[-3], role)
                        for arg, tensor, role in ((key, keys, "key"), (value, values, "value")))
    inputs = [ctx.tensor(query), keys, values] + ([ctx.tensor(mask)] if mask is not None else [])
    return ctx.add("scaled_dot_product_attention", inputs,
                   {"scale": None if scale is None else float(scale), "causal": causal})


def _grouped(ctx: Call, arg, tensor: str, query_heads, role: str) -> str:
    """(..., H_kv, S, d) -> (..., H_q, S, d), each head repeated for its H_q / H_kv query heads."""
    shape = ctx.shape(arg)
    heads = shape[-3]
    if dims.equal(heads, query_heads):
        return tensor
    if not (isinstance(heads, int) and isinstance(query_heads, int) and query_heads % heads == 0):
        ctx.unsupported(f"grouped-query attention with {query_heads} query heads over {heads} key/value heads. "
                        f"Expected a fixed number of heads that divides the query's")
        return tensor
    group = query_heads // heads
    front = list(shape[:-3])
    spread = ctx.add("reshape", [tensor], {"shape": [*front, heads, 1, *shape[-2:]]}, role=f"{role}_heads")
    grown = ctx.add("expand", [spread], {"shape": [*front, heads, group, *shape[-2:]]}, role=f"{role}_groups")
    return ctx.add("reshape", [grown], {"shape": [*front, query_heads, *shape[-2:]]}, role=f"{role}_repeated")
