"""Capture a Keras 3 Sequential or functional model as an IR graph.

Every Keras tensor is tracked as a :class:`Held` IR value: ``keras_tensor = numpy.transpose(ir_value, perm)``.
IR values are canonical (channels-first); Keras feature maps are channels-last, so the value behind a Keras
(N, H, W, C) tensor is held with ``perm = (0, 2, 3, 1)``. A converter asks for the layout its layer reads
(``ctx.channels_last(x)``, ``ctx.identity(x)``, ...); when the held perm differs, an IR ``transpose`` node is
written, because the Keras layer really reads its input in that order.

A converter is ``fn(ctx, layer, inputs) -> Held | list[Held] | None`` registered with
``@register("keras", "frontend", LayerClass)`` (exact class match): ``inputs`` are the held IR values of the
layer call's input tensors; it writes nodes with ``ctx.add`` and returns the held outputs, or reports what it
cannot convert with ``ctx.unsupported`` and returns None.

A layer that becomes several nodes gives its name to the last one and ``<layer>_<role>`` to the others
(``conv_activation``, ``sep_depthwise``, ``norm_center``); a transpose its input needs is ``<layer>.transpose``.
A layer object called several times (shared weights) becomes one node per call, each with a copy of the
weights: the first call is named after the layer, the k-th after it ``<layer>_call<k>``. ``source.name_map``
maps each Keras variable to the first call's tensor, and ``graph.source["shared"]`` maps every later copy to it.
"""
from __future__ import annotations

import re
from typing import Any

import keras
from keras.src.models.functional import Functional  # the class of every graph-built model (no public alias)

from ...errors import SourceError, ValidationError
from ...ir import layout
from ...ir.builder import GraphBuilder
from ...ir.graph import BATCH, Graph
from ...registry import lookup, plugin_errors
from .context import Held, LayerContext

CONTEXT = "keras frontend"


def capture(model: keras.Model, example_inputs: Any = None, **options: Any) -> Graph:
    """The IR graph of a Keras 3 Sequential or functional model, weights copied in canonical layout.

    ``example_inputs`` is accepted for symmetry with the other frontends and is not needed: Keras models carry
    their input shapes.
    """
    if options:
        raise SourceError(f"{CONTEXT}: unknown option(s). Expected none. Received: {sorted(options)}.")
    functional = _functional(model)
    if functional is None:
        raise SourceError(
            f"{CONTEXT}: model '{model.name}' ({type(model).__name__}) is a subclassed model, whose call() is Python "
            f"code interlayer cannot read. Expected a Sequential or functional keras.Model. Received: "
            f"class={type(model).__module__}.{type(model).__name__}. Rebuild it with the functional API."
        )
    state = _State(GraphBuilder(model.name, "keras", keras.__version__))
    inputs = [state.declare_input(tensor, _wants_channels_last(functional, tensor)) for tensor in functional.inputs]
    outputs = _convert_function(state, functional, inputs)
    for tensor, held in zip(functional.outputs, outputs):
        perm = None if held.perm == layout.identity(held.rank) else held.perm
        state.builder.output(held.value, _dtype(tensor), perm=perm)
    graph = state.builder.finish()
    named = {node.name: node.outputs for node in graph.nodes}
    moved = {layer: values for layer, values in state.layer_outputs.items() if named.get(layer) != values}
    if moved:  # a layer whose output is not its namesake node's (a Dense's fused activation: <layer>_activation)
        graph.source["layer_outputs"] = moved
    shapes = graph.shapes()
    kept = {value: perm for value, perm in state.held_perms.items() if value in shapes}
    if kept:  # how the source holds its layers' outputs (NHWC maps): what verify compares them through
        graph.source["held_perms"] = kept
    structure = functional.output
    if isinstance(structure, dict) and len(structure) == len(graph.outputs):  # Keras flattens by sorted key
        graph.source["output_names"] = [str(key) for key in sorted(structure)]
    return graph


class _State:
    """What one capture shares across layers: the builder, every IR value's canonical shape, transposes made."""

    def __init__(self, builder: GraphBuilder):
        self.builder = builder
        self.shapes: dict[str, tuple] = {}
        self.dtypes: dict[str, str] = {}
        """every IR value's dtype, as its op's schema infers it"""
        self.transposes: dict[tuple[str, tuple[int, ...]], Held] = {}
        self.calls: dict[int, int] = {}
        """how many calls of each layer object (by id) were converted so far"""
        self.placeholders: set[str] = set()
        """values standing for the outputs of layers that could not be converted"""
        self.layer_outputs: dict[str, list[str]] = {}
        self.held_perms: dict[str, list[int]] = {}
        """layer output value -> how Keras holds it, where not as the IR does (``np.transpose(ir, perm)``)"""
        """the IR values of each layer's outputs (its first call), for verification's layer-by-layer rows"""

    def declare_input(self, tensor, channels_last: bool) -> Held:
        operation = tensor._keras_history.operation
        rank = len(tensor.shape)
        perm = layout.channels_last(rank) if channels_last and rank >= 3 else layout.identity(rank)
        shape = _canonical_shape(tensor.shape, perm, operation.name)
        recorded = None if perm == layout.identity(rank) else perm
        value = self.builder.input(operation.name, shape, _dtype(tensor), recorded)
        self.shapes[value] = shape
        self.dtypes[value] = _dtype(tensor)
        return Held(value, perm)

    def placeholder(self, tensor, name: str) -> Held:
        """Stands for the output of a layer that could not be converted, so later layers are still checked."""
        value = self.builder.unique(f"{name}:unconverted")
        self.placeholders.add(value)
        perm = layout.identity(len(tensor.shape))
        self.shapes[value] = _canonical_shape(tensor.shape, perm, value)
        self.dtypes[value] = _dtype(tensor)
        return Held(value, perm)


# the graph walk -------------------------------------------------------------------------------------------


def _functional(model) -> Functional | None:
    if isinstance(model, keras.Sequential):
        functional = getattr(model, "_functional", None)
        if functional is None:
            raise SourceError(
                f"{CONTEXT}: Sequential model '{model.name}' has no input shape yet. Expected a built model. "
                f"Received: model.built={model.built}. Start it with keras.Input(shape) or call model.build(shape)."
            )
        return functional
    return model if isinstance(model, Functional) else None


def _topological(functional: Functional) -> list:
    """The call nodes from the inputs to the outputs, each after the nodes its inputs come from."""
    stops = {id(tensor) for tensor in functional.inputs}
    order, done = [], set()
    for output in functional.outputs:
        stack = [(output, False)]
        while stack:
            tensor, expanded = stack.pop()
            if id(tensor) in stops:
                continue
            operation, index, _ = tensor._keras_history
            node = operation._inbound_nodes[index]
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            stack.append((tensor, True))
            stack.extend((parent, False) for parent in reversed(node.input_tensors))
    return order


def _convert_function(state: _State, functional: Functional, inputs: list[Held], prefix: str = "") -> list[Held]:
    held = {id(tensor): value for tensor, value in zip(functional.inputs, inputs)}
    order = _topological(functional)
    masks_only = _mask_computations(order, functional)
    for node in order:
        if node.is_input:
            continue
        if id(node) in masks_only:  # computes a Keras mask and nothing else: its readers are refused
            held.update({id(tensor): state.placeholder(tensor, node.operation.name) for tensor in node.outputs})
            continue
        args = [held[id(tensor)] for tensor in node.input_tensors]
        for tensor, value in zip(node.outputs, _convert_layer(state, node, args, prefix)):
            held[id(tensor)] = value
    return [held[id(tensor)] for tensor in functional.outputs]


def _convert_layer(state: _State, node, inputs: list[Held], prefix: str) -> list[Held]:
    layer = node.operation
    nested = _functional(layer) if isinstance(layer, keras.Model) else None
    if nested is not None:  # a Sequential or functional model used as a layer: its layers, named <model>/<layer>
        return _convert_function(state, nested, inputs, f"{prefix}{layer.name}/")
    call = state.calls.get(id(layer), 0)
    state.calls[id(layer)] = call + 1
    ctx = LayerContext(state, layer, prefix, node, call)
    converter = lookup("keras", "frontend", type(layer))
    outputs = None
    masks = _masks(node)
    if converter is None:
        ctx.unsupported(_no_converter(layer))
    elif masks and not any(value.value in state.placeholders for tensor, value in zip(node.input_tensors, inputs)
                            if id(tensor) not in {id(node.arguments.kwargs[name]) for name in masks}):
        ctx.unsupported(f"a Keras mask reaches this layer ({', '.join(masks)}, made by Embedding(mask_zero=True) or "
                        f"Masking): it would skip or ignore the masked steps, and the IR carries no masks yet. "
                        f"Expected no mask. Received: {masks[0]} given. Build the model without mask_zero (the "
                        f"weights are the same) if its inputs never hold the padding index")
    else:
        try:
            outputs = converter(ctx, layer, inputs)
        except ValidationError:
            if not any(x.value in state.placeholders for x in inputs):
                raise
            outputs = None  # it reads an unconverted layer's stand-in: that layer's problem is already reported
    if isinstance(outputs, Held):
        outputs = [outputs]
    if ctx.failed or outputs is None:
        return [state.placeholder(tensor, ctx.name) for tensor in node.outputs]
    outputs = [_with_dtype(ctx, held, _dtype(tensor)) for held, tensor in zip(outputs, node.outputs)]
    if call == 0:
        state.layer_outputs[ctx.name] = [held.value for held in outputs]
        state.held_perms.update({held.value: list(held.perm) for held in outputs
                                 if held.perm != layout.identity(held.rank)})
    return list(outputs)


def _mask_computations(order: list, functional: Functional) -> set[int]:
    """The call nodes whose every output is used only as a Keras mask (``not_equal`` of an Embedding's ids)."""
    uses: dict[int, set[str]] = {}
    for node in order:
        masks = {id(value) for name, value in node.arguments.kwargs.items() if name in _masks(node)}
        for tensor in node.input_tensors:
            uses.setdefault(id(tensor), set()).add("mask" if id(tensor) in masks else "data")
    for tensor in functional.outputs:
        uses.setdefault(id(tensor), set()).add("data")
    return {id(node) for node in order if not node.is_input and node.outputs
            and all(uses.get(id(tensor), {"data"}) == {"mask"} for tensor in node.outputs)}


def _masks(node) -> list[str]:
    """The Keras masks a call receives (``mask``, ``query_mask``...): Keras passes them to the layers that use them."""
    return [name for name, value in node.arguments.kwargs.items()
            if (name == "mask" or name.endswith("_mask")) and name != "attention_mask"
            and isinstance(value, keras.KerasTensor)]


def _no_converter(layer) -> str:
    cls = type(layer)
    name = f"{cls.__module__}.{cls.__qualname__}"
    how = _how_to_register(cls.__name__)
    if isinstance(layer, keras.layers.Lambda):
        return (f"a Lambda layer runs Python code that interlayer cannot read. Expected a layer with a converter. "
                f"Received: class={name}. Replace it by built-in layers, or write it as a layer class YourLayer "
                f"and {_how_to_register('YourLayer')}")
    if isinstance(layer, keras.Model):
        return (f"a nested subclassed model runs Python code that interlayer cannot read. Expected a Sequential or "
                f"functional model. Received: class={name}. Rebuild it with the functional API, or {how}")
    base = next((base for base in cls.__mro__[1:] if lookup("keras", "frontend", base) is not None), None)
    if base is not None:
        return (f"no converter for this subclass of {base.__name__}: a subclass may change what the layer computes, "
                f"so it is not converted as its base class. Expected a layer class with a converter. "
                f"Received: class={name}. {how[0].upper()}{how[1:]}")
    return (f"no converter for this layer class. Expected a layer class with a converter. Received: class={name}. "
            f"{how[0].upper()}{how[1:]}")


def _how_to_register(cls_name: str) -> str:
    broken = plugin_errors()
    note = (f" (plugin(s) that failed to load: "
            f"{'; '.join(f'{plugin} ({problem})' for plugin, problem in broken.items())})" if broken else "")
    return (f"register a converter for it: `@interlayer.register(\"keras\", \"frontend\", {cls_name})` on "
            f"`def convert(ctx, layer, inputs)` returning `ctx.add(op, inputs, attrs, weights, perm=...)`, in your "
            f"code or in a plugin (entry point group 'interlayer.converters'); see the README's 'Custom layers'"
            f"{note}")


def _wants_channels_last(functional: Functional, tensor, seen: set | None = None) -> bool:
    """Whether a spatial layer reads ``tensor``, directly or through element-wise layers."""
    seen = set() if seen is None else seen
    consumers: dict[int, list] = {}
    for node in _topological(functional):
        for parent in node.input_tensors:
            consumers.setdefault(id(parent), []).append(node)

    def reads(tensor) -> bool:
        if id(tensor) in seen:
            return False
        seen.add(id(tensor))
        for node in consumers.get(id(tensor), []):
            layer = node.operation
            nested = _functional(layer) if isinstance(layer, keras.Model) else None
            if nested is not None:
                index = [id(t) for t in node.input_tensors].index(id(tensor))
                if _wants_channels_last(nested, nested.inputs[index], seen):
                    return True
                continue
            hint = getattr(lookup("keras", "frontend", type(layer)), "prefers", "identity")
            hint = hint(layer) if callable(hint) else hint
            if hint == "channels_last" or (hint == "any" and any(reads(out) for out in node.outputs)):
                return True
        return False

    return reads(tensor)


def _canonical_shape(keras_shape, perm, name: str) -> tuple:
    """The IR shape of a tensor Keras holds as ``keras_shape`` in ``perm``: Keras's batch axis is the IR's axis 0,
    named ``N`` unless the model fixes it (``batch_shape``); another unknown size is named after its tensor and axis
    (``ids_1``), a name of its own."""
    shape: list[Any] = [None] * len(keras_shape)
    for position, size in enumerate(keras_shape):
        axis = perm[position]
        if size is not None:
            shape[axis] = int(size)
        else:
            shape[axis] = BATCH if axis == 0 else size_name(name, axis)
    return tuple(shape)


def size_name(tensor: str, axis: int) -> str:
    """The size name of an unknown axis: ``<tensor>_<axis>`` made an identifier (``input_layer_1``)."""
    name = re.sub(r"\W", "_", f"{tensor}_{axis}")
    return name if re.match(r"^[A-Za-z_]", name) and name not in ("max", "min", BATCH) else f"_{name}"


def _dtype(tensor) -> str:
    return keras.backend.standardize_dtype(getattr(tensor, "dtype", None) or "float32")


def _with_dtype(ctx: LayerContext, held: Held, dtype: str) -> Held:
    """``held`` cast to the dtype of the Keras tensor it stands for where both are integers or bools and differ
    (Keras's int32 argmax, where the IR's is int64). Floats are left as they are: their width follows Keras's
    dtype policy, and a float against an integer is a dtype one side only declares (a merge layer declares
    its compute dtype for integer inputs)."""
    have = ctx.dtype(held)
    if have == dtype or "float" in have or "float" in dtype:
        return held
    return ctx.add("cast", [held], {"dtype": dtype}, perm=held.perm, name=f"{ctx.name}_cast")
