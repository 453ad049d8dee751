"""Transformer pieces (embedding lookups are in recurrent.py): expand (of a tensor, or of a constant to the
batch), dtype casts that change nothing, basic indexing, masked fill, and F.scaled_dot_product_attention.

A constant mask (a causal triangle made in ``forward``) becomes a ``batch_constant`` repeated over the batch of
the tensor it masks; a boolean attention mask is made additive (0 keeps, -inf drops), which is exact.
"""
from __future__ import annotations

import operator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...registry import register
from .algebra import constant
from .context import Call, full_index, to_numpy


def call_sizes(ctx: Call, keyword: str = "size") -> list:
    """The sizes (or counts) of an ``expand``/``repeat``/``tile`` call, as written, given one by one or as one
    sequence (fx size nodes kept where they read the batch size)."""
    sizes = list(ctx.node.args[1:]) or [ctx.arg(None, keyword)]
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple, torch.Size)):
        sizes = list(sizes[0])
    return sizes


def batch_source(sizes) -> object | None:
    """The tensor whose batch size a ``x.size(0)`` (or ``x.shape[0]``) among ``sizes`` reads."""
    for size in sizes:
        if hasattr(size, "op") and size.op == "call_method" and size.target == "size":
            return size.args[0]
    return None


def batch_constant(ctx: Call, array, reference, trainable: bool = False, source: str | None = None) -> str:
    """``array`` (its first axis 1) repeated over the batch of the tensor ``reference``."""
    if np.asarray(array).dtype.kind != "f":
        return ctx.unsupported(f"only floating tensors repeat over the batch. Expected a floating dtype. "
                               f"Received: dtype={np.asarray(array).dtype}")
    attrs = {"shape": list(array.shape[1:]), "trainable": trainable}
    return ctx.add("batch_constant", [ctx.value(reference)], attrs, {"value": array}, sources={"value": source})


def grown_over_batch(ctx: Call, fixed, array: np.ndarray, reference) -> str:
    """``array``, the constant ``fixed`` grown along its other axes (expanded, tiled), repeated over the batch of
    ``reference``: the model's trainable parameter, under its name, while the growing left it as it was."""
    kept = array.shape == fixed.array.shape
    return batch_constant(ctx, array, reference, fixed.trainable and kept, fixed.source if kept else None)


@register("torch", "frontend", "expand", "expand_as")
def expand(ctx: Call, target):
    source, result = ctx.node.args[0], ctx.shape()
    if ctx.is_constant(source):
        reference = ctx.node.args[1] if target == "expand_as" else batch_source(call_sizes(ctx))
        fixed = constant(ctx, source)
        array = fixed.array
        if reference is None or ctx.is_constant(reference):
            return ctx.unsupported("a constant expanded to a fixed size has no batch axis to follow. Expected the "
                                   "batch size taken from a tensor computed from the inputs (x.size(0))")
        if array.ndim != len(result) or array.shape[0] != 1:
            return ctx.unsupported(f"only a constant with a leading axis of 1 can follow the batch. Expected rank "
                                   f"{len(result)} with size 1 first. Received: shape={array.shape}")
        return grown_over_batch(ctx, fixed, np.ascontiguousarray(np.broadcast_to(array, (1, *result[1:]))),
                                reference)
    shape = ctx.shape(source)
    if len(shape) != len(result) or shape[0] != result[0]:
        return ctx.unsupported(f"expand must keep the rank and the batch axis. Expected (batch, ...). Received: "
                               f"{tuple(shape)} -> {tuple(result)}")
    if tuple(shape) == tuple(result):
        return ctx.input
    return ctx.add("expand", [ctx.input], {"shape": list(result[1:])})


@register("torch", "frontend", "to", "type", "type_as", "float", "long", "int")
def cast(ctx: Call, target):
    """A cast to the dtype the tensor already has (HF's ``.to(query.dtype)``) is nothing, and so is one between
    integer types (token ids read by an embedding, ``ids.long()``); any other is refused."""
    before, after = ctx.node.args[0].meta["tensor_meta"].dtype, ctx.node.meta["tensor_meta"].dtype
    integers = not before.is_floating_point and not after.is_floating_point and torch.bool not in (before, after)
    if before != after and not integers:
        return ctx.unsupported(f"only casts that keep the dtype have an IR equivalent. Expected dtype {before}. "
                               f"Received: dtype={after}")
    return ctx.input


@register("torch", "frontend", operator.getitem)
def getitem(ctx: Call, target):
    """Basic indexing of the non-batch axes (``x[:, 0]``, ``x[..., 1:5]``): slices of step 1 and integers, as a
    split that keeps one part per axis, then a reshape that drops the integer-indexed axes."""
    if not ctx.is_tensor(ctx.node.args[0]):
        return ctx.unsupported(f"only one result of a call with several results (split, chunk) can be picked, by an "
                               f"integer. Expected parts[i]. Received: index={ctx.node.args[1]!r}")
    shape = list(ctx.shape(ctx.node.args[0]))
    items, added = _new_axes(ctx.const(ctx.node.args[1]))
    index = full_index(items, len(shape))
    if index is None:
        return ctx.unsupported(f"only integers, slices, ... and None index a tensor here. Expected basic indexing. "
                               f"Received: index={ctx.node.args[1]!r}")
    if added and (added[0] == 0 or ctx.is_swapped(ctx.node.args[0])):
        return ctx.unsupported(f"a new axis (None) must come after the batch axis. Expected ':' or ... before the "
                               f"first None. Received: index={ctx.node.args[1]!r}")
    if ctx.is_swapped(ctx.node.args[0]):
        index[0], index[1] = index[1], index[0]  # as the IR holds the tensor
    if index[0] != slice(None):
        return ctx.unsupported(f"indexing the batch axis has no IR equivalent. Expected ':' first. "
                               f"Received: index={ctx.node.args[1]!r}")
    value, builder = ctx.input, ctx.capture.builder
    for axis, item in enumerate(index[1:], start=1):
        start, stop, step = (slice(item, item + 1 if item != -1 else None) if isinstance(item, int)
                             else item).indices(shape[axis])
        if step != 1 or stop <= start:
            return ctx.unsupported(f"only slices of step 1 that keep something convert. Received: index={item!r}")
        if (start, stop) == (0, shape[axis]):
            continue
        sizes = [size for size in (start, stop - start, shape[axis] - stop) if size]
        parts = builder.add_node("split", [value], {"axis": axis, "sizes": sizes}, name=f"{ctx.name}_{axis}")
        value = parts[1 if start else 0]
    result = list(ctx.shape())
    if len(result) != len(shape) or added:
        value = builder.add("reshape", [value], {"shape": result[1:]}, name=ctx.name)
    return value


def _new_axes(index) -> tuple[object, list[int]]:
    """A basic index without its ``None`` entries, and the positions of those in the full index (``x[:, None]``
    adds an axis of size 1 at position 1); positions are counted as written, an ``...`` as one."""
    items = list(index) if isinstance(index, tuple) else [index]
    added = [position for position, item in enumerate(items) if item is None]
    if not added:
        return index, []
    return tuple(item for item in items if item is not None), added


def _fixed(ctx: Call, arg) -> np.ndarray | None:
    """The array of a mask that does not follow from the inputs' values: a constant, or one made from the batch
    size alone whose rows are all the same (a causal mask expanded to the batch), as its first row. None for a
    mask computed from the inputs."""
    if ctx.is_constant(arg):
        return constant(ctx, arg).array if arg.meta["tensor_meta"].dtype != torch.bool \
            else arg.meta["interlayer.value"].numpy()
    row = ctx.batch_row(arg)  # None for rows that differ: ctx.value refuses those, naming what they must be
    return None if row is None else row.numpy()


def _fixed_mask(ctx: Call, array: np.ndarray, reference, rank: int, additive: bool) -> str | None:
    """A fixed mask repeated over the batch of ``reference``: as 0/1 (``additive=False``) or, for a boolean
    attention mask, as 0 where it keeps and -inf where it drops."""
    if array.ndim > rank or (array.ndim == rank and array.shape[0] != 1):
        ctx.unsupported(f"a constant mask must leave the batch axis alone. Expected at most {rank} axes, size 1 "
                        f"first when {rank}. Received: shape={array.shape}")
        return None
    array = array.reshape((1,) * (rank - array.ndim) + array.shape)
    if additive and array.dtype == bool:
        array = np.where(array, 0.0, -np.inf)
    dtype = ctx.node.meta["tensor_meta"].dtype
    array = np.asarray(array, dtype=str(dtype).rsplit(".", 1)[-1])
    return batch_constant(ctx, np.ascontiguousarray(array), reference)


@register("torch", "frontend", "masked_fill", torch.masked_fill)
def masked_fill(ctx: Call, target):
    """``x.masked_fill(mask, value)``: the mask computed from the inputs, or a constant repeated over the batch."""
    x, mask, value = ctx.arg(0, "input"), ctx.arg(1, "mask"), ctx.const(ctx.arg(2, "value"))
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ctx.unsupported(f"the fill value must be a number. Received: value={value!r}")
    rank, fixed = len(ctx.shape(x)), _fixed(ctx, mask)
    if fixed is not None:
        condition = _fixed_mask(ctx, fixed, x, rank, additive=False)
    elif len(ctx.shape(mask)) != rank:
        return ctx.unsupported(f"the mask must have the input's rank (the batch axis first). Received: "
                               f"shapes={ctx.shape(x)}, {ctx.shape(mask)}")
    else:
        condition = ctx.value(mask)
    if condition is None:
        return None
    return ctx.capture.builder.add("where", [ctx.value(x), condition], {"value": float(value)}, name=ctx.name)


@register("torch", "frontend", torch.where)
def where(ctx: Call, target):
    """``torch.where(mask, fill, x)`` with a number ``fill``: a masked fill."""
    mask, fill, x = ctx.arg(0, "condition"), ctx.const(ctx.arg(1, "input")), ctx.arg(2, "other")
    if not isinstance(fill, (int, float)) or isinstance(fill, bool) or ctx.is_constant(x) or not ctx.is_tensor(x):
        return ctx.unsupported("only torch.where(mask, number, x) converts (a masked fill). Expected a number as "
                               "the second argument and a tensor computed from the inputs as the third")
    rank, fixed = len(ctx.shape(x)), _fixed(ctx, mask)
    condition = _fixed_mask(ctx, fixed, x, rank, False) if fixed is not None else ctx.value(mask)
    if condition is None:
        return None
    return ctx.capture.builder.add("where", [ctx.value(x), condition], {"value": float(fill)}, name=ctx.name)


@register("torch", "frontend", F.scaled_dot_product_attention)
def scaled_dot_product_attention(ctx: Call, target):
    query, key, value = (ctx.arg(i, name) for i, name in enumerate(("query", "key", "value")))
    mask = ctx.arg(3, "attn_mask", None)
    dropout, causal = ctx.const(ctx.arg(4, "dropout_p", 0.0)), ctx.const(ctx.arg(5, "is_causal", False))
    scale, gqa = ctx.const(ctx.arg(6, "scale", None)), ctx.const(ctx.arg(7, "enable_gqa", False))
    if dropout or gqa:
        return ctx.unsupported(f"dropout_p must be 0 and enable_gqa False. Received: dropout_p={dropout}, "
                               f"enable_gqa={gqa}")
    shapes = [ctx.shape(item) for item in (query, key, value)]
    if len({len(shape) for shape in shapes}) > 1 or any(ctx.is_constant(item) for item in (query, key, value)):
        return ctx.unsupported(f"query, key and value must be tensors computed from the inputs, of one rank. "
                               f"Received: shapes={shapes}")
    inputs = [ctx.value(item) for item in (query, key, value)]
    if mask is not None:
        rank, fixed = len(shapes[0]), _fixed(ctx, mask)
        if fixed is not None:
            inputs.append(_fixed_mask(ctx, fixed, query, rank, additive=True))
        elif len(ctx.shape(mask)) == rank:
            inputs.append(ctx.value(mask))
        else:
            return ctx.unsupported(f"a computed mask must have the query's rank. Received: shape={ctx.shape(mask)}")
        if inputs[-1] is None:
            return None
    attrs = {"causal": bool(causal), "scale": None if scale is None else float(scale)}
    return ctx.add("scaled_dot_product_attention", inputs, attrs)


# nn.MultiheadAttention: projections, heads split by reshape + transpose, attention, heads merged, projection ---


@register("torch", "frontend", nn.MultiheadAttention)
def multihead_attention(ctx: Call, module):
    """Captured as IR primitives: three ``linear`` projections (the packed ``in_proj_weight`` cut in three, or
    the separate q/k/v weights when kdim/vdim differ), heads split as (N, T, H, D) -> (N, H, T, D),
    ``scaled_dot_product_attention`` with the masks made additive, heads merged, ``out_proj``. The values are
    ``[output, weights]``; the weights (averaged over heads unless ``average_attn_weights=False``) are computed
    only when the call asks for them. With ``batch_first=False`` the (L, N, E) sequences are held swapped
    (``layouts.py``): the IR values are batch-first all the same."""
    if module.bias_k is not None or module.add_zero_attn:
        return ctx.unsupported(f"add_bias_kv and add_zero_attn have no IR equivalent. Expected both False. "
                               f"Received: add_bias_kv={module.bias_k is not None}, "
                               f"add_zero_attn={module.add_zero_attn}")
    args = [ctx.arg(i, name, None) for i, name in enumerate(("query", "key", "value"))]
    attn_mask, padding = ctx.arg(5, "attn_mask", None), ctx.arg(3, "key_padding_mask", None)
    need_weights = ctx.const(ctx.arg(4, "need_weights", True))
    average = ctx.const(ctx.arg(6, "average_attn_weights", True))
    causal = ctx.const(ctx.arg(7, "is_causal", False))
    if causal and attn_mask is None:
        return ctx.unsupported("is_causal=True is a hint that needs attn_mask. Expected attn_mask given")
    heads, embed = module.num_heads, module.embed_dim
    size, builder, name = module.head_dim, ctx.capture.builder, ctx.name
    weights = _projections(module)
    bias = None if module.in_proj_bias is None else to_numpy(module.in_proj_bias).reshape(3, embed)
    projected = []
    for index, (arg, (weight, source)) in enumerate(zip(args, weights)):
        attrs = {"in_features": int(weight.shape[1]), "out_features": embed, "bias": bias is not None}
        arrays = {"weight": weight} | ({"bias": bias[index]} if bias is not None else {})
        value = builder.add("linear", [ctx.value(arg)], attrs, arrays, name=f"{name}.{'qkv'[index]}_proj",
                            sources={"weight": ctx.prefix + source} if source else None)
        length = ctx.shape(arg)[1]
        value = builder.add("reshape", [value], {"shape": [length, heads, size]}, name=f"{name}_{'qkv'[index]}_heads")
        projected.append(builder.add("transpose", [value], {"perm": [0, 2, 1, 3]}, name=f"{name}_{'qkv'[index]}_t"))
    query, key, value = projected
    length, keys = ctx.shape(args[0])[1], ctx.shape(args[1])[1]
    mask = _mha_mask(ctx, attn_mask, padding, args[0], heads, length, keys)
    if mask is False:
        return None
    inputs = [query, key, value] + ([mask] if mask is not None else [])
    attended = builder.add("scaled_dot_product_attention", inputs, {}, name=f"{name}_attention")
    merged = builder.add("transpose", [attended], {"perm": [0, 2, 1, 3]}, name=f"{name}_merge")
    merged = builder.add("reshape", [merged], {"shape": [length, embed]}, name=f"{name}_merged")
    out = module.out_proj
    arrays = {"weight": to_numpy(out.weight)} | ({"bias": to_numpy(out.bias)} if out.bias is not None else {})
    output = builder.add("linear", [merged], {"in_features": embed, "out_features": embed,
                                              "bias": out.bias is not None}, arrays, name=f"{name}.out_proj",
                         sources={"weight": ctx.prefix + "out_proj.weight", "bias": ctx.prefix + "out_proj.bias"})
    used = {user.args[1] if user.target is operator.getitem else 1 for user in ctx.node.users}
    ctx.capture.parts[ctx.node] = [not module.batch_first, False]  # the weights are (N, L, S) either way
    if not (need_weights and 1 in used):
        return [output, output]  # the weights are None (need_weights=False) or never read
    scores = builder.add("transpose", [key], {"perm": [0, 1, 3, 2]}, name=f"{name}_keys_t")
    scores = builder.add("matmul", [query, scores], name=f"{name}_scores")
    scores = builder.add("mul", [scores], {"constant": True}, {"other": np.array(size ** -0.5, np.float32)},
                         name=f"{name}_scaled")
    if mask is not None:
        scores = builder.add("add", [scores, mask], name=f"{name}_masked")
    probabilities = builder.add("softmax", [scores], {"axis": 3}, name=f"{name}_weights")
    if average:
        probabilities = builder.add("reduce_mean", [probabilities], {"axes": [1]}, name=f"{name}_mean_weights")
    return [output, probabilities]


def _projections(module) -> list[tuple[np.ndarray, str | None]]:
    """The (E, in) weight of the query, key and value projections, with its source name when it has its own."""
    if module._qkv_same_embed_dim:
        packed = to_numpy(module.in_proj_weight)
        return [(np.ascontiguousarray(part), None) for part in np.split(packed, 3)]
    return [(to_numpy(getattr(module, f"{kind}_proj_weight")), f"{kind}_proj_weight") for kind in "qkv"]


def _mha_mask(ctx: Call, attn_mask, padding, query, heads: int, length: int, keys: int):
    """The additive (N or 1, 1, L, S) mask of both masks (a bool True drops), None without any, False on failure."""
    builder, parts = ctx.capture.builder, []
    for arg, shape in ((attn_mask, (1, 1, length, keys)), (padding, (-1, 1, 1, keys))):
        if arg is None:
            continue
        if ctx.is_constant(arg):
            value = arg.meta["interlayer.value"]
            if value.dim() == 3:
                ctx.unsupported("a 3-D attn_mask (one per batch element and head) cannot follow the batch. "
                                "Expected a (L, S) mask")
                return False
            if value.numel() != keys * (length if shape[0] == 1 else 1):
                ctx.unsupported(f"a constant mask must be a (L, S) attn_mask or a (1, S) key_padding_mask: one per "
                                f"batch element cannot follow the batch. Received: shape={tuple(value.shape)}")
                return False
            array = to_numpy(value).reshape((1, *shape[1:]))
            array = np.where(array, -np.inf, 0.0) if array.dtype == bool else array
            parts.append(batch_constant(ctx, np.ascontiguousarray(array, dtype=np.float32), query))
            continue
        if len(ctx.shape(arg)) != 2:
            ctx.unsupported(f"a computed mask must be a (N, S) key_padding_mask. Received: shape={ctx.shape(arg)}")
            return False
        value = builder.add("reshape", [ctx.value(arg)], {"shape": [1, 1, keys]}, name=f"{ctx.name}_padding")
        if arg.meta["tensor_meta"].dtype == torch.bool:
            zeros = batch_constant(ctx, np.zeros((1, 1, 1, keys), np.float32), query)
            value = builder.add("where", [zeros, value], {"value": float("-inf")}, name=f"{ctx.name}_padding_mask")
        parts.append(value)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else builder.add("add", parts, name=f"{ctx.name}_mask")
