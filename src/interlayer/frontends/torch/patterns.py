"""Layers that Python code wrote out op by op, recognised from the calls around a converter's own.

``F.softsign`` is ``x / (1 + |x|)``, ``F.local_response_norm`` an average of squares over a padded channel window,
Hugging Face's ``NewGELUActivation`` a tanh formula: torch.export records their ATen calls, not the layer. A
recogniser registered for the call that yields such a layer's result (``@recogniser(aten.div)``) reads the
exported graph backwards from it and, when the calls are the layer's, returns the one IR op it is; the IR nodes
the earlier calls wrote are then read by nothing, and the capture prunes them. A recogniser returns None when the
calls are anything else, and the call converts as usual.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .context import Call

_RECOGNISERS: dict = {}


def recogniser(*packets) -> Callable:
    """Register ``fn(ctx) -> IR value | None`` to be tried before the converters of ``packets``."""
    def decorate(fn: Callable) -> Callable:
        for packet in packets:
            _RECOGNISERS.setdefault(packet, []).append(fn)
        return fn

    return decorate


def recognised(ctx: Call):
    """The IR value of the first recogniser of this call's operator that recognises it; None otherwise."""
    for fn in _RECOGNISERS.get(getattr(ctx.node.target, "overloadpacket", None), ()):
        found = fn(ctx)
        if found is not None:
            return found
    return None


def is_node(arg) -> bool:
    return hasattr(arg, "op") and hasattr(arg, "meta")


def calls(arg, *names: str) -> bool:
    """Whether ``arg`` is an fx node calling one of the ATen operators ``names`` (``"mul"``, any overload)."""
    if not is_node(arg) or arg.op != "call_function":
        return False
    return getattr(arg.target, "__name__", "").split(".")[0] in names


def argument(node, index: int, keyword: str, default=None):
    """An argument of an fx call, positional or by keyword."""
    if index < len(node.args):
        return node.args[index]
    return node.kwargs.get(keyword, default)


def number(ctx: Call, arg) -> float | None:
    """A Python number, or a constant 0-d tensor, as a float; None for anything else."""
    if isinstance(arg, (int, float)) and not isinstance(arg, bool):
        return float(arg)
    found = ctx.const(arg) if is_node(arg) else None
    if found is not None and found.tensor.dim() == 0 and found.tensor.is_floating_point():
        return float(found.tensor)
    return None


_FUNCTIONS = {"tanh": np.tanh, "exp": np.exp, "sqrt": np.sqrt, "neg": np.negative, "abs": np.abs,
              "sigmoid": lambda t: 1.0 / (1.0 + np.exp(-t)), "reciprocal": lambda t: 1.0 / t,
              "rsqrt": lambda t: 1.0 / np.sqrt(t)}
_BINARY = {"mul": np.multiply, "add": np.add, "sub": np.subtract, "div": np.divide}


def erf(t: np.ndarray) -> np.ndarray:
    import math

    return np.vectorize(math.erf)(t)


def formula(ctx: Call, node, root, depth: int = 24):
    """The element-wise function of ``root`` (an fx node) that ``node`` computes, as a numpy function, when every
    call between them is element-wise arithmetic with numbers (mul, add, sub, div, pow, tanh, erf...); None
    otherwise. ``depth`` bounds how many calls are read."""
    budget = [depth]

    def build(arg):
        if arg is root:
            return lambda t: t
        value = number(ctx, arg)
        if value is not None:
            return lambda t, value=value: value
        if not is_node(arg) or arg.op != "call_function" or budget[0] <= 0:
            return None
        budget[0] -= 1
        name = getattr(arg.target, "__name__", "").split(".")[0]
        if name in _FUNCTIONS or name == "erf":
            inner = build(arg.args[0])
            function = erf if name == "erf" else _FUNCTIONS[name]
            return None if inner is None else (lambda t, f=function, g=inner: f(g(t)))
        if name in ("add", "sub", "rsub", "mul", "div", "pow"):
            if name in ("add", "sub", "rsub") and argument(arg, 2, "alpha", 1) != 1 or arg.kwargs.get("rounding_mode"):
                return None
            left, right = build(arg.args[0]), build(arg.args[1])
            if left is None or right is None:
                return None
            if name == "rsub":
                return lambda t, a=left, b=right: b(t) - a(t)
            if name == "pow":
                return lambda t, a=left, b=right: np.power(a(t), b(t))
            return lambda t, f=_BINARY[name], a=left, b=right: f(a(t), b(t))
        return None

    return build(node)


def single_root(node, names=("tanh", "erf"), depth: int = 12):
    """The fx nodes a formula ending at ``node`` may read (the tensors met walking back through element-wise
    calls), nearest first, when one of the calls is one of ``names`` (a cheap test before ``formula``); else []."""
    seen, order, found, frontier = set(), [], False, [node]
    elementwise = set(_FUNCTIONS) | {"erf", "add", "sub", "rsub", "mul", "div", "pow"}
    while frontier and len(seen) < depth:
        current = frontier.pop(0)
        for arg in current.args:
            if not is_node(arg) or arg in seen:
                continue
            seen.add(arg)
            name = getattr(arg.target, "__name__", "").split(".")[0] if arg.op == "call_function" else ""
            found = found or name in names
            order.append(arg)
            if name in elementwise:
                frontier.append(arg)
    return order if found else []
