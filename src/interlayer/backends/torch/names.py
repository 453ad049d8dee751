"""Module names from IR node names: dots kept as nesting, each part a valid attribute, never two the same.

Names are data (an archive may hold any string), and they become Python in two places: attribute names of the
built module (and of the ``model.py`` a package writes, where they sit inside a class body) and the argument
names of ``forward``. So a part is never a keyword, never an attribute an ``nn.Module``, ``fx.GraphModule`` or
``nn.ModuleDict`` already has, and never a name Python mangles inside a class (``__x``); an argument name is
moreover never ``self``, a builtin or a global the generated ``forward`` reads (``torch``, ``inf``, ...).
"""
from __future__ import annotations

import builtins
import keyword
import re

_INVALID = re.compile(r"[^0-9A-Za-z_]")
_RESERVED: set[str] = set()
FX_GLOBALS = frozenset({"torch", "inf", "nan", "NoneType", "device", "fx_pytree", "pytree"})
"""The globals torch.fx's generated code may read (its ``_custom_builtins``)."""


def part(text: str) -> str:
    """One path segment as a module attribute name; digit-only parts stay (as nn.Sequential names them)."""
    if text.isascii() and text.isdigit():
        return text
    text = _INVALID.sub("_", text) or "_"
    if text[0].isdigit():
        text = "_" + text
    text = _unmangled(text)
    if keyword.iskeyword(text) or text in reserved():
        text += "_"
    return text


def mangled(text: str) -> bool:
    """Whether Python rewrites ``text`` inside a class body (``__x`` -> ``_Class__x``): two leading underscores
    and fewer than two trailing ones."""
    return text.startswith("__") and not text.endswith("__")


def _unmangled(text: str) -> str:
    return "_" + text.lstrip("_") if mangled(text) else text


def identifier(text: str) -> str:
    """A valid Python identifier for a ``forward()`` argument or a class: also never ``self``, a builtin or a
    global the generated code reads."""
    text = part(text)
    text = "_" + text if text.isdigit() else text
    while text == "self" or text in FX_GLOBALS or hasattr(builtins, text):
        text += "_"
    return text


def reserved() -> set[str]:
    """Attribute names an nn.Module, fx.GraphModule or nn.ModuleDict (a package's containers) already has: a
    child of that name would be shadowed."""
    if not _RESERVED:
        from torch import fx, nn

        _RESERVED.update(dir(nn.Module()), dir(fx.GraphModule(nn.Module(), fx.Graph())), dir(nn.ModuleDict()))
    return _RESERVED


class Names:
    """Deterministic module paths: sanitised parts; a path never reuses a leaf nor nests inside one."""

    def __init__(self):
        self.leaves: set[str] = set()
        self.containers: set[str] = set()

    def module(self, name: str) -> str:
        parts = [part(p) for p in name.split(".")]
        prefixes = [".".join(parts[:i]) for i in range(1, len(parts))]
        if any(prefix in self.leaves for prefix in prefixes):
            joined = "_".join(parts)  # "" and "act" give "__act": sanitised again as one part
            parts, prefixes = [joined if joined[0].isdigit() else part(joined)], []
        path, index = ".".join(parts), 1
        while path in self.leaves or path in self.containers:
            path = ".".join(parts[:-1] + [_unmangled(f"{parts[-1]}_{index}")])
            index += 1
        self.leaves.add(path)
        self.containers.update(".".join(path.split(".")[:i]) for i in range(1, path.count(".") + 1))
        return path
