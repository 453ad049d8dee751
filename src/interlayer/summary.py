"""A model.summary()-like table of a graph: node, op, output shape, parameters, provenance."""
from __future__ import annotations

from .ir.graph import Graph


def summary(graph: Graph) -> str:
    shapes = graph.shapes()
    rows = [("node", "op", "output shape", "params")]
    for spec in graph.inputs:
        rows.append((spec.name, "input", _shape(spec.shape), "0"))
    for node in graph.nodes:
        params = sum(array.size for array in node.weights.values())
        rows.append((node.name, node.op, _shape(shapes[node.outputs[0]]), f"{params:,}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"graph '{graph.name}'"]
    rule = "-" * (sum(widths) + 6)
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
        if index == 0:
            lines.append(rule)
    lines.append(rule)
    total_bytes = sum(array.nbytes for _, array in graph.tensors())
    lines.append(f"total parameters: {graph.parameter_count():,} ({total_bytes:,} bytes in "
                 f"{sum(1 for _ in graph.tensors())} tensors)")
    lines.append("outputs: " + ", ".join(f"{spec.name} {_shape(spec.shape)}" for spec in graph.outputs))
    source = graph.source or {}
    if source:
        mapped = len(source.get("name_map", {}))
        lines.append(f"source: {source.get('framework') or 'unknown'} {source.get('version', '')}".rstrip()
                     + f"; {mapped} source parameter names mapped to IR tensors")
    return "\n".join(lines)


def _shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"
