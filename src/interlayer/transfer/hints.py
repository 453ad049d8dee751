"""Hints: ``{"source node or parameter": "destination node or parameter"}`` as pinned node pairs."""
from __future__ import annotations

from ..ir.graph import Graph


def resolve_hints(hints: dict[str, str], source: Graph, destination: Graph,
                  holders: tuple[set[str], set[str]]) -> tuple[dict[str, str], list[str]]:
    """Hints as pinned node pairs. A hint may name a node, a parameter (as its model names it) or an IR tensor
    on each side; a parameter pins its node, and both parameters must play the same role (weight, bias...).
    ``holders``: each side's parameter nodes, the only ones a hint may pin."""
    pins: dict[str, str] = {}
    problems = []
    for key, value in hints.items():
        found = (_locate(source, key, "source", holders[0], problems),
                 _locate(destination, value, "destination", holders[1], problems))
        if None in found:
            continue
        (source_node, source_weight), (destination_node, destination_weight) = found
        if source_weight and destination_weight and source_weight != destination_weight:
            problems.append(f"hints: '{key}' -> '{value}' pairs a '{source_weight}' with a '{destination_weight}'. "
                            f"Expected parameters of the same role (weights are paired by role within a layer). "
                            f"Received: {key!r}: {value!r}. Pin the layers by their node names instead.")
        elif pins.setdefault(source_node, destination_node) != destination_node:
            problems.append(f"hints: source node '{source_node}' is pinned to two destination nodes. Expected one. "
                            f"Received: '{pins[source_node]}' and '{destination_node}'.")
    for target, sources in _group(pins).items():
        if len(sources) > 1:
            problems.append(f"hints: destination node '{target}' is pinned to several source nodes. Expected one. "
                            f"Received: {sources}.")
    return pins, problems


def _locate(graph: Graph, name: str, side: str, holders: set[str],
            problems: list[str]) -> tuple[str, str | None] | None:
    """(node, weight or None) for a node, parameter or IR tensor name; None, with a problem, for anything else."""
    nodes = {node.name: node for node in graph.nodes}
    if name in nodes:
        found = name, None
    else:
        tensor = (graph.source.get("name_map") or {}).get(name, name)
        owner, _, weight = tensor.rpartition(".")
        found = (owner, weight) if owner in nodes and weight in nodes[owner].weights else None
    if found is None:
        problems.append(f"hints: '{name}' is neither a node nor a parameter of the {side}. Expected one of its "
                        f"layers with weights, e.g. {sorted(holders)[:6]}. Received: {name!r}.")
        return None
    if found[0] not in holders:
        problems.append(f"hints: {side} node '{found[0]}' holds no weights of its model. Expected a layer with "
                        f"weights, e.g. {sorted(holders)[:6]}. Received: {name!r}.")
        return None
    return found


def _group(pins: dict[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for source_node, destination_node in pins.items():
        grouped.setdefault(destination_node, []).append(source_node)
    return grouped
