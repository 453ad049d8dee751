"""GraphBuilder: how frontends write IR. It names nodes, fills defaults, records provenance and collects
every unsupported layer so that one error names them all."""
from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..errors import UnsupportedLayerError
from . import ops
from .check import validate
from .graph import Graph, Node, TensorSpec


def _read_only(value) -> np.ndarray:
    """A read-only view of a weight, no copy: a frontend hands over the framework's own memory where the layout is
    the same (as ``state_dict`` does), and nothing reached through the graph can change the source model. A view
    in another order (a transposed kernel) is made row-major by :func:`_arrange`."""
    view = np.asarray(value).view()
    view.flags.writeable = False
    return view


def _arrange(node: Node, key: str) -> None:
    """Replace a weight held as a view in another order by a row-major copy; run on the builder's threads (numpy
    copies without holding the GIL), so that the transposes of a model's kernels overlap each other and the
    capture, and each source array is freed as soon as it is copied."""
    view = node.weights[key]
    array = np.ascontiguousarray(view)
    array.flags.writeable = False
    if node.weights.get(key) is view:
        node.weights[key] = array  # one key replaced: safe beside readers of the dict


_ARRANGERS: list[ThreadPoolExecutor] = []
_ARRANGING_BYTES = 16 * 2 ** 20


_ARRANGED_ALONE = 2 ** 20


def _threads() -> int:
    """The threads a process may use: ``OMP_NUM_THREADS`` when set (a batch worker's share of the cores)."""
    setting = os.environ.get("OMP_NUM_THREADS", "")
    return max(int(setting) if setting.isdigit() else os.cpu_count() or 1, 1)


def _forget_arrangers() -> None:
    """A forked child has none of its parent's threads: it starts its own pool when it needs one."""
    _ARRANGERS.clear()


os.register_at_fork(after_in_child=_forget_arrangers)


def _arrangers() -> ThreadPoolExecutor:
    if not _ARRANGERS:
        _ARRANGERS.append(ThreadPoolExecutor(_threads(), thread_name_prefix="interlayer-arrange"))
    return _ARRANGERS[0]


class GraphBuilder:
    def __init__(self, name: str, framework: str, version: str):
        self.name = name
        self.framework = framework
        self.version = version
        self.nodes: list[Node] = []
        self.inputs: list[TensorSpec] = []
        self.outputs: list[TensorSpec] = []
        self.name_map: dict[str, str] = {}
        self.shared: dict[str, str] = {}
        """IR tensor -> the IR tensor it copies: a source tensor met again (a layer called several times)"""
        self.problems: list[tuple[str, str]] = []
        self.sizes: dict[str, dict] = {}
        """size name -> its range (``Graph.sizes``)"""
        self.guards: list[str] = []
        """relations the input sizes must keep (``Graph.guards``)"""
        self._taken: set[str] = set()
        self._arranging: list[tuple[Future, int]] = []

    def unique(self, name: str) -> str:
        base, index = name, 1
        while name in self._taken:
            name = f"{base}_{index}"
            index += 1
        self._taken.add(name)
        return name

    def input(self, name: str, shape, dtype: str = "float32", perm=None) -> str:
        """Declare a graph input by its canonical shape; ``perm`` as in :class:`TensorSpec`."""
        name = self.unique(name)
        self.inputs.append(TensorSpec(name, tuple(shape), dtype, None if perm is None else tuple(perm)))
        return name

    def add(self, op: str, inputs: list[str], attrs: dict[str, Any] | None = None,
            weights: dict[str, Any] | None = None, *, name: str, sources: dict[str, str] | None = None) -> str:
        """Append a node and return its output value. ``sources`` maps weight name -> source parameter name."""
        return self.add_node(op, inputs, attrs, weights, name=name, sources=sources)[0]

    def add_node(self, op: str, inputs: list[str], attrs: dict[str, Any] | None = None,
                 weights: dict[str, Any] | None = None, *, name: str, sources: dict[str, str] | None = None) -> list[str]:
        """Append a node and return all its output values: ``<node>`` for one output, ``<node>:<i>`` for several."""
        schema = ops.get(op)
        node_name = self.unique(name)
        filled = schema.fill(dict(attrs or {}))
        count = schema.output_count(filled)
        outputs = [node_name] if count == 1 else [self.unique(f"{node_name}:{i}") for i in range(count)]
        arrays = {key: _read_only(value) for key, value in (weights or {}).items() if value is not None}
        node = Node(node_name, op, list(inputs), outputs, filled, arrays)
        self.nodes.append(node)
        for key, array in arrays.items():
            if array.flags.c_contiguous:
                continue
            if array.nbytes < _ARRANGED_ALONE or _threads() == 1:
                _arrange(node, key)  # a small copy costs less than handing it over
            else:
                self._arrange_later(node, key, array.nbytes)
        for weight, source in (sources or {}).items():
            if weight in arrays:
                self._record(source, node.tensor_name(weight), arrays[weight])
        return outputs

    def _arrange_later(self, node: Node, key: str, size: int) -> None:
        """Copy a weight view into row-major order on the builder's threads; at most ``_ARRANGING_BYTES`` wait
        at once (each pins its source array), so memory stays near one copy of the weights."""
        pending = []
        for future, waiting in [*self._arranging, (_arrangers().submit(_arrange, node, key), size)]:
            if future.done():
                future.result()  # its error, if any
            else:
                pending.append((future, waiting))
        while len(pending) > 1 and sum(waiting for _, waiting in pending) > _ARRANGING_BYTES:
            pending.pop(0)[0].result()
        self._arranging = pending

    def _record(self, source: str, tensor: str, array: np.ndarray) -> None:
        """Map ``source`` to ``tensor``; a source mapped before keeps its first tensor, and ``tensor`` is recorded as
        sharing it when it holds the same bits (another call of the same layer), else left unmapped."""
        first = self.name_map.get(source)
        if first is None:
            self.name_map[source] = tensor
            return
        owner, _, weight = first.rpartition(".")
        earlier = next((n.weights.get(weight) for n in self.nodes if n.name == owner), None)
        if earlier is not None and earlier.dtype == array.dtype and earlier.shape == array.shape \
                and earlier.tobytes() == array.tobytes():
            self.shared[tensor] = first

    def output(self, value: str, dtype: str | None = None, perm=None) -> None:
        """Declare a graph output; its dtype is inferred from the graph when not given."""
        self.outputs.append(TensorSpec(value, (), dtype, None if perm is None else tuple(perm)))

    def unsupported(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def prune(self) -> None:
        """Drop the nodes no graph output depends on (helpers a converter wrote that a later one made unneeded,
        such as zeros for an initial state that is no input at all), and their provenance."""
        needed = {spec.name for spec in self.outputs}
        kept = []
        for node in reversed(self.nodes):
            if any(value in needed for value in node.outputs):
                kept.append(node)
                needed.update(node.inputs)
        dropped = {node.name for node in self.nodes} - {node.name for node in kept}
        self.nodes = kept[::-1]
        self.name_map = {source: tensor for source, tensor in self.name_map.items()
                         if tensor.rpartition(".")[0] not in dropped}
        self.shared = {tensor: first for tensor, first in self.shared.items()
                       if tensor.rpartition(".")[0] not in dropped}

    def finish(self) -> Graph:
        """The validated graph; raises one error naming every unsupported layer met on the way."""
        for future, _ in self._arranging:
            future.result()
        if self.problems:
            raise UnsupportedLayerError(f"{self.framework} frontend", self.problems)
        graph = Graph(self.nodes, self.inputs, self.outputs, self.name,
                      {"framework": self.framework, "version": self.version, "name_map": dict(self.name_map)},
                      dict(self.sizes), list(self.guards))
        if self.shared:
            graph.source["shared"] = dict(self.shared)
        _output_dtypes(graph)
        validate(graph)
        shapes = graph.shapes()
        for spec in graph.outputs:
            spec.shape = shapes[spec.name]
        return graph


def _output_dtypes(graph: Graph) -> None:
    """The dtype of each output declared without one, inferred through the ops (float32 where the graph is too
    broken to infer: validation then names what is wrong)."""
    if all(spec.dtype is not None for spec in graph.outputs):
        return
    from .check import infer_dtypes

    try:
        inferred = infer_dtypes(graph)
    except Exception:  # noqa: BLE001  (validate() reports the graph's problem next)
        inferred = {}
    for spec in graph.outputs:
        if spec.dtype is None:
            spec.dtype = inferred.get(spec.name, "float32")
