"""Tensors made from sizes, casts, slicing, indexing, scans and einsum as plain torch code: ``torch.full``,
``torch.arange``, ``x.to(torch.int64)``, ``x[:, T - 1:]``, ``table[ids]``, ``torch.gather``, ``torch.where``,
``torch.cumsum``, ``torch.argmax``, ``torch.tril``, ``torch.einsum``.

Sizes in attributes are computed at run time (``sizes.py``); tensors made from sizes alone are made on the device
of the model's first input. A ``constant`` is a buffer (a parameter when trainable) under the node's name.
"""
from __future__ import annotations

import operator

import torch

from ...ir import dims
from ...registry import register
from .context import Step, parameter, same_size, tensor, torch_dtype

_INDEX_DTYPES = ("int64", "int32")
"""the index dtypes torch's advanced indexing takes as positions (uint8 and bool would be masks)"""


def _device(ctx: Step) -> dict:
    device = ctx.device()
    return {} if device is None else {"device": device}


@register("torch", "backend", "constant")
def constant(ctx: Step, node):
    """``self.<node>``: the value as a buffer, or an ``nn.Parameter`` when the IR marks it trainable (floats); a
    constant that shares another's tensor (a tied weight) reads that one's."""
    emitter = ctx.emitter
    path = emitter.paths.get((emitter.shared.get(node.name, ""), ""))
    if path is None:
        array = node.weights["value"]
        trainable = ctx.attrs["trainable"] and array.dtype.kind in "fV"
        path = emitter.names.module(node.name)
        emitter.hold(path, parameter(array) if trainable else tensor(array))
        emitter.paths[node.name, ""] = path
    return emitter.graph.create_node("get_attr", path, name=node.name)


def _fill(value: float, dtype: str):
    """The fill as the Python number of the dtype (numpy's cast of it: toward zero, != 0)."""
    if dtype == "bool":
        return bool(value)
    if dtype.startswith(("int", "uint")):
        return int(value)
    return float(value)


@register("torch", "backend", "full")
def full(ctx: Step, node):
    dtype = ctx.attrs["dtype"]
    return ctx.call(torch.full, ctx.sizes(ctx.attrs["shape"]), _fill(ctx.attrs["value"], dtype),
                    dtype=torch_dtype(dtype), **_device(ctx))


@register("torch", "backend", "arange")
def arange(ctx: Step, node):
    """``torch.arange(T)``, ``torch.arange(1, 2 * T + 1, 2)``; bool (which torch.arange does not make) through
    int64."""
    attrs = ctx.attrs
    start, limit, step = ctx.size(attrs["start"]), ctx.size(attrs["limit"]), attrs["step"]
    bounds = (limit,) if (attrs["start"], step) == (0, 1) else (start, limit) if step == 1 else (start, limit, step)
    dtype = attrs["dtype"]
    made = "int64" if dtype == "bool" else dtype
    value = ctx.call(torch.arange, *bounds, dtype=torch_dtype(made), **_device(ctx))
    return value if made == dtype else ctx.method("to", value, torch.bool, suffix="_cast")


@register("torch", "backend", "cast")
def cast(ctx: Step, node):
    """``x.to(torch.int32)``: floats to integers truncate toward zero, anything to bool is != 0, as numpy's."""
    return ctx.method("to", ctx.input, torch_dtype(ctx.attrs["dtype"]))


@register("torch", "backend", "slice")
def slice_(ctx: Step, node):
    """``x[:, T - 1:]``: the IR's resolved positions, an end at the axis's size left open."""
    shape, attrs = ctx.shape(), ctx.attrs
    index = [slice(None)] * len(shape)
    for axis, start, end, step in zip(attrs["axes"], attrs["starts"], attrs["ends"], attrs["steps"]):
        start, end = dims.normal(start), dims.normal(end)
        index[axis] = slice(None if start == 0 else ctx.size(start),
                            None if same_size(end, shape[axis]) else ctx.size(end), None if step == 1 else step)
    while len(index) > 1 and index[-1] == slice(None):
        index.pop()
    return ctx.call(operator.getitem, ctx.input, tuple(index))


def _positions(ctx: Step, index: int, wanted: tuple[str, ...]):
    """Input ``index`` (indices) as one of the ``wanted`` dtypes (int64 first)."""
    value = ctx.inputs[index]
    return value if ctx.dtype(index) in wanted else ctx.method("to", value, torch.int64, suffix="_indices")


@register("torch", "backend", "gather")
def gather(ctx: Step, node):
    """``table[ids]``, ``x[:, :, i]``: torch's advanced indexing is numpy.take's, negative indices included."""
    axis = ctx.attrs["axis"]
    indices = _positions(ctx, 1, _INDEX_DTYPES)
    return ctx.call(operator.getitem, ctx.input, indices if axis == 0 else (*[slice(None)] * axis, indices))


@register("torch", "backend", "gather_elements")
def gather_elements(ctx: Step, node):
    """``torch.gather(x, axis, i % size)``: torch.gather takes no negative index, so each wraps as numpy's does."""
    axis = ctx.attrs["axis"]
    indices = _positions(ctx, 1, ("int64",))
    wrapped = ctx.call(operator.mod, indices, ctx.axis_size(axis), suffix="_wrapped")
    return ctx.call(torch.gather, ctx.input, axis, wrapped)


@register("torch", "backend", "select")
def select(ctx: Step, node):
    condition, a, b = ctx.inputs
    if ctx.dtype(0) != "bool":
        condition = ctx.method("to", condition, torch.bool, suffix="_condition")
    value = ctx.call(torch.where, condition, a, b)
    if ctx.dtype(1) != ctx.dtype(2):  # the IR's result has the first choice's dtype; torch.where promotes
        value = ctx.method("to", value, torch_dtype(ctx.out_dtype), suffix="_cast")
    return value


@register("torch", "backend", "cumsum")
def cumsum(ctx: Step, node):
    """``torch.cumsum(x, axis)``; 'reverse' flips before and after, 'exclusive' subtracts each element. Bools
    sum as int64 (torch's own rule); other integers keep their dtype (torch would widen them)."""
    attrs, dtype, x = ctx.attrs, ctx.dtype(), ctx.input
    axis = attrs["axis"]
    if dtype == "bool" and attrs["exclusive"]:  # torch subtracts no bools
        x, dtype = ctx.method("to", x, torch.int64, suffix="_counts"), "int64"
    if attrs["reverse"]:
        x = ctx.method("flip", x, axis, suffix="_reversed")
    keep = {"dtype": torch_dtype(dtype)} if dtype.startswith(("int", "uint")) and dtype != "int64" else {}
    sums = ctx.call(torch.cumsum, x, axis, suffix="_sums" if attrs["exclusive"] or attrs["reverse"] else "",
                    **keep)
    if attrs["exclusive"]:
        sums = ctx.call(operator.sub, sums, x, suffix="_exclusive" if attrs["reverse"] else "")
    if attrs["reverse"]:
        sums = ctx.method("flip", sums, axis)
    return sums


@register("torch", "backend", "argmax", "argmin")
def search(ctx: Step, node):
    """torch.argmax/argmin: the first position among equal values, as numpy's; bools as uint8 (torch searches
    no bools)."""
    x = ctx.input if ctx.dtype() != "bool" else ctx.method("to", ctx.input, torch.uint8, suffix="_numbers")
    function = torch.argmax if node.op == "argmax" else torch.argmin
    return ctx.call(function, x, dim=ctx.attrs["axis"], keepdim=ctx.attrs["keepdims"])


@register("torch", "backend", "trilu")
def trilu(ctx: Step, node):
    diagonal = ctx.attrs["diagonal"]
    function = torch.triu if ctx.attrs["upper"] else torch.tril
    return ctx.call(function, ctx.input, *([diagonal] if diagonal else []))


@register("torch", "backend", "einsum")
def einsum(ctx: Step, node):
    return ctx.call(torch.einsum, ctx.attrs["equation"].replace(" ", ""), *ctx.inputs)
