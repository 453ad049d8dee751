"""max_pool / avg_pool -> MaxPooling / AveragePooling 1D-3D; global pools -> GlobalMax/AveragePooling.

An average over padding Keras cannot say (pads other than TensorFlow's 'same' left uncounted, ceil_mode's overflow
after counted pads) is interlayer's AveragePooling layer: zero padding, a 'valid' pass, each window rescaled to
its own divisor.
"""
from __future__ import annotations

import keras

from ...ir import dims, layout
from ...registry import register
from .build import BuildContext, Held, prefers
from .index import Slice
from .layers import AveragePooling
from .window import ceil_extra, pad, padding_mode

_MAX = {1: keras.layers.MaxPooling1D, 2: keras.layers.MaxPooling2D, 3: keras.layers.MaxPooling3D}
_AVERAGE = {1: keras.layers.AveragePooling1D, 2: keras.layers.AveragePooling2D, 3: keras.layers.AveragePooling3D}


def _window(ctx: BuildContext, x, classes, padding: str):
    attrs = ctx.attrs
    layer = ctx.layer(classes[len(attrs["kernel_size"])], pool_size=tuple(attrs["kernel_size"]),
                      strides=tuple(attrs["strides"]), padding=padding)
    return ctx.output(layer(x.tensor), x.perm)


def _rank_ok(ctx: BuildContext) -> bool:
    if len(ctx.attrs["kernel_size"]) in _MAX:
        return True
    ctx.unsupported(f"Keras pooling is 1-D to 3-D. Expected len(kernel_size) <= 3. "
                    f"Received: kernel_size={ctx.attrs['kernel_size']}")
    return False


@register("keras", "backend", "max_pool")
@prefers("channels_last")
def max_pool(ctx: BuildContext, node, inputs):
    attrs = ctx.attrs
    if not _rank_ok(ctx):
        return None
    if any(d != 1 for d in attrs["dilations"]):
        ctx.unsupported(f"Keras MaxPooling has no dilation. Expected dilations of 1. "
                        f"Received: dilations={attrs['dilations']}")
        return None
    x = ctx.channels_last(inputs[0])
    rank = len(attrs["kernel_size"])
    extra = ceil_extra(x.shape[2:], attrs, attrs["dilations"])
    if extra is None:
        return _max_pool_ceil_sized(ctx, x)
    begin, end = attrs["pads"][:rank], [p + e for p, e in zip(attrs["pads"][rank:], extra)]
    padding = padding_mode(begin, end, x.shape[2:], attrs["kernel_size"], attrs["strides"])
    if padding is None:  # padded positions never win: pad with -inf, then pool without padding
        x, padding = pad(ctx, x, begin, end, value=float("-inf")), "valid"
    return _window(ctx, x, _MAX, padding)


def _max_pool_ceil_sized(ctx: BuildContext, x: Held) -> Held:
    """ceil_mode over sizes known only when the model runs: -inf padding up to stride - 1 past the end pads gives
    a 'valid' pass ceil_mode's count of windows; a Slice then drops the last one where it would start past the
    input and its begin padding (PyTorch's rule, the min() in the output size)."""
    attrs = ctx.attrs
    rank, kernel, strides = len(attrs["kernel_size"]), attrs["kernel_size"], attrs["strides"]
    begin, end = attrs["pads"][:rank], attrs["pads"][rank:]
    padded = pad(ctx, x, begin, [e + s - 1 for e, s in zip(end, strides)], value=float("-inf"))
    pooled = _window(ctx, padded, _MAX, "valid")
    counts = [dims.add(dims.floordiv(dims.add(size, b + e - k), s), 1)
              for size, k, s, b, e in zip(x.shape[2:], kernel, strides, begin, end)]
    cut = [(axis, out) for axis, (count, out) in enumerate(zip(counts, ctx.output_shape[2:]), start=2)
           if not dims.equal(count, out)]
    if not cut:
        return pooled
    ends = [out for _, out in cut]
    sources, bindings = ctx.size_inputs(ends)
    layer = ctx.layer(Slice, "last_window", axes=[x.perm.index(axis) for axis, _ in cut], starts=[0] * len(cut),
                      ends=ends, bindings=bindings)
    return ctx.output(layer([pooled.tensor, *sources]), x.perm)


@register("keras", "backend", "avg_pool")
@prefers("channels_last")
def avg_pool(ctx: BuildContext, node, inputs):
    """Keras's AveragePooling where it is exact: 'valid' windows or TensorFlow's 'same' padding (never counted),
    behind zeros for counted pads; interlayer's AveragePooling for any other pads and ceil_mode."""
    attrs = ctx.attrs
    if not _rank_ok(ctx):
        return None
    x = ctx.channels_last(inputs[0])
    rank = len(attrs["kernel_size"])
    native = _keras_average(ctx, x)
    if native is not None:
        return native
    pairs = list(zip(attrs["pads"][:rank], attrs["pads"][rank:]))
    layer = ctx.layer(AveragePooling, pool_size=tuple(attrs["kernel_size"]), strides=tuple(attrs["strides"]),
                      padding=pairs, count_include_pad=attrs["count_include_pad"], ceil_mode=attrs["ceil_mode"])
    return ctx.output(layer(x.tensor), x.perm)


def _keras_average(ctx: BuildContext, x: Held) -> Held | None:
    """Keras's own AveragePooling (behind zeros for counted pads) where it computes the node exactly; else None,
    and no layer made."""
    attrs = ctx.attrs
    rank, kernel, strides = len(attrs["kernel_size"]), attrs["kernel_size"], attrs["strides"]
    begin, end = attrs["pads"][:rank], attrs["pads"][rank:]
    reach = _reach(ctx, x)
    if reach is None:
        return None
    if not (attrs["count_include_pad"] and any(attrs["pads"])):
        padding = padding_mode(begin, reach, x.shape[2:], kernel, strides)
        return None if padding is None else _window(ctx, x, _AVERAGE, padding)
    # counted padding is real zeros; what is left (the ceil overflow) must never count, as Keras 'same'
    padded = [n + b + e if isinstance(n, int) else n for n, b, e in zip(x.shape[2:], begin, end)]
    overflow = [max(r - e, 0) for r, e in zip(reach, end)]
    padding = padding_mode([0] * rank, overflow, padded, kernel, strides)
    return None if padding is None else _window(ctx, pad(ctx, x, begin, end), _AVERAGE, padding)


def _reach(ctx: BuildContext, x: Held) -> list[int] | None:
    """How far past the input's end the last window of each spatial axis reads: the end pads that matter, ceil_mode's
    overflow included. None when that depends on a size not known until the model runs."""
    attrs = ctx.attrs
    rank = len(attrs["kernel_size"])
    reach = []
    for axis, (size, out) in enumerate(zip(x.shape[2:], ctx.output_shape[2:])):
        kernel, stride = attrs["kernel_size"][axis], attrs["strides"][axis]
        begin, end = attrs["pads"][axis], attrs["pads"][rank + axis]
        if isinstance(size, int) and isinstance(out, int):
            reach.append(max((out - 1) * stride + kernel - size - begin, 0))
        elif stride == 1 or (end == 0 and not attrs["ceil_mode"]):
            reach.append(end)  # stride 1 reads every end pad and ceil_mode adds no window; floor mode none past it
        else:
            return None
    return reach


_GLOBAL = {
    "global_max_pool": {1: keras.layers.GlobalMaxPooling1D, 2: keras.layers.GlobalMaxPooling2D,
                        3: keras.layers.GlobalMaxPooling3D},
    "global_avg_pool": {1: keras.layers.GlobalAveragePooling1D, 2: keras.layers.GlobalAveragePooling2D,
                        3: keras.layers.GlobalAveragePooling3D},
}


@register("keras", "backend", "global_max_pool", "global_avg_pool")
@prefers("channels_last")
def global_pool(ctx: BuildContext, node, inputs):
    classes = _GLOBAL[node.op]
    rank = inputs[0].rank - 2
    if rank not in classes:
        ctx.unsupported(f"Keras global pooling is 1-D to 3-D. Expected a rank 3 to 5 input. Received: rank={rank + 2}")
        return None
    x = ctx.channels_last(inputs[0])
    keepdims = ctx.attrs["keepdims"]
    y = ctx.layer(classes[rank], keepdims=keepdims)(x.tensor)
    return ctx.output(y, x.perm if keepdims else layout.identity(2))
