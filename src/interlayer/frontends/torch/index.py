"""Indexing and tensors made from sizes: ``x[idx]`` along one axis (``gather``), ``x[rows, cols]`` with the rows
an ``arange`` of the first axis (CLIP's pooling at the end-of-text token), ``index_select``, ``torch.gather``
(``gather_elements``); ``arange``, ``zeros``/``ones``/``full``/``empty`` and their ``*_like``/``new_*`` forms of
sizes the model computed (``full``; of fixed sizes they are constants already), ``triu``/``tril``, ``diff``
and ``einsum``."""
from __future__ import annotations

import torch

from ...ir import dims
from ...registry import register
from .context import Call, ir_dtype

aten = torch.ops.aten


@register("torch", "frontend", aten.index)
def index(ctx: Call):
    x, indices = ctx.arg(0, "self"), list(ctx.arg(1, "indices"))
    used = [axis for axis, item in enumerate(indices) if item is not None]
    if any(ctx.dtype(indices[axis]) == "bool" for axis in used):
        return ctx.unsupported("a boolean mask index: the result's size depends on the mask's values. Expected "
                               "integer indices")
    if len(used) == 1:
        return ctx.add("gather", [ctx.tensor(x), ctx.tensor(indices[used[0]])], {"axis": used[0]})
    if used == [0, 1] and _counts_rows(ctx, indices[0], ctx.shape(x)[0]):
        return _row_picks(ctx, x, indices[1])
    if used == list(range(len(used))):
        return _leading(ctx, x, [indices[axis] for axis in used])
    return ctx.unsupported(f"advanced indexing of axes {used}. Expected one index tensor, or index tensors for the "
                           f"leading axes")


def _leading(ctx: Call, x, indices: list) -> str:
    """``x[i0, i1, ...]`` with index tensors for the first k axes, broadcast to one shape S: the result is
    (*S, *rest). Each index is spread to S and flattened to P = prod(S) positions; a ``gather`` along axis 0 takes
    the rows of i0, then each further index a ``gather_elements`` along axis 1 of what remains."""
    shape, result = ctx.shape(x), ctx.shape()
    common = list(result[:len(result) - (len(shape) - len(indices))])
    rest = list(shape[len(indices):])
    count = dims.product(common)
    flats = []
    for index, arg in enumerate(indices):
        value = ctx.tensor(arg)
        if tuple(ctx.shape(arg)) != tuple(common):
            value = ctx.add("expand", [value], {"shape": common}, role=f"spread{index}")
        flats.append(ctx.add("reshape", [value], {"shape": [count]}, role=f"flat{index}"))
    value = ctx.add("gather", [ctx.tensor(x), flats[0]], {"axis": 0}, role="rows")
    for index, flat in enumerate(flats[1:], 1):
        remaining = [count, *shape[index:]]
        column = ctx.add("reshape", [flat], {"shape": [count, 1] + [1] * (len(remaining) - 2)}, role=f"column{index}")
        if len(remaining) > 2:
            column = ctx.add("expand", [column], {"shape": [count, 1, *remaining[2:]]}, role=f"columns{index}")
        picked = ctx.add("gather_elements", [value, column], {"axis": 1}, role=f"picked{index}")
        value = ctx.add("reshape", [picked], {"shape": [count, *remaining[2:]]}, role=f"step{index}")
    return ctx.add("reshape", [value], {"shape": [*common, *rest]})


def _counts_rows(ctx: Call, arg, rows) -> bool:
    """Whether ``arg`` is ``arange(rows)`` (written by the model as ``torch.arange(x.shape[0])``)."""
    node = arg
    while hasattr(node, "target") and getattr(node.target, "__name__", "").split(".")[0] in ("to", "_to_copy",
                                                                                               "clone"):
        node = node.args[0]
    if not hasattr(node, "target") or getattr(node.target, "__name__", "").split(".")[0] != "arange":
        return False
    arguments = [a for a in node.args]
    if len(arguments) != 1:
        return False
    limit = ctx.size(arguments[0]) if hasattr(arguments[0], "meta") else arguments[0]
    return dims.equal(limit, rows)


def _row_picks(ctx: Call, x, columns) -> str:
    """``x[arange(N), columns]`` for (N, T, ...) ``x`` and (N,) ``columns``: one position of axis 1 per row, as a
    ``gather_elements`` along axis 1 of the columns spread over the trailing axes."""
    shape = ctx.shape(x)
    if len(ctx.shape(columns)) != 1:
        return ctx.unsupported("row picks with columns of rank > 1. Expected one column per row")
    column = ctx.add("reshape", [ctx.tensor(columns)], {"shape": [shape[0], 1] + [1] * (len(shape) - 2)},
                     role="column")
    spread = ctx.add("expand", [column], {"shape": [shape[0], 1, *shape[2:]]}, role="spread") \
        if len(shape) > 2 else column
    picked = ctx.add("gather_elements", [ctx.tensor(x), spread], {"axis": 1}, role="picked")
    return ctx.add("reshape", [picked], {"shape": [shape[0], *shape[2:]]})


@register("torch", "frontend", aten.index_select)
def index_select(ctx: Call):
    x, dim, indices = ctx.arg(0), ctx.literal(ctx.arg(1, "dim")), ctx.arg(2, "index")
    return ctx.add("gather", [ctx.tensor(x), ctx.tensor(indices)], {"axis": ctx.axis(dim)})


@register("torch", "frontend", aten.gather)
def gather(ctx: Call):
    x, dim, indices = ctx.arg(0), ctx.literal(ctx.arg(1, "dim")), ctx.arg(2, "index")
    return ctx.add("gather_elements", [ctx.tensor(x), ctx.tensor(indices)], {"axis": ctx.axis(dim)})


@register("torch", "frontend", aten.arange)
def arange(ctx: Call):
    bounds = [a for a in ctx.node.args]
    if len(bounds) == 1:
        start, limit, step = 0, bounds[0], 1
    else:
        start, limit = bounds[0], bounds[1]
        step = bounds[2] if len(bounds) > 2 else ctx.node.kwargs.get("step", 1)
    values = [ctx.size(b) if hasattr(b, "meta") else b for b in (start, limit, step)]
    if any(isinstance(v, float) for v in values) or not isinstance(values[2], int):
        return ctx.unsupported(f"an arange of non-integer bounds. Expected integer start, end and step. "
                               f"Received: {values}")
    return ctx.add("arange", [], {"start": values[0], "limit": values[1], "step": values[2], "dtype": ctx.dtype()})


@register("torch", "frontend", aten.zeros, aten.ones, aten.full, aten.empty, aten.new_zeros, aten.new_ones,
          aten.new_full, aten.new_empty, aten.zeros_like, aten.ones_like, aten.full_like, aten.empty_like,
          aten.scalar_tensor)
def full(ctx: Call):
    """A tensor of one value whose shape reads sizes of the inputs (``empty`` is filled with zeros)."""
    name = ctx.op
    if name in ("full", "new_full", "full_like"):
        value = ctx.literal(ctx.arg(2 if name == "new_full" else 1, "fill_value"))
    elif name == "scalar_tensor":
        value = ctx.literal(ctx.arg(0, "s"))
    else:
        value = 1 if "ones" in name else 0
    if hasattr(value, "node") or not isinstance(value, (int, float, bool)):
        return ctx.unsupported(f"a fill value computed from the inputs. Expected a number. Received: {value!r}")
    return ctx.add("full", [], {"shape": list(ctx.shape()), "value": float(value), "dtype": ctx.dtype()})


@register("torch", "frontend", aten.fill)
def fill(ctx: Call):
    """``y.fill_(v)`` made functional (``y[:, 0] = 5.0``): ``y``'s shape and dtype, every element ``v`` (a number, or
    a 0-d tensor expanded)."""
    value = ctx.arg(1, "value")
    number = value if isinstance(value, (int, float, bool)) else None
    const = ctx.const(value) if number is None and hasattr(value, "meta") else None
    if const is not None and const.tensor.dim() == 0:
        number = const.tensor.item()
    if number is not None:
        return ctx.add("full", [], {"shape": list(ctx.shape()), "value": float(number), "dtype": ctx.dtype()})
    scalar = ctx.tensor(value)
    if ctx.dtype(value) != ctx.dtype():
        scalar = ctx.add("cast", [scalar], {"dtype": ctx.dtype()}, role="cast")
    return ctx.add("expand", [scalar], {"shape": list(ctx.shape())})


@register("torch", "frontend", aten.triu, aten.tril)
def trilu(ctx: Call):
    diagonal = int(ctx.literal(ctx.arg(1, "diagonal", 0)))
    return ctx.add("trilu", [ctx.tensor(ctx.arg(0))], {"upper": ctx.op == "triu", "diagonal": diagonal})


@register("torch", "frontend", aten.diff)
def diff(ctx: Call):
    """``x[1:] - x[:-1]`` along ``dim``, after prepending/appending when given (GPT-2's position ids)."""
    x, n, dim = ctx.arg(0), int(ctx.literal(ctx.arg(1, "n", 1))), ctx.literal(ctx.arg(2, "dim", -1))
    prepend, append = ctx.arg(3, "prepend", None), ctx.arg(4, "append", None)
    if n != 1:
        return ctx.unsupported(f"a difference of order {n}. Expected n=1")
    axis = ctx.axis(dim)
    parts = [ctx.tensor(p) for p in (prepend, x, append) if p is not None]
    value = parts[0] if len(parts) == 1 else ctx.add("concat", parts, {"axis": axis}, role="joined")
    size = dims.total(ctx.shape(p)[axis] for p in (prepend, x, append) if p is not None)
    later = ctx.add("slice", [value], {"axes": [axis], "starts": [1], "ends": [size]}, role="later")
    earlier = ctx.add("slice", [value], {"axes": [axis], "starts": [0], "ends": [dims.sub(size, 1)]}, role="earlier")
    if ctx.dtype() == "bool":
        return ctx.add("not_equal", [later, earlier])
    return ctx.add("sub", [later, earlier])


@register("torch", "frontend", aten.einsum)
def einsum(ctx: Call):
    equation, operands = ctx.literal(ctx.arg(0, "equation")), list(ctx.arg(1, "tensors"))
    equation = equation.replace(" ", "")
    if "..." in equation:
        return ctx.unsupported(f"an einsum with an ellipsis. Expected every axis lettered. Received: {equation!r}")
    if "->" not in equation:
        letters = [c for c in equation.replace(",", "")]
        equation += "->" + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    dtype = ctx.dtype()
    values = [ctx.tensor(o) if ctx.dtype(o) == dtype else ctx.add("cast", [ctx.tensor(o)], {"dtype": dtype},
                                                                  role=f"cast{i}") for i, o in enumerate(operands)]
    return ctx.add("einsum", values, {"equation": equation})


def _dtype_of(value) -> str:
    return ir_dtype(value.dtype)


@register("torch", "frontend", aten.nonzero, aten.argwhere, aten.masked_select, aten.unique_dim, aten._unique2,
          aten.unique_consecutive)
def value_sized(ctx: Call):
    """Calls whose result's size depends on the tensor's values (``torch.nonzero``, ``x[mask]``, ``unique``):
    an IR graph's sizes come from its inputs' sizes only."""
    return ctx.unsupported(f"its result's size depends on the values of the tensor ({ctx.op}), not on the sizes "
                           f"of the inputs. Expected sizes that follow from the inputs' sizes: a mask applied with "
                           f"torch.where or masked_fill keeps them")


@register("torch", "frontend", aten._local_scalar_dense, aten.item)
def tensor_value(ctx: Call):
    """``x.item()`` (and ``float(x)``, ``int(x)`` where torch.export lets them through): a tensor's value read
    as a Python number, which the model then computes with outside any tensor."""
    return ctx.unsupported("it reads a tensor's value as a Python number (Tensor.item()). Expected tensors kept as "
                           "tensors: x * t instead of x * t.item()")
