"""Attention layers: MultiHeadAttention, captured as the IR primitives the PyTorch frontend writes for
``nn.MultiheadAttention``.

Keras keeps one kernel per head axis: query/key/value ``(features, heads, head_size)`` and the output
``(heads, value_size, features_out)``. Each becomes a ``linear`` whose ``(out, in)`` weight is the kernel read
row-major with the head axes merged, so the heads split and merge by plain reshapes:

    q = linear(query) -> reshape [N, T, H, Dk] -> transpose (N, H, T, Dk)      (k and v alike)
    o = scaled_dot_product_attention(q, k, v, mask, causal) -> transpose -> reshape [N, T, H*Dv] -> linear

Keras scales the query by 1/sqrt(key_dim) before the product, the IR the product: equal up to rounding.
Sizes that Keras leaves unknown (a sequence length) stay symbolic.
"""
from __future__ import annotations

import keras
import numpy as np

from ...registry import register
from .context import Held, LayerContext, array, prefers


@register("keras", "frontend", keras.layers.MultiHeadAttention)
@prefers("identity")
def multi_head_attention(ctx: LayerContext, layer, inputs):
    if not _supported(ctx, layer):
        return None
    arguments = _call_arguments(ctx, inputs)
    if arguments is None:
        return None
    query, value, key, mask = arguments
    heads, key_size = layer.num_heads, layer.key_dim
    value_size = layer.value_dim or layer.key_dim
    q = _heads(ctx, layer._query_dense, query, "query", heads, key_size)
    k = _heads(ctx, layer._key_dense, key, "key", heads, key_size)
    v = _heads(ctx, layer._value_dense, value, "value", heads, value_size)
    attention_inputs = [q, k, v]
    if mask is not None:
        batch, length, keys = ctx.shape(mask)
        attention_inputs.append(ctx.add("reshape", [mask], {"shape": [batch, 1, length, keys]}, perm=(0, 1, 2, 3),
                                        name=f"{ctx.name}_mask"))
    causal = bool(ctx.node.arguments.kwargs.get("use_causal_mask", False))
    attended = ctx.add("scaled_dot_product_attention", attention_inputs,
                       {"scale": float(1.0 / np.sqrt(key_size)), "causal": causal}, perm=(0, 1, 2, 3),
                       name=f"{ctx.name}_attention")
    merged = ctx.add("transpose", [attended], {"perm": [0, 2, 1, 3]}, perm=(0, 1, 2, 3), name=f"{ctx.name}_merge")
    batch, length = ctx.shape(query)[:2]
    merged = ctx.add("reshape", [merged], {"shape": [batch, length, heads * value_size]}, perm=(0, 1, 2),
                     name=f"{ctx.name}_merged")
    dense = layer._output_dense
    kernel = array(dense.kernel)  # (heads, value_size, features_out)
    weights, sources = {"weight": kernel.reshape(heads * value_size, -1).T}, {"weight": dense.kernel}
    if dense.bias is not None:
        weights["bias"], sources["bias"] = array(dense.bias).reshape(-1), dense.bias
    attrs = {"in_features": heads * value_size, "out_features": int(kernel.shape[-1]), "bias": dense.bias is not None}
    return ctx.add("linear", [merged], attrs, weights, perm=(0, 1, 2), sources=sources)


def _supported(ctx: LayerContext, layer) -> bool:
    problems = []
    if tuple(layer._attention_axes or ()) != (1,):
        problems.append(f"attention_axes must be the sequence axis of rank 3 inputs. Expected attention_axes=None "
                        f"(or (1,)). Received: attention_axes={layer._attention_axes}")
    if getattr(layer, "_use_gate", False):
        problems.append("use_gate=True (a gated attention output) has no IR form yet. Expected use_gate=False. "
                        "Received: use_gate=True")
    if getattr(layer, "_sliding_window", None) is not None:
        problems.append(f"sliding_window has no IR form yet. Expected sliding_window=None. "
                        f"Received: sliding_window={layer._sliding_window}")
    if ctx.node.arguments.kwargs.get("return_attention_scores"):
        problems.append("return_attention_scores=True: the scores are not converted. Expected "
                        "return_attention_scores=False. Received: return_attention_scores=True")
    for problem in problems:
        ctx.unsupported(problem)
    return not problems


def _call_arguments(ctx: LayerContext, inputs: list[Held]):
    """``(query, value, key, attention_mask)`` of the call, each held in the IR's order (key defaults to value)."""
    held = {id(tensor): value for tensor, value in zip(ctx.node.input_tensors, inputs)}
    args, kwargs = list(ctx.node.arguments.args), dict(ctx.node.arguments.kwargs)
    names = ("query", "value", "key", "attention_mask")
    found = dict(zip(names, args)) | {name: kwargs[name] for name in names if name in kwargs}
    values = {name: held.get(id(found.get(name))) for name in names}
    query, value = values["query"], values["value"]
    if query is None or value is None or query.rank != 3 or value.rank != 3:
        ctx.unsupported("query and value must be rank 3 tensors (batch, sequence, features). Received: "
                        f"ranks {[None if x is None else x.rank for x in (query, value)]}")
        return None
    key = values["key"] if values["key"] is not None else value
    mask = values["attention_mask"]
    return [ctx.identity(x) if x is not None else None for x in (query, value, key, mask)]


def _heads(ctx: LayerContext, dense, x: Held, role: str, heads: int, size: int) -> Held:
    """One projection (an EinsumDense ``abc,cde->abde``) as linear + reshape + transpose to (N, H, T, size)."""
    kernel = array(dense.kernel)  # (features, heads, size)
    weights, sources = {"weight": kernel.reshape(kernel.shape[0], heads * size).T}, {"weight": dense.kernel}
    if dense.bias is not None:
        weights["bias"], sources["bias"] = array(dense.bias).reshape(-1), dense.bias
    attrs = {"in_features": int(kernel.shape[0]), "out_features": heads * size, "bias": dense.bias is not None}
    projected = ctx.add("linear", [x], attrs, weights, perm=(0, 1, 2), sources=sources, name=f"{ctx.name}_{role}")
    batch, length = ctx.shape(x)[:2]
    split = ctx.add("reshape", [projected], {"shape": [batch, length, heads, size]}, perm=(0, 1, 2, 3),
                    name=f"{ctx.name}_{role}_heads")
    return ctx.add("transpose", [split], {"perm": [0, 2, 1, 3]}, perm=(0, 1, 2, 3), name=f"{ctx.name}_{role}_t")
