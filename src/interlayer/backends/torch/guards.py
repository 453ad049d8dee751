"""What the source model requires of its input sizes (``Graph.sizes`` ranges, ``Graph.guards``), checked at the top
of ``forward``: ``require(T <= 512, 'T <= 512')``, one line per requirement, so that a sequence longer than the
position table, or an odd size where the model halves it, stops with a message saying which requirement the input
breaks rather than a shape error deep inside the model. ``torch._check`` makes it an assertion torch.export keeps
in a ``.pt2`` program too. A package's ``model.py`` carries its own copy of :func:`require`."""
from __future__ import annotations

import torch


def require(holds, requirement: str) -> None:
    """Stop when the input sizes break a requirement of the model."""
    torch._check(holds, lambda: f"the input sizes break a requirement of the model: {requirement}")


def requirements(graph) -> list[str]:
    """The relations to check, in the graph's order: each size's range (beyond 1 and up), then each guard."""
    found = []
    for name, limits in graph.sizes.items():
        if (limits.get("min") or 1) > 1:
            found.append(f"{name} >= {limits['min']}")
        if limits.get("max") is not None:
            found.append(f"{name} <= {limits['max']}")
    return list(dict.fromkeys([*found, *graph.guards]))
