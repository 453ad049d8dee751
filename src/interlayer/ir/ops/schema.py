"""How an op is declared: its attributes with defaults, its weights with their canonical layout, its shapes.

Each op is declared once with :func:`define`; the declaration is the single source of truth for validation
(``ir/check.py``), for the reference interpreter's signature and for the tables in ``docs/ir.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ...errors import ValidationError
from .. import dims

REQUIRED = object()
_FLOATS = ("float32", "float16", "bfloat16", "float64")

def _is_dim(value: Any) -> bool:
    """An int, or the text of a size expression (``interlayer.ir.dims``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    if not isinstance(value, str):
        return False
    try:
        dims.normal(value)
    except ValidationError:
        return False
    return True


_KINDS: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "ints": lambda v: isinstance(v, (list, tuple)) and all(_KINDS["int"](x) for x in v),
    "floats": lambda v: isinstance(v, (list, tuple)) and all(_KINDS["float"](x) for x in v),
    "dim": _is_dim,
    "dims": lambda v: isinstance(v, (list, tuple)) and all(_is_dim(x) for x in v),
}
"""``dim``: a size, an int or a size expression over the names the graph inputs bind (``ir/dims.py``), computed
when the graph runs; ``dims``: a list of them."""


@dataclass(frozen=True)
class Attr:
    """An attribute. ``default`` may be a callable of the other (already filled) attributes."""

    name: str
    kind: str
    default: Any = REQUIRED
    doc: str = ""
    choices: tuple[Any, ...] | None = None
    nullable: bool = False

    def describe_default(self) -> str:
        if self.default is REQUIRED:
            return "required"
        if callable(self.default):
            return self.default.__doc__ or "derived"
        return repr(self.default)


@dataclass(frozen=True)
class Weight:
    """A weight: its canonical layout (as text) and its expected shape as a function of the attributes."""

    name: str
    layout: str
    shape: Callable[[dict[str, Any]], tuple[int, ...]]
    present_if: str | None = None
    """Name of a bool attribute that says whether the weight exists (e.g. ``bias``)."""
    dtypes: str = "float"
    """``"float"``: a floating dtype (every layer weight); ``"any"``: any dtype a graph value has (a constant
    operand); ``"match:<attr>"``: the dtype the attribute ``<attr>`` names."""

    def present(self, attrs: dict[str, Any]) -> bool:
        return self.present_if is None or bool(attrs[self.present_if])


@dataclass(frozen=True)
class OpSchema:
    name: str
    family: str
    doc: str
    attrs: tuple[Attr, ...] = ()
    weights: tuple[Weight, ...] = ()
    inputs: tuple[int, int | None] = (1, 1)
    """Minimum and maximum input count (``None``: unbounded)."""
    outputs: int | Callable[[dict[str, Any]], int] = 1
    """How many output values a node has: a number, or a function of the filled attributes."""
    infer: Callable[[dict[str, Any], list[tuple]], list[tuple]] = field(default=lambda attrs, shapes: [shapes[0]])
    check: Callable[[dict[str, Any]], list[str]] | None = None
    """Extra rules over the filled attributes; returns the broken rules as messages."""
    scratch: Callable[[dict[str, Any], list[tuple], list[tuple]], list[tuple]] | None = None
    """Shapes of the large temporaries the reference kernel makes besides its outputs (a padded input, the windows
    of a convolution, attention scores), from the attributes, the input shapes and the output shapes. The
    interpreter checks them, with the outputs, against the tensor size limit before it runs (``ir/limits.py``)."""
    dtypes: Callable[[dict[str, Any], list[str]], list[str]] | None = None
    """The dtype of each output from the attributes and the input dtypes; None: every output has the first
    input's dtype (float32 for an op without inputs)."""

    def output_count(self, attrs: dict[str, Any]) -> int:
        return self.outputs(attrs) if callable(self.outputs) else self.outputs

    def output_dtypes(self, attrs: dict[str, Any], dtypes: list[str], weights: dict[str, str] | None = None
                      ) -> list[str]:
        """The dtype of each output: the op's own rule, else its first input's when that is a float, else its
        first weight's (an embedding of int64 ids gives its table's dtype), else the first input's."""
        if self.dtypes is not None:
            return list(self.dtypes(attrs, dtypes))
        first = dtypes[0] if dtypes else "float32"
        if first not in _FLOATS and weights:
            first = next(iter(weights.values()))
        return [first] * self.output_count(attrs)

    def fill(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The attributes with defaults filled in, in declaration order. Unknown or missing ones raise."""
        unknown = sorted(set(attrs) - {a.name for a in self.attrs})
        if unknown:
            raise ValidationError(
                f"op '{self.name}': unknown attribute(s). Expected one of {[a.name for a in self.attrs]}. "
                f"Received: {unknown}."
            )
        filled: dict[str, Any] = {}
        for attr in self.attrs:
            if attr.name in attrs:
                filled[attr.name] = attrs[attr.name]
            elif attr.default is REQUIRED:
                raise ValidationError(f"op '{self.name}': attribute '{attr.name}' is required. Received: none.")
            else:
                filled[attr.name] = self._default(attr, filled) if callable(attr.default) else attr.default
        return filled

    def _default(self, attr: Attr, filled: dict[str, Any]) -> Any:
        """A default derived from the attributes before it, which may be of the wrong kind (read from a file)."""
        try:
            return attr.default(filled)
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            raise ValidationError(f"op '{self.name}': attribute '{attr.name}' is absent and its default "
                                  f"({attr.describe_default()}) cannot be derived from the others. Expected them of "
                                  f"their declared kinds. Received: {filled}.") from exc

    def problems(self, attrs: dict[str, Any]) -> list[str]:
        """Every rule the filled attributes break (type, choices, op-specific checks)."""
        found = []
        for attr in self.attrs:
            value = attrs.get(attr.name)
            if value is None and attr.nullable:
                continue
            if not _KINDS[attr.kind](value):
                found.append(f"attribute '{attr.name}' must be {attr.kind}. Received: {attr.name}={value!r}")
            elif attr.choices is not None and value not in attr.choices:
                found.append(f"attribute '{attr.name}' must be one of {list(attr.choices)}. Received: {attr.name}={value!r}")
        if not found and self.check is not None:
            found += self.check(attrs)
        return found


OPS: dict[str, OpSchema] = {}


def define(schema: OpSchema) -> OpSchema:
    """Register an op schema. Declaring the same op twice is an error."""
    if schema.name in OPS:
        raise ValidationError(f"op '{schema.name}' is declared twice ({OPS[schema.name].family}, {schema.family}).")
    OPS[schema.name] = schema
    return schema


def get(op: str) -> OpSchema:
    try:
        return OPS[op]
    except KeyError:
        raise ValidationError(f"unknown op '{op}'. Expected one of {sorted(OPS)}.") from None


# Shape helpers shared by several families ----------------------------------------------------------------


def spatial_out(size, kernel: int, stride: int, dilation: int, pad_begin: int, pad_end: int, ceil_mode: bool = False):
    """Output length of a sliding window (PyTorch's rule for ceil_mode: the last window starts in bounds); a size
    expression for a symbolic ``size``."""
    if isinstance(size, str):
        span = dims.add(size, pad_begin + pad_end - dilation * (kernel - 1) - 1)
        out = dims.add(dims.floordiv(span if not ceil_mode else dims.add(span, stride - 1), stride), 1)
        # ceil_mode's last window starts inside the input or its begin padding: at most ceil((size + begin) / stride)
        return out if not ceil_mode else dims.minimum(out, dims.floordiv(dims.add(size, pad_begin + stride - 1),
                                                                           stride))
    span = size + pad_begin + pad_end - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = math.ceil(span / stride) + 1
        if (out - 1) * stride >= size + pad_begin:
            out -= 1
    else:
        out = span // stride + 1
    return out


def ceil_overflow(size: int, kernel: int, stride: int, dilation: int, pad_begin: int, pad_end: int) -> int:
    """Positions to add past the end padding so that a floor-mode window pass gives ceil_mode's output length."""
    out = spatial_out(size, kernel, stride, dilation, pad_begin, pad_end, True)
    return max((out - 1) * stride + dilation * (kernel - 1) + 1 - (size + pad_begin + pad_end), 0)


def per_axis(value: int, count: int = 1):
    """A default of ``count`` times ``value`` per spatial axis (``len(kernel_size)`` axes)."""

    def default(attrs):
        return [value] * (count * len(attrs["kernel_size"]))

    default.__doc__ = f"{value} per spatial axis" if count == 1 else f"{value} at both ends of each spatial axis"
    return default


def window_check(attrs: dict[str, Any]) -> list[str]:
    rank = len(attrs["kernel_size"])
    found = []
    for key, length in (("strides", rank), ("dilations", rank), ("pads", 2 * rank)):
        if key in attrs and len(attrs[key]) != length:
            found.append(f"'{key}' must have {length} entries for a {rank}-D window. Received: {key}={attrs[key]}")
    for key in ("kernel_size", "strides", "dilations"):
        if key in attrs and any(v < 1 for v in attrs[key]):
            found.append(f"'{key}' entries must be >= 1. Received: {key}={attrs[key]}")
    if "pads" in attrs and any(p < 0 for p in attrs["pads"]):
        found.append(f"'pads' entries must be >= 0. Received: pads={attrs['pads']}")
    return found


def groups_check(attrs: dict[str, Any]) -> list[str]:
    """Grouped (transposed) convolution: both channel counts divisible by ``groups``."""
    groups = attrs["groups"]
    if groups < 1 or attrs["in_channels"] % groups or attrs["out_channels"] % groups:
        return [f"in_channels and out_channels must be divisible by groups. Received: in_channels="
                f"{attrs['in_channels']}, out_channels={attrs['out_channels']}, groups={groups}"]
    return []


def known_size(d) -> int:
    """A size as an int: a symbolic one (not yet known) counts as 1."""
    return d if isinstance(d, int) else 1


def padded_shape(shape: tuple, pads: list[int], extra: list[int] | None = None) -> tuple:
    """``shape`` with its spatial axes (2...) grown by the positive ``pads`` (begins, then ends) and ``extra``."""
    rank = len(shape) - 2
    extra = extra or [0] * rank
    return (*shape[:2], *(known_size(d) + max(pads[i], 0) + max(pads[rank + i], 0) + extra[i]
                          for i, d in enumerate(shape[2:])))


def window_scratch(attrs: dict[str, Any], shapes: list[tuple], outputs: list[tuple]) -> list[tuple]:
    """A window op's temporaries: its input padded (a stride more per axis for ceil_mode), and every window of
    it, (N, C, *out, *kernel), which a convolution's product may copy."""
    shape = shapes[0]
    padded = padded_shape(shape, attrs["pads"], list(attrs["strides"]))
    return [padded, (*shape[:2], *outputs[0][2:], *attrs["kernel_size"])]


def window_shape(attrs: dict[str, Any], shape: tuple, channels, ceil_mode: bool = False) -> tuple:
    rank = len(attrs["kernel_size"])
    dilations = attrs.get("dilations", [1] * rank)
    spatial = [
        spatial_out(shape[2 + i], attrs["kernel_size"][i], attrs["strides"][i], dilations[i],
                    attrs["pads"][i], attrs["pads"][rank + i], ceil_mode)
        for i in range(rank)
    ]
    if any(isinstance(n, int) and n < 1 for n in spatial):
        raise ValidationError(f"the window is larger than the padded input. Expected kernel_size * dilations <= the "
                              f"input's size plus pads on each spatial axis. Received: input shape={tuple(shape)}, "
                              f"kernel_size={attrs['kernel_size']}, dilations={dilations}, pads={attrs['pads']}.")
    return (shape[0], channels, *spatial)
