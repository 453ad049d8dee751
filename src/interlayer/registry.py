"""Converter registration, lookup and plugin discovery.

A converter is registered for ``(framework, direction, key)``: direction ``"frontend"`` keys on a layer class
(or function) of the framework and turns it into IR nodes; ``"backend"`` keys on an IR op name and turns a node
into framework objects. Registering the same key twice is an error. The built-in converters of a framework are
imported only when that framework is first used, so ``import interlayer`` imports no framework.

Plugins are entry points of the group ``interlayer.converters``, named ``<framework>.<plugin>`` (for example
``keras.example = "interlayer.plugins.example"``). When a framework's converters are first looked up, its
built-in converters (both directions) are imported, then each of its plugins is loaded: a module is imported
(its ``@register`` decorators run), a function is called without arguments. An entry point whose name starts
with no known framework is loaded with the first framework used. A plugin that fails to load is skipped with a
:class:`PluginWarning` naming it, and named again in any error about a layer without a converter
(:func:`plugin_errors`); it never stops an unrelated conversion.
"""
from __future__ import annotations

import importlib
import warnings
from importlib import metadata
from typing import Any, Callable

from .errors import InterlayerError

FRAMEWORKS = ("torch", "keras", "onnx")
DIRECTIONS = ("frontend", "backend")
ENTRY_POINT_GROUP = "interlayer.converters"

_TABLES: dict[tuple[str, str], dict[Any, Callable]] = {}
_LOADED: set[tuple[str, str]] = set()
_PLUGGED: set[str] = set()
"""frameworks whose plugins were loaded (``""`` for the entry points of no known framework)"""
_PLUGIN_ERRORS: dict[str, str] = {}


class PluginWarning(UserWarning):
    """A converter plugin could not be loaded and was skipped."""


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
    """Every converter of one framework and direction: built-in ones, then plugins, loaded on first use."""
    _builtin(framework, direction)
    if framework not in _PLUGGED:
        _load_plugins(framework)
    return _TABLES.setdefault((framework, direction), {})


def plugin_errors() -> dict[str, str]:
    """The plugins that failed to load so far: entry point name -> what went wrong."""
    return dict(_PLUGIN_ERRORS)


def _builtin(framework: str, direction: str) -> None:
    if (framework, direction) not in _LOADED and framework in FRAMEWORKS:
        _LOADED.add((framework, direction))
        importlib.import_module(f"interlayer.{direction}s.{framework}.converters")


def _entry_points() -> list:
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


def _load_plugins(framework: str) -> None:
    """Load the plugins of ``framework`` (and those of no known framework, once) after its built-in converters,
    so that a plugin registering a built-in key again is reported rather than silently replaced."""
    _PLUGGED.add(framework)
    for direction in DIRECTIONS:
        _builtin(framework, direction)
    generic = "" not in _PLUGGED
    _PLUGGED.add("")
    for entry_point in _entry_points():
        target = entry_point.name.split(".", 1)[0]
        if target == framework or (generic and target not in FRAMEWORKS):
            _load_plugin(entry_point)


def _load_plugin(entry_point) -> None:
    try:
        loaded = entry_point.load()
        if callable(loaded) and not isinstance(loaded, type):
            loaded()
    except Exception as exc:  # a broken plugin must not stop the conversions that do not need it
        problem = f"{entry_point.value}: {type(exc).__name__}: {exc}"
        _PLUGIN_ERRORS[entry_point.name] = problem
        warnings.warn(f"interlayer: converter plugin '{entry_point.name}' failed to load and is skipped "
                      f"({problem}). Expected an importable module or a function taking no arguments in the "
                      f"'{ENTRY_POINT_GROUP}' entry point group.", PluginWarning, stacklevel=3)


def lookup(framework: str, direction: str, key: Any) -> Callable | None:
    return converters(framework, direction).get(key)


def _describe(key: Any) -> str:
    return getattr(key, "__qualname__", None) or repr(key)
