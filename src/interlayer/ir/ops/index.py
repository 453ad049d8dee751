"""Tensors made from sizes, integer and index computation: what a model does with token ids, positions and masks.

``constant``, ``full`` and ``arange`` take no input: a tensor the model holds or makes from sizes alone (a
position table, a causal mask built from the sequence length). ``cast`` changes dtype, ``slice`` takes strided
ranges, ``gather``/``gather_elements`` index, ``select`` picks between two tensors, ``cumsum``, ``argmax``,
``argmin`` scan and search along an axis, ``trilu`` keeps a triangle and ``einsum`` contracts. Sizes in attributes
(``full.shape``, ``arange.start``/``limit``, ``slice.starts``/``ends``) may be size expressions
(``interlayer.ir.dims``) over the names the graph inputs bind, computed when the graph runs.
"""
from __future__ import annotations

import re

from ...errors import ValidationError
from .. import dims
from .schema import Attr, OpSchema, Weight, define

DTYPES = ("float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")
"""the dtypes of IR values"""


def _axis(op: str, axis: int, rank: int) -> None:
    if not 0 <= axis < rank:
        raise ValidationError(f"op '{op}': axis must be in [0, {rank}) for a rank {rank} input. Received: axis={axis}.")


# made from nothing but sizes ---------------------------------------------------------------------------------


def _constant_shape(attrs, shapes):
    return [tuple(attrs["shape"])]


CONSTANT = define(OpSchema(
    name="constant", family="index",
    doc="The weight 'value', as it is: a tensor the model holds and uses outside a layer (a position table, an "
        "index buffer, a parameter read directly).",
    attrs=(
        Attr("shape", "ints", doc="the shape of 'value'"),
        Attr("dtype", "str", "float32", choices=DTYPES, doc="the dtype of 'value'"),
        Attr("trainable", "bool", False, doc="whether 'value' is a trained parameter (a PyTorch nn.Parameter)"),
    ),
    weights=(Weight("value", "(*shape), of 'dtype'", lambda a: tuple(a["shape"]), dtypes="match:dtype"),),
    inputs=(0, 0), infer=_constant_shape,
    dtypes=lambda attrs, dtypes: [attrs["dtype"]],
))


def _full_shape(attrs, shapes):
    return [tuple(dims.normal(d) for d in attrs["shape"])]


FULL = define(OpSchema(
    name="full", family="index",
    doc="A tensor of 'shape' filled with 'value' (zeros, ones, a fill of the batch's size).",
    attrs=(
        Attr("shape", "dims", doc="sizes: ints or size expressions"),
        Attr("value", "float", 0.0, doc="the fill (an integer for integer dtypes, 0 or 1 for bool)"),
        Attr("dtype", "str", "float32", choices=DTYPES),
    ),
    inputs=(0, 0), infer=_full_shape, dtypes=lambda attrs, dtypes: [attrs["dtype"]],
))


def _arange_check(attrs) -> list[str]:
    return [] if attrs["step"] != 0 else [f"'step' must not be 0. Received: step={attrs['step']}"]


def _arange_shape(attrs, shapes):
    start, limit, step = attrs["start"], attrs["limit"], attrs["step"]
    span = dims.sub(limit, start)
    length = dims.floordiv(dims.add(span, step - 1), step) if step > 0 else dims.floordiv(dims.sub(span, step + 1), step)
    if isinstance(length, int):
        length = max(length, 0)
    return [(length,)]


ARANGE = define(OpSchema(
    name="arange", family="index",
    doc="start, start + step, ... while < limit (> limit for a negative step): numpy.arange. Positions, and the "
        "rows and columns of masks made from a sequence length.",
    attrs=(
        Attr("start", "dim", 0, doc="an int or a size expression"),
        Attr("limit", "dim", doc="an int or a size expression"),
        Attr("step", "int", 1, doc="not 0"),
        Attr("dtype", "str", "int64", choices=DTYPES),
    ),
    inputs=(0, 0), infer=_arange_shape, check=_arange_check, dtypes=lambda attrs, dtypes: [attrs["dtype"]],
))


CAST = define(OpSchema(
    name="cast", family="index",
    doc="The input converted to 'dtype' (numpy's astype: floats to integers truncate toward zero, anything to "
        "bool is != 0, bool to numbers is 0 or 1).",
    attrs=(Attr("dtype", "str", choices=DTYPES),),
    dtypes=lambda attrs, dtypes: [attrs["dtype"]],
))


# choosing elements --------------------------------------------------------------------------------------------


def _slice_check(attrs) -> list[str]:
    count = len(attrs["axes"])
    found = []
    for key in ("starts", "ends", "steps"):
        if len(attrs[key]) != count:
            found.append(f"'{key}' has one entry per axis. Expected {count} entries. Received: {key}={attrs[key]}")
    if any(step < 1 for step in attrs["steps"]):
        found.append(f"'steps' must be >= 1. Received: steps={attrs['steps']}")
    if len(set(attrs["axes"])) != count or any(axis < 0 for axis in attrs["axes"]):
        found.append(f"'axes' must be distinct non-negative axes. Received: axes={attrs['axes']}")
    return found


def _slice_shape(attrs, shapes):
    shape = list(shapes[0])
    for axis, start, end, step in zip(attrs["axes"], attrs["starts"], attrs["ends"], attrs["steps"]):
        _axis("slice", axis, len(shape))
        start, end = dims.normal(start), dims.normal(end)
        if isinstance(start, int) and isinstance(end, int) and not 0 <= start <= end:
            raise ValidationError(f"op 'slice': a range is 0 <= start <= end. Received: start={start}, end={end} on "
                                  f"axis {axis}.")
        if isinstance(end, int) and isinstance(shape[axis], int) and end > shape[axis]:
            raise ValidationError(f"op 'slice': the range ends past the axis. Expected end <= {shape[axis]} on axis "
                                  f"{axis}. Received: end={end}.")
        shape[axis] = dims.floordiv(dims.add(dims.sub(end, start), step - 1), step)
    return [tuple(shape)]


SLICE = define(OpSchema(
    name="slice", family="index",
    doc="x[start:end:step] along each of 'axes', the others whole. Ranges are resolved positions, "
        "0 <= start <= end <= size (a frontend turns negative and open ends into them: x[:, -1:] is "
        "start 'T - 1', end 'T').",
    attrs=(
        Attr("axes", "ints"),
        Attr("starts", "dims", doc="ints or size expressions"),
        Attr("ends", "dims", doc="ints or size expressions"),
        Attr("steps", "ints", lambda a: [1] * len(a["axes"]), doc="one per axis, >= 1"),
    ),
    infer=_slice_shape, check=_slice_check,
))


def _gather_shape(attrs, shapes):
    data, indices = shapes
    _axis("gather", attrs["axis"], len(data))
    axis = attrs["axis"]
    return [(*data[:axis], *indices, *data[axis + 1:])]


GATHER = define(OpSchema(
    name="gather", family="index",
    doc="numpy.take(x, indices, axis): the entries of x at integer 'indices' (the second input) along 'axis', "
        "the indices' shape in place of that axis; a negative index counts from the end.",
    attrs=(Attr("axis", "int", 0),),
    inputs=(2, 2), infer=_gather_shape,
))


def _gather_elements_shape(attrs, shapes):
    data, indices = shapes
    _axis("gather_elements", attrs["axis"], len(data))
    if len(indices) != len(data):
        raise ValidationError(f"op 'gather_elements': the indices have the input's rank. Expected rank {len(data)}. "
                              f"Received: indices shape={list(indices)}.")
    return [tuple(indices)]


GATHER_ELEMENTS = define(OpSchema(
    name="gather_elements", family="index",
    doc="numpy.take_along_axis(x, indices, axis) (torch.gather): out[..., i, ...] = x[..., indices[..., i, ...], ...] "
        "along 'axis'; a negative index counts from the end.",
    attrs=(Attr("axis", "int"),),
    inputs=(2, 2), infer=_gather_elements_shape,
))


def _select_shape(attrs, shapes):
    from .algebra import broadcast

    return [broadcast(shapes, "select")]


SELECT = define(OpSchema(
    name="select", family="index",
    doc="numpy.where(condition, a, b) of three inputs, broadcast (torch.where with two tensors).",
    inputs=(3, 3), infer=_select_shape, dtypes=lambda attrs, dtypes: [dtypes[1]],
))


# scans and searches -------------------------------------------------------------------------------------------


def _along_axis(op: str):
    def infer(attrs, shapes):
        _axis(op, attrs["axis"], len(shapes[0]))
        return [tuple(shapes[0])]

    return infer


CUMSUM = define(OpSchema(
    name="cumsum", family="index",
    doc="Running sums along 'axis' (numpy.cumsum); 'exclusive' leaves each element out of its own sum, 'reverse' "
        "sums from the end. A bool input counts as integers (int64).",
    attrs=(Attr("axis", "int"), Attr("exclusive", "bool", False), Attr("reverse", "bool", False)),
    infer=_along_axis("cumsum"),
    dtypes=lambda attrs, dtypes: ["int64" if dtypes[0] == "bool" else dtypes[0]],
))


def _search_shape(op: str):
    def infer(attrs, shapes):
        shape, axis = shapes[0], attrs["axis"]
        _axis(op, axis, len(shape))
        return [tuple(1 if i == axis else d for i, d in enumerate(shape)) if attrs["keepdims"]
                else tuple(d for i, d in enumerate(shape) if i != axis)]

    return infer


def _search(name: str, what: str) -> OpSchema:
    return define(OpSchema(
        name=name, family="index",
        doc=f"The int64 position of the {what} along 'axis' (the first one where several are equal).",
        attrs=(Attr("axis", "int"), Attr("keepdims", "bool", False)),
        infer=_search_shape(name), dtypes=lambda attrs, dtypes: ["int64"],
    ))


ARGMAX = _search("argmax", "largest value")
ARGMIN = _search("argmin", "smallest value")


def _trilu_shape(attrs, shapes):
    if len(shapes[0]) < 2:
        raise ValidationError(f"op 'trilu': the input has matrices on its last two axes. Expected rank >= 2. "
                              f"Received: shape={list(shapes[0])}.")
    return [tuple(shapes[0])]


TRILU = define(OpSchema(
    name="trilu", family="index",
    doc="The upper (numpy.triu) or lower (numpy.tril) triangle of the matrices on the last two axes, from "
        "'diagonal' on (0 the main diagonal, > 0 above it), the rest zero.",
    attrs=(Attr("upper", "bool"), Attr("diagonal", "int", 0)),
    infer=_trilu_shape,
))


_EQUATION = re.compile(r"^([a-zA-Z]+(,[a-zA-Z]+)*)->([a-zA-Z]*)$")


def _einsum_check(attrs) -> list[str]:
    equation = attrs["equation"].replace(" ", "")
    if not _EQUATION.match(equation):
        return [f"'equation' is explicit einsum notation over letters, no ellipsis: 'bhqd,bhkd->bhqk'. "
                f"Received: equation={attrs['equation']!r}"]
    inputs, output = equation.split("->")
    if len(set(output)) != len(output) or not set(output) <= set(inputs.replace(",", "")):
        return [f"the output letters of 'equation' are distinct and each appears in an input. "
                f"Received: equation={attrs['equation']!r}"]
    return []


def _einsum_shape(attrs, shapes):
    inputs, output = attrs["equation"].replace(" ", "").split("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValidationError(f"op 'einsum': the equation has {len(terms)} operands. Received: {len(shapes)} inputs.")
    sizes: dict[str, object] = {}
    for term, shape in zip(terms, shapes):
        if len(term) != len(shape):
            raise ValidationError(f"op 'einsum': '{term}' names {len(term)} axes. Received: an input of shape "
                                  f"{list(shape)}.")
        for letter, size in zip(term, shape):
            known = sizes.get(letter, 1)
            if size != 1 and known != 1 and isinstance(size, int) and isinstance(known, int) and size != known:
                raise ValidationError(f"op 'einsum': axis '{letter}' has sizes {known} and {size}. Expected equal "
                                      f"sizes (or 1).")
            if known == 1:
                sizes[letter] = size
    return [tuple(sizes[letter] for letter in output)]


EINSUM = define(OpSchema(
    name="einsum", family="index",
    doc="numpy.einsum with an explicit equation over letters ('bhqd,bhkd->bhqk'), no ellipsis.",
    attrs=(Attr("equation", "str"),),
    inputs=(1, None), infer=_einsum_shape, check=_einsum_check,
))

