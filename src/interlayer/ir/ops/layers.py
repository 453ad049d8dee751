"""Layers with weights: linear, conv, batch_norm."""
from __future__ import annotations

from ...errors import ValidationError
from .schema import (Attr, OpSchema, Weight, define, groups_check, per_axis, window_check, window_scratch,
                     window_shape)


def _last_axis(expected: int, received, op: str) -> None:
    if not isinstance(received, str) and received != expected:
        raise ValidationError(f"op '{op}': input has {received} features on its last axis. Expected {expected}.")


def _linear_shape(attrs, shapes):
    _last_axis(attrs["in_features"], shapes[0][-1], "linear")
    return [(*shapes[0][:-1], attrs["out_features"])]


LINEAR = define(OpSchema(
    name="linear", family="layers",
    doc="y = x @ weight.T + bias over the last axis (PyTorch Linear, Keras Dense, ONNX Gemm with transB=1).",
    attrs=(
        Attr("in_features", "int", doc="size of the input's last axis"),
        Attr("out_features", "int", doc="size of the output's last axis"),
        Attr("bias", "bool", True, doc="whether a bias is added"),
    ),
    weights=(
        Weight("weight", "(out_features, in_features)", lambda a: (a["out_features"], a["in_features"])),
        Weight("bias", "(out_features,)", lambda a: (a["out_features"],), present_if="bias"),
    ),
    infer=_linear_shape,
))


def _conv_check(attrs):
    found = window_check(attrs)
    return found + groups_check(attrs)


def _conv_shape(attrs, shapes):
    shape = shapes[0]
    rank = len(attrs["kernel_size"])
    if len(shape) != rank + 2:
        raise ValidationError(f"op 'conv': a {rank}-D kernel needs a rank {rank + 2} input. Received: shape={shape}.")
    _channels(attrs["in_channels"], shape[1], "conv")
    return [window_shape(attrs, shape, attrs["out_channels"])]


def _channels(expected: int, received, op: str) -> None:
    if not isinstance(received, str) and received != expected:
        raise ValidationError(f"op '{op}': input has {received} channels (axis 1). Expected {expected}.")


CONV = define(OpSchema(
    name="conv", family="layers",
    doc="N-D cross-correlation over channels-first input (N, C, *spatial); the rank is len(kernel_size).",
    attrs=(
        Attr("in_channels", "int"),
        Attr("out_channels", "int"),
        Attr("kernel_size", "ints", doc="one entry per spatial axis"),
        Attr("strides", "ints", per_axis(1)),
        Attr("dilations", "ints", per_axis(1)),
        Attr("pads", "ints", per_axis(0, 2),
             doc="explicit zero padding: begin of each spatial axis, then end of each (ONNX order)"),
        Attr("groups", "int", 1),
        Attr("bias", "bool", True),
    ),
    weights=(
        Weight("weight", "(out_channels, in_channels/groups, *kernel_size) (OIHW)",
               lambda a: (a["out_channels"], a["in_channels"] // a["groups"], *a["kernel_size"])),
        Weight("bias", "(out_channels,)", lambda a: (a["out_channels"],), present_if="bias"),
    ),
    infer=_conv_shape,
    check=_conv_check,
    scratch=window_scratch,
))


def _bn_shape(attrs, shapes):
    _channels(attrs["num_features"], shapes[0][1], "batch_norm")
    return [shapes[0]]


BATCH_NORM = define(OpSchema(
    name="batch_norm", family="layers",
    doc="Inference batch normalisation over axis 1: (x - mean) / sqrt(variance + epsilon) * scale + offset.",
    attrs=(
        Attr("num_features", "int"),
        Attr("epsilon", "float", 1e-5, doc="added to the variance, exactly as the source had it"),
        Attr("momentum", "float", 0.1, nullable=True,
             doc="PyTorch convention: running = (1 - momentum) * running + momentum * batch (Keras: 1 - this); "
                 "null for a cumulative average"),
        Attr("center", "bool", True, doc="whether 'offset' exists"),
        Attr("scale", "bool", True, doc="whether 'scale' exists"),
    ),
    weights=(
        Weight("scale", "(num_features,) gamma", lambda a: (a["num_features"],), present_if="scale"),
        Weight("offset", "(num_features,) beta", lambda a: (a["num_features"],), present_if="center"),
        Weight("mean", "(num_features,) running mean", lambda a: (a["num_features"],)),
        Weight("variance", "(num_features,) running variance", lambda a: (a["num_features"],)),
    ),
    infer=_bn_shape,
))
