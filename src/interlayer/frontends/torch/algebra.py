"""Arithmetic (+ - * / ** @, neg), reductions (mean, sum, amax), stack, split/chunk/unbind, permute/transpose.

An operand that does not depend on the inputs is a constant: a Python number (``x * 0.5``, ``1 - x``) or a
tensor the capture recorded as constant (``ctx.is_constant``: a parameter or buffer read with ``get_attr``, a
view of one such as ``self.gamma.reshape(1, -1, 1, 1)``, or a tensor made in ``forward``). It becomes the
weight ``other`` of the IR node, bit for bit; a parameter (or a view of one) makes the node ``trainable``, and
``source.name_map`` records the parameter's or buffer's state_dict name.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import torch

from ...registry import register
from .context import Call, to_numpy

_VIEWS = {"reshape", "view", "unsqueeze", "squeeze", "flatten", "contiguous"}


@dataclass(frozen=True)
class Constant:
    array: np.ndarray
    source: str | None = None
    """the state_dict name of the parameter or buffer this is (or a view of)"""
    trainable: bool = False


def constant(ctx: Call, arg) -> Constant | None:
    """``arg`` as a constant operand, or None when it is a tensor computed from the inputs."""
    dtype = ctx.node.meta["tensor_meta"].dtype
    if isinstance(arg, (bool, int, float)):
        return Constant(to_numpy(torch.tensor(arg, dtype=dtype)))
    if not ctx.is_constant(arg):
        return None
    value = arg.meta["interlayer.value"]
    if value.dim() == 0 or not value.is_floating_point():
        value = value.to(dtype)  # torch computes with a 0-d tensor (and integers) in the result's dtype
    if ctx.batch == 1 and value.dim() == len(ctx.node.meta["tensor_meta"].shape) >= 2:
        value = value.transpose(0, 1).contiguous()  # met by a swapped tensor: as the IR holds that one
    origin = _origin(arg)
    source = ctx.constant_name(origin)  # a parameter or buffer of the model, or None
    return Constant(to_numpy(value), source, source is not None and _is_parameter(ctx.capture.root, origin.target))


def _origin(node):
    """The node a constant is a view of, through views that keep its elements in order."""
    while (node.op == "call_method" and node.target in _VIEWS) or node.target is torch.reshape:
        node = node.args[0]
    return node


def _is_parameter(root, target: str) -> bool:
    owner, _, attribute = target.rpartition(".")
    return isinstance(getattr(root.get_submodule(owner), attribute, None), torch.nn.Parameter)


def split_values(ctx: Call, op: str, inputs: list[str], attrs: dict) -> list[str]:
    """Append a node with several outputs named after this call; its IR values, in order."""
    return ctx.capture.builder.add_node(op, inputs, attrs, name=ctx.name)


def _floating(ctx: Call) -> bool:
    meta = ctx.node.meta.get("tensor_meta")
    return getattr(meta, "dtype", None) is not None and meta.dtype.is_floating_point


# element-wise arithmetic ------------------------------------------------------------------------------------


def binary(ctx: Call, op: str, first, second, ordered: bool = True, elementwise: bool = True) -> str | None:
    """``first <op> second``: two tensors of one rank, or a tensor and a constant (that broadcasts against it,
    for an ``elementwise`` op)."""
    if not _floating(ctx):
        return ctx.unsupported(f"only floating-point arithmetic has IR ops. Expected floating tensors. "
                               f"Received: dtype={ctx.node.meta['tensor_meta'].dtype}")
    constants = [constant(ctx, first), constant(ctx, second)]
    if all(item is None for item in constants):
        ranks = [len(ctx.shape(first)), len(ctx.shape(second))]
        if ranks[0] != ranks[1]:
            return ctx.unsupported(f"the operands must have equal ranks (the batch axis first in both). Expected "
                                   f"equal ranks. Received: shapes={ctx.shape(first)}, {ctx.shape(second)}")
        return ctx.add(op, [ctx.value(first), ctx.value(second)])
    if all(item is not None for item in constants):
        return ctx.unsupported(f"both operands are constants. Expected a tensor computed from the inputs. "
                               f"Received: operands={first!r}, {second!r}")
    index = 0 if constants[0] is not None else 1
    fixed, tensor = constants[index], (second, first)[index]
    shape, other = ctx.shape(tensor), fixed.array.shape
    if elementwise and (len(other) > len(shape) or (other and len(other) == len(shape) and other[0] != 1)):
        return ctx.unsupported(f"the constant operand would broadcast over the batch axis. Expected at most "
                               f"{len(shape)} axes, size 1 on the first when {len(shape)}. Received: shape={other}")
    if ctx.batch == 1 and len(other) == len(shape) - 1 and other[0] != 1:
        return ctx.unsupported(f"the constant operand would broadcast over the batch axis, axis 1 of a time-major "
                               f"tensor. Expected size 1 on its first axis. Received: shape={other}")
    attrs = {"constant": True, "constant_shape": list(other), "trainable": fixed.trainable}
    if ordered and index == 0:
        attrs["constant_first"] = True
    return ctx.add(op, [ctx.value(tensor)], attrs, {"other": fixed.array}, sources={"other": fixed.source})


def _alpha_is_one(ctx: Call) -> bool:
    alpha = ctx.const(ctx.arg(None, "alpha", 1))
    if alpha != 1:
        ctx.unsupported(f"alpha must be 1. Expected a plain sum or difference. Received: alpha={alpha}")
    return alpha == 1


def _operands(ctx: Call):
    return ctx.arg(0, "input"), ctx.arg(1, "other")


@register("torch", "frontend", operator.add, torch.add, "add", "add_")
def add(ctx: Call, target):
    return binary(ctx, "add", *_operands(ctx), ordered=False) if _alpha_is_one(ctx) else None


@register("torch", "frontend", operator.sub, torch.sub, torch.subtract, "sub", "sub_", "subtract")
def sub(ctx: Call, target):
    return binary(ctx, "sub", *_operands(ctx)) if _alpha_is_one(ctx) else None


@register("torch", "frontend", operator.mul, torch.mul, torch.multiply, "mul", "mul_", "multiply")
def mul(ctx: Call, target):
    return binary(ctx, "mul", *_operands(ctx), ordered=False)


@register("torch", "frontend", operator.truediv, torch.div, torch.divide, torch.true_divide, "div", "div_",
          "divide", "true_divide")
def div(ctx: Call, target):
    mode = ctx.const(ctx.arg(None, "rounding_mode", None))
    if mode is not None:
        return ctx.unsupported(f"rounding_mode must be None. Expected true division. Received: rounding_mode={mode!r}")
    return binary(ctx, "div", *_operands(ctx))


@register("torch", "frontend", operator.pow, torch.pow, "pow")
def power(ctx: Call, target):
    return binary(ctx, "pow", ctx.arg(0, "input", ctx.arg(None, "self", None)), ctx.arg(1, "exponent"))


@register("torch", "frontend", operator.neg, torch.neg, "neg")
def neg(ctx: Call, target):
    return ctx.add("neg", [ctx.input])


# matmul -----------------------------------------------------------------------------------------------------


@register("torch", "frontend", operator.matmul, torch.matmul, torch.bmm, "matmul", "bmm")
def matmul(ctx: Call, target):
    first, second = ctx.arg(0, "input"), ctx.arg(1, "other", ctx.arg(None, "mat2", None))
    constants = [constant(ctx, first), constant(ctx, second)]
    if constants[0] is None and constants[1] is None:
        ranks = {len(ctx.shape(first)), len(ctx.shape(second))}
        if len(ranks) > 1 or min(ranks) < 3:
            return ctx.unsupported(f"both operands must be batches of matrices (N, ..., rows, columns) of one rank; "
                                   f"anything else would multiply along the batch axis. Expected equal ranks >= 3. "
                                   f"Received: shapes={ctx.shape(first)}, {ctx.shape(second)}")
        return ctx.add("matmul", [ctx.value(first), ctx.value(second)])
    fixed = constants[0] or constants[1]
    tensor = second if constants[0] is not None else first
    rank, needed = len(ctx.shape(tensor)), (3 if constants[0] is not None else 2)
    if fixed.array.ndim < 2 or rank < needed or fixed.array.ndim - 2 > rank - 2:
        return ctx.unsupported(f"the constant must be a matrix (or a batch of them) that leaves the batch axis "
                               f"alone. Expected a constant of rank 2 to {rank} and an input of rank >= {needed}. "
                               f"Received: shapes={ctx.shape(first)}, {ctx.shape(second)}")
    return binary(ctx, "matmul", first, second, elementwise=False)


# reductions -------------------------------------------------------------------------------------------------

_REDUCTIONS = {"mean": "reduce_mean", "sum": "reduce_sum", "amax": "reduce_max"}


@register("torch", "frontend", torch.mean, torch.sum, torch.amax, "mean", "sum", "amax")
def reduce(ctx: Call, target):
    name = target if isinstance(target, str) else target.__name__
    dim, keepdim = ctx.const(ctx.arg(1, "dim", None)), ctx.const(ctx.arg(2, "keepdim", False))
    dtype = ctx.const(ctx.arg(None, "dtype", None))
    rank = len(ctx.shape(ctx.node.args[0]))
    dims = [dim] if isinstance(dim, int) else list(dim or ())
    axes = sorted({ctx.axis(d, rank) for d in dims})
    if dtype is not None:
        return ctx.unsupported(f"dtype must be None. Expected a reduction in the input's dtype. Received: dtype={dtype}")
    if not axes or axes[0] == 0:
        return ctx.unsupported(f"reducing the batch axis has no IR equivalent. Expected dim to name axes >= 1. "
                               f"Received: dim={dim}")
    return ctx.add(_REDUCTIONS[name], [ctx.input], {"axes": axes, "keepdims": bool(keepdim)})


_NORMS = {2: "the square root of the sum of squares", 1: "the sum of magnitudes", float("inf"): "the largest magnitude"}


@register("torch", "frontend", torch.linalg.vector_norm, torch.norm, "norm")
def vector_norm(ctx: Call, target):
    """``torch.linalg.vector_norm(x, ord, dim, keepdim)`` (``torch.norm``, ``x.norm``; p='fro' is 2) over axes after
    the batch: for ord 2, 1 and inf, ``sqrt(sum(x * x))``, ``sum(abs(x))`` and ``max(abs(x))`` (ConvNeXt V2's GRN)."""
    function = target is torch.linalg.vector_norm
    order = ctx.const(ctx.arg(1, "ord" if function else "p", 2 if function else "fro"))
    dim, keepdim = ctx.const(ctx.arg(2, "dim", None)), ctx.const(ctx.arg(3, "keepdim", False))
    order = 2 if order == "fro" else order
    if order not in _NORMS or ctx.const(ctx.arg(None, "dtype", None)) is not None:
        return ctx.unsupported(f"only vector norms of order 2, 1 and inf in the input's dtype have IR ops ("
                               f"{', '.join(_NORMS.values())}). Received: ord={order!r}")
    rank = len(ctx.shape(ctx.node.args[0]))
    dims = [dim] if isinstance(dim, int) else list(dim or ())
    axes = sorted({ctx.axis(d, rank) for d in dims})
    if not axes or axes[0] == 0:
        return ctx.unsupported(f"a norm over the batch axis has no IR equivalent. Expected dim to name axes >= 1. "
                               f"Received: dim={dim}")
    builder, x = ctx.capture.builder, ctx.input
    attrs = {"axes": axes, "keepdims": bool(keepdim)}
    if order == 2:
        squares = builder.add("mul", [x, x], name=f"{ctx.name}_squares")
        return ctx.add("sqrt", [builder.add("reduce_sum", [squares], attrs, name=f"{ctx.name}_sum")])
    magnitudes = builder.add("abs", [x], name=f"{ctx.name}_abs")
    return ctx.add("reduce_sum" if order == 1 else "reduce_max", [magnitudes], attrs)


# stack, split, permute ---------------------------------------------------------------------------------------


@register("torch", "frontend", torch.stack)
def stack(ctx: Call, target):
    tensors, dim = ctx.arg(0, "tensors"), ctx.const(ctx.arg(1, "dim", 0))
    if hasattr(tensors, "meta") and isinstance(ctx.capture.values.get(tensors), list):  # a split's parts, whole
        values, rank = ctx.capture.values[tensors], len(tensors.meta["tensor_meta"][0].shape)
    elif any(constant(ctx, item) is not None for item in tensors):
        return ctx.unsupported(f"only tensors computed from the inputs can be stacked. Expected no constants. "
                               f"Received: tensors={tensors!r}")
    else:
        values, rank = [ctx.value(item) for item in tensors], len(ctx.shape(tensors[0]))
    axis = ctx.axis(dim, rank + 1)
    if axis == 0:
        return ctx.unsupported(f"stacking along the batch axis has no IR equivalent. Expected dim >= 1 or a "
                               f"negative dim. Received: dim={dim}")
    return ctx.add("stack", values, {"axis": axis})


def _parts(ctx: Call, dim) -> tuple[int, list[int]] | None:
    """The split axis and the size of each part, read from the shapes recorded for the call's results."""
    rank = len(ctx.shape(ctx.node.args[0]))
    axis = ctx.axis(dim, rank)
    if axis == 0:
        ctx.unsupported(f"splitting the batch axis has no IR equivalent. Expected dim >= 1 or a negative dim. "
                        f"Received: dim={dim}")
        return None
    return axis, [int(meta.shape[axis]) if len(meta.shape) == rank else 1 for meta in ctx.node.meta["tensor_meta"]]


@register("torch", "frontend", torch.split, torch.chunk, "split", "chunk")
def split(ctx: Call, target):
    """The IR values of the parts, a list: ``operator.getitem`` of the result picks one."""
    parts = _parts(ctx, ctx.const(ctx.arg(2, "dim", 0)))
    if parts is None:
        return None
    axis, sizes = parts
    return split_values(ctx, "split", [ctx.input], {"axis": axis, "sizes": sizes})


@register("torch", "frontend", torch.unbind, "unbind")
def unbind(ctx: Call, target):
    """A split into parts of 1, each reshaped without the split axis."""
    parts = _parts(ctx, ctx.const(ctx.arg(1, "dim", 0)))
    if parts is None:
        return None
    axis, sizes = parts
    values = split_values(ctx, "split", [ctx.input], {"axis": axis, "sizes": sizes})
    shape = [d for i, d in enumerate(ctx.shape(ctx.node.args[0])) if i != axis][1:]
    builder = ctx.capture.builder
    return [builder.add("reshape", [value], {"shape": shape}, name=f"{ctx.name}_{index}")
            for index, value in enumerate(values)]


@register("torch", "frontend", torch.permute, "permute")
def permute(ctx: Call, target):
    return _transpose(ctx, torch_perm(ctx))


@register("torch", "frontend", torch.transpose, torch.swapaxes, "transpose", "swapaxes")
def transpose(ctx: Call, target):
    return _transpose(ctx, torch_perm(ctx))


def torch_perm(ctx: Call) -> list[int]:
    """The order of the input's axes in the result of a permute, transpose or swapaxes call."""
    rank = len(ctx.node.args[0].meta["tensor_meta"].shape)
    if ctx.node.target in ("permute", torch.permute):
        dims = ctx.node.args[1:] if ctx.node.op == "call_method" else [ctx.arg(1, "dims")]
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = dims[0]
        if not dims:
            dims = ctx.arg(None, "dims")
        return [operator.index(ctx.const(d)) % rank for d in dims]
    first, second = (operator.index(ctx.const(ctx.arg(i, key))) % rank for i, key in ((1, "dim0"), (2, "dim1")))
    order = list(range(rank))
    order[first], order[second] = second, first
    return order


def _transpose(ctx: Call, order: list[int]):
    """``order`` as an IR transpose of the IR value; a tensor held swapped (``layouts.py``) is read, and the
    result written, as the IR holds it, which often leaves nothing to do (``h_n.transpose(0, 1)``)."""
    before = (lambda axis: {0: 1, 1: 0}.get(axis, axis)) if ctx.is_swapped(ctx.node.args[0]) else (lambda axis: axis)
    after = [1, 0, *range(2, len(order))] if ctx.is_swapped() else list(range(len(order)))
    perm = [before(order[axis]) for axis in after]
    if perm[0] != 0:
        return ctx.unsupported(f"moving the batch axis has no IR equivalent. Expected the batch axis to stay on "
                               f"axis 0 or 1. Received: perm={order}")
    if perm == sorted(perm) and (ctx.batch or ctx.is_swapped()):
        return ctx.input
    return ctx.add("transpose", [ctx.input], {"perm": perm})
