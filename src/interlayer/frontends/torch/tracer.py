"""Concrete-shape tracing: torch.fx with every proxy carrying the real value it stands for.

The tracer runs each recorded call on the example inputs as it records it (leaf modules and ops alike), so
Python code that asks about *shapes* gets plain answers while tensor operations stay in the graph:

* ``x.shape``, ``x.size()``, ``x.size(1)``, ``x.dim()``, ``x.ndim``, ``len(x)``, iterating over a shape, and
  ``int()``/``bool()`` of any size arithmetic are concrete Python ints, baked into the graph;
* the batch size is the exception: ``x.shape[0]`` / ``x.size(0)`` of a tensor computed from the inputs is a
  proxy of an fx ``size`` node (with its value attached), so ``x.view(x.size(0), -1)`` keeps the batch axis
  symbolic. Forced into Python (``if x.size(0) > 1``, ``range(len(x))``) it answers with its example value;
* Python reading a tensor *value* (``bool``/``int``/``float`` of a tensor, ``.item()``, ``.tolist()``) or an
  op whose output shape depends on values (``torch.nonzero``, boolean masks...) is data-dependent: it is
  recorded as a :class:`Problem` and tracing continues on the example's path, so that one error can name
  every such place;
* code that fx cannot trace at all inside a submodule is recorded too: the nodes of the failed attempt are
  removed, the submodule is run as one opaque call on the real values, and tracing goes on after it.

Tensors created in ``forward`` that are not module attributes become ``get_attr`` nodes of the tracer's own
``constants`` (the model is never modified). Each node's ``meta`` holds what the converters read:
``tensor_meta`` (as ShapeProp writes it) for tensor results, ``interlayer.value`` for plain values and for
constants (results that do not depend on the inputs), ``interlayer.constant`` for the latter.
"""
from __future__ import annotations

import inspect
import linecache
import operator
import os
import traceback
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import fx
from torch.fx.node import map_aggregate, map_arg
from torch.fx.passes.shape_prop import _extract_tensor_metadata

from ...errors import SourceError
from .context import converted_class, describe
from .outputs import flat_outputs, forward_options

_MODULE_CALL = torch.nn.Module.__call__  # the unpatched call, kept before any tracing patches it
_LIBRARIES = (os.path.dirname(torch.__file__), os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
_STDLIB = os.path.dirname(inspect.__file__)
_CONSTANT = "_interlayer_constant"
_SIZE_QUERIES = {"dim", "ndimension", "element_size", "is_contiguous", "is_floating_point", "is_complex",
                 "stride", "get_device", "storage_offset", "nelement"}
_VALUE_METHODS = {"item", "tolist", "numpy", "__bool__", "__int__", "__float__", "__index__"}
_TRACED_THROUGH = {torch.nn.TransformerEncoderLayer, torch.nn.TransformerEncoder}
"""torch.nn classes that fx would keep as leaves but whose forward is made of converted layers and functions"""
_SIZED_METHODS = ("expand", "repeat", "view", "reshape", "new_zeros", "new_ones", "new_full", "new_empty")
_SIZED_FUNCTIONS = ("ones", "zeros", "full", "empty", "arange")
"""torch functions that make a tensor of a given size: recorded when a size is the batch (``torch.ones(x.shape[0],
seq)``, OPT's position mask), as torch's argument parser rejects a proxy where it wants an int"""
_SHAPE_FROM_VALUES = {"nonzero", "argwhere", "masked_select", "unique", "unique_consecutive", "bincount"}


@dataclass(frozen=True)
class Problem:
    """A place in the model's code that cannot become a graph: where, what, and the exception if one was raised."""

    where: str
    what: str
    cause: BaseException | None = None


class RunFailed(Exception):
    """The model (or one submodule) fails on the example inputs themselves: not a tracing problem."""

    def __init__(self, where: str, cause: BaseException):
        super().__init__(f"{where}: {type(cause).__name__}: {cause}")
        self.where = where
        self.cause = cause


class ConcreteProxy(fx.Proxy):
    """An fx Proxy that knows its value: shape queries and Python conversions are answered concretely."""

    def __getattr__(self, name: str):
        value = self.tracer.values.get(self.node)
        if not isinstance(value, torch.Tensor) or name.startswith("__"):
            return super().__getattr__(name)
        if name == "shape":
            return self.tracer.shape_of(self)
        if name == "ndim":
            return value.ndim
        if name == "size":
            return lambda dim=None: self.tracer.shape_of(self) if dim is None else self.tracer.size_of(self, dim)
        if name == "numel":
            return lambda: self.tracer.numel_of(self)
        if name in _SIZE_QUERIES:
            return getattr(value, name)
        attribute = getattr(value, name)
        if callable(attribute):
            return super().__getattr__(name)  # a method: recorded as call_method when called
        if isinstance(attribute, torch.Tensor):  # x.T, x.mT, x.data: a recorded getattr
            return self.tracer.create_proxy("call_function", getattr, (self, name), {})
        return attribute  # dtype, device, requires_grad, is_cuda...

    def __len__(self) -> int:
        return self.tracer.concrete(self, len)

    def __int__(self) -> int:
        return self.tracer.concrete(self, int)

    def __index__(self) -> int:
        return self.tracer.concrete(self, operator.index)

    def __float__(self) -> float:
        return self.tracer.concrete(self, float)


def tracer_class(leaves: tuple[type, ...]):
    """The tracer class for one capture: standard nn leaves plus every class with a converter (or a parent)."""

    classes = set(leaves)

    class ConcreteTracer(_ConcreteTracer):
        def is_leaf_module(self, m, module_qualified_name):
            if converted_class(m, classes) is not None:
                return True
            if type(m) in _TRACED_THROUGH or isinstance(m, leaves):  # a converted layer's subclass with its own
                return False                                          # forward is followed into, as other code
            return super().is_leaf_module(m, module_qualified_name)

    return ConcreteTracer


class _ConcreteTracer(fx.Tracer):
    def __init__(self, example: list, model_name: str):
        super().__init__()
        self.example = example
        self.model_name = model_name
        self.values = _Values()
        """the real value of each node; a tensor computed from the inputs lives as long as a proxy of it does"""
        self.dependent: set[fx.Node] = set()
        """nodes whose value depends on the graph inputs (the rest are constants)"""
        self.valued: set[fx.Node] = set()
        """dependent nodes that read the inputs' values; the others follow from the batch size alone"""
        self.batch_of: dict[fx.Node, fx.Node] = {}
        """a node that follows from the batch size alone -> the tensor whose ``size(0)`` it reads"""
        self.constants: dict[str, torch.Tensor] = {}
        self.problems: list[Problem] = []
        self.output_names: list[str] | None = None
        self.paused = 0
        self._inputs: dict[str, Any] = {}
        self._seen: set[tuple] = set()
        self._parameter_proxies: dict = {}

    def trace(self, root, concrete_args=None):
        """fx tracing, with the size-taking methods of real tensors recorded when a size is a proxy (a constant
        ``buffer.expand(batch_size, -1)``: torch's argument parser rejects a proxy where it wants an int)."""
        originals = {name: getattr(torch.Tensor, name) for name in _SIZED_METHODS}
        functions = {name: getattr(torch, name) for name in _SIZED_FUNCTIONS}
        for name, original in originals.items():
            setattr(torch.Tensor, name, _sized_method(self, name, original))
        for name, original in functions.items():
            setattr(torch, name, _sized_function(self, original))
        try:
            return super().trace(root, concrete_args)
        finally:
            for name, original in originals.items():
                setattr(torch.Tensor, name, original)
            for name, original in functions.items():
                setattr(torch, name, original)

    # the root's signature: example inputs first, every other parameter at its default -----------------------

    def create_args_for_root(self, root_fn, is_module, concrete_args=None):
        parameters = list(inspect.signature(root_fn).parameters.values())[1:]  # without self
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        variadic = next((p for p in parameters if p.kind == p.VAR_POSITIONAL), None)
        count = len(self.example)
        if count > len(positional) and variadic is None:
            raise SourceError(
                f"torch frontend: {self.model_name}.forward takes {len(positional)} positional input(s). Expected "
                f"at most that many example inputs. Received: {count} example inputs.")
        names = [p.name for p in positional[:count]] + [f"{variadic.name}_{i}" for i in range(count - len(positional))]
        missing = [p.name for p in positional[count:] + [p for p in parameters if p.kind == p.KEYWORD_ONLY]
                   if p.default is p.empty]
        if missing:
            raise SourceError(
                f"torch frontend: {self.model_name}.forward needs more inputs. Expected an example input for each "
                f"parameter without a default. Received: {count} example input(s); missing {missing}.")
        self._inputs = dict(zip(names, self.example))
        proxies = [self.create_proxy("placeholder", name, (), {}) for name in names]
        options = forward_options(root_fn, count)

        def run(root):
            pairs = flat_outputs(root_fn(root, *proxies, **options))
            if len(pairs) == 1 and pairs[0][0] == "":
                return pairs[0][1]
            self.output_names = [name for name, _ in pairs]
            return tuple(item for _, item in pairs)

        return run, [self.root]

    # recording: each node is evaluated on the real values as it is created -----------------------------------

    def proxy(self, node):
        proxy = ConcreteProxy(node, self)
        object.__setattr__(proxy, "_interlayer_value", self.values.get(node))  # keeps a weakly held value alive
        return proxy

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        if kind != "output":
            self._record(node, self._evaluate(node))
        return node

    def _evaluate(self, node) -> Any:
        if node.op == "placeholder":
            return self._inputs[node.target]
        args = map_arg(node.args, self.values.__getitem__)
        kwargs = map_arg(node.kwargs, self.values.__getitem__)
        self._check_value_read(node, args)
        self.paused += 1  # the real computation must not be traced: module calls and attributes are plain
        try:
            if node.op == "get_attr":
                if node.target in self.constants:
                    return self.constants[node.target]
                owner, _, attribute = node.target.rpartition(".")
                return getattr(self.root.get_submodule(owner), attribute)
            if node.op == "call_module":
                return _MODULE_CALL(self.root.get_submodule(node.target), *args, **kwargs)
            if node.op == "call_method":
                return getattr(args[0], node.target)(*args[1:], **kwargs)
            return node.target(*args, **kwargs)
        except Exception as exc:
            raise RunFailed(self._where(), exc) from exc
        finally:
            self.paused -= 1

    def _record(self, node, value) -> None:
        inputs = node.all_input_nodes
        if node.op == "placeholder" or any(item in self.dependent for item in inputs):
            self.dependent.add(node)
        self._record_batch_only(node, inputs)
        # an activation is held weakly: freed when the model's code drops the last proxy of it, so tracing holds
        # the live activations of the example's forward pass, not all of them
        self.values.keep(node, value, weak=node in self.valued and node.op != "placeholder")
        found = []
        meta = map_aggregate(value, lambda item: _tensor_meta(item, found))
        if found:
            node.meta["tensor_meta"] = meta
        node.meta["type"] = type(value)
        if node not in self.dependent:
            node.meta["interlayer.constant"] = True
        if node not in self.dependent or not found:
            node.meta["interlayer.value"] = value
        elif node in self.batch_of and isinstance(value, torch.Tensor):
            node.meta["interlayer.value"] = value
            node.meta["interlayer.batch_of"] = self.batch_of[node]

    def _record_batch_only(self, node, inputs) -> None:
        """Sort a dependent node: it reads input values, or follows from the batch size alone (``x.size(0)``,
        and tensors made from it, such as a mask built for the batch)."""
        if node not in self.dependent:
            return
        shape_query = node.op == "call_method" and node.target in ("size", "numel")
        if node.op == "placeholder" or (not shape_query and any(item in self.valued for item in inputs)):
            self.valued.add(node)
            return
        if shape_query:
            source = self.batch_of.get(node.args[0], node.args[0])
        else:
            source = next((self.batch_of[item] for item in inputs if item in self.batch_of), None)
        if source is None:
            self.valued.add(node)
        else:
            self.batch_of[node] = source

    def create_arg(self, a):
        if isinstance(a, torch.Tensor) and not isinstance(a, torch.nn.Parameter):
            if not any(a is buffer for _, buffer in self.root.named_buffers()):
                target = next((key for key, tensor in self.constants.items() if tensor is a), None)
                if target is None:
                    target = f"{_CONSTANT}{len(self.constants)}"
                    self.constants[target] = a
                return self.create_node("get_attr", target, (), {})
        return super().create_arg(a)

    # answering shape questions ---------------------------------------------------------------------------

    def shape_of(self, proxy) -> tuple:
        """``x.shape``: concrete ints, except a proxy for the batch of a tensor computed from the inputs."""
        dims = list(self.values[proxy.node].shape)
        if dims and proxy.node in self.dependent:
            dims[0] = self.create_proxy("call_method", "size", (proxy, 0), {})
            return tuple(dims)
        return torch.Size(dims)

    def size_of(self, proxy, dim):
        value = self.values[proxy.node]
        axis = operator.index(dim) % max(value.dim(), 1)
        if axis == 0 and proxy.node in self.dependent:
            return self.create_proxy("call_method", "size", (proxy, 0), {})
        return int(value.shape[axis])

    def numel_of(self, proxy):
        if proxy.node in self.dependent:
            return self.create_proxy("call_method", "numel", (proxy,), {})
        return self.values[proxy.node].numel()

    def concrete(self, proxy, convert: Callable) -> Any:
        """``convert(value)`` of a proxy forced into Python; a tensor computed from the inputs is a problem."""
        value = self.values[proxy.node]
        if isinstance(value, torch.Tensor) and convert is not len and proxy.node in self.valued:
            kind = {bool: "bool", int: "int", float: "float"}.get(convert, "__index__")
            self.problem(f"{kind}() of a tensor value: Python control flow or a size decided by the value of "
                         f"{describe(proxy.node)}, not by input shapes")
        if convert is len and isinstance(value, torch.Tensor):
            return int(value.shape[0]) if value.dim() else len(value)
        return convert(value)

    def to_bool(self, obj) -> bool:
        return self.concrete(obj, bool)

    def iter(self, obj):
        value = self.values[obj.node]
        if isinstance(value, dict):
            return iter(list(value.keys()))
        return iter([obj[index] for index in range(len(obj))])

    def keys(self, obj):
        return list(self.values[obj.node].keys())

    def _check_value_read(self, node, args) -> None:
        """Calls whose result (or its shape) follows from tensor values: recorded as problems."""
        if not any(item in self.valued for item in node.all_input_nodes):
            return
        name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
        if node.op == "call_method" and name in _VALUE_METHODS:
            self.problem(f"Tensor.{name}() reads a tensor value into Python")
        elif node.op in ("call_method", "call_function") and name in _SHAPE_FROM_VALUES:
            self.problem(f"{describe(node)} makes a tensor whose shape depends on tensor values")
        elif node.target is operator.getitem and _has_mask(args[1:]):
            self.problem("indexing with a boolean mask makes a tensor whose shape depends on tensor values")
        elif name == "repeat_interleave" and isinstance(args[1] if len(args) > 1 else None, torch.Tensor):
            self.problem(f"{describe(node)} with tensor repeats makes a shape that depends on tensor values")

    # modules: leaves are recorded, others traced through; a submodule fx cannot trace becomes one opaque call

    def call_module(self, m, forward, args, kwargs):
        if self.paused:
            return forward(*args, **kwargs)
        path = self.path_of_module(m)
        if self.is_leaf_module(m, path):
            return super().call_module(m, forward, args, kwargs)
        count, stack = len(self.graph.nodes), list(self.module_stack)
        try:
            return super().call_module(m, forward, args, kwargs)
        except RunFailed as failure:
            self._restore(count, stack)
            try:
                value = self._run_eagerly(path, m, forward, args, kwargs)
            except RunFailed:
                raise failure from failure.cause  # it fails eagerly too: the innermost place is the one to name
            self.problem(f"tracing raised {type(failure.cause).__name__}: {failure.cause}", failure.cause,
                         where=self._module_where(path, m))
        except (SourceError, KeyboardInterrupt):
            raise
        except Exception as exc:
            self._restore(count, stack)
            value = self._run_eagerly(path, m, forward, args, kwargs)
            self.problem(f"fx cannot trace its code: {type(exc).__name__}: {exc}", exc,
                         where=self._module_where(path, m))
        node = super().create_node("call_module", path, self.create_arg(args), self.create_arg(kwargs))
        self._record(node, value)
        return self.proxy(node)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if self.paused:
            return attr_val
        self._parameter_proxies = parameter_proxy_cache
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def _run_eagerly(self, path, m, forward, args, kwargs):
        real = lambda value: map_aggregate(value, lambda item: self.values[item.node]  # noqa: E731
                                           if isinstance(item, fx.Proxy) else item)
        self.paused += 1
        try:
            return forward(*real(args), **real(kwargs))
        except Exception as exc:
            raise RunFailed(self._module_where(path, m), exc) from exc
        finally:
            self.paused -= 1

    def _restore(self, count: int, stack: list) -> None:
        """Remove the nodes of a failed attempt and the module-stack entries it left behind."""
        for node in reversed(list(self.graph.nodes)[count:]):
            if not node.users:
                self.graph.erase_node(node)
                self.values.pop(node, None)
                self.dependent.discard(node)
                self.valued.discard(node)
                self.batch_of.pop(node, None)
        erased = [name for name, proxy in self._parameter_proxies.items() if proxy.node.graph is not self.graph
                  or proxy.node not in self.values]
        for name in erased:  # fx caches the proxy of each parameter read; those of the attempt are gone
            del self._parameter_proxies[name]
        while len(self.module_stack) > len(stack):
            self.module_stack.popitem(last=True)

    # where things happen ---------------------------------------------------------------------------------

    def problem(self, what: str, cause: BaseException | None = None, where: str | None = None) -> None:
        where = where or self._where()
        frames = traceback.extract_tb(cause.__traceback__) if cause is not None else traceback.extract_stack()
        location = user_frame(frames)
        key = (where, location, what.split(":")[0])
        if key not in self._seen:
            self._seen.add(key)
            self.problems.append(Problem(f"{where}{location}", what, cause))

    def _where(self) -> str:
        path, cls = self.scope.module_path, self.scope.module_type
        if not path:
            return f"{self.model_name}.forward"
        return f"module '{path}' ({getattr(cls, '__name__', cls)})"

    def _module_where(self, path: str, module) -> str:
        return f"module '{path}' ({type(module).__name__})" if path else f"{self.model_name}.forward"


class _Values:
    """Node -> value; a weakly held value is kept alive by the proxies of its node (and by the last one recorded,
    until its proxy is made)."""

    def __init__(self):
        self._items: dict[Any, Any] = {}
        self._last: Any = None

    def keep(self, node, value, weak: bool) -> None:
        self._last = value
        self._items[node] = weakref.ref(value) if weak and isinstance(value, torch.Tensor) else value

    def __setitem__(self, node, value) -> None:
        self.keep(node, value, weak=False)

    def __getitem__(self, node):
        item = self._items[node]
        if isinstance(item, weakref.ref):
            item = item()
            if item is None:
                raise RuntimeError(f"interlayer tracer: the value of '{node.name}' was freed while still in use")
        return item

    def get(self, node, default=None):
        return self[node] if node in self._items else default

    def __contains__(self, node) -> bool:
        return node in self._items

    def pop(self, node, default=None):
        return self._items.pop(node, default)


def _sized_method(tracer, name: str, original):
    def method(self, *args, **kwargs):
        if not tracer.paused and not isinstance(self, fx.Proxy) and _holds((args, kwargs), _is_proxy):
            return tracer.create_proxy("call_method", name, (self, *args), kwargs)
        return original(self, *args, **kwargs)

    return method


def _sized_function(tracer, original):
    def function(*args, **kwargs):
        if not tracer.paused and _holds((args, kwargs), _is_proxy):
            return tracer.create_proxy("call_function", original, args, kwargs)
        return original(*args, **kwargs)

    return function


def _holds(value, test: Callable[[Any], bool]) -> bool:
    """Whether any item of ``value`` (nested tuples, lists, dicts) passes ``test``."""
    found = []
    map_aggregate(value, lambda item: found.append(True) if test(item) else None)
    return bool(found)


def _is_proxy(item) -> bool:
    return isinstance(item, fx.Proxy)


def _tensor_meta(item, found: list):
    if isinstance(item, torch.Tensor):
        found.append(True)
        return _extract_tensor_metadata(item)
    return item


def _has_mask(index) -> bool:
    return _holds(index, lambda item: isinstance(item, torch.Tensor) and item.dtype == torch.bool)


def user_frame(frames) -> str:
    """`` at file.py:123 `source line` `` for the innermost frame outside torch, interlayer and the stdlib."""
    for frame in reversed(list(frames)):
        name = frame.filename
        stdlib = name.startswith(_STDLIB) and "site-packages" not in name
        if not name.startswith(_LIBRARIES) and not stdlib and not name.startswith("<"):
            line = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
            text = f" `{line}`" if line else ""
            return f" at {os.path.basename(frame.filename)}:{frame.lineno}{text}"
    return ""


def erase_dead_queries(graph) -> None:
    """Remove size arithmetic and attribute reads nothing uses (the leftovers of answered shape questions)."""
    for node in reversed(list(graph.nodes)):
        if node.users or node.op in ("placeholder", "output", "call_module"):
            continue
        if node.op == "get_attr" or "tensor_meta" not in node.meta:
            graph.erase_node(node)
