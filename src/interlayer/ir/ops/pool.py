"""Pooling: windowed max and average pooling, and global pooling over all spatial axes."""
from __future__ import annotations

from ...errors import ValidationError
from .schema import Attr, OpSchema, define, per_axis, window_check, window_scratch, window_shape


def _pool_shape(attrs, shapes):
    shape = shapes[0]
    rank = len(attrs["kernel_size"])
    if len(shape) != rank + 2:
        raise ValidationError(f"pooling: a {rank}-D window needs a rank {rank + 2} input. Received: shape={shape}.")
    return [window_shape(attrs, shape, shape[1], attrs["ceil_mode"])]


def _pool_check(attrs):
    found = window_check(attrs)
    if found:  # the pads and windows below are read per axis: their lengths first
        return found
    rank = len(attrs["kernel_size"])
    for i in range(rank):
        if max(attrs["pads"][i], attrs["pads"][rank + i]) * 2 > attrs["kernel_size"][i] * attrs.get("dilations", [1] * rank)[i]:
            found.append(f"pads must be at most half the window on each axis. Received: pads={attrs['pads']}, "
                         f"kernel_size={attrs['kernel_size']}")
            break
    return found


_WINDOW = (
    Attr("kernel_size", "ints", doc="one entry per spatial axis"),
    Attr("strides", "ints", per_axis(1), doc="frontends always write it (PyTorch defaults it to kernel_size)"),
    Attr("pads", "ints", per_axis(0, 2), doc="begin of each spatial axis, then end of each"),
    Attr("ceil_mode", "bool", False, doc="ceil instead of floor for the output length; the last window must "
                                         "start inside the input or its begin padding (PyTorch's rule)"),
)

MAX_POOL = define(OpSchema(
    name="max_pool", family="pool",
    doc="Windowed maximum; padded positions never win (they act as -inf).",
    attrs=_WINDOW[:3] + (Attr("dilations", "ints", per_axis(1)),) + _WINDOW[3:],
    infer=_pool_shape, check=_pool_check, scratch=window_scratch,
))

AVG_POOL = define(OpSchema(
    name="avg_pool", family="pool",
    doc="Windowed mean. The divisor counts the window's positions inside the input, plus its positions in the "
        "explicit padding when count_include_pad; positions past the padding (ceil_mode) never count.",
    attrs=_WINDOW + (Attr("count_include_pad", "bool", False,
                          doc="PyTorch default True; Keras 'same' and ONNX default behave as False"),),
    infer=_pool_shape, check=_pool_check, scratch=window_scratch,
))


def _global_shape(attrs, shapes):
    shape = shapes[0]
    if len(shape) < 3:
        raise ValidationError(f"global pooling needs a (N, C, *spatial) input. Received: shape={shape}.")
    return [(shape[0], shape[1], *([1] * (len(shape) - 2)))] if attrs["keepdims"] else [(shape[0], shape[1])]


_KEEPDIMS = (Attr("keepdims", "bool", False, doc="keep the spatial axes as size 1"),)
GLOBAL_AVG_POOL = define(OpSchema(
    name="global_avg_pool", family="pool", doc="Mean over every spatial axis (axes 2...).",
    attrs=_KEEPDIMS, infer=_global_shape,
))
GLOBAL_MAX_POOL = define(OpSchema(
    name="global_max_pool", family="pool", doc="Maximum over every spatial axis (axes 2...).",
    attrs=_KEEPDIMS, infer=_global_shape,
))
