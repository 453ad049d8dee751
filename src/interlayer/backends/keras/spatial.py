"""conv_transpose -> Conv1D/2D/3DTranspose ('same', or 'valid' with output_padding and a Cropping behind it);
resize -> UpSampling1D/2D/3D or Resizing where they compute the IR's resize exactly, else interlayer's Resize."""
from __future__ import annotations

import keras
import numpy as np

from ...ir import dims
from ...reference.spatial import resize_matrices
from ...registry import register
from .build import BuildContext, Held, assign, grown, prefers
from .layers import Resize
from .window import pad

_TRANSPOSE = {1: keras.layers.Conv1DTranspose, 2: keras.layers.Conv2DTranspose, 3: keras.layers.Conv3DTranspose}
_UPSAMPLING = {1: keras.layers.UpSampling1D, 2: keras.layers.UpSampling2D, 3: keras.layers.UpSampling3D}


@register("keras", "backend", "conv_transpose")
@prefers("channels_last")
def conv_transpose(ctx: BuildContext, node, inputs):
    attrs = ctx.attrs
    kernel, strides, rank = attrs["kernel_size"], attrs["strides"], len(attrs["kernel_size"])
    if not _transpose_ok(ctx, rank):
        return None
    begin = attrs["pads"][:rank]
    net_end = [end - extra for end, extra in zip(attrs["pads"][rank:], attrs["output_padding"])]
    # Keras's output: 'valid' is the full length plus output_padding (< stride) at the end; 'same' crops
    # (kernel - stride) // 2 from the begin and the rest from the end, or appends stride - kernel zeros
    same = [(max(k - s, 0) // 2, k - s - max(k - s, 0) // 2) for k, s in zip(kernel, strides)]
    if [*zip(begin, net_end)] == same:
        padding, output_padding, crop_begin, crop_end = "same", None, [0] * rank, [0] * rank
    else:
        padding, output_padding = "valid", [max(-n, 0) for n in net_end]
        crop_begin, crop_end = begin, [max(n, 0) for n in net_end]
    if output_padding is not None and any(p >= s for p, s in zip(output_padding, strides)):
        ctx.unsupported(f"Keras's output_padding must be smaller than the stride. Expected output_padding - pads_end "
                        f"< strides. Received: pads={attrs['pads']}, output_padding={attrs['output_padding']}, "
                        f"strides={strides}")
        return None
    x = ctx.channels_last(inputs[0])
    layer = ctx.layer(_TRANSPOSE[rank], filters=attrs["out_channels"], kernel_size=tuple(kernel),
                      strides=tuple(strides), padding=padding,
                      output_padding=None if output_padding is None else tuple(output_padding),
                      use_bias=attrs["bias"])
    y = layer(x.tensor)
    weight = node.weights["weight"]  # (in, out, *k) -> Keras's (*k, out, in)
    assign(layer.kernel, weight.transpose(*range(2, rank + 2), 1, 0))
    if attrs["bias"]:
        assign(layer.bias, node.weights["bias"])
    shape = ctx.output_shape
    full = Held(y, x.perm, (*shape[:2], *(grown(n, b + e) for n, b, e in zip(shape[2:], crop_begin, crop_end))))
    if any(crop_begin) or any(crop_end):
        full = pad(ctx, full, [-b for b in crop_begin], [-c for c in crop_end], suffix="crop")
    return ctx.output(full.tensor, x.perm)


def _transpose_ok(ctx: BuildContext, rank: int) -> bool:
    attrs = ctx.attrs
    if rank not in _TRANSPOSE:
        ctx.unsupported(f"Keras transposed convolutions are 1-D to 3-D. Expected len(kernel_size) <= 3. "
                        f"Received: kernel_size={attrs['kernel_size']}")
    elif attrs["groups"] != 1:
        ctx.unsupported(f"Keras's Conv{rank}DTranspose has no groups. Expected groups=1. "
                        f"Received: groups={attrs['groups']}")
    elif any(d != 1 for d in attrs["dilations"]):
        ctx.unsupported(f"Keras's Conv{rank}DTranspose with dilation_rate > 1 fails on TensorFlow's CPU kernels. "
                        f"Expected dilations of 1. Received: dilations={attrs['dilations']}")
    else:
        return True
    return False


@register("keras", "backend", "resize")
@prefers("channels_last")
def resize(ctx: BuildContext, node, inputs):
    attrs = ctx.attrs
    x = ctx.channels_last(inputs[0])
    spatial, sizes, rank = list(x.shape[2:]), attrs["sizes"], x.rank - 2
    if not all(isinstance(size, int) for size in (*spatial, *sizes)):
        return _resize_sized(ctx, x)
    matrices = resize_matrices(attrs, spatial)
    factors = [m // n if m % n == 0 else None for n, m in zip(spatial, sizes)]
    integer = None not in factors
    repeats = integer and all(np.array_equal(matrix, np.repeat(np.eye(n), factor, axis=0))
                              for matrix, n, factor in zip(matrices, spatial, factors))
    if repeats and rank in _UPSAMPLING:  # UpSampling repeats each input factor times: row o reads o // factor
        layer = ctx.layer(_UPSAMPLING[rank], size=factors[0] if rank == 1 else tuple(factors))
    elif rank == 2 and _bilinear(matrices, spatial, sizes):
        # tf.image.resize's bilinear is half_pixel with the sizes' own scale (checked against the reference)
        if integer:
            layer = ctx.layer(keras.layers.UpSampling2D, size=tuple(factors), interpolation="bilinear")
        else:
            layer = ctx.layer(keras.layers.Resizing, height=sizes[0], width=sizes[1], interpolation="bilinear")
    else:
        layer = ctx.layer(Resize, sizes=sizes, mode=attrs["mode"], coordinate_mode=attrs["coordinate_mode"],
                          scales=attrs["scales"])
    return ctx.output(layer(x.tensor), x.perm)


def _resize_sized(ctx: BuildContext, x: Held) -> Held:
    """A resize whose sizes are known only when the model runs: UpSampling where it repeats each position a whole
    number of times (nearest, asymmetric, the sizes a multiple of the input's), else interlayer's Resize, which
    computes its positions and weights then."""
    attrs, rank = ctx.attrs, x.rank - 2
    factors = [_factor(n, m) for n, m in zip(x.shape[2:], attrs["sizes"])]
    scales = attrs["scales"] or [None] * rank
    repeats = (attrs["mode"] == "nearest" and attrs["coordinate_mode"] == "asymmetric" and None not in factors
               and all(scale is None or scale == factor for scale, factor in zip(scales, factors)))
    if repeats and rank in _UPSAMPLING:
        layer = ctx.layer(_UPSAMPLING[rank], size=factors[0] if rank == 1 else tuple(factors))
        return ctx.output(layer(x.tensor), x.perm)
    sources, bindings = ctx.size_inputs(attrs["sizes"])
    layer = ctx.layer(Resize, sizes=attrs["sizes"], mode=attrs["mode"], coordinate_mode=attrs["coordinate_mode"],
                      scales=attrs["scales"], bindings=bindings)
    return ctx.output(layer([x.tensor, *sources]), x.perm)


def _factor(n, m) -> int | None:
    """The whole number ``m / n`` of two sizes (ints or size expressions), where the expressions show it."""
    if not all(isinstance(size, int) or dims.is_symbolic(size) and size != "?" for size in (n, m)):
        return None
    factor = dims.floordiv(m, n)
    return factor if isinstance(factor, int) and factor >= 1 and dims.equal(dims.mul(n, factor), m) else None


def _bilinear(matrices, spatial, sizes) -> bool:
    """Whether these are the matrices of half_pixel linear resizing with the sizes' own scale."""
    native = resize_matrices({"sizes": sizes, "scales": None, "mode": "linear", "coordinate_mode": "half_pixel"},
                             spatial)
    return all(np.array_equal(a, b) for a, b in zip(matrices, native))
