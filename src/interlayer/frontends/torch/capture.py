"""PyTorch -> IR: trace the model with torch.fx, record every value's shape on example inputs, convert each call.

Leaf modules (``torch.nn`` layers and every class with a registered converter) become ``call_module`` nodes and
are converted by class, exactly: a subclass never borrows its parent's converter. Functions and tensor methods
are converted by their function object or method name. Size arithmetic (``x.size(0)``) produces no IR: its
values are recorded and read by the converters that need them.
"""
from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

from ...errors import InterlayerError, SourceError
from ...ir.builder import GraphBuilder
from ...ir.graph import BATCH, Graph
from ...registry import converters
from .context import Call, Capture, describe
from .inplace import is_inplace, later_reader

_SEED = 0


def capture(model, example_inputs=None, **options: Any) -> Graph:
    """The IR graph of ``model`` (an ``nn.Module``), traced on ``example_inputs``.

    ``example_inputs``: a tensor, a tuple or list of tensors, one input shape such as ``(1, 1, 28, 28)``, or a
    list of shapes (seeded random float32 inputs are made). Dimension 0 is the batch and becomes ``"N"``.
    """
    import torch

    if options:
        raise InterlayerError(f"torch frontend: unknown option(s). Expected none. Received: {sorted(options)}.")
    if not isinstance(model, torch.nn.Module):
        raise SourceError(f"torch frontend: not a torch model. Expected a torch.nn.Module. "
                          f"Received: type={type(model).__module__}.{type(model).__name__}.")
    if example_inputs is None:
        raise SourceError(
            f"torch frontend: {type(model).__name__} needs example inputs to record its shapes. Expected "
            f"example_inputs= a tensor, a tuple of tensors, or input shapes such as (1, 3, 224, 224). "
            f"Received: example_inputs=None. Pass them, e.g. interlayer.export(model, example_inputs=(1, 3, 224, 224))."
        )
    tensors = example_tensors(example_inputs)
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        traced, paths = _trace(model)
        _propagate(traced, tensors, type(model).__name__)
        return _convert(model, traced, paths)
    finally:
        for module, mode in modes.items():
            module.training = mode


def example_tensors(example_inputs) -> list:
    """Tensors from the accepted forms of ``example_inputs``."""
    import torch

    if isinstance(example_inputs, (torch.Tensor, np.ndarray)):
        example_inputs = [example_inputs]
    elif _is_shape(example_inputs):
        example_inputs = [tuple(example_inputs)]
    if not isinstance(example_inputs, (list, tuple)):
        raise SourceError(f"torch frontend: example_inputs must be a tensor, a tuple of tensors or input shapes. "
                          f"Received: type={type(example_inputs).__name__}.")
    generator = torch.Generator().manual_seed(_SEED)
    tensors = []
    for item in example_inputs:
        if isinstance(item, torch.Tensor):
            tensors.append(item)
        elif isinstance(item, np.ndarray):
            tensors.append(torch.from_numpy(item))
        elif _is_shape(item):
            tensors.append(torch.randn(tuple(int(d) for d in item), generator=generator))
        else:
            raise SourceError(f"torch frontend: each example input must be a tensor, an array or a shape. "
                              f"Received: {item!r}.")
    return tensors


def _is_shape(value) -> bool:
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(d, int) and not isinstance(d, bool) for d in value))


def _trace(model):
    """The fx GraphModule of ``model`` and the names to use for a bare layer traced inside a wrapper."""
    import torch
    from torch import fx

    table = converters("torch", "frontend")
    leaves = tuple(key for key in table if isinstance(key, type) and issubclass(key, torch.nn.Module))
    root, paths = model, {}
    if isinstance(model, leaves):
        name = type(model).__name__.lower()
        root, paths = _single(name, model), {name: (name, "")}
    tracer = _tracer(leaves)
    try:
        graph = tracer.trace(root)
    except fx.proxy.TraceError as exc:
        raise SourceError(
            f"torch frontend: cannot trace {type(model).__name__} with torch.fx: its forward lets tensor values "
            f"decide Python control flow (if/while/for on a tensor). Expected a forward whose control flow does "
            f"not depend on input values. Received: {type(exc).__name__}: {exc}. Make the branch static, or "
            f"register a converter for the submodule that holds it with interlayer.register(...)."
        ) from exc
    except Exception as exc:
        raise SourceError(
            f"torch frontend: cannot trace {type(model).__name__} with torch.fx. Expected a forward that "
            f"torch.fx.symbolic_trace accepts. Received: {type(exc).__name__}: {exc}."
        ) from exc
    return fx.GraphModule(tracer.root, graph, type(model).__name__), paths


def _propagate(traced, tensors, name: str) -> None:
    import torch

    recorder = _recorder_class()(traced)
    try:
        # ShapeProp prints the traceback of a failing node; the error is raised, chained, below instead
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
            recorder.propagate(*tensors)
    except Exception as exc:
        shapes = [tuple(t.shape) for t in tensors]
        cause = exc.__cause__ or exc  # ShapeProp wraps the failure in a RuntimeError naming the fx node
        raise SourceError(
            f"torch frontend: running {name} on the example inputs failed. Expected example_inputs that its "
            f"forward accepts. Received: shapes={shapes}. {type(cause).__name__}: {cause}"
        ) from exc


def _convert(model, traced, paths) -> Graph:
    import torch

    builder = GraphBuilder(type(model).__name__, "torch", torch.__version__)
    state = Capture(builder, traced, paths)
    table = converters("torch", "frontend")
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            _input(state, node)
        elif node.op == "output":
            _outputs(state, node)
        elif node.op == "get_attr":
            state.values[node] = _missing_value(node.name)
            builder.unsupported(f"node '{node.name}' (get_attr)", (
                f"a tensor the model holds outside a layer has no IR equivalent. Expected tensors to be used "
                f"only inside layers. Received: target={node.target!r}."))
        elif "tensor_meta" in node.meta:
            _call(state, node, table)
    return builder.finish()


def _input(state: Capture, node) -> None:
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape"):
        return  # an argument left at a non-tensor default
    shape = tuple(meta.shape)
    state.values[node] = state.builder.input(node.target.lstrip("*"), (BATCH, *shape[1:]), _dtype(meta.dtype))


def _call(state: Capture, node, table) -> None:
    call = Call(state, node)
    target = call.module if call.module is not None else node.target
    key = type(call.module) if call.module is not None else node.target
    converter = table.get(key)
    reader = later_reader(state.root, node, state.order) if is_inplace(state.root, node) else None
    if converter is None:
        value = call.unsupported(_no_converter(call, table))
    elif reader is not None:
        value = call.unsupported(
            f"it works in place and '{reader.name}' reads the tensor it overwrote afterwards; the IR has no "
            f"mutation. Expected inplace=False, or no later use of its input. Received: inplace=True")
    else:
        value = converter(call, target)
    state.values[node] = value if value is not None else _missing_value(call.name)


def _no_converter(call: Call, table) -> str:
    if call.module is None:
        return (f"has no torch frontend converter. Expected a supported function or tensor method. "
                f"Received: target={describe(call.node)}")
    cls = type(call.module)
    qualified = f"{cls.__module__}.{cls.__qualname__}"
    parents = [key.__name__ for key in table if isinstance(key, type) and key is not cls and issubclass(cls, key)]
    if parents:
        return (f"is a subclass of {parents[0]}, and converters match exact classes. Expected a converter "
                f"registered for {cls.__name__} itself. Received: type={qualified}")
    return f"has no torch frontend converter. Expected a supported layer. Received: type={qualified}"


def _outputs(state: Capture, node) -> None:
    for index, item in enumerate(_flat(node.args[0])):
        value = state.values.get(item) if hasattr(item, "meta") else None
        if value is None:
            state.builder.unsupported(f"graph output {index}", (
                f"is not a tensor computed by the model. Expected tensors, or a tuple or list of them. "
                f"Received: output={item!r}."))
            continue
        meta = item.meta.get("tensor_meta")
        state.builder.output(value, _dtype(meta.dtype) if hasattr(meta, "dtype") else "float32")


def _flat(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def _dtype(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def _missing_value(name: str) -> str:
    return f"<unconverted {name}>"


# torch classes, made on first use so that importing this module does not import torch --------------------

_CLASSES: dict[str, type] = {}


def _recorder_class():
    if "recorder" not in _CLASSES:
        import torch
        from torch.fx.passes.shape_prop import ShapeProp

        class ShapeRecorder(ShapeProp):
            """ShapeProp that also keeps the plain values of size arithmetic (``x.size(0)``, ``x.shape``)."""

            def run_node(self, n):
                result = super().run_node(n)
                if "tensor_meta" not in n.meta and not isinstance(result, torch.Tensor):
                    n.meta["interlayer.value"] = result
                return result

        _CLASSES["recorder"] = ShapeRecorder
    return _CLASSES["recorder"]


def _tracer(leaves):
    from torch import fx

    class Tracer(fx.Tracer):
        """Standard leaves, plus every module whose class (or a parent class) has a converter."""

        def is_leaf_module(self, m, module_qualified_name):
            return isinstance(m, leaves) or super().is_leaf_module(m, module_qualified_name)

    return Tracer()


def _single(name: str, layer):
    """A one-child container so that a bare layer (``capture(nn.Linear(3, 4), ...)``) traces as a leaf."""
    import torch

    class Single(torch.nn.Module):
        def forward(self, input):
            return getattr(self, name)(input)

    root = Single()
    root.add_module(name, layer)
    return root
