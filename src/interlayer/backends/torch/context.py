"""What a torch backend converter sees: one IR node, its inputs as fx values, and a way to emit torch code.

A converter is ``fn(ctx, node) -> fx.Node | None``: it makes native torch layers and calls ``ctx.module(...)``
(or ``ctx.call(...)`` for a function, ``ctx.method(...)`` for a tensor method), and returns the fx value of
the node's output; or it returns ``ctx.unsupported(...)`` when the node cannot be expressed exactly.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from torch import fx, nn

from ...errors import ValidationError
from ...ir import dims, ops
from ...ir.graph import Node
from .forward_text import INLINE
from .names import Names
from .sizes import Sizes


class Emitter:
    """The model under construction: an fx graph, the root module holding the layers, and every problem met."""

    def __init__(self, shapes: dict, shared: dict[str, str] | None = None, dtypes: dict[str, str] | None = None):
        self.graph = fx.Graph()
        self.root = nn.Module()
        self.names = Names()
        self.values: dict[str, fx.Node] = {}
        self.shapes = shapes
        self.dtypes = dtypes or {}
        """every IR value's dtype (``interlayer.ir.check.infer_dtypes``)"""
        self.sizes: Sizes | None = None
        """the run-time sizes, made once the graph inputs are placed (``build``)"""
        self.problems: list[tuple[str, str]] = []
        self.shared = shared or {}
        """node -> the node whose modules it calls again (a layer the source called several times)"""
        self.paths: dict[tuple[str, str], str] = {}
        """(node, suffix) -> the module path made for it"""
        self.device: fx.Node | None = None
        """``x.device`` of the first graph input, once some code makes a tensor from sizes alone"""

    def _owner(self, path: str) -> tuple[nn.Module, str]:
        """The module that holds ``path``'s last part (containers made for its dots), and that part."""
        *parents, leaf = path.split(".")
        owner = self.root
        for part in parents:
            if part not in owner._modules:
                owner.add_module(part, nn.Module())
            owner = owner._modules[part]
        return owner, leaf

    def attach(self, path: str, module: nn.Module) -> None:
        owner, leaf = self._owner(path)
        owner.add_module(leaf, module)

    def hold(self, path: str, value: torch.Tensor) -> None:
        """Register ``value`` at ``path``: a parameter, or else a buffer."""
        owner, leaf = self._owner(path)
        if isinstance(value, nn.Parameter):
            owner.register_parameter(leaf, value)
        else:
            owner.register_buffer(leaf, value)


class Step:
    """One IR node under conversion."""

    def __init__(self, emitter: Emitter, node: Node):
        self.emitter = emitter
        self.node = node
        self.attrs = ops.get(node.op).fill(dict(node.attrs))
        self.where = f"node '{node.name}' ({node.op})"

    @property
    def inputs(self) -> list[fx.Node]:
        return [self.emitter.values[value] for value in self.node.inputs]

    @property
    def input(self) -> fx.Node:
        return self.inputs[0]

    def shape(self, index: int = 0) -> tuple:
        """The IR shape of an input: ints and size expressions."""
        return tuple(self.emitter.shapes[self.node.inputs[index]])

    def dtype(self, index: int = 0) -> str:
        """The IR dtype of an input."""
        return self.emitter.dtypes.get(self.node.inputs[index], "float32")

    @property
    def out_dtype(self) -> str:
        return self.emitter.dtypes.get(self.node.outputs[0], "float32")

    def size(self, dim) -> Any:
        """A size as the forward code computes it: an int, or an fx value read from the inputs (``T``,
        ``N * T``) at run time."""
        return self.emitter.sizes.value(dim)

    def axis_size(self, axis: int, index: int = 0) -> Any:
        """The size of an axis of an input: as :meth:`size` computes it, or read from the input itself
        (``x.size(2)``) where the IR cannot name it (``"?"``)."""
        dim = self.shape(index)[axis]
        if known(dim):
            return self.size(dim)
        return self.method("size", self.inputs[index], axis, suffix=f"_size{axis}")

    def sizes(self, dims) -> tuple:
        return self.emitter.sizes.values(dims)

    @property
    def out_shape(self) -> tuple:
        return tuple(self.emitter.shapes[self.node.outputs[0]])

    def module(self, module: nn.Module, *args: Any, suffix: str = "") -> fx.Node:
        """Register ``module`` under this node's name (plus ``suffix``) and call it; a node that shares the weights
        of an earlier one calls that node's module again instead, so the weights stay shared."""
        emitter = self.emitter
        original = emitter.paths.get((emitter.shared.get(self.node.name, ""), suffix))
        if original is not None:
            name = emitter.names.module(self.node.name + suffix).replace(".", "_")
            return emitter.graph.create_node("call_module", original, args, {}, name=name)
        path = emitter.names.module(self.node.name + suffix)
        emitter.attach(path, module)
        emitter.paths[self.node.name, suffix] = path
        return emitter.graph.create_node("call_module", path, args, {}, name=path.replace(".", "_"))

    def call(self, fn: Callable, *args: Any, suffix: str = "", **kwargs: Any) -> fx.Node:
        return self.emitter.graph.create_node("call_function", fn, args, kwargs, name=self.node.name + suffix)

    def method(self, name: str, *args: Any, suffix: str = "") -> fx.Node:
        return self.emitter.graph.create_node("call_method", name, args, {}, name=self.node.name + suffix)

    def device(self) -> fx.Node | None:
        """The device of the model's first input (``x.device``), for tensors made from sizes alone, so that the
        module runs wherever it is moved; None for a graph without inputs."""
        emitter = self.emitter
        if emitter.device is None:
            first = next((n for n in emitter.graph.nodes if n.op == "placeholder"), None)
            if first is None:
                return None
            emitter.device = emitter.graph.create_node("call_function", getattr, (first, "device"), {},
                                                       name="device")
            emitter.device.meta[INLINE] = True
        return emitter.device

    def unsupported(self, message: str) -> None:
        message = message if message.endswith(".") else message + "."
        self.emitter.problems.append((self.where, message))
        return None


def tensor(array: np.ndarray) -> torch.Tensor:
    """A torch tensor with its own copy of ``array``'s bits and dtype (bfloat16 through ml_dtypes)."""
    from ...ir.archive import release

    copied = np.array(array, copy=True)
    release(array)
    if copied.dtype.name == "bfloat16":
        return torch.from_numpy(copied.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(copied)


def parameter(array: np.ndarray) -> nn.Parameter:
    return nn.Parameter(tensor(array))


def known(dim) -> bool:
    """Whether ``dim`` is a size the IR names: an int or a size expression (not ``"?"``)."""
    try:
        dims.normal(dim)
    except ValidationError:
        return False
    return True


def same_size(a, b) -> bool:
    """Whether two sizes are equal whatever the names stand for; False where either is not known."""
    return known(a) and known(b) and dims.equal(a, b)


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype of an IR dtype name (``"int64"`` -> ``torch.int64``)."""
    return getattr(torch, name)


def torch_pads(pads: list[int], rank: int) -> tuple[int, ...]:
    """IR pads (begin of each spatial axis, then end of each) in PyTorch's order: last axis first."""
    return tuple(p for axis in reversed(range(rank)) for p in (pads[axis], pads[rank + axis]))


def per_rank(classes: dict[int, type], step: Step, what: str) -> type | None:
    """The torch class for the rank of the node's input, or None with the problem recorded."""
    rank = len(step.shape())
    if rank not in classes:
        step.unsupported(f"torch has no {what} for this input rank. Expected a rank in {sorted(classes)}. "
                         f"Received: rank={rank}")
        return None
    return classes[rank]


def single(values: list[int]) -> int | tuple[int, ...]:
    """An int for one axis (what the 1-D layers document), a tuple otherwise."""
    return values[0] if len(values) == 1 else tuple(values)
