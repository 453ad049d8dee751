"""Converter registration and lookup.

A converter is registered for ``(framework, direction, key)``: direction ``"frontend"`` keys on a layer class
(or function) of the framework and turns it into IR nodes; ``"backend"`` keys on an IR op name and turns a node
into framework objects. Registering the same key twice is an error. The built-in converters of a framework are
imported only when that framework is first used, so ``import interlayer`` imports no framework.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from .errors import InterlayerError

FRAMEWORKS = ("torch", "keras")
DIRECTIONS = ("frontend", "backend")

_TABLES: dict[tuple[str, str], dict[Any, Callable]] = {}
_LOADED: set[tuple[str, str]] = set()


def register(framework: str, direction: str, *keys: Any, replace: bool = False) -> Callable[[Callable], Callable]:
    """Decorator: register ``fn`` as the converter of each key.

    The converter's signature is the one its framework and direction use (documented in the capture or build
    module of ``interlayer/frontends/<framework>`` or ``interlayer/backends/<framework>``), for example

    >>> @register("torch", "frontend", MyBlock)          # doctest: +SKIP
    ... def my_block(ctx, module):
    ...     return ctx.add("linear", [ctx.input(0)], {...}, {...})
    """
    if direction not in DIRECTIONS:
        raise InterlayerError(f"register: direction must be one of {DIRECTIONS}. Received: direction={direction!r}.")

    def decorate(fn: Callable) -> Callable:
        table = _TABLES.setdefault((framework, direction), {})
        for key in keys:
            if key in table and not replace and table[key] is not fn:
                raise InterlayerError(
                    f"register: {framework} {direction} converter for {_describe(key)} is registered twice "
                    f"({table[key].__module__}.{table[key].__name__} and {fn.__module__}.{fn.__name__}). "
                    f"Pass replace=True to override the built-in one."
                )
            table[key] = fn
        return fn

    return decorate


def converters(framework: str, direction: str) -> dict[Any, Callable]:
    """Every converter of one framework and direction, built-in ones loaded on first use."""
    if (framework, direction) not in _LOADED:
        _LOADED.add((framework, direction))
        importlib.import_module(f"interlayer.{direction}s.{framework}.converters")
    return _TABLES.setdefault((framework, direction), {})


def lookup(framework: str, direction: str, key: Any) -> Callable | None:
    return converters(framework, direction).get(key)


def _describe(key: Any) -> str:
    return getattr(key, "__qualname__", None) or repr(key)
