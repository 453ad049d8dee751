"""Reference kernels: maximum, minimum (numpy broadcasting, folded left to right)."""
from __future__ import annotations

from functools import reduce

import numpy as np

from .interpreter import kernel


@kernel("maximum")
def maximum(attrs, weights, *xs):
    return reduce(np.maximum, xs)


@kernel("minimum")
def minimum(attrs, weights, *xs):
    return reduce(np.minimum, xs)
