"""Reference kernels of comparisons and logic: bool results, numpy broadcasting."""
from __future__ import annotations

import numpy as np

from .algebra import _operands
from .interpreter import kernel

_COMPARE = {"equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
            "greater": np.greater, "greater_equal": np.greater_equal, "logical_and": np.logical_and,
            "logical_or": np.logical_or, "logical_xor": np.logical_xor}


def _comparison(op: str, function):
    def compute(attrs, weights, *xs):
        left, right = _operands(attrs, weights, xs)
        return function(left, right)

    compute.__name__ = op
    return kernel(op)(compute)


for _op, _function in _COMPARE.items():
    _comparison(_op, _function)


@kernel("logical_not")
def logical_not(attrs, weights, x):
    return np.logical_not(x)
