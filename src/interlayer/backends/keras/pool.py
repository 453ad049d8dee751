"""max_pool / avg_pool -> MaxPooling / AveragePooling 1D-3D; global pools -> GlobalMax/AveragePooling."""
from __future__ import annotations

import keras

from ...ir import layout
from ...registry import register
from .build import BuildContext, prefers
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
        ctx.unsupported("ceil_mode needs static spatial sizes. Expected int sizes. "
                        f"Received: shape={list(x.shape)}")
        return None
    begin, end = attrs["pads"][:rank], [p + e for p, e in zip(attrs["pads"][rank:], extra)]
    padding = padding_mode(begin, end, x.shape[2:], attrs["kernel_size"], attrs["strides"])
    if padding is None:  # padded positions never win: pad with -inf, then pool without padding
        x, padding = pad(ctx, x, begin, end, value=float("-inf")), "valid"
    return _window(ctx, x, _MAX, padding)


@register("keras", "backend", "avg_pool")
@prefers("channels_last")
def avg_pool(ctx: BuildContext, node, inputs):
    attrs = ctx.attrs
    if not _rank_ok(ctx):
        return None
    x = ctx.channels_last(inputs[0])
    rank = len(attrs["kernel_size"])
    extra = ceil_extra(x.shape[2:], attrs, [1] * rank)
    if extra is None:
        ctx.unsupported("ceil_mode needs static spatial sizes. Expected int sizes. "
                        f"Received: shape={list(x.shape)}")
        return None
    begin, end = attrs["pads"][:rank], attrs["pads"][rank:]
    if attrs["count_include_pad"] and any(attrs["pads"]):
        # counted padding is real zeros; what is left (the ceil overflow) must never count, as Keras 'same'
        x = pad(ctx, x, begin, end)
        begin, end = [0] * rank, extra
    else:
        end = [p + e for p, e in zip(end, extra)]
    padding = padding_mode(begin, end, x.shape[2:], attrs["kernel_size"], attrs["strides"])
    if padding is None:
        ctx.unsupported(
            "Keras averages over 'valid' windows or TensorFlow's 'same' padding without counting it; these pads "
            f"are neither. Expected pads (+ ceil_mode overflow) of 0 or equal to 'same' padding "
            f"{layout.same_pads_all(x.shape[2:], attrs['kernel_size'], attrs['strides'])}. "
            f"Received: pads={attrs['pads']}, ceil_mode={attrs['ceil_mode']}, "
            f"count_include_pad={attrs['count_include_pad']}")
        return None
    return _window(ctx, x, _AVERAGE, padding)


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
