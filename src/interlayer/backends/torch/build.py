"""IR -> PyTorch: a ``torch.fx.GraphModule`` of native layers, named after the IR nodes, weights bit-exact.

Every node is converted first; ops without a converter and nodes that cannot be expressed exactly are all
collected and raised as one :class:`UnsupportedLayerError`, and no model is returned.
"""
from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import numpy as np

from ...errors import InterlayerError, UnsupportedLayerError
from ...ir import layout
from ...ir.check import bound_names, infer_dtypes, validate
from ...ir.graph import Graph, Node
from ...ir.provenance import shared_nodes
from ...registry import converters
from .names import identifier, mangled


def build(graph: Graph, **options: Any):
    """A trainable ``torch.fx.GraphModule`` (in eval mode) computing ``graph`` on channels-first inputs."""
    from torch import fx

    from .context import Emitter, Step
    from .forward_text import CALL
    from .guards import require, requirements
    from .sizes import Sizes

    if options:
        raise InterlayerError(f"torch backend: unknown option(s). Expected none. Received: {sorted(options)}.")
    validate(graph)
    graph = layout.refold_flatten(graph, "channels_first")
    shared = shared_nodes(graph)  # every node listed, so a node named "" is never taken for another's original
    emitter = Emitter(graph.shapes(), {node.name: shared.get(node.name) for node in graph.nodes},
                      infer_dtypes(graph))
    table = converters("torch", "backend")
    taken: set[str] = set()
    for spec in graph.inputs:
        name = identifier(spec.name)
        while name in taken:
            name += "_"
        taken.add(name)
        emitter.values[spec.name] = emitter.graph.placeholder(name)
    # each size name read from the input that binds it, at the top of forward (only those the code uses remain)
    emitter.sizes = Sizes(emitter.graph, {name: (emitter.values[graph.inputs[index].name], axis)
                                          for name, (index, axis) in bound_names(graph).items()})
    for requirement in requirements(graph):  # what the source requires of the input sizes, checked first
        holds = emitter.sizes.relation(requirement)
        if holds is not True:
            check = emitter.graph.create_node("call_function", require, (holds, requirement), {}, name="check")
            check.meta[CALL] = True
    with _no_initialisation():
        for node in graph.nodes:
            step = Step(emitter, node)
            converter = table.get(node.op)
            if converter is None:
                value = step.unsupported(f"op '{node.op}' has no torch backend converter. Expected one of "
                                         f"{sorted(table)}. Received: op={node.op!r}")
            else:
                value = converter(step, node)
            if isinstance(value, (list, tuple)):  # a node with several outputs: one fx value each
                emitter.values.update(zip(node.outputs, value))
            else:
                emitter.values.update(dict.fromkeys(node.outputs, value if value is not None else step.input))
    if emitter.problems:
        raise UnsupportedLayerError("torch backend", emitter.problems)
    emitter.sizes.prune()
    results = [emitter.values[spec.name] for spec in graph.outputs]
    emitter.graph.output(results[0] if len(results) == 1 else tuple(results))
    _safe_names(emitter.graph)
    model = fx.GraphModule(emitter.root, emitter.graph, class_name=identifier(graph.name))
    # which fx node computes each IR value, for layer-by-layer verification (interlayer.verify)
    model.meta["interlayer.values"] = {value: node.name for value, node in emitter.values.items()
                                       if isinstance(node, fx.Node)}
    model.meta["interlayer.input_shapes"] = [tuple(spec.shape) for spec in graph.inputs]
    # the graph without its weights (the module holds those): what seeded inputs for checks are made from
    model.meta["interlayer.graph"] = dataclasses.replace(
        graph, nodes=[Node(node.name, node.op, list(node.inputs), list(node.outputs), dict(node.attrs))
                      for node in graph.nodes],
        inputs=list(graph.inputs), outputs=list(graph.outputs), source=dict(graph.source))
    return model.eval()


def _safe_names(graph) -> None:
    """No fx value is named ``self`` (fx does not reserve it; ``forward``'s first argument would be lost) or as
    Python mangles inside a class (``__x``: a package's ``forward`` is a method)."""
    for node in graph.nodes:
        if node.op != "placeholder" and (node.name == "self" or mangled(node.name)):
            node._rename("_" + node.name.lstrip("_") if mangled(node.name) else node.name + "_")


_INITIALISERS = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
                 "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_")


@contextlib.contextmanager
def _no_initialisation():
    """Layers built without drawing their random initial weights: every weight is then set from the graph, so
    the draws (a third of the time of building a large model) would be thrown away. Converters set every
    parameter and buffer they create; the conformance suite checks each one against the reference."""
    from torch.nn import init

    saved = {name: getattr(init, name) for name in _INITIALISERS if hasattr(init, name)}
    for name, function in saved.items():
        setattr(init, name, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(init, name, function)


def built(model) -> bool:
    """Whether interlayer built the module (it then takes and returns tensors as the IR holds them)."""
    return getattr(model, "meta", {}).get("interlayer.values") is not None or getattr(model, "interlayer_built", False)


def predict(model, inputs, names: list[str] | None = None) -> list[np.ndarray]:
    """Run any torch module on canonical numpy inputs; the outputs, flattened in order, as float32 arrays.

    A tuple, list, dict or ``ModelOutput`` result is flattened as the torch frontend records graph outputs
    (``frontends.torch.outputs.flat_outputs``), so a source model's outputs line up with its graph's. With
    ``names`` (a source model's graph input names: its forward's parameters), the inputs are given by name when
    forward takes every one of them by name; otherwise in order.
    """
    import torch

    from ...frontends.torch.outputs import flat_outputs

    arrays = [np.array(array) if not np.asarray(array).flags.writeable else np.ascontiguousarray(array)
              for array in (inputs if isinstance(inputs, (list, tuple)) else [inputs])]
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    tensors = []
    for array in arrays:
        value = torch.from_numpy(array)
        tensors.append(value.to(dtype) if dtype is not None and value.is_floating_point() else value)
    modes = {module: module.training for module in model.modules()}
    to_eval(model)
    try:
        with torch.no_grad():
            result = call(model, tensors, names)
    finally:
        for module, mode in modes.items():
            module.training = mode
    return [_numpy(item) for _, item in flat_outputs(result)]


def to_eval(model) -> None:
    """``model.eval()``; a program torch.export loaded (``.pt2``) is in eval mode already and refuses it."""
    try:
        model.eval()
    except NotImplementedError:
        pass


def call(model, tensors: list, names: list[str] | None = None):
    """``model(...)`` on ``tensors``: by name when ``names`` are given and forward takes each by name (a source
    model's graph input names are its forward's parameters), else in order; forward's other options as the
    frontend captured them (``forward_options``)."""
    from ...frontends.torch.outputs import forward_options

    if names is not None and _takes_names(model.forward, names):
        given = dict(zip(names, tensors))
        return model(**given, **{k: v for k, v in forward_options(model.forward, 0).items() if k not in given})
    return model(*tensors, **forward_options(model.forward, len(tensors)))


def _takes_names(forward, names: list[str]) -> bool:
    import inspect

    try:
        parameters = inspect.signature(forward).parameters
    except (TypeError, ValueError):
        return False
    positional = [name for name, p in parameters.items() if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                                       inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if positional[:len(names)] == list(names):  # in order anyway (a loaded .pt2 takes positions only)
        return False
    keywords = {name for name, p in parameters.items()
                if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    return set(names) <= keywords


def output_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """How far an output of a written copy (a package, a program) is from the built model's: the relative error
    of floats, NaN where the model has NaN counting as agreement (a fully masked row); integers and bools must
    be equal (0.0, else inf)."""
    from ...tolerance import relative_error

    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        return float("inf")
    if expected.dtype.kind != "f" or actual.dtype.kind != "f":
        return 0.0 if np.array_equal(actual, expected) else float("inf")
    missing = np.isnan(expected)
    if not np.array_equal(np.isnan(actual), missing):
        return float("inf")
    return relative_error(np.where(missing, 0.0, actual), np.where(missing, 0.0, expected))


def _numpy(value) -> np.ndarray:
    value = value.detach().cpu()
    if value.is_floating_point():
        value = value.float()
    return value.numpy()
