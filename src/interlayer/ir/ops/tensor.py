"""Ops that move data without arithmetic: flatten, reshape, transpose, pad, dropout, identity, tile; and concat.

``add`` lives with the arithmetic in ``algebra.py``.
"""
from __future__ import annotations

import math

from ...errors import ValidationError
from .schema import Attr, OpSchema, define, padded_shape


def _static(shape, op: str):
    if any(isinstance(d, str) for d in shape[1:]):
        raise ValidationError(f"op '{op}': needs static non-batch dimensions. Received: shape={shape}.")
    return shape


def _flatten_shape(attrs, shapes):
    shape = _static(shapes[0], "flatten")
    if attrs["axis"] != 1:
        raise ValidationError(f"op 'flatten': only axis=1 is defined. Received: axis={attrs['axis']}.")
    return [(shape[0], math.prod(shape[1:]))]


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
    target = list(attrs["shape"])
    numbers = [d for d in target if not isinstance(d, str)]
    if numbers.count(-1) > 1 or any(d == 0 or d < -1 for d in numbers):
        raise ValidationError(f"op 'reshape': 'shape' takes positive sizes and at most one -1. Received: shape={target}.")
    symbols = sorted(d for d in shape[1:] if isinstance(d, str))
    if sorted(d for d in target if isinstance(d, str)) != symbols:
        raise ValidationError(f"op 'reshape': every symbolic size of the input must appear once in 'shape', and no "
                              f"other. Expected the symbols {symbols}. Received: shape={target}, input shape={shape}.")
    total = math.prod(d for d in shape[1:] if not isinstance(d, str))
    if -1 in target:
        known = math.prod(d for d in numbers if d != -1)
        target[target.index(-1)] = total // known if known and total % known == 0 else -1
    if -1 in target or math.prod(d for d in target if not isinstance(d, str)) != total:
        raise ValidationError(f"op 'reshape': cannot reshape {shape[1:]} into {attrs['shape']}.")
    return [(shape[0], *target)]


RESHAPE = define(OpSchema(
    name="reshape", family="tensor",
    doc="Row-major reshape of the non-batch axes of the canonical tensor; the batch axis is kept. A symbolic size "
        "(a sequence length 'T') is written by its name and keeps its value: (N, T, 64) -> (N, T, 4, 16) is "
        "shape [\"T\", 4, 16].",
    attrs=(Attr("shape", "dims", doc="target sizes after the batch axis: positive ints, at most one -1, and each "
                                     "symbolic size of the input by name"),),
    infer=_reshape_shape,
))


def _transpose_shape(attrs, shapes):
    perm = attrs["perm"]
    if sorted(perm) != list(range(len(shapes[0]))) or perm[0] != 0:
        raise ValidationError(f"op 'transpose': 'perm' must permute all {len(shapes[0])} axes and keep axis 0 first. "
                              f"Received: perm={perm}.")
    return [tuple(shapes[0][p] for p in perm)]


TRANSPOSE = define(OpSchema(
    name="transpose", family="tensor", doc="out = numpy.transpose(x, perm); the batch axis stays first.",
    attrs=(Attr("perm", "ints"),), infer=_transpose_shape,
))


PAD_MODES = ("constant", "reflect", "edge", "wrap")
"""numpy.pad's names: 'edge' is PyTorch's 'replicate', 'wrap' its 'circular'; ONNX uses these names (wrap from 19)."""

_PAD_REACH = {"reflect": ("< size", lambda pad, size: pad < size), "wrap": ("<= size", lambda pad, size: pad <= size)}
"""How far each mode that copies the input's own values may pad an axis of a given size."""


def _pad_shape(attrs, shapes):
    shape = shapes[0]
    rank = len(shape) - 2
    pads, mode = attrs["pads"], attrs["mode"]
    if len(pads) != 2 * rank:
        raise ValidationError(f"op 'pad': needs {2 * rank} pads for a rank {len(shape)} input. Received: pads={pads}.")
    if mode in _PAD_REACH:
        rule, fits = _PAD_REACH[mode]
        too_far = [2 + i for i, d in enumerate(shape[2:]) if not isinstance(d, str)
                   and not (fits(pads[i], d) and fits(pads[rank + i], d))]
        if too_far:
            raise ValidationError(f"op 'pad': '{mode}' padding copies the input's own values, so each pad must be "
                                  f"{rule} of its axis. Expected pads {rule} on axes {too_far}. Received: "
                                  f"pads={pads}, input shape={tuple(shape)}.")
    spatial = [d if isinstance(d, str) else d + pads[i] + pads[rank + i] for i, d in enumerate(shape[2:])]
    return [(shape[0], shape[1], *spatial)]


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
    return [padded_shape(shapes[0], attrs["pads"])] if len(attrs["pads"]) == 2 * (len(shapes[0]) - 2) else []


PAD = define(OpSchema(
    name="pad", family="tensor",
    doc="Padding of the spatial axes (2...) of a channels-first tensor, numpy.pad's modes: 'constant' fills with "
        "'value' and a negative pad crops; 'reflect' mirrors the input without repeating the edge value "
        "([a, b, c] padded by 2 at the start: [c, b, a, b, c]; PyTorch and ONNX 'reflect'), each pad < the axis "
        "size; 'edge' repeats the edge value (PyTorch 'replicate', ONNX 'edge'); 'wrap' continues periodically from "
        "the other end (PyTorch 'circular', ONNX 'wrap' from opset 19), each pad <= the axis size. The non-constant "
        "modes take pads >= 0 (they cannot crop).",
    attrs=(
        Attr("pads", "ints", doc="begin of each spatial axis, then end of each"),
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
    if not repeats or repeats[0] != 1:
        found.append(f"'repeats' must keep the batch: axis 0 is the batch and is repeated once. Expected "
                     f"repeats[0] == 1. Received: repeats={repeats}")
    if any(r < 1 for r in repeats):
        found.append(f"'repeats' entries must be >= 1. Received: repeats={repeats}")
    return found


def _tile_shape(attrs, shapes):
    shape, repeats = shapes[0], attrs["repeats"]
    if len(repeats) != len(shape):
        raise ValidationError(f"op 'tile': 'repeats' has one entry per axis, the batch's first. Expected "
                              f"{len(shape)} entries for a rank {len(shape)} input. Received: repeats={repeats}.")
    # a symbolic size repeated is a size no name stands for: unknown, as concat's sum of one
    return [tuple(d if r == 1 else "?" if isinstance(d, str) else d * r for d, r in zip(shape, repeats))]


TILE = define(OpSchema(
    name="tile", family="tensor",
    doc="out = numpy.tile(x, repeats): the whole tensor repeated repeats[i] times along each axis i; the batch "
        "axis is kept (repeats[0] = 1). A symbolic size repeated more than once becomes unknown ('?').",
    attrs=(Attr("repeats", "ints", doc="one count per axis of the canonical tensor, >= 1; the batch's is 1"),),
    infer=_tile_shape, check=_tile_check,
))


def _concat_shape(attrs, shapes):
    axis = attrs["axis"]
    rank = len(shapes[0])
    if not 1 <= axis < rank or any(len(s) != rank for s in shapes):
        raise ValidationError(f"op 'concat': axis must be in [1, {rank}) for equal-rank inputs. Received: axis={axis}.")
    for other in range(rank):
        ints = {s[other] for s in shapes if not isinstance(s[other], str)}
        if other != axis and len(ints) > 1:
            raise ValidationError(f"op 'concat': the inputs differ on axis {other}. Expected equal sizes on every "
                                  f"axis but axis={axis}. Received: shapes={[list(s) for s in shapes]}.")
    sizes = [s[axis] for s in shapes]
    total = "?" if any(isinstance(d, str) for d in sizes) else sum(sizes)
    return [tuple(total if i == axis else d for i, d in enumerate(shapes[0]))]


CONCAT = define(OpSchema(
    name="concat", family="merge", doc="Join inputs along one axis of the canonical tensor.",
    attrs=(Attr("axis", "int", doc="non-negative axis of the canonical tensor"),),
    inputs=(2, None), infer=_concat_shape,
))
