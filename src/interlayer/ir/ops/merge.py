"""Element-wise merges beyond add and concat: maximum, minimum (n-ary, numpy broadcasting)."""
from __future__ import annotations

from ...errors import ValidationError
from .algebra import broadcast
from .schema import OpSchema, define


def _broadcast(op: str):
    def infer(attrs, shapes):
        if len({len(shape) for shape in shapes}) > 1:
            raise ValidationError(f"op '{op}': inputs must have equal ranks (the batch axis first). "
                                  f"Received: shapes={[list(s) for s in shapes]}.")
        return [broadcast(shapes, op)]

    return infer


MAXIMUM = define(OpSchema(
    name="maximum", family="merge",
    doc="Element-wise maximum of two or more equal-rank inputs, numpy broadcasting, folded from the left "
        "(Keras Maximum, torch.maximum).",
    inputs=(2, None), infer=_broadcast("maximum"),
))
MINIMUM = define(OpSchema(
    name="minimum", family="merge",
    doc="Element-wise minimum of two or more equal-rank inputs, numpy broadcasting, folded from the left "
        "(Keras Minimum, torch.minimum).",
    inputs=(2, None), infer=_broadcast("minimum"),
))
