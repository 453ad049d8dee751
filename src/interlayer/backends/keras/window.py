"""Sliding-window helpers shared by conv, pooling and pad: Keras padding modes and padding layers."""
from __future__ import annotations

import keras

from ...ir import layout
from ...ir.ops.schema import ceil_overflow
from .build import BuildContext, Held, grown
from .layers import ConstantPadding, Padding

_ZERO_PADDING = {1: keras.layers.ZeroPadding1D, 2: keras.layers.ZeroPadding2D, 3: keras.layers.ZeroPadding3D}
_CROPPING = {1: keras.layers.Cropping1D, 2: keras.layers.Cropping2D, 3: keras.layers.Cropping3D}


def padding_mode(begin, end, spatial, kernel, strides, dilations=None) -> str | None:
    """'valid' for no padding, 'same' when (begin, end) are TensorFlow's 'same' pads, else None."""
    if not any(begin) and not any(end):
        return "valid"
    if any(not isinstance(size, int) for size in spatial) and any(s != 1 for s in strides):
        return None  # 'same' pads depend on the size unless the stride is 1
    sizes = [size if isinstance(size, int) else 1 for size in spatial]
    same = layout.same_pads_all(sizes, list(kernel), list(strides), list(dilations or [1] * len(kernel)))
    return "same" if same == [*begin, *end] else None


def ceil_extra(spatial, attrs, dilations) -> list[int] | None:
    """End padding that makes a floor-mode window pass give the ceil_mode length (None: sizes unknown)."""
    rank = len(attrs["kernel_size"])
    if not attrs.get("ceil_mode"):
        return [0] * rank
    if any(not isinstance(size, int) for size in spatial):
        return None
    return [ceil_overflow(spatial[i], attrs["kernel_size"][i], attrs["strides"][i], dilations[i], attrs["pads"][i],
                          attrs["pads"][rank + i]) for i in range(rank)]


def pad(ctx: BuildContext, x: Held, begin, end, value: float = 0.0, suffix: str | None = "pad",
        mode: str = "constant") -> Held:
    """``x`` (held channels-last) padded with ``value``; negative amounts crop. Another mode of the IR's ``pad``
    ('reflect', 'edge', 'wrap', whose amounts are >= 0) is a :class:`Padding` layer. Layers are named
    ``<node>_<suffix>`` (the node's own name when ``suffix`` is None) and ``<node>_crop``."""
    rank = x.rank - 2
    grow = [(max(b, 0), max(e, 0)) for b, e in zip(begin, end)]
    crop = [(max(-b, 0), max(-e, 0)) for b, e in zip(begin, end)]
    tensor, shape = x.tensor, list(x.shape)
    grows = any(any(pair) for pair in grow)
    if grows:
        if mode != "constant":
            layer = ctx.layer(Padding, suffix, padding=grow, mode=mode)
        elif value == 0.0 and rank in _ZERO_PADDING:
            layer = ctx.layer(_ZERO_PADDING[rank], suffix, padding=grow[0] if rank == 1 else tuple(grow))
        else:
            layer = ctx.layer(ConstantPadding, suffix, padding=grow, value=value)
        tensor = layer(tensor)
    if any(any(pair) for pair in crop):
        crop_suffix = "crop" if grows or suffix is not None else None
        tensor = ctx.layer(_CROPPING[rank], crop_suffix, cropping=crop[0] if rank == 1 else tuple(crop))(tensor)
    for i, (b, e) in enumerate(zip(begin, end)):
        shape[2 + i] = grown(shape[2 + i], b + e)
    return Held(tensor, x.perm, tuple(shape))
