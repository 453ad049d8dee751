"""PyTorch -> IR: trace the model on its example inputs with concrete shapes (``tracer.py``), convert each call.

Leaf modules (``torch.nn`` layers and every class with a registered converter) become ``call_module`` nodes and
are converted by class, exactly: a subclass never borrows its parent's converter. Functions and tensor methods
are converted by their function object or method name. Size arithmetic (``x.size(0)``) produces no IR: its
values are recorded and read by the converters that need them; results that do not depend on the inputs are
constants that converters read with ``ctx.constant``. Python code that depends on tensor values is refused with
one error naming every place.

The forward is called with the example inputs bound to its first positional parameters and every other
parameter left at its default. Its result (tensors, tuples, lists, dicts, Hugging Face ``ModelOutput``) is
flattened as ``outputs.flat_outputs`` says; the names (``last_hidden_state``...) are kept in
``graph.source["output_names"]`` unless the forward returns a single tensor.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ...errors import InterlayerError, SourceError
from ...ir.builder import GraphBuilder
from ...ir.graph import BATCH, Graph
from ...registry import converters
from . import layouts
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
        table = frontend_table()
        with torch.no_grad():
            traced, paths, output_names = _trace(model, tensors, table)
        return _convert(model, traced, paths, table, output_names)
    finally:
        for module, mode in modes.items():
            module.training = mode


def frontend_table() -> dict:
    """The torch frontend converters: the registry's, over those of libraries the process has imported.

    The converters of Hugging Face layers (``transformers_layers``) are looked up only when ``transformers`` is
    already imported, and never enter the registry, so what the registry lists does not depend on imports; a
    converter registered with ``interlayer.register`` for the same class takes precedence.
    """
    table = dict(converters("torch", "frontend"))
    if "transformers" in sys.modules:
        from .transformers_layers import CONVERTERS

        table = {**CONVERTERS, **table}
    return table


def example_tensors(example_inputs) -> list:
    """Tensors from the accepted forms of ``example_inputs``; a shape is refused past the tensor size limit
    (``ir/limits.py``, float32) before its random tensor is made."""
    import torch

    from ...ir import limits

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
            shape = tuple(int(d) for d in item)
            if any(d < 0 for d in shape):
                raise SourceError(f"torch frontend: an input shape has a negative size. Expected sizes >= 0. "
                                  f"Received: shape={list(shape)}.")
            limits.check_tensor(f"torch frontend: example input of shape {list(shape)}", shape, 4)  # float32
            tensors.append(torch.randn(shape, generator=generator))
        else:
            raise SourceError(f"torch frontend: each example input must be a tensor, an array or a shape. "
                              f"Received: {item!r}.")
    return tensors


def _is_shape(value) -> bool:
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(d, int) and not isinstance(d, bool) for d in value))


def _trace(model, tensors: list, table: dict):
    """The traced fx GraphModule, the names to use for a bare layer traced inside a wrapper, the output names."""
    import torch
    from torch import fx

    from . import tracer as concrete

    leaves = tuple(key for key in table if isinstance(key, type) and issubclass(key, torch.nn.Module))
    root, paths, name = model, {}, type(model).__name__
    if isinstance(model, leaves):
        layer = name.lower()
        root, paths = _single(layer, model), {layer: (layer, "")}
    tracer = concrete.tracer_class(leaves)(tensors, name)
    try:
        graph = tracer.trace(root)
    except concrete.RunFailed as failure:
        raise _run_failed(name, tensors, failure.where, failure.cause) from failure.cause
    except SourceError:
        raise
    except Exception as exc:  # the root's own forward cannot be traced: is it fx, or the model itself?
        _check_runs(root, tensors, name)
        tracer.problems.append(concrete.Problem(f"{name}.forward{concrete.user_frame(_frames(exc))}",
                                                f"fx cannot trace its code: {type(exc).__name__}: {exc}", exc))
    if tracer.problems:
        raise _untraceable(name, tracer.problems)
    concrete.erase_dead_queries(graph)
    owned = {node.target: _owned(root, tracer, node) for node in graph.nodes if node.op in ("call_module", "get_attr")}
    return fx.GraphModule(owned, graph, name), paths, tracer.output_names


def _owned(root, tracer, node):
    """The module, parameter, buffer or constant an fx node refers to."""
    if node.op == "call_module":
        return root.get_submodule(node.target)
    return tracer.values[node]


def _frames(exc: BaseException):
    import traceback

    return traceback.extract_tb(exc.__traceback__)


def _check_runs(root, tensors: list, name: str) -> None:
    """Raise the error of running the model on the example inputs, if it fails outside tracing too."""
    import torch

    try:
        with torch.no_grad():
            root(*tensors)
    except Exception as exc:
        raise _run_failed(name, tensors, f"{name}.forward", exc) from exc


def _run_failed(name: str, tensors: list, where: str, cause: BaseException) -> SourceError:
    shapes = [tuple(t.shape) for t in tensors]
    return SourceError(f"torch frontend: running {name} on the example inputs failed. Expected example_inputs that "
                       f"its forward accepts. Received: shapes={shapes}. In {where}: {type(cause).__name__}: {cause}")


def _untraceable(name: str, problems: list) -> SourceError:
    """One error naming every place where the forward cannot become a graph."""
    lines = [f"torch frontend: cannot trace {name}: {len(problems)} place(s) in its forward code cannot become a "
             f"graph (Python control flow and sizes must follow from input shapes, not tensor values):"]
    lines += [f"  - {problem.where}: {problem.what}" for problem in problems]
    lines.append("Expected code whose control flow does not depend on input values. Make those places static, or "
                 "register a converter for the module that holds each with interlayer.register('torch', "
                 "'frontend', ModuleClass): it is then captured as one layer and its forward is not traced.")
    error = SourceError("\n".join(lines))
    cause = next((problem.cause for problem in problems if problem.cause is not None), None)
    if cause is None:
        from torch.fx.proxy import TraceError

        cause = TraceError(f"{problems[0].where}: {problems[0].what}")
    error.__cause__ = cause
    return error


def _convert(model, traced, paths, table, output_names) -> Graph:
    import torch

    builder = GraphBuilder(type(model).__name__, "torch", torch.__version__)
    state = Capture(builder, traced, paths, table)
    state.state_keys = set(model.state_dict())
    state.convert_batch_only = lambda node: _batch_only(state, node)
    time_major = layouts.graph_inputs(state)
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            _input(state, node, node in time_major)
        elif node.op == "output":
            _outputs(state, node)
        elif "interlayer.batch_of" in node.meta and node.meta["interlayer.batch_of"] in state.swapped:
            # the tracer took axis 0 of a time-major tensor for its batch: that size is the sequence length
            del node.meta["interlayer.batch_of"]
            node.meta["interlayer.constant"] = True
        elif "interlayer.batch_of" in node.meta:
            continue  # converted when a layer reads it (Call.value)
        elif "tensor_meta" in node.meta and not node.meta.get("interlayer.constant"):
            _call(state, node)
    graph = builder.finish()
    if output_names is not None:
        graph.source["output_names"] = list(output_names)
    second = sorted(_held_second(state))
    if second:  # IR values whose PyTorch tensor holds the batch on axis 1 (verify reads the source's through it)
        graph.source["batch_second"] = second
    return graph


def _held_second(state: Capture) -> set[str]:
    found = set()
    for node in state.swapped:  # a split's result is a list of values, each held as the split's input
        value = state.values.get(node)
        found |= set(value) if isinstance(value, list) else {value}
    for node, flags in state.parts.items():
        found |= {value for value, _, swapped in _parts(state.values.get(node), None, flags) if swapped}
    return {value for value in found if isinstance(value, str) and not value.startswith("<")}


def _input(state: Capture, node, time_major: bool) -> None:
    """A graph input; one that a time-major layer reads, (T, N, ...) in the source, is the IR input (N, T, ...)."""
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape"):
        return  # an argument left at a non-tensor default
    shape, name = tuple(meta.shape), node.target.lstrip("*")
    if time_major:
        state.swapped.add(node)
        state.values[node] = state.builder.input(name, (BATCH, shape[0], *shape[2:]), _dtype(meta.dtype),
                                                 perm=layouts.perm(len(shape)))
    else:
        state.values[node] = state.builder.input(name, (BATCH, *shape[1:]), _dtype(meta.dtype))


def _call(state: Capture, node) -> None:
    if node in state.values:  # converted with the call it reads (a recurrent layer's use of its final state)
        return
    if _picks_output(node):  # ``parts[i]`` of a call with several results (split, chunk) is the i-th IR value
        parts = state.values.get(node.args[0])
        state.values[node] = parts[node.args[1]] if isinstance(parts, list) else _missing_value(node.name)
        held = state.parts[node.args[0]][node.args[1]] if node.args[0] in state.parts else node.args[0] in state.swapped
        if isinstance(held, list):
            state.parts[node] = held
        elif held:
            state.swapped.add(node)
        return
    call = Call(state, node)
    target = call.module if call.module is not None else node.target
    converter = call.converter
    reader = later_reader(state.root, node, state.order) if is_inplace(state.root, node) else None
    held = None if converter is None else _layout(call, converter)
    if converter is None:
        value = call.unsupported(_no_converter(call))
    elif held is not None:
        value = call.unsupported(held)
    elif reader is not None:
        value = call.unsupported(
            f"it works in place and '{reader.name}' reads the tensor it overwrote afterwards; the IR has no "
            f"mutation. Expected inplace=False, or no later use of its input. Received: inplace=True")
    else:
        value = converter(call, target)
    state.values[node] = value if value is not None else _missing_value(call.name)


def _layout(call: Call, converter) -> str | None:
    """Decide how the call reads and writes tensors held swapped (``layouts.py``); why it cannot, or None."""
    reads = layouts.computed(call)
    swapped = {arg: call.is_swapped(arg) for arg in reads}
    rule = layouts.RULES.get(converter)
    if rule is None:
        wanted = layouts.expected(call)
        wrong = [arg for arg in reads if swapped[arg] != wanted.get(arg, False)]
        return layouts.mismatch(call, wrong[0], swapped[wrong[0]]) if wrong else None
    if len(set(swapped.values())) > 1:
        return (f"it reads tensors with the batch on axis 0 and on axis 1 together. Expected one layout. Received: "
                f"{', '.join(f'{layouts.named(arg)} (batch on axis {int(held)})' for arg, held in swapped.items())}")
    call.batch = int(any(swapped.values()))
    after = rule(call, call.batch)
    if isinstance(after, str):
        return after if call.batch else None  # a batch-first call: its converter says what is wrong
    if after == 1:
        call.capture.swapped.add(call.node)
    return None


def _batch_only(state: Capture, node) -> None:
    """Convert a tensor made from the batch size alone (a mask or ids built for the batch in ``forward``), when a
    layer first reads it.

    Its converter is tried (``cls_token.expand(x.size(0), -1, -1)`` stays a trainable ``batch_constant``); when
    the call has no IR form, the attempt leaves nothing behind and ``Call.value`` repeats the tensor's recorded
    value over the batch instead, so the arithmetic that built it (``arange`` of the batch, comparisons,
    indexing) never enters the IR. Tensors nothing reads are never converted.
    """
    builder = state.builder
    problems, nodes, values = len(builder.problems), len(builder.nodes), set(state.values)
    _call(state, node)
    if len(builder.problems) > problems:
        del builder.problems[problems:]
        del builder.nodes[nodes:]
        for made in set(state.values) - values:
            del state.values[made]


def _picks_output(node) -> bool:
    """Whether the node is ``results[i]`` of a call with several results (split, chunk): its converter returned
    a list of IR values, or nothing when it failed."""
    import operator

    if node.target is not operator.getitem or not isinstance(node.args[1], int):
        return False
    source = node.args[0]
    meta = source.meta.get("tensor_meta") if hasattr(source, "meta") else None
    return isinstance(meta, (list, tuple)) and not hasattr(meta, "shape")  # TensorMetadata is a tuple too


def _no_converter(call: Call) -> str:
    if call.module is None:
        return (f"has no torch frontend converter. Expected a supported function or tensor method. "
                f"Received: target={describe(call.node)}")
    cls = call.key
    qualified = f"{cls.__module__}.{cls.__qualname__}"
    parents = [key.__name__ for key in call.capture.table
               if isinstance(key, type) and key is not cls and issubclass(cls, key)]
    if parents:
        return (f"is a subclass of {parents[0]} that defines code of its own, so {parents[0]}'s converter does not "
                f"convert it. Expected a converter registered for {cls.__name__} itself. Received: type={qualified}")
    return f"has no torch frontend converter. Expected a supported layer. Received: type={qualified}"


def _outputs(state: Capture, node) -> None:
    for index, item in enumerate(_flat(node.args[0])):
        value = state.values.get(item) if hasattr(item, "meta") else None
        if value is None:
            state.builder.unsupported(f"graph output {index}", (
                f"is not a tensor computed by the model. Expected tensors, or a tuple or list of them. "
                f"Received: output={item!r}."))
            continue
        held = state.parts.get(item, item in state.swapped)
        for part, meta, swapped in _parts(value, item.meta.get("tensor_meta"), held):  # a split returned whole
            perm = layouts.perm(len(meta.shape)) if swapped else None
            state.builder.output(part, _dtype(meta.dtype) if hasattr(meta, "dtype") else "float32", perm)


def _parts(value, meta, held):
    """(IR value, tensor meta, held swapped) of each tensor of a result, nested results (an LSTM's) flattened."""
    if not isinstance(value, list):
        yield value, meta, held
        return
    for index, part in enumerate(value):
        yield from _parts(part, None if meta is None else meta[index], held[index] if isinstance(held, list) else held)


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


def _single(name: str, layer):
    """A one-child container so that a bare layer (``capture(nn.Linear(3, 4), ...)``) traces as a leaf."""
    import torch

    class Single(torch.nn.Module):
        def forward(self, input):
            return getattr(self, name)(input)

    root = Single()
    root.add_module(name, layer)
    return root
