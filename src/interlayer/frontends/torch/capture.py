"""PyTorch -> IR: export the model with ``torch.export`` keeping its sizes generic, then convert each ATen call.

``torch.export`` runs the model's forward on example inputs with symbolic sizes and records a graph of ATen
calls that holds for any size the model allows (``inputs.py`` says which sizes stay generic). Its default
(training) form keeps layers whole (``aten.linear``, ``aten.conv2d``, ``aten.layer_norm``,
``aten.scaled_dot_product_attention``, ``aten.lstm``...), names every parameter and buffer by its ``state_dict``
key, and records for each call the module whose forward made it (``nn_module_stack``), which names the IR node:

* a call of a leaf module (``nn.Conv2d``, ``nn.ReLU``: a module without children) that yields the module's result
  takes the module's path (``features.0``); its other calls ``<path>_<op>`` (``conv_pad``);
* any other call inside a module is ``<path>.<op>`` (``layers.0.self_attn.transpose``), and at the model's own
  level ``<op>``; repeats are numbered (``_1``).

Sizes are ``SymInt``s; their arithmetic produces no IR (``sizes.py`` turns each into a size expression that the
converters write into attributes). Calls whose tensor arguments are all constants (parameters, buffers, results
of constants) and whose sizes are fixed are computed here, once, with torch, and become constants: a slice of
``in_proj_weight``, a rotary table's inverse frequencies. A program with in-place calls (``relu_``, ``add_``) is
made functional first, so that every alias a mutation reaches reads the new value.

The forward gets the examples by parameter name and ``use_cache=False`` where it takes that parameter (a
key/value cache is generation-time state). Its result (tensors, tuples, dicts, Hugging Face ``ModelOutput``) is
flattened in pytree order; the names (``last_hidden_state``...) are kept in ``graph.source["output_names"]``
unless the forward returns a single tensor.
"""
from __future__ import annotations

import operator
import re
from typing import Any

from ...errors import InterlayerError, SourceError
from ...ir import bindings, dims
from ...ir.builder import GraphBuilder
from ...ir.graph import Graph
from ...registry import converters
from . import inputs as example_inputs_module
from . import leaves, recurrent
from ...backends.torch.build import to_eval
from .context import Call, Capture, Const, FixSizes, LeafCall, ir_dtype
from .sizes import SizeNames, role_name

_SIZE_FUNCTIONS = {operator.add, operator.sub, operator.mul, operator.floordiv, operator.mod, operator.neg,
                   operator.truediv, operator.pow}
_SKIPPED = ("_assert_tensor_metadata", "_assert_scalar", "sym_constrain_range", "sym_constrain_range_for_size",
            "_assert_async", "_print")


def capture(model, example_inputs=None, *, dynamic_shapes=None, **options: Any) -> Graph:
    """The IR graph of ``model`` (an ``nn.Module``), exported on ``example_inputs`` (see ``inputs.py`` for the
    accepted forms) with every size the model allows kept generic. ``dynamic_shapes`` (torch.export's own form,
    by parameter name) replaces the generic-size rules when given."""
    import torch

    if options:
        raise InterlayerError(f"torch frontend: unknown option(s). Expected dynamic_shapes. Received: {sorted(options)}.")
    if not isinstance(model, torch.nn.Module):
        raise SourceError(f"torch frontend: not a torch model. Expected a torch.nn.Module. "
                          f"Received: type={type(model).__module__}.{type(model).__name__}.")
    if example_inputs is None:
        raise SourceError(
            f"torch frontend: {type(model).__name__} needs example inputs to be exported. Expected "
            f"example_inputs= tensors, shapes such as (1, 3, 224, 224), or input specs such as "
            f"'input_ids:int64[batch,seq]'. Received: example_inputs=None.")
    examples = example_inputs_module.examples(model, example_inputs)
    modes = {module: module.training for module in model.modules()}
    to_eval(model)
    fixed: dict[str, dict] = {}
    try:
        for _ in range(_RETRIES):
            program, leaf_modules = _export(model, examples, dynamic_shapes)
            try:
                graph = _convert(model, program, examples, leaf_modules)
            except FixSizes as request:
                if dynamic_shapes is not None or not _fix(examples, program, request, fixed):
                    raise InterlayerError(f"torch frontend: {request.reason}; its sizes could not be fixed. "
                                          f"Expected sizes the IR can keep generic. Give the input sizes as "
                                          f"fixed numbers in the input spec.") from None
                continue
            if fixed:
                graph.source["fixed_sizes"] = fixed
            return graph
        raise InterlayerError(f"torch frontend: sizes kept being fixed after {_RETRIES} exports ({sorted(fixed)}).")
    finally:
        for module, mode in modes.items():
            module.training = mode


_RETRIES = 4
"""exports of one capture at most: the first, and one more for each set of sizes a converter asks to fix"""


def _fix(examples: list, program, request: FixSizes, fixed: dict) -> bool:
    """Make the examples' axes whose sizes ``request`` names fixed at the example's size; whether any was."""
    changed = False
    placeholders = {node.name: node for node in program.graph.nodes if node.op == "placeholder"}
    for example in examples:
        node = placeholders.get(example.name)
        value = node.meta.get("val") if node is not None else None
        for axis, size in enumerate(getattr(value, "shape", ())):
            expression = getattr(getattr(size, "node", None), "expr", None)
            if expression is None or not expression.is_Symbol:
                continue
            kind = example.axes[axis]
            name = request.size_names.get(str(expression))
            if name in request.names and not isinstance(kind, int):
                example.axes[axis] = int(example.tensor.shape[axis])
                fixed[name] = {"size": int(example.tensor.shape[axis]), "reason": request.reason}
                changed = True
    return changed


def frontend_table() -> dict:
    """The torch frontend converters, by ATen operator (``OpOverloadPacket``)."""
    return dict(converters("torch", "frontend"))


def _export(model, examples: list, dynamic_shapes):
    import torch

    kwargs = {example.name: example_inputs_module.grown(example) for example in examples}
    shapes = dict(dynamic_shapes) if dynamic_shapes is not None else example_inputs_module.dynamic_shapes(examples)
    if "use_cache" in example_inputs_module.forward_parameters(model) and "use_cache" not in kwargs:
        kwargs["use_cache"] = False
        shapes["use_cache"] = None
    try:
        with torch.no_grad(), leaves.opaque(model, frontend_table(), kwargs) as leaf_modules, \
                recurrent.symbolic_steps():  # recurrent layers keep their sequence length generic
            program = torch.export.export(model, (), kwargs=kwargs, dynamic_shapes=shapes)
            if _mutates(program):
                _alias_inference_dropouts(program)
                program = program.run_decompositions({})
            return program, leaf_modules
    except SourceError:
        raise
    except Exception as exc:  # torch.export's errors are many types; its message says where and why
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        summary = "\n  ".join(lines[:12]) + ("\n  ..." if len(lines) > 12 else "")
        raise SourceError(
            f"torch frontend: torch.export cannot export {type(model).__name__} on inputs "
            f"{ {name: tuple(t.shape) for name, t in kwargs.items() if hasattr(t, 'shape')} }. Expected a forward "
            f"that torch.export captures (no Python control flow on tensor values, sizes the model allows to vary). "
            f"Received: {type(exc).__name__}:\n  {summary}") from exc


def _alias_inference_dropouts(program) -> None:
    """An inactive dropout (``train=False``) returns its input itself, so an in-place call on its result
    (``nn.ReLU(inplace=True)`` after ``nn.Dropout``) changes that input for every later reader; the exported
    program records it as a new tensor. Each one is replaced by its input before the program is made functional,
    which then carries the change to every reader as eager PyTorch does. (A dropout stays where no change reaches
    another reader: the IR keeps its rate.)"""
    def mutated(value) -> bool:
        return any(getattr(getattr(user.target, "_schema", None), "is_mutable", False) and user.args
                   and user.args[0] is value for user in value.users)

    for node in list(program.graph_module.graph.nodes):
        name = getattr(node.target, "__name__", "").split(".")[0] if node.op == "call_function" else ""
        if name in ("dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout") \
                and len(node.args) > 2 and node.args[2] is False \
                and (mutated(node) and len(node.args[0].users) > 1 or mutated(node.args[0])):
            node.replace_all_uses_with(node.args[0])
            program.graph_module.graph.erase_node(node)
    program.graph_module.recompile()


def _mutates(program) -> bool:
    """Whether the program has in-place calls (``relu_``, ``add_``) that must be made functional first (through
    every alias a mutation reaches) by ``run_decompositions`` with no decompositions, which costs another trace.
    An in-place call on a fresh result nobody reads afterwards (``nn.ReLU(inplace=True)`` after a conv) needs
    none: it is converted as its functional twin. Only programs with another kind pay for the trace."""
    order = {node: index for index, node in enumerate(program.graph.nodes)}
    for node in program.graph.nodes:
        schema = getattr(node.target, "_schema", None)
        if node.op != "call_function" or schema is None or not schema.is_mutable:
            continue
        written = [value for argument, value in zip(schema.arguments, node.args)
                   if argument.alias_info is not None and argument.alias_info.is_write]
        if len(written) != 1 or not _fresh(written[0], node, order):
            return True
    return False


def _fresh(value, mutation, order: dict) -> bool:
    """Whether ``value`` is a result of its own (not an input, a parameter or a view of another tensor) that no
    call reads after ``mutation`` but the mutation's own result."""
    if getattr(value, "op", None) != "call_function" or value.target is operator.getitem:
        return False
    if "dropout" in str(value.target):  # an inactive dropout returns its input itself (_alias_inference_dropouts)
        return False
    schema = getattr(value.target, "_schema", None)
    if schema is None or any(result.alias_info is not None for result in schema.returns):
        return False
    return all(order[user] <= order[mutation] for user in value.users)


def _convert(model, program, examples: list, leaf_modules: dict) -> Graph:
    import torch

    names = SizeNames()
    builder = GraphBuilder(type(model).__name__, "torch", torch.__version__)
    state = Capture(builder, model, frontend_table(), names)
    state.leaf_modules = leaf_modules
    graph = program.graph_module.graph
    _bind_inputs(state, program, examples)
    infos = _module_infos(model, graph)
    for node in graph.nodes:
        if node.op == "call_function" and node.target is not operator.getitem and node not in state.values:
            try:
                _call(state, node, infos)
            except FixSizes as request:
                request.size_names = dict(names.names)
                raise
        elif node.op == "call_function":
            parts = state.values.get(node.args[0])
            state.values[node] = parts[node.args[1]] if isinstance(parts, (list, tuple)) else None
    output_names = _outputs(state, program)
    _sizes_and_guards(state, program)
    _still_generic(state, program)
    builder.prune()
    result = builder.finish()
    _pinned(state, result)
    result.source["output_names"] = output_names if output_names != [""] else None
    if result.source["output_names"] is None:
        del result.source["output_names"]
    return result


def _pinned(state: Capture, graph: Graph) -> None:
    """Sizes the model keeps generic only in name: where torch.export knows a value's size is one number for every
    size it allows (a flatten before a Linear of 400 features, guarded so that the map it flattens is 5x5), while
    the IR computes it from the input sizes; or where torch.export requires a product of sizes to be one number
    (the same flatten, when several maps have its size: ``dims.product_equality``). No target's layer of fixed features reads a generic axis, so the
    input sizes it reads are fixed at the example's (``FixSizes``) and the model exported again."""
    shapes = graph.shapes()
    names: set[str] = set()
    where = []
    for node, value in state.values.items():
        found = node.meta.get("val") if hasattr(node, "meta") else None
        if not isinstance(value, str) or value not in shapes or not hasattr(found, "shape"):
            continue
        for ir, size in zip(shapes[value], state.names.shape(found.shape)):
            if isinstance(ir, str) and isinstance(size, int):
                read = sorted(dims.names(ir))
                names |= set(read)
                where.append(f"'{value}' has a size of {size} at every size of {', '.join(read)} the model allows")
    products = [guard for guard in graph.guards if dims.product_equality(guard)]
    base = bindings.choose(graph, bindings.defaults(graph)) if products else None
    for guard in products:
        if not _holds_when_scaled(base, guard):
            read = sorted(dims.relation_names(guard))
            names |= set(read)
            where.append(f"the model requires {guard} (a flatten before a layer of fixed features)")
    if names:
        request = FixSizes(names, where[0])
        request.size_names = dict(state.names.names)
        raise request


def _holds_when_scaled(base: dict[str, int] | None, guard: str) -> bool:
    """Whether a relation that holds at the sizes ``base`` (sizes that keep the graph's guards) holds at their
    multiples too (``H // (H // 2) == 2``: any even size), rather than at scattered points (a flatten's
    ``(H//2 - 1) * (W//2 - 1) == 25``)."""
    if base is None:
        return False
    return any(dims.holds(guard, {name: size * factor for name, size in base.items()}) for factor in (2, 3, 4))


def _still_generic(state: Capture, program) -> None:
    """Every input size that was generic still is: a converter that read a ``SymInt`` as a Python int would have
    made torch take it for that value (an error of interlayer's, named here rather than a graph baked at one
    size)."""
    for node in program.graph.nodes:
        value = node.meta.get("val") if node.op == "placeholder" else None
        for axis, size in enumerate(getattr(value, "shape", ())):
            symbol = getattr(getattr(size, "node", None), "_expr", None)
            expression = getattr(getattr(size, "node", None), "expr", None)
            if symbol is not None and getattr(symbol, "is_Symbol", False) and getattr(expression, "is_Integer", False) \
                    and symbol in program.range_constraints:  # not a size torch.export itself fixed (weights, lstm)
                raise InterlayerError(f"torch frontend: converting {node.name} fixed its size {axis} at "
                                      f"{int(expression)}. Expected sizes kept generic; this is interlayer's error: "
                                      f"report it with the model.")


def _sizes_and_guards(state: Capture, program) -> None:
    """The range torch.export allows each named size and the relations it requires of them, as the graph's
    ``sizes`` and ``guards``.

    A lower bound of 2 is torch.export's way of not tracing sizes of 1 (it takes a size of 1 for a constant): the
    model runs at 1 all the same, so the range starts at 1. Guards are read from the exported program's input
    checks (``_guards_code``, the Python conditions its module checks on each call): equalities and bounds
    between sizes (a flattened map that must be 1x1, a length at most the position table's) are kept; the
    conditions that only say a size is not 0 or 1 (how torch.export specialises) are not requirements of the
    model and are left out, as are the inequalities (``A != B``): torch.export records them when the example's
    sizes happened to differ, not because the model needs them to."""
    for symbol, bounds in program.range_constraints.items():
        name = state.names.names.get(str(symbol))
        if name is None:
            continue
        lower, upper = int(bounds.lower), bounds.upper
        state.builder.sizes[name] = {"min": 1 if lower == 2 else lower,
                                     "max": int(upper) if upper.is_Integer else None}
    for guard in _guards(state, program):
        if guard not in state.builder.guards:
            state.builder.guards.append(guard)


_GUARD_SIZE = re.compile(r"L\['(?P<input>[^']+)'\]\.size\(\)\[(?P<axis>\d+)\]")
_SPECIALISATION = re.compile(r"^.*( != .*|>= [012])$")


def _guards(state: Capture, program) -> list[str]:
    found = []
    shapes = {spec.name: spec.shape for spec in state.builder.inputs}
    for code in getattr(program, "_guards_code", None) or []:
        for part in code.split(" and "):
            text = _GUARD_SIZE.sub(lambda m: f"({shapes.get(m['input'], ())[int(m['axis'])]})"
                                   if int(m["axis"]) < len(shapes.get(m["input"], ())) else "?", part.strip())
            if "L[" in text or "?" in text:
                continue
            try:
                guard = dims.relation(text.strip())
            except Exception:  # noqa: BLE001  (a condition that is not a relation of sizes: torch checks it)
                continue
            if _SPECIALISATION.match(guard) or _always(guard):
                continue
            found.append(guard)
    return found


def _always(guard: str) -> bool:
    """A relation of ints alone (torch folds some), or of a size with itself (``T == T``, two inputs' axes that
    are one size): nothing to check."""
    left, operator_, right = guard.partition(" == ")[0], " == " in guard, guard.partition(" == ")[2]
    return not dims.relation_names(guard) or (operator_ and dims.equal(left, right))


def _bind_inputs(state: Capture, program, examples: list) -> None:
    """Graph inputs (named after ``forward``'s parameters, their sizes named), and constants for parameters,
    buffers and tensors the program holds."""
    from torch.export.graph_signature import InputKind

    kinds = {example.name: example.axes for example in examples}
    placeholders = {node.name: node for node in program.graph.nodes if node.op == "placeholder"}
    time_major = _time_major(program)
    for spec in program.graph_signature.input_specs:
        node = placeholders.get(spec.arg.name)
        if node is None:
            continue
        if spec.kind == InputKind.USER_INPUT:
            value = node.meta.get("val")
            if hasattr(value, "shape"):
                roles = {0: "T", 1: "N"} if spec.arg.name in time_major and value.dim() >= 2 else {}
                _name_sizes(state, spec.arg.name, value, kinds.get(spec.arg.name, []), roles)
                shape = state.names.shape(value.shape)
                state.values[node] = state.builder.input(spec.arg.name, shape, ir_dtype(value.dtype))
            else:
                state.values[node] = value
            continue
        tensor = (program.state_dict.get(spec.target) if spec.target in program.state_dict
                  else program.constants.get(spec.target))
        state.values[node] = Const(tensor, spec.target if spec.kind != InputKind.CONSTANT_TENSOR else None,
                                   spec.kind == InputKind.PARAMETER)


def _time_major(program) -> set[str]:
    """The graph inputs a recurrent layer reads as time-major sequences (``batch_first=False``, its last
    argument): their axis 0 is the time ``T`` and axis 1 the batch ``N``, as the model holds them."""
    found = set()
    for node in program.graph.nodes:
        name = str(getattr(node.target, "__name__", node.target))
        if node.op == "call_function" and any(kind in name for kind in ("recurrent", "lstm", "gru", "rnn_")) \
                and node.args and node.args[-1] is False:
            source = _through_features(node.args[0])
            if getattr(source, "op", None) == "placeholder":
                found.add(source.name)
    return found


_FEATURE_OPS = ("embedding", "dropout", "linear", "relu", "gelu", "tanh", "sigmoid", "layer_norm", "clone", "alias")
"""Calls that keep their input's leading axes (they work on its features): a time-major input read through them
is time-major still (token ids through an embedding)."""


def _through_features(node):
    """The value ``node`` computes from through calls of ``_FEATURE_OPS`` (an embedding's ids)."""
    while getattr(node, "op", None) == "call_function":
        name = str(getattr(node.target, "__name__", node.target)).split(".")[0]
        if name not in _FEATURE_OPS or not node.args:
            break
        node = node.args[1] if name == "embedding" else node.args[0]
    return node


def _name_sizes(state: Capture, name: str, value, kinds: list, roles: dict[int, str]) -> None:
    """Name each symbolic size of input ``name``: as the input spec says (``kinds``), else by its role (``roles``
    where the model says it, a time-major sequence, else ``role_name``)."""
    for axis, size in enumerate(value.shape):
        expression = getattr(getattr(size, "node", None), "expr", None)
        kind = kinds[axis] if axis < len(kinds) else None
        if expression is None or not expression.is_Symbol:
            if isinstance(kind, str):
                raise SourceError(f"torch frontend: input '{name}' axis {axis} is named '{kind}', but the model "
                                  f"accepts only one size there ({int(size)}). Expected an axis the model lets "
                                  f"vary. Write the size itself in the input spec, or '?' to let the model decide.")
            continue
        wanted = kind if isinstance(kind, str) else roles.get(axis) or role_name(axis, value.dim(),
                                                                                  not value.is_floating_point())
        name = state.names.bind(str(expression), wanted)
        lowest = _lowest(size)
        if lowest is not None:
            state.names.lowest[name] = lowest


def _lowest(size) -> int | None:
    """The smallest value torch.export allows a symbolic size (its range constraint), if it knows one."""
    try:
        bound = size.node.shape_env.var_to_range[size.node.expr].lower
        return int(bound)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _module_infos(model, graph) -> dict:
    """fx node -> (module path, module or None, whether the module is a leaf)."""
    found = {}
    for node in graph.nodes:
        stack = node.meta.get("nn_module_stack") or {}
        path = ""
        for entry in reversed(list(stack.values())):
            if isinstance(entry, tuple) and isinstance(entry[0], str) and not entry[0].startswith("_empty"):
                path = entry[0]
                break
        module = None
        if path:
            try:
                module = model.get_submodule(path)
            except AttributeError:
                module = None
        leaf = module is not None and not any(True for _ in module.children())
        found[node] = (path, module, leaf)
    return found


def _node_name(node, infos: dict) -> str:
    path, module, leaf = infos[node]
    op = getattr(node.target, "__name__", str(node.target)).split(".")[0].rstrip("_") or "op"
    if not path:
        return op
    if leaf:
        return path if _yields(node, path, infos) else f"{path}_{op}"
    return f"{path}.{op}"


def _yields(node, path: str, infos: dict) -> bool:
    """Whether a call inside the leaf module at ``path`` gives the module's result: something outside reads it
    (through the ``getitem`` of a call with several results, as ``aten.lstm``'s), or nothing does."""
    for user in node.users:
        if user.target is operator.getitem and infos.get(user, ("",))[0] == path:
            if _yields(user, path, infos):
                return True
        elif infos.get(user, ("",))[0] != path:
            return True
    return not node.users


def _call(state: Capture, node, infos: dict) -> None:
    target = node.target
    name = getattr(target, "__name__", "")
    if name.split(".")[0] in _SKIPPED:
        return
    if target in _SIZE_FUNCTIONS or _is_size_call(node):
        state.values[node] = node.meta.get("val")
        return
    if leaves.is_leaf_call(node):
        state.values[node] = _leaf(state, node)
        return
    if _foldable(state, node):
        state.values[node] = _folded(state, node)
        return
    path, module, _ = infos[node]
    ctx = Call(state, node, _node_name(node, infos), path, module)
    converter = _converter(state, target)
    if converter is None:
        state.values[node] = ctx.unsupported(
            f"has no torch frontend converter. Expected one of the ATen operators interlayer reads "
            f"(docs: the support table). Received: {target}")
        return
    state.values[node] = converter(ctx)


def _leaf(state: Capture, node):
    """A module captured whole, converted by its class's converter (``leaves.py``)."""
    path, module = state.leaf_modules[node.args[1]]
    ctx = LeafCall(state, node, path or type(module).__name__.lower(), path, module)
    return state.table[type(module)](ctx, module)


def _converter(state: Capture, target):
    """The converter of an ATen overload: its packet's, or the functional packet's for an in-place one."""
    import torch

    packet = getattr(target, "overloadpacket", target)
    found = state.table.get(packet)
    if found is None and getattr(packet, "__name__", "").endswith("_"):
        functional = getattr(torch.ops.aten, packet.__name__.rstrip("_"), None)
        found = state.table.get(functional)
    return found


def _is_size_call(node) -> bool:
    """A call computing a size or a number from sizes (``sym_size``, ``sym_numel``, ``sym_float``, ``sym_max``):
    a SymInt, SymFloat or Python number result, which converters read through the shapes it gives."""
    import torch

    value = node.meta.get("val")
    if getattr(node.target, "__name__", "").split(".")[0] in ("_local_scalar_dense", "item"):
        return False  # a tensor's value read as a number (.item()): a converter refuses it, or it is folded
    return isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool, int, float)) and not hasattr(value, "shape")


def _foldable(state: Capture, node) -> bool:
    """Whether every tensor argument is a constant and every size fixed (the call's result is a constant)."""
    import torch

    flat = []

    def visit(item):
        if isinstance(item, (list, tuple)):
            for part in item:
                visit(part)
        elif isinstance(item, dict):
            for part in item.values():
                visit(part)
        else:
            flat.append(item)

    visit(list(node.args) + list(node.kwargs.values()))
    for item in flat:
        if hasattr(item, "op") and hasattr(item, "meta"):
            value = state.values.get(item)
            if isinstance(value, Const):
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                continue
            return False
        if isinstance(item, torch.SymInt):
            return False
    return True


def _folded(state: Capture, node):
    """The call computed with torch on the constants: a :class:`Const` (a list of them for several results)."""
    import torch

    def real(item):
        if isinstance(item, (list, tuple)):
            return type(item)(real(part) for part in item)
        if hasattr(item, "op") and hasattr(item, "meta"):
            value = state.values.get(item)
            return value.tensor if isinstance(value, Const) else value
        return item

    with torch.no_grad():
        result = node.target(*real(node.args), **{k: real(v) for k, v in node.kwargs.items()})
    if isinstance(result, (list, tuple)):
        return [Const(item) if isinstance(item, torch.Tensor) else item for item in result]
    if not isinstance(result, torch.Tensor):
        return result
    first = state.values.get(node.args[0]) if node.args and hasattr(node.args[0], "op") else None
    if isinstance(first, Const) and first.source and _same_values(node, first.tensor, result):
        return Const(result, first.source, first.trainable)  # gamma.view(1, -1, 1, 1): still the parameter gamma
    return Const(result)


_VIEWS = ("view", "reshape", "_unsafe_view", "unsqueeze", "squeeze", "flatten", "unflatten", "contiguous", "clone",
          "detach", "alias", "to", "_to_copy", "type_as", "view_as", "reshape_as")


def _same_values(node, before, after) -> bool:
    """Whether a call only reshapes a constant (the same values in the same order, the same dtype)."""
    name = getattr(node.target, "__name__", "").split(".")[0]
    return name in _VIEWS and before.dtype == after.dtype and before.numel() == after.numel()


def _outputs(state: Capture, program) -> list[str]:
    """Declare the graph outputs (the program's user outputs, in pytree order); their names."""
    import torch.utils._pytree as pytree
    from torch.export.graph_signature import OutputKind

    output = next(node for node in program.graph.nodes if node.op == "output")
    results = list(output.args[0])
    user = [results[i] for i, spec in enumerate(program.graph_signature.output_specs)
            if spec.kind == OutputKind.USER_OUTPUT]
    spec = program.module_call_graph[0].signature.out_spec
    paths = [_path(path) for path, _ in pytree.tree_flatten_with_path(
        pytree.tree_unflatten(list(range(spec.num_leaves)), spec))[0]]
    names = []
    for index, item in enumerate(user):
        value = state.values.get(item) if hasattr(item, "op") else item
        if isinstance(value, Const):
            value = Call(state, item, f"output_{index}", "", None).materialise(value)
        if not isinstance(value, str):
            if item is not None and (value is not None or not hasattr(item, "op")):  # None outputs are skipped
                state.builder.unsupported(f"graph output {index}", (
                    f"is not a tensor computed by the model. Expected tensors, or structures of them. "
                    f"Received: {value!r}."))
            continue
        state.builder.output(value, ir_dtype(item.meta["val"].dtype))
        names.append(paths[index] if index < len(paths) else str(index))
    return names


def _path(keys) -> str:
    parts = []
    for key in keys:
        for attribute in ("key", "idx", "name"):
            if hasattr(key, attribute):
                parts.append(str(getattr(key, attribute)))
                break
    return ".".join(parts)

