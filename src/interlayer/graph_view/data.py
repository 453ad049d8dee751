"""What the HTML view shows, as one JSON document: every graph input, node and graph output (``items``, in
topological order), the data-flow ``edges`` between them, the ``blocks`` they fold into and, per node, what a
click shows (op, attributes, input and output values with shapes and dtypes, weights with shapes)."""
from __future__ import annotations

import math
from typing import Any

from ..ir.graph import Graph
from .blocks import find_blocks


def graph_data(graph: Graph) -> dict[str, Any]:
    from ..drawing import FAMILY_COLOURS
    from ..ir.ops import OPS

    shapes, dtypes = graph.shapes(), _dtypes(graph)
    items: list[dict[str, Any]] = [_value_item("input", spec.name, spec.shape, spec.dtype) for spec in graph.inputs]
    producer = {spec.name: index for index, spec in enumerate(graph.inputs)}
    first = len(items)
    edges: dict[tuple[int, int], list[str]] = {}
    for node in graph.nodes:
        index = len(items)
        schema = OPS.get(node.op)
        items.append(_node_item(node, schema.family if schema else "", shapes, dtypes))
        for value in node.inputs:
            if value in producer:
                edges.setdefault((producer[value], index), []).append(value)
        producer.update((value, index) for value in node.outputs)
    for position, spec in enumerate(graph.outputs):
        index = len(items)
        items.append(_value_item("output", spec.name, shapes.get(spec.name, spec.shape), spec.dtype,
                                 label=f"output {position}"))
        if spec.name in producer:
            edges.setdefault((producer[spec.name], index), []).append(spec.name)
    blocks = _blocks(graph, items, first, edges)
    families = sorted({item["family"] for item in items if item.get("family") in FAMILY_COLOURS},
                      key=list(FAMILY_COLOURS).index)
    return {"title": graph.name, "nodes": len(graph.nodes), "params": graph.parameter_count(),
            "source": " ".join(str(graph.source.get(key, "")) for key in ("framework", "version")).strip(),
            "items": items, "edges": [[a, b, values] for (a, b), values in edges.items()], "blocks": blocks,
            "colours": {family: FAMILY_COLOURS[family] for family in families}}


def _dtypes(graph: Graph) -> dict[str, str]:
    from ..ir.check import infer_dtypes

    try:
        return infer_dtypes(graph)
    except Exception:  # a view of a graph whose dtypes cannot be inferred still shows everything else
        return {}


def _value_item(kind: str, name: str, shape, dtype: str | None, label: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "name": name, "label": label or name, "op": kind, "shape": _shape(shape),
            "dtype": dtype or "", "params": 0, "block": -1}


def _node_item(node, family: str, shapes: dict, dtypes: dict) -> dict[str, Any]:
    weights = [[name, _shape(array.shape), str(array.dtype), int(array.size)] for name, array in node.weights.items()]
    outputs = [[value, _shape(shapes.get(value, ())), dtypes.get(value, "")] for value in node.outputs]
    return {"kind": "node", "name": node.name, "label": node.name, "op": node.op, "family": family,
            "shape": outputs[0][1] + (f" +{len(outputs) - 1} more" if len(outputs) > 1 else ""),
            "params": sum(weight[3] for weight in weights), "block": -1, "attrs": _plain(node.to_json()["attrs"]),
            "inputs": [[value, _shape(shapes.get(value, ())), dtypes.get(value, "")] for value in node.inputs],
            "outputs": outputs, "weights": weights}


def _blocks(graph: Graph, items: list[dict], first: int, edges: dict) -> list[dict[str, Any]]:
    """The blocks of the nodes (``blocks.find_blocks``), by item index; each item gets its innermost block."""
    count = len(graph.nodes)
    node_edges = [(a - first, b - first) for a, b in edges if first <= a < first + count and first <= b < first + count]
    blocks, innermost = find_blocks([node.name for node in graph.nodes], node_edges)
    for offset, block in enumerate(innermost):
        items[first + offset]["block"] = block
    return [{"name": block.name, "parent": block.parent, "depth": block.depth, "size": len(block.members),
             "first": first + block.members[0], "params": sum(items[first + m]["params"] for m in block.members)}
            for block in blocks]


def _shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _plain(value: Any) -> Any:
    """Strict JSON: tuples as lists, infinities and NaN as the strings 'inf', '-inf', 'nan'."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value
