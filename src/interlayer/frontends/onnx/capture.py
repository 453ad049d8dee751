"""ONNX -> IR: fold what is constant, then convert each remaining node by its op type and opset version.

**Converters and versions.** A converter is ``fn(ctx, node) -> result`` registered with
``@interlayer.register("onnx", "frontend", (op_type, since_version))`` (``(domain, op_type, since_version)`` for
a domain other than ``ai.onnx``). ``since_version`` means "from this opset on": a node is converted by the
converter of its op with the greatest ``since_version`` <= the model's opset for the node's domain, so
``("Softmax", 1)`` reads opsets 1-12 (softmax of the input coerced to 2-D at ``axis``) and ``("Softmax", 13)``
every later one (softmax along ``axis``). An op whose semantics changed gets one converter per version range;
the others have one, registered from the first version they read correctly. ``node`` is the
``onnx.NodeProto``; ``ctx`` (:class:`~.context.NodeContext`) reads its attributes and inputs (constants as numpy
arrays, computed values as IR values) and writes IR nodes. The result is the IR value of the node's output, or a
list with one entry per output (None for an output nothing reads); ``ctx.unsupported(message)`` reports what the
IR cannot express and returns None.

**Checks and folding.** The model first passes ``onnx.checker`` and strict ``onnx.shape_inference`` (a
:class:`~interlayer.errors.SourceError` otherwise, before anything is converted). Then, before a node is
converted, the walk looks at its inputs: a node whose inputs are all constants (initializers, ``Constant`` nodes,
results folded before) is evaluated with ``onnx.reference`` and never reaches a converter; ``Shape`` of a computed
value is a constant except for the batch, evaluated for two batch sizes (``folding.py``), so the shape arithmetic
exporters write around ``Reshape`` folds into a static target with the batch kept symbolic, and the zeros of
``ConstantOfShape`` over the batch are recognised as zeros. Nodes that no graph output depends on are skipped.

**Fusion.** A converter may read ahead and absorb the nodes after it (``ctx.absorb``): MatMul with a constant
matrix takes the Add of its bias (one ``linear``), a Div or Mul by sqrt(2) the rest of the exact GELU
(``patterns.py``). ``Constant`` nodes are folded before the walk so that such look-ahead sees them.

**Layout.** ONNX values are the IR's: channels-first, and no axis is special to the IR. Axis 0 of a graph input
is the batch and becomes ``"N"`` where the file leaves it open, and also where the file fixes the same size on
every input (model-zoo files fix it to 1; a ``Reshape`` to a literal 1 there is read as the batch); where the
inputs fix different sizes there, it keeps the file's size (``boundary.py``). A ``Transpose``, ``Reshape``,
``Squeeze`` or ``Unsqueeze`` that moves the batch off axis 0, or merges it with other axes, is kept as a view of
its input (``values.Held``, ``viewing.py``) with no IR node: an ``LSTM``/``GRU``/``RNN`` reads a time-major view
directly, ops along the last axis (MatMul, Gemm, Softmax, LayerNormalization, element-wise ops) run behind any
view, and any other reader gets the IR value the view describes (reshape, transpose, reshape nodes).

**Names.** Each IR node takes its ONNX node's name (a leading ``/`` dropped; ``<op_type>_<index>`` when empty;
made unique); a node that becomes several IR nodes names its helpers ``<name>_<role>``. Each weight's ONNX
initializer is recorded in ``graph.source["name_map"]``; ``graph.source["output_names"]`` keeps the ONNX
output names. Every node without a converter and every attribute value the IR cannot express is collected and
reported in one :class:`~interlayer.errors.UnsupportedLayerError`.
"""
from __future__ import annotations

from typing import Any

import onnx

from ...errors import SourceError
from ...ir.builder import GraphBuilder
from ...ir.graph import Graph
from ...registry import converters, plugin_errors
from . import folding
from .boundary import declare_inputs, declare_outputs, declare_sizes, dtypes, example_shapes, fixed_batch
from .context import Capture, NodeContext, as_value
from .values import Const, Dual, Failed, Held

CONTEXT = "onnx frontend"
DEFAULT_DOMAINS = ("", "ai.onnx")


def capture(model: onnx.ModelProto, example_inputs: Any = None, **options: Any) -> Graph:
    """The IR graph of an ``onnx.ModelProto`` (external data already loaded), weights in canonical layout.

    ``example_inputs`` is optional: arrays or shapes whose sizes fix the sizes the file leaves symbolic (the
    batch always stays symbolic).
    """
    if options:
        raise SourceError(f"{CONTEXT}: unknown option(s). Expected none. Received: {sorted(options)}.")
    if not isinstance(model, onnx.ModelProto):
        raise SourceError(f"{CONTEXT}: not an ONNX model. Expected an onnx.ModelProto. "
                          f"Received: type={type(model).__module__}.{type(model).__name__}.")
    inferred = check(model)
    opsets = opset_versions(model)
    graph = model.graph
    builder = GraphBuilder(graph.name or "onnx_model", "onnx", onnx.__version__)
    state = Capture(builder, graph, opsets, fixed_batch(graph), dtypes(inferred))
    declare_inputs(state, graph, example_shapes(example_inputs))
    declare_sizes(state, model)
    _walk(state, graph)
    declare_outputs(state, graph)
    result = builder.finish()
    result.source["output_names"] = [output.name for output in graph.output]
    return result


def check(model: onnx.ModelProto) -> onnx.ModelProto:
    """``onnx.checker`` and strict ``onnx.shape_inference`` on the model: the model with every value typed, or a
    :class:`SourceError` saying what is wrong before anything is converted."""
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise SourceError(f"{CONTEXT}: the model fails onnx.checker. Expected a valid ONNX model. Received: "
                          f"{_first_line(exc)}. Fix or re-export the file") from exc
    except ValueError as exc:  # larger than protobuf's 2 GB: checked from its path by files.load_model
        if "2GB" not in str(exc) and "2 GB" not in str(exc) and "2GiB" not in str(exc):
            raise SourceError(f"{CONTEXT}: the model cannot be checked ({_first_line(exc)}).") from exc
        return model
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except onnx.shape_inference.InferenceError as exc:
        raise SourceError(f"{CONTEXT}: the model fails ONNX shape inference: its shapes or types do not fit its "
                          f"ops. Expected a model onnxruntime can load. Received: {_first_line(exc)}. Fix or "
                          f"re-export the file") from exc


def opset_versions(model: onnx.ModelProto) -> dict[str, int]:
    """Domain -> opset version, ``""`` for the default domain."""
    versions = {}
    for entry in model.opset_import:
        versions["" if entry.domain in DEFAULT_DOMAINS else entry.domain] = entry.version
    versions.setdefault("", 1)
    return versions


def find_converter(table: dict, domain: str, op_type: str, version: int):
    """The converter with the greatest since-version <= ``version`` for ``(domain, op_type)``, and every
    since-version registered for it."""
    found = []
    for key, fn in table.items():
        if not isinstance(key, tuple) or len(key) not in (2, 3):
            continue
        key_domain, key_op, since = ("", *key) if len(key) == 2 else key
        key_domain = "" if key_domain in DEFAULT_DOMAINS else key_domain
        if key_domain == domain and key_op == op_type:
            found.append((since, fn))
    found.sort(key=lambda item: item[0])
    usable = [fn for since, fn in found if since <= version]
    return (usable[-1] if usable else None), [since for since, _ in found]


def node_name(node: onnx.NodeProto, index: int) -> str:
    """The IR name of a node: its ONNX name without a leading '/', ':' made '_'; ``<op_type>_<index>`` if empty."""
    name = node.name.strip().lstrip("/").replace(":", "_")
    return name or f"{node.op_type}_{index}"


# the walk ---------------------------------------------------------------------------------------------------


def _walk(state: Capture, graph: onnx.GraphProto) -> None:
    table = converters("onnx", "frontend")
    nodes = list(graph.node)
    needed = _needed(graph, nodes)
    for node in nodes:
        if id(node) in needed:
            for name in node.input:
                if name:
                    state.consumers.setdefault(name, []).append(node)
    for node in nodes:  # Constant nodes first, so that a converter looking ahead (a fused pattern) sees them
        if id(node) in needed and node.op_type == "Constant" and not node.input and (node.domain or "") == "":
            _store(state, node, folding.fold(node, [], state.opsets))
            state.absorbed.add(id(node))
    for index, node in enumerate(nodes):
        if id(node) not in needed or id(node) in state.absorbed:
            continue
        name = node_name(node, index)
        ctx = NodeContext(state, node, name)
        missing = [i for i in node.input if i and i not in state.values]
        if missing:
            raise SourceError(f"{CONTEXT}: {ctx.where} reads {missing}, which no node, initializer or graph input "
                              f"produces before it. Expected nodes in topological order.")
        inputs = [state.values[i] if i else None for i in node.input]
        if folding.foldable(node, inputs):
            try:
                _store(state, node, folding.fold(node, inputs, state.opsets))
            except folding.FoldError as exc:
                ctx.unsupported(str(exc))
                _store(state, node, [Failed(name, constant=True)] * len(node.output))
            continue
        if node.op_type in ("Shape", "Size") and (node.domain or "") == "":
            result = Failed(name, constant=True)
            if isinstance(inputs[0], Held):
                result = folding.shape_of(node, inputs[0], ctx.opset)
                if isinstance(result, str):
                    ctx.unsupported(result)
                    result = Failed(name, constant=True)
            _store(state, node, [result])
            continue
        if _constant_failure(inputs):
            _store(state, node, [Failed(name, constant=True)] * len(node.output))
            continue
        converter, versions = find_converter(table, node.domain or "", node.op_type, ctx.opset)
        if converter is None:
            ctx.unsupported(_no_converter(node, ctx.opset, versions))
        elif not any(isinstance(value, Failed) for value in inputs):
            results = converter(ctx, node)
            _store_results(state, ctx, node, results)
        if ctx.failed or converter is None or any(isinstance(value, Failed) for value in inputs):
            for output in node.output:
                if output and not isinstance(state.values.get(output), (Held, Const, Dual)):
                    state.values[output] = Failed(name)


def _constant_failure(inputs: list) -> bool:
    """Whether a node would have been folded but for an input that stands for a constant its failed source
    would have given (``Shape`` of an unconverted node): it is not reported again."""
    present = [value for value in inputs if value is not None]
    return any(isinstance(v, Failed) and v.constant for v in present) and all(
        isinstance(v, (Const, Dual)) or (isinstance(v, Failed) and v.constant) for v in present)


def _needed(graph: onnx.GraphProto, nodes: list[onnx.NodeProto]) -> set[int]:
    """The nodes some graph output depends on."""
    wanted = {output.name for output in graph.output}
    needed: set[int] = set()
    for node in reversed(nodes):
        if any(output in wanted for output in node.output if output):
            needed.add(id(node))
            wanted.update(name for name in node.input if name)
            for attribute in node.attribute:  # values a subgraph reads from the outer scope
                for sub in ([attribute.g] if attribute.type == onnx.AttributeProto.GRAPH else list(attribute.graphs)):
                    wanted.update(name for sub_node in sub.node for name in sub_node.input if name)
    return needed


def _store(state: Capture, node: onnx.NodeProto, results: list) -> None:
    for name, result in zip(node.output, results):
        if name:
            state.values[name] = result


def _store_results(state: Capture, ctx: NodeContext, node: onnx.NodeProto, results) -> None:
    if ctx.failed:
        return
    if not isinstance(results, (list, tuple)):
        results = [results]
    outputs = {o.name for o in state.graph.output}
    for index, name in enumerate(node.output):
        if not name:
            continue
        result = results[index] if index < len(results) else None
        if result is None:
            if state.consumers.get(name) or name in outputs:
                ctx.unsupported(f"its output {index} ('{name}') is read, and the IR has no equivalent of it")
            continue
        state.values[name] = as_value(ctx, result)


def _no_converter(node: onnx.NodeProto, version: int, versions: list[int]) -> str:
    domain = node.domain or "ai.onnx"
    since = _since_version(node, version)
    key = f'("{node.op_type}", {since})' if domain == "ai.onnx" else f'("{domain}", "{node.op_type}", {since})'
    broken = plugin_errors()
    note = (f" (plugin(s) that failed to load: {'; '.join(f'{p} ({e})' for p, e in broken.items())})"
            if broken else "")
    if versions:
        return (f"no converter for this opset. Expected opset >= {versions[0]} for {node.op_type}, whose converters "
                f"read since-versions {versions}. Received: opset={version}. Convert the model to a newer opset "
                f"(onnx.version_converter){note}")
    return (f"no converter for ONNX op '{node.op_type}' (domain {domain}): the IR has no equivalent op yet, or "
            f"this frontend does not read it. Expected an op with a converter. Received: op_type='{node.op_type}', "
            f"opset={version}. Register one with `@interlayer.register(\"onnx\", \"frontend\", {key})` on "
            f"`def convert(ctx, node)`{note}")


def _since_version(node: onnx.NodeProto, version: int) -> int:
    """The version of the op's schema in force at the model's opset (the model's opset when unknown)."""
    try:
        return onnx.defs.get_schema(node.op_type, version, node.domain or "").since_version
    except Exception:  # an op onnx does not know (a custom domain)
        return version


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__
