"""Element-wise arithmetic with broadcasting and constants, matmul, reductions, stack and split.

A binary op (``add``, ``sub``, ``mul``, ``div``, ``pow``, ``floor_div``, ``mod``, ``matmul``, and the comparisons of
``compare.py``) takes two inputs, or one input and a constant operand: the weight ``other`` (0-d for a scalar),
kept bit for bit in the archive. Shapes broadcast as numpy's do, aligned at the right; no axis is special.
"""
from __future__ import annotations

from ...errors import ValidationError
from .schema import Attr, OpSchema, Weight, define


def broadcast(shapes, op: str) -> tuple:
    """numpy broadcasting of shapes aligned at the right; a symbolic size meets 1 or itself, or gives way to an
    int (which it must then be when the graph runs)."""
    rank = max(len(shape) for shape in shapes)
    result = []
    for axis in range(rank):
        sizes = {shape[axis - rank + len(shape)] for shape in shapes if axis - rank + len(shape) >= 0} - {1}
        ints = {size for size in sizes if not isinstance(size, str)}
        if len(ints) > 1:
            raise ValidationError(f"op '{op}': the shapes do not broadcast. Expected sizes equal or 1 on each axis "
                                  f"(numpy rules). Received: shapes={[list(s) for s in shapes]}.")
        result.append(ints.pop() if ints else (sorted(sizes)[0] if sizes else 1))
    return tuple(result)


def _scalar(attrs):
    """[] (a scalar)"""
    return []


def _constant_attrs(ordered: bool) -> tuple[Attr, ...]:
    first = (Attr("constant_first", "bool", False, doc="the constant is the left operand (c - x, c / x, c @ x)"),)
    return (
        Attr("constant", "bool", False, doc="whether the second operand is the weight 'other' instead of a second input"),
        Attr("constant_shape", "ints", _scalar, doc="shape of 'other', broadcast against the input"),
        *(first if ordered else ()),
        Attr("trainable", "bool", False, doc="whether 'other' is a trained parameter (a PyTorch nn.Parameter) "
                                             "rather than a fixed tensor"),
    )


_OTHER = Weight("other", "(*constant_shape), 0-d for a scalar", lambda a: tuple(a["constant_shape"]),
                present_if="constant", dtypes="any")


def _constant_check(attrs) -> list[str]:
    found = []
    for flag in ("constant_first", "trainable"):
        if attrs.get(flag) and not attrs["constant"]:
            found.append(f"'{flag}' needs a constant operand. Expected constant=True. Received: {flag}=True, "
                         f"constant=False")
    return found


def _arity(op: str, attrs, shapes, many: bool) -> None:
    if attrs["constant"] and len(shapes) != 1:
        raise ValidationError(f"op '{op}': with a constant operand it takes one input. Received: {len(shapes)} inputs.")
    if not attrs["constant"] and (len(shapes) < 2 or (len(shapes) > 2 and not many)):
        expected = "two or more" if many else "two"
        raise ValidationError(f"op '{op}': without a constant it takes {expected} inputs. Received: {len(shapes)}.")


def _elementwise(op: str, many: bool):
    def infer(attrs, shapes):
        _arity(op, attrs, shapes, many)
        if attrs["constant"]:
            return [broadcast([shapes[0], tuple(attrs["constant_shape"])], op)]
        return [broadcast(shapes, op)]

    return infer


def _binary(name: str, doc: str, ordered: bool = True, many: bool = False, dtypes=None) -> OpSchema:
    arity = "two or more inputs" if many else "two inputs"
    return define(OpSchema(
        name=name, family="algebra",
        doc=f"{doc} with numpy broadcasting; {arity}, or one input and the constant 'other'.",
        attrs=_constant_attrs(ordered), weights=(_OTHER,), inputs=(1, None if many else 2),
        infer=_elementwise(name, many), check=_constant_check, dtypes=dtypes,
    ))


def _true_division(attrs, dtypes):
    """A float input's dtype; integers divide into float32 (PyTorch's default dtype)."""
    return [dtypes[0] if dtypes[0] in ("float32", "float16", "bfloat16", "float64") else "float32"]


ADD = _binary("add", "x + y (a sum of several inputs for merges)", ordered=False, many=True)
SUB = _binary("sub", "x - y")
MUL = _binary("mul", "x * y", ordered=False)
DIV = _binary("div", "x / y (true division; integers divide into float32)", dtypes=_true_division)
POW = _binary("pow", "x ** y")
FLOOR_DIV = _binary("floor_div", "floor(x / y) (Python's and numpy's //, PyTorch's floor_divide)")
MOD = _binary("mod", "x - floor(x / y) * y, the sign of y (Python's and numpy's %, PyTorch's remainder)")


def _matmul_shape(attrs, shapes):
    _arity("matmul", attrs, shapes, False)
    if attrs["constant"]:
        x, constant = shapes[0], tuple(attrs["constant_shape"])
        left, right = (constant, x) if attrs["constant_first"] else (x, constant)
    else:
        left, right = shapes
    if len(left) < 2 or len(right) < 2:
        raise ValidationError(f"op 'matmul': its operands are matrices on their last two axes. Expected ranks >= 2. "
                              f"Received: shapes={[list(left), list(right)]}.")
    inner = (left[-1], right[-2])
    if not any(isinstance(d, str) for d in inner) and inner[0] != inner[1]:
        raise ValidationError(f"op 'matmul': the inner sizes differ. Expected left[-1] == right[-2]. "
                              f"Received: shapes={[list(left), list(right)]}.")
    return [(*broadcast([left[:-2], right[:-2]], "matmul"), left[-2], right[-1])]


MATMUL = define(OpSchema(
    name="matmul", family="algebra",
    doc="numpy.matmul over the last two axes, the axes in front broadcast; two inputs, or one input and the "
        "constant matrix 'other' (x @ other, or other @ x with constant_first).",
    attrs=_constant_attrs(True), weights=(_OTHER,), inputs=(1, 2), infer=_matmul_shape, check=_constant_check,
))


def _axes_check(attrs) -> list[str]:
    axes = list(attrs["axes"])
    if not axes or axes != sorted(set(axes)) or axes[0] < 0:
        return [f"'axes' must be non-empty, sorted, unique and >= 0. Received: axes={axes}"]
    return []


def _reduce_shape(attrs, shapes):
    shape, axes = shapes[0], attrs["axes"]
    if axes[-1] >= len(shape):
        raise ValidationError(f"op 'reduce': axes must be < {len(shape)} for a rank {len(shape)} input. "
                              f"Received: axes={list(axes)}.")
    if attrs["keepdims"]:
        return [tuple(1 if i in axes else d for i, d in enumerate(shape))]
    return [tuple(d for i, d in enumerate(shape) if i not in axes)]


def _reduce(name: str, doc: str) -> OpSchema:
    return define(OpSchema(
        name=name, family="algebra", doc=f"{doc} over 'axes' of the canonical tensor.",
        attrs=(Attr("axes", "ints", doc="canonical axes, sorted, >= 0"),
               Attr("keepdims", "bool", False, doc="keep the reduced axes as size 1")),
        infer=_reduce_shape, check=_axes_check,
    ))


REDUCE_MEAN = _reduce("reduce_mean", "Mean")
REDUCE_SUM = _reduce("reduce_sum", "Sum")
REDUCE_MAX = _reduce("reduce_max", "Maximum")
REDUCE_MIN = _reduce("reduce_min", "Minimum")


def _stack_shape(attrs, shapes):
    first, axis = shapes[0], attrs["axis"]
    for shape in shapes[1:]:
        if len(shape) != len(first) or any(a != b for a, b in zip(shape, first) if isinstance(a, int) and isinstance(b, int)):
            raise ValidationError(f"op 'stack': inputs must have equal shapes. Received: shapes={[list(s) for s in shapes]}.")
    if not 0 <= axis <= len(first):
        raise ValidationError(f"op 'stack': axis must be in [0, {len(first)}] for rank {len(first)} inputs. "
                              f"Received: axis={axis}.")
    return [(*first[:axis], len(shapes), *first[axis:])]


STACK = define(OpSchema(
    name="stack", family="algebra", doc="Join equal-shaped inputs along a new axis.",
    attrs=(Attr("axis", "int", doc="axis of the output that indexes the inputs"),),
    inputs=(1, None), infer=_stack_shape,
))


def _split_check(attrs) -> list[str]:
    if not attrs["sizes"] or any(size < 1 for size in attrs["sizes"]):
        return [f"'sizes' must be one or more sizes >= 1. Received: sizes={list(attrs['sizes'])}"]
    return []


def _split_shape(attrs, shapes):
    shape, axis, sizes = shapes[0], attrs["axis"], attrs["sizes"]
    if not 0 <= axis < len(shape):
        raise ValidationError(f"op 'split': axis must be in [0, {len(shape)}). Received: axis={axis}.")
    if not isinstance(shape[axis], str) and sum(sizes) != shape[axis]:
        raise ValidationError(f"op 'split': the sizes must add up to the axis length {shape[axis]}. "
                              f"Received: sizes={list(sizes)}.")
    return [tuple(size if i == axis else d for i, d in enumerate(shape)) for size in sizes]


SPLIT = define(OpSchema(
    name="split", family="algebra", doc="Cut the input along one axis into consecutive parts; one output per part.",
    attrs=(Attr("axis", "int", doc="canonical axis"), Attr("sizes", "ints", doc="the length of each part")),
    outputs=lambda attrs: len(attrs["sizes"]), infer=_split_shape, check=_split_check,
))
