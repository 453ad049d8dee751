"""Sizes at run time: each name a graph input binds is read once at the top of ``forward`` from that input
(``T = x.size(1)``), and a size expression (``interlayer.ir.dims``) becomes Python arithmetic over those values
(``N * T``, ``(H - 1) // 2 + 1``), so the module runs at any size and ``torch.export`` keeps every name dynamic.

Only the sizes a converter asks for are kept: reads nobody uses are removed when the model is finished
(:meth:`Sizes.prune`). Arithmetic nodes are marked ``node.meta[INLINE]``: the package writer writes them where
they are used (``x.reshape(N * T, 6)``).
"""
from __future__ import annotations

import operator
from typing import Any

import torch
from torch import fx

from ...ir import dims
from .forward_text import INLINE
from .names import identifier

_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv, "%": operator.mod,
               "max": torch.sym_max, "min": torch.sym_min, "neg": operator.neg}
"""fx targets of the operations of a size expression; torch.sym_max/min keep ``torch.export`` from guarding on
which operand is larger (Python's max would compare them)."""
_PLAIN = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv, "%": operator.mod,
          "max": max, "min": min, "neg": operator.neg}


_RELATIONS = {"==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge, "<": operator.lt,
              ">": operator.gt}


class Sizes:
    """The size values of one fx graph under construction."""

    def __init__(self, graph: fx.Graph, bound: dict[str, tuple[fx.Node, int]]):
        """``bound``: each name -> (the placeholder of the input that binds it, the axis). The reads are made
        here, in that order, so they stand at the top of ``forward``."""
        self.graph = graph
        self.reads: dict[str, fx.Node] = {}
        for name, (placeholder, axis) in bound.items():
            self.reads[name] = graph.create_node("call_method", "size", (placeholder, axis), {},
                                                 name=identifier(name))
        self.computed: dict[str, fx.Node] = {}
        self.operations = {symbol: self._operation(symbol) for symbol in _ARITHMETIC}

    def value(self, dim: Any) -> int | fx.Node:
        """An int size as it is; an expression as the fx value computing it (one node per expression, shared)."""
        dim = dims.normal(dim)
        if isinstance(dim, int):
            return dim
        if dim in self.reads:
            return self.reads[dim]
        if dim not in self.computed:
            result = dims.evaluate(dim, self.reads, self.operations)
            if isinstance(result, fx.Node):
                self.computed[dim] = result
            else:
                return result
        return self.computed[dim]

    def relation(self, text: str) -> bool | fx.Node:
        """A relation between sizes (``"T <= 512"``, ``interlayer.ir.dims.relation``) as the fx value computing
        it, or a bool when it involves no size of this run."""
        left, symbol, right = dims.split_relation(text)
        operands = self.value(left), self.value(right)
        if not any(isinstance(operand, fx.Node) for operand in operands):
            return _RELATIONS[symbol](*operands)
        node = self.graph.create_node("call_function", _RELATIONS[symbol], operands, {}, name="holds")
        node.meta[INLINE] = True
        return node

    def values(self, sizes) -> tuple:
        return tuple(self.value(d) for d in sizes)

    def _operation(self, symbol: str):
        target, plain = _ARITHMETIC[symbol], _PLAIN[symbol]

        def apply(*operands):
            if not any(isinstance(operand, fx.Node) for operand in operands):
                return plain(*operands)
            node = self.graph.create_node("call_function", target, operands, {}, name="size")
            node.meta[INLINE] = True
            return node

        return apply

    def prune(self) -> None:
        """Remove the reads no code uses (a graph input binds more names than the model reads)."""
        for name, node in list(self.reads.items()):
            if not node.users:
                self.graph.erase_node(node)
                del self.reads[name]

