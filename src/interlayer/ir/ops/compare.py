"""Comparisons and logic: the boolean masks models compute from token ids and positions (``ids != pad``,
``positions <= query``, ``mask & causal``). Comparisons take two inputs, or one input and the constant 'other'
(as arithmetic does, ``algebra.py``), with numpy broadcasting, and give bool; logic reads bools."""
from __future__ import annotations

from .algebra import _OTHER, _constant_attrs, _constant_check, _elementwise
from .schema import OpSchema, define


def _boolean(attrs, dtypes):
    return ["bool"]


def _compare(name: str, doc: str, ordered: bool = True) -> OpSchema:
    return define(OpSchema(
        name=name, family="compare",
        doc=f"{doc}, elementwise, as bool; two inputs, or one input and the constant 'other'.",
        attrs=_constant_attrs(ordered), weights=(_OTHER,), inputs=(1, 2),
        infer=_elementwise(name, False), check=_constant_check, dtypes=_boolean,
    ))


EQUAL = _compare("equal", "x == y", ordered=False)
NOT_EQUAL = _compare("not_equal", "x != y", ordered=False)
LESS = _compare("less", "x < y")
LESS_EQUAL = _compare("less_equal", "x <= y")
GREATER = _compare("greater", "x > y")
GREATER_EQUAL = _compare("greater_equal", "x >= y")
LOGICAL_AND = _compare("logical_and", "x and y", ordered=False)
LOGICAL_OR = _compare("logical_or", "x or y", ordered=False)
LOGICAL_XOR = _compare("logical_xor", "x xor y", ordered=False)
LOGICAL_NOT = define(OpSchema(name="logical_not", family="compare", doc="not x, elementwise, as bool",
                              dtypes=_boolean))
