"""Ops that move data without arithmetic: flatten, reshape, transpose, pad, dropout, identity, tile; and concat.
Sizes may be size expressions (``ir/dims.py``); no axis is special.

``add`` lives with the arithmetic in ``algebra.py``.
"""
from __future__ import annotations

from ...errors import ValidationError
from .. import dims
from .schema import Attr, OpSchema, define, known_size


def _flatten_shape(attrs, shapes):
    shape = shapes[0]
    if attrs["axis"] != 1:
        raise ValidationError(f"op 'flatten': only axis=1 is defined. Received: axis={attrs['axis']}.")
    if attrs["order"] == "channels_last" and len(shape) < 3:
        raise ValidationError(f"op 'flatten': the channels_last order reads (N, *spatial, C). Expected rank >= 3. "
                              f"Received: shape={list(shape)}.")
    return [(shape[0], dims.product(shape[1:]))]


FLATTEN = define(OpSchema(
    name="flatten", family="tensor",
    doc="Collapse axes 1... into one. 'order' is the element order of the result: channels_first reads the "
        "canonical (N, C, *spatial) tensor row-major (PyTorch); channels_last reads it as (N, *spatial, C) (Keras).",
    attrs=(
        Attr("axis", "int", 1),
        Attr("order", "str", "channels_first", choices=("channels_first", "channels_last")),
    ),
    infer=_flatten_shape,
))


def _reshape_shape(attrs, shapes):
    shape = shapes[0]
    target = [dims.normal(d) for d in attrs["shape"]]
    numbers = [d for d in target if isinstance(d, int)]
    if numbers.count(-1) > 1 or any(d < -1 for d in numbers):
        raise ValidationError(f"op 'reshape': 'shape' takes sizes >= 0 or size expressions, and at most one -1. "
                              f"Received: shape={attrs['shape']}.")
    total = dims.product(shape)
    if -1 in target:
        known = dims.product(d for d in target if d != -1)
        target[target.index(-1)] = dims.floordiv(total, known) if known != 0 else 0
    product = dims.product(target)
    if isinstance(product, int) and isinstance(total, int) and product != total:
        raise ValidationError(f"op 'reshape': a reshape keeps the number of elements. Expected sizes whose product "
                              f"is {total}. Received: shape={attrs['shape']}, input shape={list(shape)}.")
    # sizes of names the equality of whose products the canonical forms cannot show (it holds under the graph's
    # guards, such as a flattened map that is 1x1 for the input sizes the model accepts) are checked when it runs
    return [tuple(target)]


RESHAPE = define(OpSchema(
    name="reshape", family="tensor",
    doc="Row-major reshape of every axis (numpy.reshape). Sizes are ints or size expressions over the names the "
        "graph inputs bind: (N, T, 64) -> (N, T, 4, 16) is shape [\"N\", \"T\", 4, 16]; a batch merged with the "
        "sequence is [\"N*T\", 64]; at most one size is -1, the rest of the elements.",
    attrs=(Attr("shape", "dims", doc="the sizes of every axis: ints >= 0, size expressions, at most one -1"),),
    infer=_reshape_shape,
))


def _transpose_shape(attrs, shapes):
    perm = attrs["perm"]
    if sorted(perm) != list(range(len(shapes[0]))):
        raise ValidationError(f"op 'transpose': 'perm' must permute all {len(shapes[0])} axes. "
                              f"Received: perm={perm}.")
    return [tuple(shapes[0][p] for p in perm)]


TRANSPOSE = define(OpSchema(
    name="transpose", family="tensor", doc="out = numpy.transpose(x, perm).",
    attrs=(Attr("perm", "ints"),), infer=_transpose_shape,
))


PAD_MODES = ("constant", "reflect", "edge", "wrap")
"""numpy.pad's names: 'edge' is PyTorch's 'replicate', 'wrap' its 'circular'; ONNX uses these names (wrap from 19)."""

_PAD_REACH = {"reflect": ("< size", lambda pad, size: pad < size), "wrap": ("<= size", lambda pad, size: pad <= size)}
"""How far each mode that copies the input's own values may pad an axis of a given size."""


def _pad_shape(attrs, shapes):
    shape = shapes[0]
    pads, mode = attrs["pads"], attrs["mode"]
    rank = len(pads) // 2
    if len(pads) % 2 or not 1 <= rank <= len(shape):
        raise ValidationError(f"op 'pad': pads come in pairs for at most the {len(shape)} axes of the input. "
                              f"Received: pads={pads}.")
    first = len(shape) - rank
    if mode in _PAD_REACH:
        rule, fits = _PAD_REACH[mode]
        too_far = [first + i for i, d in enumerate(shape[first:]) if not isinstance(d, str)
                   and not (fits(pads[i], d) and fits(pads[rank + i], d))]
        if too_far:
            raise ValidationError(f"op 'pad': '{mode}' padding copies the input's own values, so each pad must be "
                                  f"{rule} of its axis. Expected pads {rule} on axes {too_far}. Received: "
                                  f"pads={pads}, input shape={tuple(shape)}.")
    padded = [dims.add(d, pads[i] + pads[rank + i]) for i, d in enumerate(shape[first:])]
    return [(*shape[:first], *padded)]


def _pad_check(attrs) -> list[str]:
    """Cropping (negative pads) and 'value' belong to 'constant' padding; frameworks disagree on how a
    negative pad combines with the others (PyTorch's 'circular' crops before it wraps, numpy refuses)."""
    mode, found = attrs["mode"], []
    if mode != "constant" and any(p < 0 for p in attrs["pads"]):
        found.append(f"'{mode}' padding cannot crop. Expected pads >= 0 (negative pads crop in 'constant' mode "
                     f"only). Received: pads={attrs['pads']}")
    if mode != "constant" and attrs["value"] != 0.0:
        found.append(f"'value' fills 'constant' padding only. Expected value=0.0 with mode='{mode}'. "
                     f"Received: value={attrs['value']}")
    return found


def _pad_scratch(attrs, shapes, outputs):
    """The input grown by the positive pads, before negative ones crop it."""
    shape, pads = shapes[0], attrs["pads"]
    rank = len(pads) // 2
    if rank < 1 or rank > len(shape):
        return []
    first = len(shape) - rank
    return [(*(known_size(d) for d in shape[:first]),
             *(known_size(d) + max(pads[i], 0) + max(pads[rank + i], 0) for i, d in enumerate(shape[first:])))]


PAD = define(OpSchema(
    name="pad", family="tensor",
    doc="Padding of the last len(pads) / 2 axes (the spatial axes of a channels-first map: 2 pads per axis), "
        "numpy.pad's modes: 'constant' fills with "
        "'value' and a negative pad crops; 'reflect' mirrors the input without repeating the edge value "
        "([a, b, c] padded by 2 at the start: [c, b, a, b, c]; PyTorch and ONNX 'reflect'), each pad < the axis "
        "size; 'edge' repeats the edge value (PyTorch 'replicate', ONNX 'edge'); 'wrap' continues periodically from "
        "the other end (PyTorch 'circular', ONNX 'wrap' from opset 19), each pad <= the axis size. The non-constant "
        "modes take pads >= 0 (they cannot crop).",
    attrs=(
        Attr("pads", "ints", doc="begin of each padded axis, then end of each; the padded axes are the last "
                                 "len(pads) / 2"),
        Attr("value", "float", 0.0, doc="the fill of 'constant' mode; 0.0 in the others"),
        Attr("mode", "str", "constant", choices=PAD_MODES, doc="'constant', 'reflect', 'edge' or 'wrap'"),
    ),
    infer=_pad_shape,
    check=_pad_check,
    scratch=_pad_scratch,
))

DROPOUT = define(OpSchema(
    name="dropout", family="tensor", doc="Identity at inference; the training rate is kept.",
    attrs=(Attr("rate", "float", 0.5),),
))
IDENTITY = define(OpSchema(name="identity", family="tensor", doc="out = x"))


def _tile_check(attrs):
    repeats = attrs["repeats"]
    found = []
    if any(r < 1 for r in repeats):
        found.append(f"'repeats' entries must be >= 1. Received: repeats={repeats}")
    return found


def _tile_shape(attrs, shapes):
    shape, repeats = shapes[0], attrs["repeats"]
    if len(repeats) != len(shape):
        raise ValidationError(f"op 'tile': 'repeats' has one entry per axis. Expected {len(shape)} entries for a "
                              f"rank {len(shape)} input. Received: repeats={repeats}.")
    return [tuple(dims.mul(d, r) for d, r in zip(shape, repeats))]


TILE = define(OpSchema(
    name="tile", family="tensor",
    doc="out = numpy.tile(x, repeats): the whole tensor repeated repeats[i] times along each axis i.",
    attrs=(Attr("repeats", "ints", doc="one count per axis of the canonical tensor, >= 1"),),
    infer=_tile_shape, check=_tile_check,
))


def _concat_shape(attrs, shapes):
    axis = attrs["axis"]
    rank = len(shapes[0])
    if not 0 <= axis < rank or any(len(s) != rank for s in shapes):
        raise ValidationError(f"op 'concat': axis must be in [0, {rank}) for equal-rank inputs. Received: axis={axis}.")
    for other in range(rank):
        ints = {s[other] for s in shapes if not isinstance(s[other], str)}
        if other != axis and len(ints) > 1:
            raise ValidationError(f"op 'concat': the inputs differ on axis {other}. Expected equal sizes on every "
                                  f"axis but axis={axis}. Received: shapes={[list(s) for s in shapes]}.")
    total = dims.total(s[axis] for s in shapes)
    return [tuple(total if i == axis else next((s[i] for s in shapes if isinstance(s[i], int)), d)
                  for i, d in enumerate(shapes[0]))]


CONCAT = define(OpSchema(
    name="concat", family="merge", doc="Join inputs along one axis of the canonical tensor.",
    attrs=(Attr("axis", "int", doc="non-negative axis of the canonical tensor"),),
    inputs=(2, None), infer=_concat_shape,
))
