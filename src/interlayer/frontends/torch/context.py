"""What a torch frontend converter sees: one traced fx node, its captured shapes, and a way to write IR.

A converter is ``fn(ctx, target) -> str | None``: ``target`` is the leaf module (``call_module``), the function
(``call_function``) or the method name (``call_method``); it returns the IR value of the node's result, or
``ctx.unsupported(...)`` (which returns ``None``) when the call has no exact IR equivalent.

An argument is one of: a tensor computed from the inputs (``ctx.value(arg)`` is its IR value, ``ctx.shape(arg)``
its captured shape); a constant tensor that does not depend on the inputs, such as a parameter the forward uses
outside a layer (``self.scale * x``) or a tensor it creates (``ctx.constant(arg)`` is its numpy value,
``ctx.constant_name(arg)`` its ``state_dict`` key when it is a parameter or buffer of the model, for
``ctx.add(..., sources=...)``); or a plain Python value (``ctx.const(arg)``, sizes resolved).
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ...ir.builder import GraphBuilder

_MISSING = object()
_PREFIXES = {"_operator": "operator", "torch._C._nn": "F", "torch.nn.functional": "F",
             "torch._C._VariableFunctions": "torch", "torch.functional": "torch"}


class Capture:
    """The state of one capture: the builder, the IR value of each fx node, and the source's names."""

    def __init__(self, builder: GraphBuilder, root, paths: dict[str, tuple[str, str]], table: dict):
        self.builder = builder
        self.root = root
        self.table = table
        """the converters in use: class, function or method -> converter"""
        self.values: dict[Any, str] = {}
        self.paths = paths
        """module path in the traced root -> (IR node name, state_dict prefix); only where they differ."""
        self.order: dict[Any, int] = {node: index for index, node in enumerate(root.graph.nodes)}
        """position of each fx node in the traced graph"""
        self.state_keys: set[str] = set()
        """the source model's state_dict keys"""
        self.convert_batch_only = lambda node: None
        """converts a tensor made from the batch size alone when a layer first reads it (set by the capture)"""
        self.swapped: set = set()
        """fx nodes of tensors that hold the batch on axis 1, whose IR value has axes 0 and 1 exchanged
        (``layouts.py``)"""
        self.parts: dict[Any, list] = {}
        """fx node of a call with several results -> whether each is held swapped (nested as the results are)"""


class Call:
    """One fx node under conversion."""

    def __init__(self, capture: Capture, node):
        self.capture = capture
        self.node = node
        self.module = capture.root.get_submodule(node.target) if node.op == "call_module" else None
        if self.module is not None:
            self.name, self.prefix = capture.paths.get(node.target, (node.target, node.target + "."))
        else:
            self.name, self.prefix = node.name, ""
        self.where = f"node '{self.name}' ({describe(node, self.module)})"
        self.batch = 0
        """the axis that holds the batch in the tensors the call reads: 1 when they are held swapped, and the
        converter then sees them as the IR holds them (``shape``, ``axis``, constant operands)"""

    @property
    def key(self):
        """What the call's converter is registered under: the module's class, or the function or method."""
        return self.node.target if self.module is None else layer_class(self.module)

    @property
    def layer_type(self) -> type | None:
        """The class whose converter converts the call's module (:func:`converted_class`): its own, or the parent
        a subclass that only sets arguments computes as; None for a function or method, or a module without one.
        Converters that read settings from the class (its rank, its padding mode) read them from this one."""
        return None if self.module is None else converted_class(self.module, self.capture.table)

    @property
    def converter(self):
        """The call's converter, None when it has none."""
        return self.capture.table.get(self.node.target if self.module is None else self.layer_type)

    # reading the call ------------------------------------------------------------------------------------

    def arg(self, index: int | None, keyword: str, default: Any = _MISSING) -> Any:
        """A positional-or-keyword argument of the call (for methods, index 0 is the tensor itself)."""
        if index is not None and index < len(self.node.args):
            return self.node.args[index]
        if keyword in self.node.kwargs:
            return self.node.kwargs[keyword]
        if default is _MISSING:
            raise KeyError(keyword)
        return default

    def option(self, attribute: str, index: int | None = None, default: Any = None) -> Any:
        """A setting read from the module's attribute, or else from the call's argument of that name."""
        if self.module is not None:
            return getattr(self.module, attribute, default)
        return self.const(self.arg(index, attribute, default))

    @property
    def input(self) -> str:
        """The IR value of the first argument (the input tensor of a layer, function or method)."""
        return self.value(self.node.args[0])

    def value(self, arg) -> str:
        """The IR value of an fx node argument (a recorded problem when it is not a tensor the model computed).

        A tensor made from the batch size alone that was not converted is its recorded value repeated over the
        batch (a ``batch_constant``), when every batch row of it is the same."""
        if hasattr(arg, "meta") and arg not in self.capture.values and "interlayer.batch_of" in arg.meta:
            self.capture.convert_batch_only(arg)
            return self.capture.values.get(arg) or self._batch_value(arg)
        if not hasattr(arg, "meta") or arg not in self.capture.values:
            self.unsupported(f"its argument is not a tensor computed from the inputs. Expected tensors produced by "
                             f"the model's layers. Received: argument={arg!r}")
            return f"<not a tensor: {arg}>"
        return self.capture.values[arg]

    def batch_row(self, arg):
        """The row a tensor made from the batch size alone repeats over the batch, as its recorded (1, ...) first
        row; None for any other argument, or one whose rows differ (``Call.value`` refuses that one)."""
        if not hasattr(arg, "meta") or "interlayer.batch_of" not in arg.meta or arg in self.capture.values:
            return None
        value, source = arg.meta["interlayer.value"], arg.meta["interlayer.batch_of"]
        if value.dim() == 0 or value.shape[0] != source.meta["tensor_meta"].shape[0]:
            return None
        return value[:1] if bool((value == value[:1]).all()) else None

    def _batch_value(self, arg) -> str:
        value, source = arg.meta["interlayer.value"], arg.meta["interlayer.batch_of"]
        where = f"'{arg.name}' ({describe(arg)}), made from the batch size in forward,"
        row = self.batch_row(arg)
        if row is None:
            self.unsupported(f"{where} must hold one row repeated over the batch. Expected shape (batch, ...) with "
                             f"equal rows. Received: shape={tuple(value.shape)}")
            return f"<not a tensor: {arg}>"
        if not value.is_floating_point():
            self.unsupported(f"{where} is a {value.dtype} tensor; only floating tensors repeat over the batch. "
                             f"Expected a floating dtype. Received: dtype={value.dtype}")
            return f"<not a tensor: {arg}>"
        attrs = {"shape": list(value.shape[1:])}
        array = to_numpy(row.contiguous())
        made = self.capture.builder.add("batch_constant", [self.value(source)], attrs, {"value": array},
                                        name=f"{arg.name}_batch")
        self.capture.values[arg] = made
        return made

    def is_tensor(self, arg) -> bool:
        """Whether an argument is a tensor: computed from the inputs, or a constant (see ``is_constant``)."""
        return hasattr(arg, "meta") and _is_tensor_meta(arg.meta.get("tensor_meta"))

    def is_constant(self, arg) -> bool:
        """Whether an argument is a tensor that does not depend on the inputs (a parameter, a made tensor)."""
        return self.is_tensor(arg) and bool(arg.meta.get("interlayer.constant"))

    def constant(self, arg) -> np.ndarray | None:
        """The value of a constant tensor argument as a numpy array of its dtype; None for anything else."""
        return to_numpy(arg.meta["interlayer.value"]) if self.is_constant(arg) else None

    def constant_name(self, arg) -> str | None:
        """The ``state_dict`` key of a constant argument that is a parameter or buffer of the model, else None."""
        if not (self.is_constant(arg) and arg.op == "get_attr"):
            return None
        prefix = next((source for path, (_, source) in self.capture.paths.items()
                       if arg.target.startswith(path + ".")), None)
        name = arg.target if prefix is None else prefix + arg.target.split(".", 1)[1]
        return name if name in self.capture.state_keys else None

    def shape(self, arg=None) -> tuple[int, ...]:
        """The shape captured for an fx node argument (the call's own result when ``arg`` is None), as the IR
        holds it (axes 0 and 1 exchanged for a swapped tensor)."""
        node = self.node if arg is None else arg
        shape = tuple(node.meta["tensor_meta"].shape)
        return (shape[1], shape[0], *shape[2:]) if node in self.capture.swapped and len(shape) > 1 else shape

    def is_swapped(self, arg=None) -> bool:
        """Whether an fx node (the call's own result when ``arg`` is None) holds the batch on axis 1."""
        return (self.node if arg is None else arg) in self.capture.swapped

    def const(self, arg) -> Any:
        """A plain Python value of an argument; fx nodes that computed sizes are replaced by their values."""
        if hasattr(arg, "meta"):
            return arg.meta.get("interlayer.value")
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.const(item) for item in arg)
        return arg

    def axis(self, dim: int, rank: int) -> int:
        """A torch axis of the input as the IR axis: exchanged with its neighbour when the input is swapped."""
        axis = operator.index(dim) % rank
        return {0: 1, 1: 0}.get(axis, axis) if self.batch == 1 else axis

    # writing IR ------------------------------------------------------------------------------------------

    def add(self, op: str, inputs: list[str], attrs: dict | None = None, weights: dict | None = None,
            sources: dict[str, str] | None = None) -> str:
        """Append an IR node named after this call. ``sources`` maps weight -> the source's tensor name: the
        module's own name for a layer (``"weight"``), the ``state_dict`` key for a function call's constant
        (``ctx.constant_name(arg)``). A source tensor keeps the first IR tensor it was mapped to; a module called
        again is recorded as sharing it (``graph.source["shared"]``)."""
        mapped = {weight: self.prefix + local for weight, local in (sources or {}).items()
                  if local is not None and not computed_weight(self.module, local)}
        return self.capture.builder.add(op, inputs, attrs, weights, name=self.name, sources=mapped)

    def unsupported(self, message: str) -> None:
        message = message if message.endswith(".") else message + "."
        self.capture.builder.unsupported(self.where, message)
        return None


def describe(node, module=None) -> str:
    """A readable name of what an fx node calls: ``Conv2d``, ``torch.cat``, ``F.relu``, ``Tensor.view``."""
    if module is not None:
        return type(module).__name__
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    target = node.target
    name = getattr(target, "__name__", repr(target))
    module_name = getattr(target, "__module__", None) or ""
    if module_name in _PREFIXES:
        return f"{_PREFIXES[module_name]}.{name}"
    return f"{module_name}.{name}" if module_name else name


def layer_class(module) -> type:
    """The class a module's converter is registered for. A module under ``torch.nn.utils.parametrize``
    (``weight_norm``, ``spectral_norm``, ``orthogonal``) is an instance of a class made for it, whose one base is
    the layer's own class; its parametrized weights are computed when read, as its forward reads them."""
    from torch.nn.utils import parametrize

    return type(module).__bases__[0] if parametrize.is_parametrized(module) else type(module)


INERT = {"__init__", "__module__", "__qualname__", "__doc__", "__annotations__", "__firstlineno__",
         "__static_attributes__", "__dict__", "__weakref__", "extra_repr", "reset_parameters", "_reset_parameters"}
"""What a subclass may define and still compute exactly as its parent: it only sets the parent's arguments."""


def converted_class(module, classes) -> type | None:
    """The class among ``classes`` (those with a converter) whose converter converts ``module``: its own class, or
    the nearest parent when every class between them defines nothing that computes (an ``nn.Embedding``
    subclass that only fixes ``__init__`` arguments); None for a module that computes otherwise (a subclass with
    its own ``forward``, which the tracer follows into) or has no converted class at all."""
    for cls in layer_class(module).__mro__:
        if cls in classes:
            return cls
        if not set(vars(cls)) <= INERT:
            return None
    return None


def computed_weight(module, local: str) -> bool:
    """Whether a module's tensor is computed from others when read rather than held as it is in the
    ``state_dict``: a parametrization, or the ``weight`` the hook-based ``torch.nn.utils.weight_norm`` sets from
    ``weight_g`` and ``weight_v``. Its value is converted; it maps to no ``state_dict`` key."""
    if module is None or "." in local:
        return False
    from torch.nn.utils import parametrize

    return parametrize.is_parametrized(module, local) or (
        local not in module._parameters and local not in module._buffers and hasattr(module, local))


def full_index(index, rank: int) -> list | None:
    """A basic index (``x[:, 0]``, ``x[..., 1:5]``, ``x[..., [-2], :]``) as one entry per axis, ``...`` and the
    trailing axes written out, a list of consecutive indexes as its slice; None for any other index."""
    items = [_as_slice(item) for item in (index if isinstance(index, tuple) else [index])]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at:at + 1] = [slice(None)] * (rank - len(items) + 1)
    items += [slice(None)] * (rank - len(items))
    if len(items) != rank or not all(isinstance(item, (int, slice)) for item in items):
        return None
    return items


def _as_slice(item):
    """A list of consecutive indexes of one sign (``x[..., [-2], :]``, which keeps the axis) as the slice it
    picks; any other item as it is."""
    if not isinstance(item, list) or not item or not all(isinstance(i, int) and not isinstance(i, bool)
                                                         for i in item):
        return item
    if item != list(range(item[0], item[0] + len(item))) or (item[0] < 0) != (item[-1] < 0):
        return item
    return slice(item[0], None if item[-1] == -1 else item[-1] + 1)


def to_numpy(tensor) -> np.ndarray:
    """A tensor as a numpy array of its dtype (bfloat16 through ml_dtypes), sharing its memory (no copy) as
    ``state_dict`` does; the graph builder keeps it read-only."""
    import torch

    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.bfloat16:
        import ml_dtypes

        return tensor.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return tensor.numpy()


def ntuple(value, rank: int) -> list[int]:
    """A per-axis list from PyTorch's int-or-tuple settings."""
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    return [int(value)] * rank


def _is_tensor_meta(meta) -> bool:
    return meta is not None and hasattr(meta, "shape") and hasattr(meta, "dtype")
