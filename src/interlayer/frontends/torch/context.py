"""What a torch frontend converter sees: one ATen call of the exported program, its arguments as values, and a way
to write IR.

A converter is ``fn(ctx) -> value`` registered for an ATen operator (``torch.ops.aten.conv2d``, every overload of
it) with ``@register("torch", "frontend", aten.conv2d)``. It returns the IR value of the call's result (a list for
a call with several results), or ``ctx.unsupported(...)`` (None) when the call has no exact IR equivalent.

An argument is one of: a tensor the model computed from its inputs (``ctx.tensor(arg)`` is its IR value); a
constant tensor, which does not depend on the inputs (a parameter, a buffer, or a result of constants alone, which
the capture computes itself: ``ctx.const(arg)``, with the ``state_dict`` key it came from); a size (an int, or a
``SymInt`` the model computed from input sizes: ``ctx.size(arg)`` is its IR size expression); or a plain Python
value (``ctx.literal(arg)``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...ir.builder import GraphBuilder
from .sizes import SizeNames

_MISSING = object()


@dataclass
class Const:
    """A constant tensor: ``tensor``, the ``state_dict`` key it is (None for one computed from constants), and
    whether it is a trained parameter."""

    tensor: Any
    source: str | None = None
    trainable: bool = False
    value: str | None = None
    """its IR ``constant`` node's value, once a converter needed it as a tensor"""


class FixSizes(Exception):
    """Raised by a converter that cannot keep some sizes generic: the capture exports the model again with those
    input sizes fixed at the example's (``Call.fix``)."""

    def __init__(self, names: set[str], reason: str):
        super().__init__(reason)
        self.names = set(names)
        self.reason = reason


class Capture:
    """One capture: the builder, the value of each fx node, size names, converters, the model's modules."""

    def __init__(self, builder: GraphBuilder, model, table: dict, names: SizeNames):
        self.builder = builder
        self.model = model
        self.table = table
        self.names = names
        self.values: dict[Any, Any] = {}
        self.node_names: dict[Any, str] = {}
        """fx node -> the IR name its converter's nodes take (``features.0``, ``layers.0.self_attn.view``)"""


class Call:
    """One ATen call under conversion."""

    def __init__(self, capture: Capture, node, name: str, path: str, module):
        self.capture = capture
        self.node = node
        self.name = name
        self.path = path
        self.module = module
        """the innermost ``nn.Module`` whose forward made the call (None at the model's own level)"""
        self.where = f"node '{name}' ({describe(node, module)})"

    # reading the call ------------------------------------------------------------------------------------------

    @property
    def op(self) -> str:
        """The ATen operator's name without overload: ``conv2d``, ``add``; an in-place one's functional twin
        (``add_`` is ``add``), whose converter it shares."""
        name = self.node.target.__name__.split(".")[0]
        return name[:-1] if name.endswith("_") and not name.startswith("_") else name

    @property
    def overload(self) -> str:
        return getattr(self.node.target, "_overloadname", "default")

    def arg(self, index: int | None, keyword: str | None = None, default: Any = _MISSING) -> Any:
        """An argument as written in the call (fx nodes for tensors and sizes), positional or by keyword."""
        if index is not None and index < len(self.node.args):
            return self.node.args[index]
        if keyword is not None and keyword in self.node.kwargs:
            return self.node.kwargs[keyword]
        if default is _MISSING:
            schema = getattr(self.node.target, "_schema", None)
            if schema is not None and index is not None and index < len(schema.arguments):
                argument = schema.arguments[index]
                if argument.has_default_value():
                    return argument.default_value
            raise KeyError(keyword or index)
        return default

    def value(self, arg) -> Any:
        """What the capture holds for an argument: an IR value, a :class:`Const`, a size or a plain value."""
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.value(item) for item in arg)
        if hasattr(arg, "op") and hasattr(arg, "meta"):
            return self.capture.values.get(arg)
        return arg

    def is_const(self, arg) -> bool:
        return isinstance(self.value(arg), Const)

    def const(self, arg) -> Const | None:
        found = self.value(arg)
        return found if isinstance(found, Const) else None

    def array(self, arg) -> np.ndarray | None:
        """A constant argument as a numpy array of its dtype (None for anything else)."""
        found = self.const(arg)
        return None if found is None else to_numpy(found.tensor)

    def is_tensor(self, arg) -> bool:
        found = self.value(arg)
        return isinstance(found, (str, Const))

    def tensor(self, arg) -> str:
        """The IR value of a tensor argument; a constant becomes an IR ``constant`` node (once)."""
        found = self.value(arg)
        if isinstance(found, str):
            return found
        if isinstance(found, Const):
            return self.materialise(found)
        if found is None and arg in self.capture.values and self.capture.builder.problems:
            return f"<not converted: {arg!r}>"  # its own call was refused, and is named already
        self.unsupported(f"an argument is not a tensor. Expected a tensor. Received: {arg!r}")
        return f"<not a tensor: {arg!r}>"

    def materialise(self, const: Const) -> str:
        if const.value is None:
            array = to_numpy(const.tensor)
            name = const.source or f"{self.name}_constant"
            const.value = self.capture.builder.add(
                "constant", [], {"shape": list(array.shape), "dtype": ir_dtype(const.tensor.dtype),
                                 "trainable": const.trainable},
                {"value": array}, name=name, sources={"value": const.source} if const.source else None)
        return const.value

    def size(self, arg) -> Any:
        """An int or ``SymInt`` argument as an IR size (an int, or a size expression)."""
        found = self.value(arg)
        if found is None and hasattr(arg, "meta"):
            found = arg.meta.get("val")
        return self.capture.names.dim(found)

    def sizes(self, args) -> list:
        return [self.size(arg) for arg in args]

    def literal(self, arg) -> Any:
        """A plain Python value of an argument; a size torch kept symbolic (a ``SymInt``, also inside a list) is
        its IR size expression. (Reading a ``SymInt`` as an int would specialise the exported program's sizes.)"""
        return self._plain(self.value(arg))

    def _plain(self, found) -> Any:
        if isinstance(found, (list, tuple)):
            return type(found)(self._plain(item) for item in found)
        if hasattr(found, "node"):  # a SymInt/SymFloat/SymBool
            return self.capture.names.dim(found)
        return found

    def shape(self, arg=None) -> tuple:
        """The IR shape of a tensor argument (of the call's own result when ``arg`` is None)."""
        node = self.node if arg is None else arg
        if isinstance(node, int) or not hasattr(node, "meta"):
            return ()
        return self.capture.names.shape(node.meta["val"].shape)

    def rank(self, arg=None) -> int:
        node = self.node if arg is None else arg
        return node.meta["val"].dim()

    def dtype(self, arg=None) -> str:
        node = self.node if arg is None else arg
        return ir_dtype(node.meta["val"].dtype)

    def axis(self, dim: int, rank: int | None = None) -> int:
        """A (possibly negative) torch axis as a non-negative one."""
        rank = self.rank(self.node.args[0]) if rank is None else rank
        return int(dim) % rank if rank else 0

    # writing IR -----------------------------------------------------------------------------------------------

    def add(self, op: str, inputs: list[str], attrs: dict | None = None, weights: dict | None = None,
            sources: dict | None = None, role: str | None = None) -> str:
        """Append an IR node named after this call (``<name>_<role>`` for a helper node before the one that
        yields the call's result); ``sources`` maps a weight to its ``state_dict`` key."""
        return self.add_node(op, inputs, attrs, weights, sources, role)[0]

    def add_node(self, op: str, inputs: list[str], attrs: dict | None = None, weights: dict | None = None,
                 sources: dict | None = None, role: str | None = None) -> list[str]:
        name = self.name if role is None else f"{self.name}_{role}"
        mapped = {weight: key for weight, key in (sources or {}).items() if key}
        return self.capture.builder.add_node(op, inputs, attrs, weights, name=name, sources=mapped)

    def unsupported(self, message: str) -> None:
        message = message if message.endswith(".") else message + "."
        self.capture.builder.unsupported(self.where, message)
        return None

    def fix(self, sizes, reason: str):
        """Ask for the input sizes that ``sizes`` (IR sizes) read to be fixed at the example's: the model is
        exported again with them fixed, and ``reason`` is recorded (``graph.source["fixed_sizes"]``)."""
        from ...ir import dims

        names = set().union(*(dims.names(size) for size in sizes))
        raise FixSizes(names, f"{self.where}: {reason}")


def describe(node, module=None) -> str:
    """``aten.conv2d`` (in ``Conv2d``) for an fx node of an exported program."""
    target = getattr(node.target, "__name__", str(node.target))
    namespace = str(getattr(node.target, "namespace", "aten"))
    text = f"{namespace}.{target.split('.')[0]}" if hasattr(node.target, "namespace") or namespace == "aten" \
        else target  # aten.conv2d, interlayer.recurrent
    return f"{text} in {type(module).__name__}" if module is not None else text


def ir_dtype(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def to_numpy(tensor) -> np.ndarray:
    """A tensor as a numpy array of its dtype (bfloat16 through ml_dtypes), sharing its memory (no copy), as
    ``state_dict`` does; the graph builder keeps it read-only."""
    import torch

    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.bfloat16:
        import ml_dtypes

        return tensor.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    if not tensor.is_contiguous():
        tensor = tensor.contiguous()
    return tensor.numpy()


class LeafCall(Call):
    """A module captured whole (``leaves.py``): its converter is ``fn(ctx, module)``; ``sources`` name the
    module's own tensors (``"fc.weight"``), recorded under the module's path."""

    @property
    def inputs(self) -> list[str]:
        return [self.tensor(arg) for arg in self.node.args[0]]

    @property
    def input(self) -> str:
        return self.inputs[0]

    def add_node(self, op: str, inputs: list[str], attrs: dict | None = None, weights: dict | None = None,
                 sources: dict | None = None, role: str | None = None) -> list[str]:
        prefix = f"{self.path}." if self.path else ""
        mapped = {weight: prefix + local for weight, local in (sources or {}).items() if local}
        return super().add_node(op, inputs, attrs, weights, mapped, role)
