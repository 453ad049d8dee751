"""The text of a package's ``forward`` as a person writes it, from the code torch.fx generates: size arithmetic
and ``x.device`` where they are used (``x.reshape(N * T, 6)`` rather than ``size = N * T`` on a line of its own),
slices in Python's notation (``x[:, T - 1:]`` rather than ``x[(slice(None, None, None), slice(sub, None,
None))]``) and torch's functions by their public names (``torch.einsum``, not ``torch.functional.einsum``). Only
the spans that change are rewritten; every other character stays as fx wrote it.
"""
from __future__ import annotations

import ast
import copy
import re

INLINE = "interlayer.inline"
"""``fx.Node.meta`` key of a value the package writes where it is used, not on a line of its own (size
arithmetic, ``x.device``)."""
CALL = "interlayer.call"
"""``fx.Node.meta`` key of a call made for its effect (a size check): written as a plain call."""
_ARGUMENT = (ast.Call, ast.keyword, ast.Tuple, ast.List, ast.Slice, ast.Assign, ast.Return)
"""parents in which an inlined expression needs no parentheses (as an argument, an element, a slice bound)"""
_ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Constant, ast.Subscript)


def readable(body: list[str], inline: set[str], calls: set[str] = frozenset()) -> list[str]:
    """``body`` (forward's lines, each one statement) with the assignments to the names in ``inline`` removed
    and their values written where they are read, and the calls whose result nobody reads (``calls``: a size
    check) written as plain calls."""
    values: dict[str, ast.expr] = {}
    lines = []
    for line in body:
        indent = line[:len(line) - len(line.lstrip())]
        try:
            statement = ast.parse(line.strip()).body[0]
        except (SyntaxError, IndexError):
            lines.append(line)
            continue
        target = statement.targets[0] if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None
        if isinstance(target, ast.Name) and target.id in inline:
            values[target.id] = _substituted(statement.value, values)
            continue
        text = _public_names(_rewritten(line.strip(), statement, values))
        if isinstance(target, ast.Name) and target.id in calls:
            text = text.split(" = ", 1)[1]
        lines.append(indent + text)
    return lines


_PRIVATE = re.compile(r"\btorch\.functional\.(\w+)\b")


def _public_names(line: str) -> str:
    """``torch.functional.einsum`` (where fx finds the function) written as ``torch.einsum``, its public name."""
    import torch

    def public(match: re.Match) -> str:
        name = match.group(1)
        same = getattr(torch, name, None) is getattr(torch.functional, name, object())
        return f"torch.{name}" if same else match.group(0)

    return _PRIVATE.sub(public, line)


class _Inliner(ast.NodeTransformer):
    """Names replaced by their values; ``slice(a, b, c)`` calls as ``a:b:c``."""

    def __init__(self, values: dict[str, ast.expr]):
        self.values = values

    def visit_Name(self, node: ast.Name):
        return copy.deepcopy(self.values[node.id]) if node.id in self.values else node

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        if _is_slice(node):
            parts = [None if isinstance(a, ast.Constant) and a.value is None else a for a in node.args]
            parts += [None] * (3 - len(parts))
            return ast.Slice(*parts)
        return node


def _is_slice(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "slice"
            and not node.keywords and 1 <= len(node.args) <= 3)


def _substituted(value: ast.expr, values: dict[str, ast.expr]) -> ast.expr:
    return _Inliner(values).visit(copy.deepcopy(value))


def _rewritten(text: str, statement: ast.stmt, values: dict[str, ast.expr]) -> str:
    """``text`` with each span to change replaced: a subscript holding slices, or a name to inline."""
    spans: list[tuple[int, int, str]] = []

    def walk(node: ast.AST, parent: ast.AST | None) -> None:
        if isinstance(node, ast.Subscript) and _has_slices(node.slice):
            walk(node.value, node)
            index = _substituted(node.slice, values)
            items = index.elts if isinstance(index, ast.Tuple) else [index]
            spans.append((node.slice.col_offset, node.slice.end_col_offset, ", ".join(map(ast.unparse, items))))
            return
        if isinstance(node, ast.Name) and node.id in values:
            value = values[node.id]
            inline = ast.unparse(value)
            index = isinstance(parent, ast.Subscript) and parent.slice is node
            if not isinstance(parent, _ARGUMENT) and not index and not isinstance(value, _ATOMS):
                inline = f"({inline})"
            spans.append((node.col_offset, node.end_col_offset, inline))
            return
        for child in ast.iter_child_nodes(node):
            walk(child, node)

    walk(statement, None)
    if not spans:
        return text
    encoded = text.encode("utf-8")  # ast's offsets count UTF-8 bytes
    for begin, end, replacement in sorted(spans, reverse=True):
        encoded = encoded[:begin] + replacement.encode("utf-8") + encoded[end:]
    return encoded.decode("utf-8")


def _has_slices(index: ast.expr) -> bool:
    items = index.elts if isinstance(index, ast.Tuple) else [index]
    return any(_is_slice(item) for item in items)
