"""When a float32 model reproduces a graph: the project's equivalence rule, measured per graph and input.

A float32 computation cannot reproduce the exact result; how far it strays depends on the graph (its depth, its
reduction sizes, how much it cancels), on the inputs, and on the order in which the framework (its BLAS, its
convolution algorithm) sums. One fixed relative tolerance is either too loose for a small network or refuses a
correct deep or wide one. So the rule measures what float32 delivers for the graph at hand:

* the reference interpreter runs the graph in float64: the exact answer, for this purpose;
* it runs it again in float32 (every weight, input and node result rounded to float32, numpy's own summation
  order): one faithful float32 computation, whose error ``e32 = max |ref32 - ref64| / max |ref64|`` is what
  float32 rounding does to this value on these inputs;
* a model's value passes when ``max |model - ref64| / max |ref64| <= max(rtol, FACTOR * e32)``.

``rtol`` (1e-5) is the floor the project promises; ``FACTOR`` (32, five bits) covers another float32
computation summing in another order (blocked BLAS, FMA, Winograd or FFT convolutions), whose rounding is of the
same size as numpy's but not the same. A wrong conversion (a transposed kernel, a dropped bias, Keras's batch
norm epsilon 1e-3 for PyTorch's 1e-5) moves values by 1e-4 or far more, above both terms; the tests keep such
mistakes failing (``tests/test_tolerance.py``).

Two models compared with each other (``verify``) are each held to the same bound against the float64 reference
where one exists; without a graph to run, their difference is held to the bound itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .ir.graph import Graph

RTOL = 1e-5
FACTOR = 32.0


@dataclass(frozen=True)
class Bound:
    """The error allowed for one value: ``max(rtol, FACTOR * float32_error)``."""

    rtol: float
    float32_error: float

    @property
    def allowed(self) -> float:
        return max(self.rtol, FACTOR * self.float32_error)

    def describe(self) -> str:
        if FACTOR * self.float32_error <= self.rtol:
            return f"rtol {self.rtol:.0e}"
        return f"{self.allowed:.1e}: float32 rounding of this graph is {self.float32_error:.1e}, x{FACTOR:g}"


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| over the largest magnitude of ``expected`` (the project's equivalence measure)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if actual.shape != expected.shape:
        return float("inf")
    scale = max(float(np.abs(expected).max(initial=0.0)), np.finfo(np.float64).tiny)
    return float(np.abs(actual - expected).max(initial=0.0)) / scale


def bounds(graph: Graph, inputs: Sequence[np.ndarray], rtol: float = RTOL, *, keep_all: bool = False
           ) -> tuple[dict[str, np.ndarray], dict[str, Bound]]:
    """The graph's values computed in float64 (its outputs, or every value with ``keep_all``), and the bound
    each is held to, measured by the same run in float32."""
    from .reference import run

    exact = run(graph, list(inputs), keep_all=keep_all, declared=False)
    with np.errstate(all="ignore"):  # what overflows float32 here would overflow any float32 model too
        rounded = run(graph, list(inputs), keep_all=keep_all, compute="float32", declared=False)
    return exact, {name: Bound(rtol, _float32_error(rounded[name], value)) for name, value in exact.items()}


def _float32_error(rounded: np.ndarray, exact: np.ndarray) -> float:
    """The float32 run's relative error; 0 for integer and boolean values (exact or wrong) and where float32
    overflowed (a float32 model fails there itself: its error is not a measure of rounding)."""
    if np.asarray(exact).dtype.kind != "f":
        return 0.0
    error = relative_error(rounded, exact)
    return error if np.isfinite(error) else 0.0
