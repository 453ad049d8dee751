"""Provenance both ways: from a source model's names to the IR and back.

``graph.source["name_map"]`` maps each source tensor (a PyTorch ``state_dict`` key, a Keras weight path) to the
IR tensor ``<node>.<weight>`` holding it; ``graph.source["output_names"]``, when present, names each graph output
as the source returned it (``last_hidden_state``). These functions read them the other way round.
"""
from __future__ import annotations

from .graph import Graph


def source_names(graph: Graph) -> dict[str, list[str]]:
    """IR tensor -> the source tensor names it holds (sorted; usually one), for every mapped IR tensor."""
    found: dict[str, list[str]] = {}
    for source, tensor in graph.source.get("name_map", {}).items():
        found.setdefault(tensor, []).append(source)
    return {tensor: sorted(names) for tensor, names in found.items()}


def unmapped_tensors(graph: Graph) -> list[str]:
    """The IR tensors no source name maps to (weights a frontend made up, e.g. a folded constant)."""
    mapped = set(graph.source.get("name_map", {}).values())
    return [name for name, _ in graph.tensors() if name not in mapped]


def output_names(graph: Graph) -> dict[str, str]:
    """Source output name -> IR value, in graph output order; the IR value names stand in where none was recorded."""
    names = graph.source.get("output_names") or [spec.name for spec in graph.outputs]
    return {name: spec.name for name, spec in zip(names, graph.outputs)}


def shared_nodes(graph: Graph) -> dict[str, str]:
    """Node -> the node whose weights it shares (a layer the source called several times).

    From ``graph.source["shared"]`` (copy tensor -> original tensor), keeping only pairs a target may really
    share: the same op and attributes, every weight of the copy recorded as shared and bit-identical to the
    original's. Anything else is built as an independent copy.
    """
    shared = graph.source.get("shared") or {}
    if not shared:
        return {}
    owners = {node.tensor_name(weight): node for node in graph.nodes for weight in node.weights}
    found: dict[str, str] = {}
    for node in graph.nodes:
        tensors = [node.tensor_name(weight) for weight in node.weights]
        originals = {owners[shared[t]].name for t in tensors if shared.get(t) in owners}
        if not tensors or len(originals) != 1 or not all(t in shared for t in tensors):
            continue
        original = owners[shared[tensors[0]]]
        if original.op != node.op or original.attrs != node.attrs or original.weights.keys() != node.weights.keys():
            continue
        if all(original.weights[w].dtype == array.dtype and original.weights[w].tobytes() == array.tobytes()
               for w, array in node.weights.items()):
            found[node.name] = found.get(original.name, original.name)
    return found
