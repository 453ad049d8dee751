"""What transformers are made of besides linear layers and norms (``embedding`` is in recurrent.py): constants
repeated over the batch (a class token, position ids), broadcasting (expand), masking (where), and attention itself.
"""
from __future__ import annotations

from ...errors import ValidationError
from .. import dims
from .algebra import broadcast
from .schema import Attr, OpSchema, Weight, define, known_size


def _batch_constant_shape(attrs, shapes):
    return [(shapes[0][0], *attrs["shape"])]


BATCH_CONSTANT = define(OpSchema(
    name="batch_constant", family="attention",
    doc="The weight 'value' repeated along axis 0 to the size of axis 0 of the input x: out[n] = value[0]. Only "
        "that size of x is read (a class token expanded to the batch, a mask or ids made from the input's shape).",
    attrs=(
        Attr("shape", "ints", doc="the sizes after axis 0"),
        Attr("trainable", "bool", False, doc="whether 'value' is a trained parameter (a class token)"),
    ),
    weights=(Weight("value", "(1, *shape)", lambda a: (1, *a["shape"])),),
    infer=_batch_constant_shape,
))


def _expand_shape(attrs, shapes):
    shape, target = shapes[0], [dims.normal(d) for d in attrs["shape"]]
    if len(target) < len(shape):
        raise ValidationError(f"op 'expand': 'shape' gives the sizes of every axis of the result, at least the "
                              f"input's {len(shape)}. Received: shape={attrs['shape']}.")
    for have, want in zip(shape, target[len(target) - len(shape):]):
        if have != 1 and isinstance(have, int) and isinstance(want, int) and have != want:
            raise ValidationError(f"op 'expand': an axis of size {have} cannot grow to {want}. Expected sizes "
                                  f"equal or 1. Received: input shape={list(shape)}, shape={attrs['shape']}.")
    return [tuple(target)]


EXPAND = define(OpSchema(
    name="expand", family="attention",
    doc="numpy.broadcast_to(x, shape): axes of size 1 repeat to 'shape', new axes in front.",
    attrs=(Attr("shape", "dims", doc="the sizes of every axis of the result: ints or size expressions"),),
    infer=_expand_shape,
))


def _where_shape(attrs, shapes):
    return [broadcast(shapes, "where")]


WHERE = define(OpSchema(
    name="where", family="attention",
    doc="Masked fill: out = value where condition (the second input, nonzero) else x (the first input), with "
        "numpy broadcasting of the two inputs.",
    attrs=(Attr("value", "float", doc="the fill value; -inf and the dtype's lowest are allowed"),),
    inputs=(2, 2), infer=_where_shape,
))


def _sdpa_shape(attrs, shapes):
    query, key, value = shapes[:3]
    if not len(query) == len(key) == len(value) or len(query) < 3:
        raise ValidationError(f"op 'scaled_dot_product_attention': query, key and value must have one rank >= 3. "
                              f"Received: shapes={[list(s) for s in shapes]}.")
    pairs = (("query's and key's head size", query[-1], key[-1]), ("key's and value's length", key[-2], value[-2]))
    for what, a, b in pairs:
        if isinstance(a, int) and isinstance(b, int) and a != b:
            raise ValidationError(f"op 'scaled_dot_product_attention': {what} differ. Expected equal sizes. "
                                  f"Received: shapes={[list(s) for s in shapes]}.")
    if isinstance(query[-1], int) and query[-1] < 1:
        raise ValidationError(f"op 'scaled_dot_product_attention': the head size scales the scores by "
                              f"1/sqrt(size). Expected a size >= 1. Received: query shape={list(query)}.")
    batch = broadcast([query[:-2], key[:-2], value[:-2]], "scaled_dot_product_attention")
    if len(shapes) == 4:  # the mask broadcasts against the scores
        broadcast([(*batch, query[-2], key[-2]), shapes[3]], "scaled_dot_product_attention")
    return [(*query[:-1], value[-1])]


def _sdpa_scratch(attrs, shapes, outputs):
    """The scores, (*batch, query length, key length)."""
    query, key = shapes[:2]
    return [(*(max(known_size(a), known_size(b)) for a, b in zip(query[:-2], key[:-2])), query[-2], key[-2])]


SDPA = define(OpSchema(
    name="scaled_dot_product_attention", family="attention",
    doc="softmax(query @ key^T * scale + mask) @ value over the last two axes (F.scaled_dot_product_attention). "
        "scale defaults to 1/sqrt(query's last size). causal: the mask is -inf above the diagonal (the top-left "
        "aligned lower triangle). An optional fourth input is an additive float mask, or a boolean one (True keeps).",
    attrs=(
        Attr("scale", "float", None, nullable=True, doc="None: 1/sqrt(head size)"),
        Attr("causal", "bool", False),
    ),
    inputs=(3, 4), infer=_sdpa_shape, scratch=_sdpa_scratch,
))
