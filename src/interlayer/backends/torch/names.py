"""Module names from IR node names: dots kept as nesting, each part a valid attribute, never two the same."""
from __future__ import annotations

import keyword
import re

_INVALID = re.compile(r"[^0-9A-Za-z_]")
_RESERVED: set[str] = set()


def part(text: str) -> str:
    """One path segment as a module attribute name; digit-only parts stay (as nn.Sequential names them)."""
    if text.isascii() and text.isdigit():
        return text
    text = _INVALID.sub("_", text) or "_"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or text in reserved():
        text += "_"
    return text


def identifier(text: str) -> str:
    """A valid Python identifier (forward() argument names)."""
    text = part(text)
    return "_" + text if text.isdigit() else text


def reserved() -> set[str]:
    """Attribute names an nn.Module or fx.GraphModule already has: a child of that name would be shadowed."""
    if not _RESERVED:
        from torch import fx, nn

        _RESERVED.update(dir(nn.Module()), dir(fx.GraphModule(nn.Module(), fx.Graph())))
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
            parts, prefixes = ["_".join(parts)], []
        path, index = ".".join(parts), 1
        while path in self.leaves or path in self.containers:
            path = ".".join(parts[:-1] + [f"{parts[-1]}_{index}"])
            index += 1
        self.leaves.add(path)
        self.containers.update(".".join(path.split(".")[:i]) for i in range(1, path.count(".") + 1))
        return path
