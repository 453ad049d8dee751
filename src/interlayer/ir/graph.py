"""The IR graph: named nodes over named values, weights held by the node that owns them.

A value is produced by exactly one node output or graph input. Shapes are tuples of ints with symbolic
dimensions as strings (the batch dimension is ``"N"`` by convention). Activations are channels-first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from ..errors import ArchiveError, ValidationError
from . import json_types

FORMAT_VERSION = 2
"""2: sizes are size expressions and no axis is special (a reshape or expand gives every axis); 1 is read and
upgraded (``upgrade_v1``)."""
BATCH = "N"
DTYPES = ("float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint64", "uint32",
          "uint16", "uint8", "bool")
"""The dtype names a graph input or output may have (those an archive stores)."""

Dim = int | str
Shape = tuple[Dim, ...]


@dataclass
class TensorSpec:
    """A graph input or output: a value name, its canonical shape (symbolic dims as strings) and dtype name.

    ``perm`` says how the source framework held the tensor: ``source = numpy.transpose(canonical, perm)``
    (``(0, 2, 3, 1)`` for a Keras NHWC image); ``None`` when the source held it as the IR does.
    """

    name: str
    shape: Shape
    dtype: str = "float32"
    perm: tuple[int, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}
        if self.perm is not None:
            data["perm"] = list(self.perm)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "spec") -> "TensorSpec":
        _require(json_types.problems(data, json_types.SPEC, where))
        perm = data.get("perm")
        return cls(data["name"], tuple(data["shape"]), data.get("dtype", "float32"), None if perm is None else tuple(perm))


@dataclass
class Node:
    """One layer or operation. ``weights`` maps a schema weight name to its array in canonical layout."""

    name: str
    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The node's configuration, weights excluded (they are stored as tensors ``<node>.<weight>``)."""
        return {
            "name": self.name,
            "op": self.op,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "attrs": _jsonable(self.attrs),
            "weights": sorted(self.weights),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], tensors: dict[str, np.ndarray] | None = None,
                  where: str = "node") -> "Node":
        """The node of ``data``; with ``tensors`` (an archive's), its weights, each of which must be there."""
        _require(json_types.problems(data, json_types.NODE, where))
        weights = {}
        if tensors is not None:
            for weight in data.get("weights", []):
                name = f"{data['name']}.{weight}"
                if name not in tensors:
                    raise ArchiveError(f"node '{data['name']}' ({data['op']}): weight '{weight}' is missing. Expected "
                                       f"the file to hold tensor '{name}'. Received: no such tensor. The file is "
                                       f"damaged, or its graph and tensors do not belong together.")
                weights[weight] = tensors[name]
        return cls(data["name"], data["op"], list(data["inputs"]), list(data["outputs"]), dict(data["attrs"]), weights)

    def tensor_name(self, weight: str) -> str:
        return f"{self.name}.{weight}"


@dataclass
class Graph:
    """A model as IR: inputs, nodes in topological order, outputs, and its provenance."""

    nodes: list[Node]
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    name: str = "model"
    source: dict[str, Any] = field(default_factory=dict)
    """Provenance: ``framework``, ``version`` and ``name_map`` (source parameter name -> IR tensor name)."""
    sizes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The range each size name may take: ``{"T": {"min": 2, "max": 512}}`` (``max`` None: unbounded)."""
    guards: list[str] = field(default_factory=list)
    """Relations the input sizes must keep for the model to run (``"((H - 2)//2 - 5)//2 - 3 == 1"``, a
    flattened map that must be 1x1): what the source derived, checked where the graph runs."""

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def producers(self) -> dict[str, Node]:
        return {value: node for node in self.nodes for value in node.outputs}

    def consumers(self) -> dict[str, list[Node]]:
        found: dict[str, list[Node]] = {}
        for node in self.nodes:
            for value in node.inputs:
                found.setdefault(value, []).append(node)
        return found

    def tensors(self) -> Iterator[tuple[str, np.ndarray]]:
        """Every weight as ``(<node>.<weight>, array)`` in node order."""
        for node in self.nodes:
            for weight, array in node.weights.items():
                yield node.tensor_name(weight), array

    def parameter_count(self) -> int:
        return int(sum(array.size for _, array in self.tensors()))

    def shapes(self) -> dict[str, Shape]:
        """Every value's shape, inferred from the inputs through each op's schema."""
        from .check import infer_shapes

        return infer_shapes(self)

    def to_networkx(self):
        """A ``networkx.DiGraph`` of node names, edges labelled with the value they carry."""
        import networkx as nx

        graph = nx.DiGraph()
        producers = self.producers()
        for spec in self.inputs:
            graph.add_node(spec.name, op="input")
        for node in self.nodes:
            graph.add_node(node.name, op=node.op)
            for value in node.inputs:
                source = producers[value].name if value in producers else value
                graph.add_edge(source, node.name, value=value)
        return graph

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "inputs": [spec.to_json() for spec in self.inputs],
            "outputs": [spec.to_json() for spec in self.outputs],
            "nodes": [node.to_json() for node in self.nodes],
            "source": _jsonable(self.source),
            **({"sizes": _jsonable(self.sizes)} if self.sizes else {}),
            **({"guards": list(self.guards)} if self.guards else {}),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: dict[str, Any], tensors: dict[str, np.ndarray] | None = None) -> "Graph":
        """The graph of ``data`` (its types checked first, ``json_types.GRAPH``); with ``tensors``, the weights."""
        _require(json_types.problems(data, json_types.GRAPH, "graph"))
        _require(json_types.problems(data.get("source", {}), json_types.SOURCE, "graph source"))
        version = data["format_version"]
        if version not in (1, FORMAT_VERSION):
            raise ValidationError(
                f"IR graph: unsupported format version. Expected format_version={FORMAT_VERSION} (or 1). "
                f"Received: format_version={version!r}. Upgrade interlayer to read newer graphs."
            )
        graph = cls(
            nodes=[Node.from_json(item, tensors, f"node {i}") for i, item in enumerate(data["nodes"])],
            inputs=[TensorSpec.from_json(item, f"graph input {i}") for i, item in enumerate(data["inputs"])],
            outputs=[TensorSpec.from_json(item, f"graph output {i}") for i, item in enumerate(data["outputs"])],
            name=data.get("name", "model"),
            source=dict(data.get("source", {})),
            sizes={name: dict(limits) for name, limits in data.get("sizes", {}).items()},
            guards=list(data.get("guards", [])),
        )
        return upgrade_v1(graph) if version == 1 else graph


def upgrade_v1(graph: Graph) -> Graph:
    """A format 1 graph in format 2. Format 1 kept the batch, ``"N"``, on axis 0 of every value and wrote a
    ``reshape``'s and an ``expand``'s sizes after it; format 2 writes every axis. Sizes format 1 could not name
    (``"?"``, a symbolic size repeated or summed) are inferred again."""
    for node in graph.nodes:
        if node.op in ("reshape", "expand") and isinstance(node.attrs.get("shape"), list):
            node.attrs = {**node.attrs, "shape": [BATCH, *node.attrs["shape"]]}
    for spec in graph.outputs:
        if any(isinstance(d, str) and not _is_expression(d) for d in spec.shape):
            spec.shape = ()
    try:
        from .check import infer_shapes

        shapes = infer_shapes(graph)
    except (ValidationError, KeyError):
        return graph  # validation names what is wrong
    for spec in graph.outputs:
        spec.shape = shapes.get(spec.name, spec.shape)
    return graph


def _is_expression(text: str) -> bool:
    from . import dims

    try:
        dims.normal(text)
    except ValidationError:
        return False
    return True


def _require(found: list[str]) -> None:
    """Raise one :class:`ValidationError` for JSON that breaks its schema, naming the first problem."""
    if found:
        raise ValidationError(f"IR graph JSON: {json_types.summary(found)}.")


def _jsonable(value: Any) -> Any:
    """Attributes as JSON: tuples become lists, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
