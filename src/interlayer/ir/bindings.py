"""Which sizes to run a graph at: a value for each size name its inputs bind, within the graph's ranges and
keeping its guards (``Graph.sizes``, ``Graph.guards``), as close to the sizes asked for as they allow.

Checks run graphs at seeded sizes (the batch 2, other sizes 8) and at other sizes too (``alternatives``), so
that a converted model is shown to work at more than the example's sizes; a model that accepts a single size
for some name (ViT's image, LeNet-5's 28 to 31 pixels) is run at the sizes it accepts.
"""
from __future__ import annotations

from typing import Mapping

from . import dims
from .check import bound_names
from .graph import Graph

SEARCH = 128
"""how many sizes near the one asked for the search tries for each name"""


def defaults(graph: Graph, batch: int = 2, length: int = 8) -> dict[str, int]:
    """The sizes asked for by default: ``batch`` for a name first bound by an axis 0 (the batch, whatever it is
    called), ``length`` for any other."""
    return {name: batch if axis == 0 else length for name, (_, axis) in bound_names(graph).items()}


def choose(graph: Graph, wanted: Mapping[str, int]) -> dict[str, int] | None:
    """A size for each name the graph's inputs bind: ``wanted``'s where allowed, else allowed ones near it,
    searched name by name in input order with backtracking (a guard may tie several names); None when no sizes
    within reach keep the guards."""
    names = list(bound_names(graph))
    guards = sorted(graph.guards, key=len)
    candidates = []
    for name in names:
        low, high = _range(graph, name)
        start = min(max(wanted.get(name, 8), low), high if high is not None else 1 << 62)
        candidates.append(list(_around(start, low, high)))
    budget = [SEARCH * SEARCH]

    def search(index: int, chosen: dict[str, int]) -> dict[str, int] | None:
        if index == len(names):
            return chosen
        for size in candidates[index]:
            budget[0] -= 1
            if budget[0] < 0:
                return None
            trial = {**chosen, names[index]: size}
            if _keeps(guards, trial, names[index]):
                found = search(index + 1, trial)
                if found is not None:
                    return found
        return None

    return search(0, {})


def alternatives(graph: Graph, base: Mapping[str, int], count: int = 2) -> list[dict[str, int]]:
    """Up to ``count`` sets of sizes other than ``base``: the batch and every other size grown, where allowed."""
    found = []
    for step in range(1, count + 1):
        batch = {name for name, (_, axis) in bound_names(graph).items() if axis == 0}
        wanted = {name: size + (step if name in batch else 3 * step + (step - 1)) for name, size in base.items()}
        chosen = choose(graph, wanted)
        if chosen is not None and chosen != dict(base) and chosen not in found:
            found.append(chosen)
    return found


def _range(graph: Graph, name: str) -> tuple[int, int | None]:
    limits = graph.sizes.get(name, {})
    return max(int(limits.get("min", 1) or 1), 1), limits.get("max")


def _around(start: int, low: int, high: int | None) -> list[int]:
    """Sizes from ``start`` outwards (start, start+1, start-1, ...) within [low, high], at most SEARCH of them."""
    found = [start]
    for offset in range(1, SEARCH):
        for size in (start + offset, start - offset):
            if size >= low and (high is None or size <= high) and len(found) < SEARCH:
                found.append(size)
    return found


def _keeps(guards: list[str], bindings: Mapping[str, int], last: str) -> bool:
    """Whether every guard that reads ``last`` and only bound names holds."""
    for guard in guards:
        names = dims.relation_names(guard)
        if last in names and names <= set(bindings) and not dims.holds(guard, bindings):
            return False
    return True
