"""Element-wise math: exp, log, sqrt, abs, neg, softplus, selu, sign, softsign, shrink, erf, floor, ceil, sin,
cos, and log_softmax along one axis."""
from __future__ import annotations

from .schema import Attr, OpSchema, define

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def _unary(name: str, doc: str, *attrs: Attr, check=None) -> OpSchema:
    extra = {} if check is None else {"check": check}
    return define(OpSchema(name=name, family="math", doc=doc, attrs=attrs, **extra))


def _shrink_check(attrs):
    lambd = attrs["lambd"]
    return [] if lambd >= 0 else [f"'lambd' is a negative threshold. Expected lambd >= 0 (the thresholds are -lambd "
                                  f"and lambd). Received: lambd={lambd}"]


def _axis_check(attrs):
    axis = attrs["axis"]
    return [] if axis >= 0 else [f"'axis' must be a non-negative axis. Received: axis={axis}"]


EXP = _unary("exp", "exp(x)")
LOG = _unary("log", "natural logarithm ln(x); -inf at 0, NaN below")
SQRT = _unary("sqrt", "square root; NaN below 0")
ABS = _unary("abs", "|x|")
NEG = _unary("neg", "-x")
SOFTPLUS = _unary("softplus", "log(1 + exp(x)), computed stably; x itself where x > threshold (PyTorch's rule)",
                  Attr("threshold", "float", None, nullable=True,
                       doc="None: log(1 + exp(x)) everywhere; PyTorch's nn.Softplus uses 20"))
SELU = _unary("selu", f"scale * (x if x > 0 else alpha * (exp(x) - 1)) with the fixed alpha={SELU_ALPHA} and "
                      f"scale={SELU_SCALE}")
SIGN = _unary("sign", "-1 where x < 0, 0 where x == 0, 1 where x > 0")
SOFTSIGN = _unary("softsign", "x / (1 + |x|)")
ERF = _unary("erf", "the error function 2 / sqrt(pi) * integral from 0 to x of exp(-t^2) dt")
FLOOR = _unary("floor", "the largest integer <= x, as a float")
CEIL = _unary("ceil", "the smallest integer >= x, as a float")
SIN = _unary("sin", "sin(x), x in radians (rotary position tables)")
COS = _unary("cos", "cos(x), x in radians")
SHRINK = _unary("shrink", "x - bias where x > lambd, x + bias where x < -lambd, else 0 (ONNX's Shrink). PyTorch's "
                          "Hardshrink(lambd) is bias=0, Softshrink(lambd) is bias=lambd",
                Attr("lambd", "float", 0.5, doc="the threshold, >= 0"),
                Attr("bias", "float", 0.0, doc="subtracted above lambd, added below -lambd"),
                check=_shrink_check)
LOG_SOFTMAX = _unary("log_softmax", "x - log(sum(exp(x))) along one axis, computed stably",
                     Attr("axis", "int", doc="non-negative axis of the channels-first (canonical) tensor"),
                     check=_axis_check)
