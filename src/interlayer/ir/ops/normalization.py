"""Normalisation over groups of channels or chosen axes: group_norm, layer_norm; and lrn, local response
normalisation over a window of neighbouring channels.

group_norm and layer_norm use the biased variance (the mean of squared deviations), as PyTorch and Keras do, and
have batch_norm's ``center``/``scale`` flags for which of ``offset``/``scale`` exist.
"""
from __future__ import annotations

from ...errors import ValidationError
from .schema import Attr, OpSchema, Weight, define, known_size

_AFFINE = (
    Attr("center", "bool", True, doc="whether 'offset' exists (PyTorch: affine, or LayerNorm's bias)"),
    Attr("scale", "bool", True, doc="whether 'scale' exists (PyTorch: affine, elementwise_affine)"),
)


def _group_norm_check(attrs):
    groups, channels = attrs["num_groups"], attrs["num_channels"]
    if groups < 1 or channels % groups:
        return [f"num_groups must divide num_channels. Received: num_groups={groups}, num_channels={channels}"]
    return []


def _group_norm_shape(attrs, shapes):
    shape = shapes[0]
    if len(shape) < 2:
        raise ValidationError(f"op 'group_norm': needs a (N, C, *spatial) input. Received: shape={shape}.")
    if not isinstance(shape[1], str) and shape[1] != attrs["num_channels"]:
        raise ValidationError(f"op 'group_norm': input has {shape[1]} channels (axis 1). "
                              f"Expected {attrs['num_channels']}.")
    return [shape]


GROUP_NORM = define(OpSchema(
    name="group_norm", family="normalization",
    doc="Split the channels (axis 1) into num_groups contiguous blocks; normalise each block of each sample over "
        "its channels and every spatial position: (x - mean) / sqrt(variance + epsilon), variance biased; then "
        "y * scale[c] + offset[c] per channel.",
    attrs=(
        Attr("num_groups", "int"),
        Attr("num_channels", "int"),
        Attr("epsilon", "float", 1e-5, doc="added to the variance (PyTorch 1e-5, Keras 1e-3)"),
        *_AFFINE,
    ),
    weights=(
        Weight("scale", "(num_channels,) gamma", lambda a: (a["num_channels"],), present_if="scale"),
        Weight("offset", "(num_channels,) beta", lambda a: (a["num_channels"],), present_if="center"),
    ),
    infer=_group_norm_shape,
    check=_group_norm_check,
))


def _layer_norm_check(attrs):
    axes, sizes = attrs["axes"], attrs["normalized_shape"]
    found = []
    if not axes or list(axes) != sorted(set(axes)) or axes[0] < 1:
        found.append(f"'axes' must be increasing, unique and >= 1 (the batch axis is never normalised). "
                     f"Received: axes={axes}")
    if len(sizes) != len(axes) or any(s < 1 for s in sizes):
        found.append(f"'normalized_shape' must have one size >= 1 per axis. Received: axes={axes}, "
                     f"normalized_shape={sizes}")
    return found


def _layer_norm_shape(attrs, shapes):
    shape = shapes[0]
    axes, sizes = attrs["axes"], attrs["normalized_shape"]
    if axes[-1] >= len(shape):
        raise ValidationError(f"op 'layer_norm': axes={axes} do not exist in a rank {len(shape)} input.")
    received = [shape[a] for a in axes]
    if any(not isinstance(d, str) and d != s for d, s in zip(received, sizes)):
        raise ValidationError(f"op 'layer_norm': the normalised axes {axes} have sizes {received}. "
                              f"Expected normalized_shape={sizes}.")
    return [shape]


LAYER_NORM = define(OpSchema(
    name="layer_norm", family="normalization",
    doc="Normalise each sample over 'axes': (x - mean) / sqrt(variance + epsilon), variance biased; then "
        "y * scale + offset, both shaped like the normalised axes (canonical order) and broadcast over the rest. "
        "nn.LayerNorm(C) on (N, T, C) is axes=[2]; ConvNeXt's channels-first LayerNorm on (N, C, H, W) is "
        "axes=[1]; nn.LayerNorm((C, H, W)) is axes=[1, 2, 3].",
    attrs=(
        Attr("axes", "ints", doc="the normalised axes of the canonical tensor: increasing, non-negative, not 0"),
        Attr("normalized_shape", "ints", doc="the sizes of those axes, in the same order"),
        Attr("epsilon", "float", 1e-5, doc="added to the variance (PyTorch 1e-5, Keras 1e-3)"),
        *_AFFINE,
    ),
    weights=(
        Weight("scale", "normalized_shape gamma", lambda a: tuple(a["normalized_shape"]), present_if="scale"),
        Weight("offset", "normalized_shape beta", lambda a: tuple(a["normalized_shape"]), present_if="center"),
    ),
    infer=_layer_norm_shape,
    check=_layer_norm_check,
))


def _lrn_before(attrs):
    """floor((size - 1) / 2), ONNX's (PyTorch's nn.LocalResponseNorm is size // 2)"""
    return (attrs["size"] - 1) // 2


def _lrn_check(attrs):
    size, before = attrs["size"], attrs["before"]
    found = []
    if size < 1:
        found.append(f"'size' must count at least one channel. Expected size >= 1. Received: size={size}")
    elif not 0 <= before < size:
        found.append(f"'before' must let the window hold channel c. Expected 0 <= before < size. Received: "
                     f"size={size}, before={before}")
    return found


def _lrn_shape(attrs, shapes):
    shape = shapes[0]
    if not 3 <= len(shape) <= 5:
        raise ValidationError(f"op 'lrn': needs a (N, C, *spatial) input with 1 to 3 spatial axes. Expected rank 3 "
                              f"to 5. Received: shape={shape}.")
    return [shape]


def _lrn_scratch(attrs, shapes, outputs):
    """The squares, padded on the channel axis by the window."""
    shape = shapes[0]
    return [(shape[0], known_size(shape[1]) + attrs["size"], *shape[2:])]


LRN = define(OpSchema(
    name="lrn", family="normalization",
    doc="Local response normalisation across channels (axis 1): y[c] = x[c] / (bias + alpha / size * "
        "sum(x[j]^2 for j in c - before .. c - before + size - 1)) ^ beta, channels outside the tensor counting 0. "
        "ONNX's LRN has before = floor((size - 1) / 2), PyTorch's nn.LocalResponseNorm size // 2: they differ for "
        "even sizes.",
    attrs=(
        Attr("size", "int", doc="the number of channels in the window, >= 1"),
        Attr("alpha", "float", 1e-4, doc="the scale of the mean of squares"),
        Attr("beta", "float", 0.75, doc="the exponent"),
        Attr("bias", "float", 1.0, doc="added to the scaled mean of squares (PyTorch's k)"),
        Attr("before", "int", _lrn_before, doc="how many channels before c the window starts, in [0, size)"),
    ),
    infer=_lrn_shape,
    check=_lrn_check,
    scratch=_lrn_scratch,
))
