"""Spatial ops beyond convolution and pooling: transposed convolution and resizing."""
from __future__ import annotations

from ...errors import ValidationError
from .. import dims
from .schema import (Attr, OpSchema, Weight, define, groups_check, known_size, padded_shape, per_axis,
                     window_check)


def _conv_transpose_length(size, kernel: int, stride: int, dilation: int, begin: int, end: int, extra: int):
    """(size - 1) * stride + dilation * (kernel - 1) + 1 + output_padding - pads: the full length, cropped."""
    return dims.add(dims.mul(dims.sub(size, 1), stride), dilation * (kernel - 1) + 1 + extra - begin - end)


def _conv_transpose_check(attrs):
    found = window_check(attrs)
    rank = len(attrs["kernel_size"])
    if len(attrs["output_padding"]) != rank or any(p < 0 for p in attrs["output_padding"]):
        found.append(f"'output_padding' must have {rank} entries >= 0. "
                     f"Received: output_padding={attrs['output_padding']}")
    return found + groups_check(attrs)


def _conv_transpose_shape(attrs, shapes):
    shape = shapes[0]
    rank = len(attrs["kernel_size"])
    if len(shape) != rank + 2:
        raise ValidationError(f"op 'conv_transpose': a {rank}-D kernel needs a rank {rank + 2} input. "
                              f"Received: shape={shape}.")
    if not isinstance(shape[1], str) and shape[1] != attrs["in_channels"]:
        raise ValidationError(f"op 'conv_transpose': input has {shape[1]} channels (axis 1). "
                              f"Expected {attrs['in_channels']}.")
    pads = attrs["pads"]
    spatial = [_conv_transpose_length(shape[2 + i], attrs["kernel_size"][i], attrs["strides"][i],
                                      attrs["dilations"][i], pads[i], pads[rank + i], attrs["output_padding"][i])
               for i in range(rank)]
    if any(isinstance(n, int) and n < 1 for n in spatial):
        raise ValidationError(f"op 'conv_transpose': pads crop the whole output. Expected pads smaller than the "
                              f"transposed output. Received: pads={pads}, input shape={shape}.")
    return [(shape[0], attrs["out_channels"], *spatial)]


def _conv_transpose_scratch(attrs, shapes, outputs):
    """The zero-stuffed input, padded by the kernel's span for the full stride-1 conv, and its windows."""
    shape, rank = shapes[0], len(attrs["kernel_size"])
    stuffed = (*shape[:2], *((max(known_size(n), 1) - 1) * s + 1 for n, s in zip(shape[2:], attrs["strides"])))
    spans = [d * (k - 1) for k, d in zip(attrs["kernel_size"], attrs["dilations"])]
    full = [n + span for n, span in zip(stuffed[2:], spans)]
    return [stuffed, padded_shape(stuffed, spans * 2), (*shape[:2], *full, *attrs["kernel_size"]),
            (*outputs[0][:2], *(n + p for n, p in zip(full, attrs["output_padding"])))]


CONV_TRANSPOSE = define(OpSchema(
    name="conv_transpose", family="spatial",
    doc="N-D transposed convolution (the gradient of conv) over channels-first input (N, C, *spatial). Each input "
        "position i of each axis adds x[i] * weight[k] to the full output at i * stride + k * dilation, whose length "
        "is (size - 1) * stride + dilation * (kernel - 1) + 1; output_padding zeros are appended at the end of each "
        "axis, then pads are cropped from both ends, then the bias is added everywhere. PyTorch's padding p is "
        "pads = p at both ends.",
    attrs=(
        Attr("in_channels", "int"),
        Attr("out_channels", "int"),
        Attr("kernel_size", "ints", doc="one entry per spatial axis"),
        Attr("strides", "ints", per_axis(1)),
        Attr("dilations", "ints", per_axis(1)),
        Attr("pads", "ints", per_axis(0, 2),
             doc="amount cropped from the full output: begin of each spatial axis, then end of each"),
        Attr("output_padding", "ints", per_axis(0), doc="zeros appended at the end of each axis before cropping"),
        Attr("groups", "int", 1),
        Attr("bias", "bool", True),
    ),
    weights=(
        Weight("weight", "(in_channels, out_channels/groups, *kernel_size) (PyTorch's IOHW)",
               lambda a: (a["in_channels"], a["out_channels"] // a["groups"], *a["kernel_size"])),
        Weight("bias", "(out_channels,)", lambda a: (a["out_channels"],), present_if="bias"),
    ),
    infer=_conv_transpose_shape,
    check=_conv_transpose_check,
    scratch=_conv_transpose_scratch,
))


def _resize_check(attrs):
    found = []
    if any(isinstance(s, int) and s < 1 for s in attrs["sizes"]):
        found.append(f"'sizes' entries must be >= 1. Received: sizes={attrs['sizes']}")
    scales = attrs["scales"]
    if scales is not None and (len(scales) != len(attrs["sizes"]) or any(s <= 0 for s in scales)):
        found.append(f"'scales' must have one positive entry per spatial axis ({len(attrs['sizes'])}). "
                     f"Received: scales={scales}")
    return found


def _resize_shape(attrs, shapes):
    shape = shapes[0]
    sizes = attrs["sizes"]
    if len(shape) != len(sizes) + 2:
        raise ValidationError(f"op 'resize': {len(sizes)} output sizes need a rank {len(sizes) + 2} input "
                              f"(N, C, *spatial). Received: shape={shape}.")
    return [(shape[0], shape[1], *(dims.normal(d) for d in sizes))]


RESIZE = define(OpSchema(
    name="resize", family="spatial",
    doc="Resize the spatial axes of (N, C, *spatial) to 'sizes', axis by axis. For an axis of input length n and "
        "output length m, with scale = 1 / scales[i] (or n / m when scales is null), output index o reads the "
        "input coordinate x: asymmetric x = o * scale; half_pixel x = max((o + 0.5) * scale - 0.5, 0) (PyTorch "
        "clamps at 0); align_corners x = o * (n - 1) / (m - 1) (0 when m = 1). nearest reads x[min(floor(x), n - 1)], "
        "x computed in float32 as PyTorch does, so that exact ties fall as PyTorch's; linear reads "
        "(1 - f) * x[i] + f * x[i + 1] with i = floor(x), f = x - i and indices clamped to n - 1.",
    attrs=(
        Attr("sizes", "dims", doc="output size of each spatial axis: ints or size expressions ('2*H')"),
        Attr("scales", "floats", None, nullable=True,
             doc="output/input factor of each axis that maps coordinates instead of the sizes (PyTorch's "
                 "scale_factor without recompute_scale_factor); null: sizes / input sizes"),
        Attr("mode", "str", "nearest", choices=("nearest", "linear")),
        Attr("coordinate_mode", "str", "asymmetric", choices=("asymmetric", "half_pixel", "align_corners"),
             doc="ONNX's coordinate_transformation_mode names; PyTorch nearest is asymmetric, (bi)linear half_pixel "
                 "or align_corners"),
    ),
    infer=_resize_shape,
    check=_resize_check,
))
