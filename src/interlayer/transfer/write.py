"""Write IR weights into a live destination model, exactly, through the backend that builds its framework.

The destination's own graph says which IR tensor each of its parameters becomes (``name_map``), but not how to
turn an IR tensor back into that parameter's native layout: that knowledge lives in the backends. So:

1. ``build`` the destination's graph as it is (its current weights) and export that model again. Its
   ``name_map`` names the built model's parameter holding each IR tensor, and the built model's layers are named
   after the destination's nodes, so every destination parameter finds its twin by IR tensor name (names made
   valid for the framework on both sides). Where the frontend cannot read the built model back (a layer only
   the backend makes), the twin is looked up by name: the parameter's own name, or its last name in the layer
   named after its node. Every twin must hold the destination's current value bit for bit, as it is or
   transposed by exactly one permutation of its axes (a Hugging Face ``Conv1D`` keeps its linear weight as
   (in, out), the ``nn.Linear`` the backend builds as (out, in)): that proves what the round trip destination ->
   IR -> built model does to this parameter, layout included. A parameter
   without such a twin (a layer the backend builds another way, such as ``nn.MultiheadAttention``'s packed
   ``in_proj_weight``) is a problem; so is a parameter no IR tensor holds.
2. ``build`` the graph again with the new weights: the same layers, the same names; each destination parameter
   takes its twin's value.

Nothing is written until :meth:`Writer.write`; :meth:`Writer.snapshot` and :meth:`Writer.restore` undo a write.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ir.graph import Graph

_INVALID = re.compile(r"[^A-Za-z0-9_.]")
_KERAS_INVALID = re.compile(r"[^A-Za-z0-9_.\-]")  # the characters Keras layer names may not hold


@dataclass(frozen=True)
class Slot:
    parameter: str
    """the destination's name for it"""
    tensor: str
    """the IR tensor of the destination's graph that holds it"""
    twin: str
    """the built model's name for it"""
    shape: tuple[int, ...]
    axes: tuple[int, ...] | None = None
    """the destination holds the twin's value transposed by these axes (a Hugging Face ``Conv1D`` keeps a
    linear weight as (in, out)); None when it holds it as it is"""


class Writer:
    def __init__(self, model: Any, framework: str, graph: Graph, example_inputs: Any):
        self.model = model
        self.framework = framework
        self.graph = graph
        self.example_inputs = example_inputs
        self.slots: list[Slot] = []
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.skipped: list[str] = []
        """destination tensors no IR weight stands for (integer counters, seeds), left as they are"""

    # reading and writing the live model ---------------------------------------------------------------------

    def parameters(self, model: Any = None) -> dict[str, Any]:
        """name -> the live tensor or variable, floating ones only."""
        model = self.model if model is None else model
        if self.framework == "torch":
            return {k: v for k, v in model.state_dict(keep_vars=True).items() if v.is_floating_point()}
        return {v.path: v for v in model.weights if "float" in str(v.dtype)}

    def values(self, model: Any = None) -> dict[str, np.ndarray]:
        if self.framework == "torch":
            return {k: v.detach().cpu().numpy() for k, v in self.parameters(model).items()}
        import keras

        return {k: np.asarray(keras.ops.convert_to_numpy(v)) for k, v in self.parameters(model).items()}

    def snapshot(self) -> dict[str, np.ndarray]:
        return {k: np.array(v, copy=True) for k, v in self.values().items()}

    def write(self, values: dict[str, np.ndarray]) -> None:
        live = self.parameters()
        if self.framework == "torch":
            import torch

            with torch.no_grad():
                for name, value in values.items():
                    live[name].copy_(torch.from_numpy(np.ascontiguousarray(value)))
            return
        for name, value in values.items():
            live[name].assign(np.asarray(value).astype(live[name].dtype, copy=False))

    def restore(self, snapshot: dict[str, np.ndarray]) -> None:
        self.write(snapshot)

    # planning ------------------------------------------------------------------------------------------------

    def plan(self) -> None:
        """Find every destination parameter's twin in a model built from the destination's own graph."""
        from ..api import build
        from ..errors import InterlayerError

        if self.framework == "torch":
            self.skipped = [k for k, v in self.model.state_dict().items() if not v.is_floating_point()]
        else:
            self.skipped = [v.path for v in self.model.weights if "float" not in str(v.dtype)]
        try:
            built = build(self.graph, self.framework)
        except InterlayerError as exc:
            self.problems.append(f"destination: the {self.framework} backend cannot build its graph, which is how "
                                 f"interlayer computes each parameter's native layout. Expected a graph the backend "
                                 f"builds. Received: {type(exc).__name__}: {exc}")
            return
        current, built_values = self.values(), self.values(built)
        twins = self._read_back(built)
        name_map = self.graph.source.get("name_map") or {}
        for parameter, value in current.items():
            tensor = name_map.get(parameter)
            if tensor is None:
                self.problems.append(
                    f"destination parameter '{parameter}' {value.shape}: no IR tensor holds it whole, so nothing "
                    f"can be written into it exactly. Expected every parameter to be read by the forward pass as "
                    f"one tensor. Received: a parameter the forward pass never reads, reads in part (a position "
                    f"table sliced to the traced length) or that the frontend splits (nn.MultiheadAttention's "
                    f"packed in_proj_weight becomes three projections). Remove an unused parameter from the model, "
                    f"or copy the others by hand.")
                continue
            candidates = [c for c in [twins.get(_key(tensor))] + self._by_name(parameter, tensor, built_values)
                          if c is not None and c in built_values]
            twin, axes = _twin(candidates, built_values, value)
            if twin is None:
                tried = sorted(set(candidates))
                self.problems.append(
                    f"destination parameter '{parameter}' (IR tensor '{tensor}'): the {self.framework} backend does "
                    f"not rebuild it as the destination holds it, so its native layout cannot be computed exactly. "
                    f"Expected a parameter of the rebuilt model holding {value.shape} {value.dtype} bit for bit. "
                    f"Received: {', '.join(f'{c!r} {built_values[c].shape}' for c in tried) or 'none'}. Its layer is "
                    f"stored differently from the one interlayer builds; copy it by hand.")
                continue
            self.slots.append(Slot(parameter, tensor, twin, tuple(value.shape), axes))

    def _read_back(self, built: Any) -> dict[str, str]:
        """IR tensor key -> the built model's parameter, from the built model exported again; empty (noted) when
        the frontend cannot read what the backend built, and parameters are then found by name alone."""
        from ..api import export
        from ..errors import InterlayerError

        try:
            rebuilt = export(built, example_inputs=self.example_inputs if self.framework == "torch" else None)
        except InterlayerError as exc:
            lines = str(exc).splitlines()
            self.notes.append(f"the {self.framework} model built from the destination's graph cannot be read back "
                              f"({lines[1 if len(lines) > 1 else 0].strip(' -')}); its parameters were found by "
                              f"layer and parameter name, each checked bit for bit")
            return {}
        return _by_key(rebuilt.source.get("name_map") or {})

    def _by_name(self, parameter: str, tensor: str, built: dict[str, np.ndarray]) -> list[str]:
        """The built model's parameters in the layer named after the node (as the backend names it), with the
        parameter's own last name; and the parameter's own name."""
        node = tensor.rpartition(".")[0]
        if self.framework == "torch":
            from ..backends.torch.names import part

            separator, layer = ".", ".".join(part(p) for p in node.split("."))
        else:
            separator, layer = "/", _KERAS_INVALID.sub("_", node)
        leaf = parameter.rpartition(separator)[2]
        return [parameter] + [name for name in built
                              if name.startswith(layer + separator) and name.rpartition(separator)[2] == leaf]

    def new_values(self, graph: Graph, slots: list[Slot]) -> dict[str, np.ndarray]:
        """The destination's parameters at ``slots`` as the backend computes them from ``graph`` (the
        destination's graph with new weights), read by name from a model built as in :meth:`plan`."""
        from ..api import build

        built = self.values(build(graph, self.framework))
        return {slot.parameter: built[slot.twin] if slot.axes is None else built[slot.twin].transpose(slot.axes)
                for slot in slots}


def _twin(candidates: list[str], built: dict[str, np.ndarray], value: np.ndarray):
    """(name, axes) of the first candidate holding ``value`` bit for bit, as it is (axes None) or transposed by
    exactly one permutation of its axes; (None, None) when none does."""
    for name in candidates:
        if _identical(built[name], value):
            return name, None
    for name in candidates:
        held = built[name]
        if held.ndim > 4 or held.dtype != value.dtype or held.size != value.size:
            continue
        fits = [axes for axes in itertools.permutations(range(held.ndim))
                if axes != tuple(range(held.ndim)) and _identical(held.transpose(axes), value)]
        if len(fits) == 1:
            return name, fits[0]
    return None, None


def _identical(held: np.ndarray, value: np.ndarray) -> bool:
    return held.shape == value.shape and held.dtype == value.dtype \
        and np.ascontiguousarray(held).tobytes() == np.ascontiguousarray(value).tobytes()


def _key(tensor: str) -> str:
    """An IR tensor name as both backends make node names valid (Keras layer names, PyTorch module paths)."""
    return _INVALID.sub("_", tensor)


def _by_key(name_map: dict[str, str]) -> dict[str, str]:
    """IR tensor key -> the built model's parameter name, for tensors only one parameter holds."""
    found: dict[str, list[str]] = {}
    for parameter, tensor in name_map.items():
        found.setdefault(_key(tensor), []).append(parameter)
    return {key: names[0] for key, names in found.items() if len(names) == 1}
