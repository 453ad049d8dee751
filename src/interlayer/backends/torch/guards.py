"""What the source model requires of its input sizes (``Graph.sizes`` maxima, ``Graph.guards`` equalities), checked
at the top of ``forward``: ``require(T <= 512, 'T <= 512')``, one line per requirement, so that a sequence longer than the
position table, or an odd size where the model halves it, stops with a message saying which requirement the input
breaks rather than a shape error deep inside the model. ``torch._check`` makes it an assertion torch.export keeps
in a ``.pt2`` program too. A package's ``model.py`` carries its own copy of :func:`require`."""
from __future__ import annotations

import torch


def require(holds, requirement: str) -> None:
    """Stop when the input sizes break a requirement of the model."""
    torch._check(holds, lambda: f"the input sizes break a requirement of the model: {requirement}")


def requirements(graph) -> list[str]:
    """The relations to check, in the graph's order: each size's maximum (a position table's length), then each
    guard that says two sizes are equal (an even length: ``2*(T//2) == T``). Lower bounds are left out: torch.export
    states them where it would not trace a size of 1 (``H//32 > 1``), which the model accepts all the same."""
    from ...ir import dims

    found = [f"{name} <= {limits['max']}" for name, limits in graph.sizes.items() if limits.get("max") is not None]
    found += [guard for guard in graph.guards if dims.split_relation(guard)[1] == "=="]
    return list(dict.fromkeys(found))
