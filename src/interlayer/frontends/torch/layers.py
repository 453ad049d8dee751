"""Layers with weights: linear (and GPT-2's ``addmm`` with its (in, out) weight), convolutions and transposed
convolutions of 1 to 3 spatial axes, embeddings, PReLU; and matrix products: ``x @ W`` with W a parameter keeps W
as the matmul's constant (its name and trainability), vectors are matrices of one row or column.

A weight that is a computed tensor (not a constant) makes the call a ``matmul`` of two inputs; a convolution over
a computed kernel has no IR form and is refused.
"""
from __future__ import annotations

import numpy as np
import torch

from ...registry import register
from .context import Call, to_numpy
from .operands import binary, with_constant

aten = torch.ops.aten


def _weight(ctx: Call, arg):
    """(array, state_dict key) of a constant weight argument; None when the weight is computed."""
    found = ctx.const(arg)
    return None if found is None else (to_numpy(found.tensor), found.source)


@register("torch", "frontend", aten.linear)
def linear(ctx: Call):
    x, weight_arg, bias_arg = ctx.arg(0, "input"), ctx.arg(1, "weight"), ctx.arg(2, "bias", None)
    weight = _weight(ctx, weight_arg)
    if weight is None:
        product = ctx.add("matmul", [ctx.tensor(x), _transposed(ctx, weight_arg)],
                          role=None if bias_arg is None else "matmul")
        return product if bias_arg is None else _plus_bias(ctx, product, bias_arg)
    return _linear(ctx, ctx.tensor(x), weight, bias_arg)


def _linear(ctx: Call, x: str, weight, bias_arg, transposed: bool = False) -> str:
    array, source = weight
    if transposed:
        array = np.ascontiguousarray(array.T)
    bias = _weight(ctx, bias_arg) if bias_arg is not None else None
    if bias_arg is not None and bias is None:
        return _plus_bias(ctx, _linear(ctx, x, weight, None, transposed), bias_arg)
    attrs = {"in_features": int(array.shape[1]), "out_features": int(array.shape[0]), "bias": bias is not None}
    weights = {"weight": array, **({"bias": bias[0]} if bias is not None else {})}
    sources = {"weight": source, "bias": bias[1] if bias is not None else None}  # transposed: still that tensor
    return ctx.add("linear", [x], attrs, weights, sources)


def _plus_bias(ctx: Call, value: str, bias_arg) -> str:
    bias = ctx.const(bias_arg)
    if bias is not None:
        array = to_numpy(bias.tensor)
        return ctx.add("add", [value], {"constant": True, "constant_shape": list(array.shape),
                                        "trainable": bias.trainable}, {"other": array},
                       sources={"other": bias.source})
    return ctx.add("add", [value, ctx.tensor(bias_arg)])


def _transposed(ctx: Call, arg) -> str:
    rank = ctx.rank(arg)
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    return ctx.add("transpose", [ctx.tensor(arg)], {"perm": perm}, role="weight_t")


@register("torch", "frontend", aten.addmm)
def addmm(ctx: Call):
    """``beta * input + alpha * (mat1 @ mat2)``; GPT-2's ``Conv1D`` is bias + x @ W with W (in, out)."""
    bias_arg, x, weight_arg = ctx.arg(0, "self"), ctx.arg(1, "mat1"), ctx.arg(2, "mat2")
    beta, alpha = ctx.literal(ctx.arg(None, "beta", 1)), ctx.literal(ctx.arg(None, "alpha", 1))
    weight = _weight(ctx, weight_arg)
    if weight is not None and beta == 1 and alpha == 1:
        return _linear(ctx, ctx.tensor(x), weight, bias_arg, transposed=True)
    product = _matmul(ctx, x, weight_arg, role="product")
    if alpha != 1:
        product = ctx.add("mul", [product], {"constant": True}, {"other": np.asarray(alpha, np.float32)},
                          role="alpha")
    scaled = ctx.tensor(bias_arg) if beta == 1 else ctx.add(
        "mul", [ctx.tensor(bias_arg)], {"constant": True}, {"other": np.asarray(beta, np.float32)}, role="beta")
    return ctx.add("add", [product, scaled])


def _matmul(ctx: Call, left, right, role: str | None = None) -> str:
    """``left @ right``: a ``matmul``, a constant operand kept as its constant ``other`` (its state_dict name and
    whether it is trained kept with it)."""
    return binary(ctx, "matmul", left, right, role=role)


@register("torch", "frontend", aten.matmul, aten.mm, aten.bmm)
def matmul(ctx: Call):
    """``torch.matmul``: of matrices (batched, broadcast); a vector operand is a matrix of one row (on the left) or
    one column (on the right), that axis removed from the product again."""
    left, right = ctx.arg(0, "self"), ctx.arg(1, "mat2" if ctx.op != "matmul" else "other")
    left_rank, right_rank = ctx.rank(left), ctx.rank(right)
    if left_rank >= 2 and right_rank >= 2:
        return _matmul(ctx, left, right)
    if left_rank == 1 and right_rank == 1:
        return _dot(ctx, left, right)
    operands = []
    for arg, rank, shape in ((left, left_rank, [1, -1]), (right, right_rank, [-1, 1])):
        if rank != 1:
            operands.append(ctx.tensor(arg) if not ctx.is_const(arg) else arg)
            continue
        const = ctx.const(arg)
        if const is not None:
            operands.append((const.tensor.reshape(shape), (const.source, const.trainable)))
        else:
            operands.append(ctx.add("reshape", [ctx.tensor(arg)], {"shape": [1, ctx.shape(arg)[0]] if shape[0] == 1
                                                                   else [ctx.shape(arg)[0], 1]},
                                    role="row" if shape[0] == 1 else "column"))
    product = _matmul_values(ctx, operands, role="product")
    return ctx.add("reshape", [product], {"shape": list(ctx.shape())})


def _matmul_values(ctx: Call, operands: list, role: str) -> str:
    """A matmul of two operands, each an IR value, an fx node of a constant, or (a reshaped constant tensor,
    (its state_dict key, trainable))."""
    values = []
    for operand in operands:
        if isinstance(operand, tuple):
            values.append((to_numpy(operand[0]), operand[1]))
        elif isinstance(operand, str):
            values.append((operand, None))
        else:
            const = ctx.const(operand)
            values.append((to_numpy(const.tensor), (const.source, const.trainable)))
    (left, left_source), (right, right_source) = values
    if right_source is not None:
        return with_constant(ctx, "matmul", left, right, right_source, role=role)
    if left_source is not None:
        return with_constant(ctx, "matmul", right, left, left_source, first=True, role=role)
    return ctx.add("matmul", [left, right], role=role)


def _dot(ctx: Call, left, right) -> str:
    """The dot product of two vectors: their element-wise product, summed."""
    product = binary(ctx, "mul", left, right, role="products")
    return ctx.add("reduce_sum", [product], {"axes": [0], "keepdims": False})


@register("torch", "frontend", aten.baddbmm)
def baddbmm(ctx: Call):
    """``beta * input + alpha * (batch1 @ batch2)`` (BLOOM's attention scores with its ALiBi bias)."""
    bias_arg, left, right = ctx.arg(0, "self"), ctx.arg(1, "batch1"), ctx.arg(2, "batch2")
    beta, alpha = ctx.literal(ctx.arg(None, "beta", 1)), ctx.literal(ctx.arg(None, "alpha", 1))
    product = _matmul(ctx, left, right, role="product")
    if alpha != 1:
        product = ctx.add("mul", [product], {"constant": True}, {"other": np.asarray(alpha, np.float32)},
                          role="alpha")
    if beta == 0:
        return ctx.add("identity", [product])
    bias = ctx.tensor(bias_arg)
    if beta != 1:
        bias = ctx.add("mul", [bias], {"constant": True}, {"other": np.asarray(beta, np.float32)}, role="beta")
    return ctx.add("add", [product, bias])


@register("torch", "frontend", aten.conv1d, aten.conv2d, aten.conv3d, aten.convolution)
def conv(ctx: Call):
    x, weight_arg, bias_arg = ctx.arg(0, "input"), ctx.arg(1, "weight"), ctx.arg(2, "bias", None)
    weight = _weight(ctx, weight_arg)
    if weight is None:
        return ctx.unsupported("its kernel is computed from the inputs. Expected a constant kernel (a parameter)")
    array, source = weight
    rank = array.ndim - 2
    if ctx.op == "convolution":
        stride, padding, dilation, transposed, output_padding, groups = (ctx.literal(ctx.arg(i)) for i in range(3, 9))
        if transposed:
            return _transposed_conv(ctx, x, weight, bias_arg, stride, padding, output_padding, groups, dilation)
    else:
        stride, padding, dilation, groups = (ctx.literal(ctx.arg(i, name, default)) for i, name, default in (
            (3, "stride", 1), (4, "padding", 0), (5, "dilation", 1), (6, "groups", 1)))
    stride, dilation = _per_axis(stride, rank), _per_axis(dilation, rank)
    kernel = [int(k) for k in array.shape[2:]]
    pads = _pads(ctx, padding, kernel, dilation, rank)
    if pads is None:
        return None
    bias = _weight(ctx, bias_arg) if bias_arg is not None else None
    attrs = {"in_channels": int(array.shape[1]) * int(groups), "out_channels": int(array.shape[0]),
             "kernel_size": kernel, "strides": stride, "dilations": dilation, "pads": pads, "groups": int(groups),
             "bias": bias is not None}
    weights = {"weight": array, **({"bias": bias[0]} if bias is not None else {})}
    value = ctx.add("conv", [ctx.tensor(x)], attrs, weights,
                    {"weight": source, "bias": bias[1] if bias is not None else None})
    if bias_arg is not None and bias is None:
        return _plus_channel_bias(ctx, value, bias_arg, rank)
    return value


def _plus_channel_bias(ctx: Call, value: str, bias_arg, rank: int) -> str:
    shaped = ctx.add("reshape", [ctx.tensor(bias_arg)], {"shape": [-1] + [1] * rank}, role="bias_shape")
    return ctx.add("add", [value, shaped])


def _per_axis(value, rank: int) -> list[int]:
    if isinstance(value, (list, tuple)):
        items = [int(v) for v in value]
        return items * rank if len(items) == 1 else items
    return [int(value)] * rank


def _pads(ctx: Call, padding, kernel: list[int], dilation: list[int], rank: int) -> list[int] | None:
    """Explicit pads from PyTorch's padding: ints per axis, 'valid', or 'same' (the odd pad at the end)."""
    if padding == "valid":
        return [0] * (2 * rank)
    if padding == "same":
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [t // 2 for t in total] + [t - t // 2 for t in total]
    if isinstance(padding, str):
        return ctx.unsupported(f"padding must be 'same', 'valid' or sizes. Received: padding={padding!r}")
    per_axis = _per_axis(padding, rank)
    return per_axis + per_axis


@register("torch", "frontend", aten.conv_transpose1d, aten.conv_transpose2d, aten.conv_transpose3d)
def conv_transpose(ctx: Call):
    x, weight_arg, bias_arg = ctx.arg(0, "input"), ctx.arg(1, "weight"), ctx.arg(2, "bias", None)
    weight = _weight(ctx, weight_arg)
    if weight is None:
        return ctx.unsupported("its kernel is computed from the inputs. Expected a constant kernel (a parameter)")
    stride, padding, output_padding, groups, dilation = (ctx.literal(ctx.arg(i, name, default)) for i, name, default in (
        (3, "stride", 1), (4, "padding", 0), (5, "output_padding", 0), (6, "groups", 1), (7, "dilation", 1)))
    return _transposed_conv(ctx, x, weight, bias_arg, stride, padding, output_padding, groups, dilation)


def _transposed_conv(ctx: Call, x, weight, bias_arg, stride, padding, output_padding, groups, dilation):
    array, source = weight
    rank = array.ndim - 2
    bias = _weight(ctx, bias_arg) if bias_arg is not None else None
    if bias_arg is not None and bias is None:
        return ctx.unsupported("its bias is computed from the inputs. Expected a constant bias")
    pads, strides, dilations = _per_axis(padding, rank), _per_axis(stride, rank), _per_axis(dilation, rank)
    # an output padding computed from sizes (forward's output_size=skip.shape[2:]) varies with them: the largest
    # one PyTorch allows, then the output cut to its size (output padding only adds positions at the end)
    extra = list(output_padding) if isinstance(output_padding, (list, tuple)) else [output_padding] * rank
    extra = extra * rank if len(extra) == 1 else extra
    generic = [not isinstance(item, int) for item in extra]
    extra = [max(s, d) - 1 if varies else int(item) for item, s, d, varies in zip(extra, strides, dilations, generic)]
    attrs = {"in_channels": int(array.shape[0]), "out_channels": int(array.shape[1]) * int(groups),
             "kernel_size": [int(k) for k in array.shape[2:]], "strides": strides, "dilations": dilations,
             "pads": pads + pads, "output_padding": extra, "groups": int(groups), "bias": bias is not None}
    weights = {"weight": array, **({"bias": bias[0]} if bias is not None else {})}
    value = ctx.add("conv_transpose", [ctx.tensor(x)], attrs, weights,
                    {"weight": source, "bias": bias[1] if bias is not None else None},
                    role="full" if any(generic) else None)
    if not any(generic):
        return value
    axes = [axis + 2 for axis in range(rank) if generic[axis]]
    ends = [ctx.shape()[axis] for axis in axes]
    return ctx.add("slice", [value], {"axes": axes, "starts": [0] * len(axes), "ends": ends})


@register("torch", "frontend", aten.embedding)
def embedding(ctx: Call):
    weight_arg, indices = ctx.arg(0, "weight"), ctx.arg(1, "indices")
    padding_idx = ctx.literal(ctx.arg(2, "padding_idx", -1))
    weight = _weight(ctx, weight_arg)
    if weight is None:
        return ctx.add("gather", [ctx.tensor(weight_arg), ctx.tensor(indices)], {"axis": 0})
    array, source = weight
    attrs = {"num_embeddings": int(array.shape[0]), "embedding_dim": int(array.shape[1]),
             "padding_idx": None if padding_idx is None or padding_idx < 0 else int(padding_idx)}
    return ctx.add("embedding", [ctx.tensor(indices)], attrs, {"weight": array}, {"weight": source})


@register("torch", "frontend", aten.prelu, aten._prelu_kernel)
def prelu(ctx: Call):
    x, weight_arg = ctx.arg(0, "self"), ctx.arg(1, "weight")
    weight = _weight(ctx, weight_arg)
    if weight is None:
        return ctx.unsupported("its slopes are computed from the inputs. Expected constant slopes")
    array, source = weight
    return ctx.add("prelu", [ctx.tensor(x)], {"num_parameters": int(array.size)}, {"slope": array.reshape(-1)},
                   {"slope": source})
