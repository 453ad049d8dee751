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
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import keras
import numpy as np
from keras.src.models.functional import Functional  # the class of every graph-built model (no public alias)

from ...errors import SourceError
from ...ir import layout, ops
from ...ir.builder import GraphBuilder
from ...ir.graph import BATCH, Graph
from ...registry import lookup

CONTEXT = "keras frontend"


@dataclass(frozen=True)
class Held:
    """An IR value and how Keras holds it: ``keras_tensor = numpy.transpose(ir_value, perm)``."""

    value: str
    perm: tuple[int, ...]

    @property
    def rank(self) -> int:
        return len(self.perm)


def prefers(hint: str | Callable[[Any], str]):
    """Declare the layout a converter's layer reads: ``"channels_last"`` (spatial layers), ``"identity"``, or
    ``"any"`` (element-wise: its consumers decide), or a function of the layer returning one of them.

    It decides how a graph input is held: channels-first in the IR, channels-last in Keras when a spatial
    layer reads it.
    """

    def mark(fn):
        fn.prefers = hint
        return fn

    return mark


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
    return state.builder.finish()


class _State:
    """What one capture shares across layers: the builder, every IR value's canonical shape, transposes made."""

    def __init__(self, builder: GraphBuilder):
        self.builder = builder
        self.shapes: dict[str, tuple] = {}
        self.transposes: dict[tuple[str, tuple[int, ...]], Held] = {}

    def declare_input(self, tensor, channels_last: bool) -> Held:
        operation = tensor._keras_history.operation
        rank = len(tensor.shape)
        perm = layout.channels_last(rank) if channels_last and rank >= 3 else layout.identity(rank)
        shape = _canonical_shape(tensor.shape, perm, operation.name)
        recorded = None if perm == layout.identity(rank) else perm
        value = self.builder.input(operation.name, shape, _dtype(tensor), recorded)
        self.shapes[value] = shape
        return Held(value, perm)

    def placeholder(self, tensor, name: str) -> Held:
        """Stands for the output of a layer that could not be converted, so later layers are still checked."""
        value = self.builder.unique(f"{name}:unconverted")
        perm = layout.identity(len(tensor.shape))
        self.shapes[value] = _canonical_shape(tensor.shape, perm, value)
        return Held(value, perm)


class LayerContext:
    """What a converter gets besides the layer: layout helpers, node writing, error reporting."""

    def __init__(self, state: _State, layer, prefix: str = ""):
        self._state = state
        self.layer = layer
        self.name = prefix + layer.name
        """The IR node name: the layer's name, after ``<model>/`` for a layer of a nested model."""
        kind = "layer" if isinstance(layer, keras.layers.Layer) else "operation"
        self.where = f"{kind} '{self.name}' ({type(layer).__name__})"
        self.failed = False

    # layouts ------------------------------------------------------------------------------------------------

    def shape(self, x: Held) -> tuple:
        """The canonical (IR) shape of ``x``."""
        return self._state.shapes[x.value]

    def keras_shape(self, x: Held) -> tuple:
        shape = self.shape(x)
        return tuple(shape[axis] for axis in x.perm)

    def hold(self, x: Held, perm: Sequence[int]) -> Held:
        """``x`` held in ``perm``; writes an IR transpose (once per value and perm) when it is held otherwise."""
        perm = tuple(perm)
        if x.perm == perm:
            return x
        key = (x.value, perm)
        if key not in self._state.transposes:
            # keras = T(v, held) = T(w, perm) with w = T(v, t): t = compose(held, invert(perm))
            transpose = layout.compose(x.perm, layout.invert(perm))
            self._state.transposes[key] = self.add("transpose", [x], {"perm": list(transpose)},
                                                   name=f"{self.name}.transpose", perm=perm)
        return self._state.transposes[key]

    def identity(self, x: Held) -> Held:
        return self.hold(x, layout.identity(x.rank))

    def channels_last(self, x: Held) -> Held:
        return self.hold(x, layout.channels_last(x.rank))

    def hold_channel_axis(self, x: Held, keras_axis: int) -> Held:
        """``x`` held so that Keras axis ``keras_axis`` is the IR's channel axis 1 (other axes in order)."""
        if x.perm[keras_axis] == 1:
            return x
        moved = (0, keras_axis, *[axis for axis in range(1, x.rank) if axis != keras_axis])
        return self.hold(x, layout.invert(moved))

    def keras_axis(self, x: Held, axis: int) -> int:
        """A Keras axis of ``x`` as a non-negative index; None (after reporting) for the batch axis or out of range."""
        index = axis + x.rank if axis < 0 else axis
        if not 1 <= index < x.rank:
            self.unsupported(f"the axis must be a non-batch axis of the rank {x.rank} input. "
                             f"Expected -{x.rank - 1} <= axis < {x.rank}, axis != 0. Received: axis={axis}")
            return None
        return index

    def channels_last_format(self) -> bool:
        """False (after reporting it) when the layer computes channels-first, which no IR op reads."""
        data_format = getattr(self.layer, "data_format", "channels_last")
        if data_format == "channels_last":
            return True
        self.unsupported(f"data_format must be 'channels_last'. Received: data_format={data_format!r}. "
                         f"Rebuild the layer channels-last (Keras's default) with the same weights")
        return False

    # writing ------------------------------------------------------------------------------------------------

    def add(self, op: str, inputs: list[Held], attrs: dict | None = None, weights: dict | None = None, *,
            perm: Sequence[int], name: str | None = None, sources: dict[str, Any] | None = None) -> Held:
        """Write a node (named after the layer unless ``name``) and return its output, held in ``perm``.

        ``sources`` maps an IR weight name to the Keras variable it came from (recorded as provenance).
        """
        schema = ops.get(op)
        filled = schema.fill(dict(attrs or {}))
        paths = {weight: variable.path for weight, variable in (sources or {}).items()}
        value = self._state.builder.add(op, [x.value for x in inputs], filled, weights, name=name or self.name,
                                        sources=paths)
        self._state.shapes[value] = tuple(schema.infer(filled, [self.shape(x) for x in inputs])[0])
        return Held(value, tuple(perm))

    def unsupported(self, message: str) -> None:
        self.failed = True
        self._state.builder.unsupported(self.where, message)


def array(variable) -> np.ndarray:
    """A Keras variable's value as a numpy array."""
    return np.asarray(keras.ops.convert_to_numpy(variable))


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
    for node in _topological(functional):
        if node.is_input:
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
    ctx = LayerContext(state, layer, prefix)
    converter = lookup("keras", "frontend", type(layer))
    outputs = None
    if converter is None:
        ctx.unsupported(_no_converter(layer))
    else:
        outputs = converter(ctx, layer, inputs)
    if isinstance(outputs, Held):
        outputs = [outputs]
    if ctx.failed or outputs is None:
        return [state.placeholder(tensor, ctx.name) for tensor in node.outputs]
    return list(outputs)


def _no_converter(layer) -> str:
    cls = type(layer)
    name = f"{cls.__module__}.{cls.__qualname__}"
    fix = (f"Register a converter for it with @interlayer.register(\"keras\", \"frontend\", {cls.__name__}) "
           f"(a function (ctx, layer, inputs) writing IR nodes)")
    if isinstance(layer, keras.layers.Lambda):
        return (f"a Lambda layer runs Python code that interlayer cannot read. Expected a layer with a converter. "
                f"Received: class={name}. Replace it by built-in layers, or write it as a layer class YourLayer and "
                f"register a converter for it with @interlayer.register(\"keras\", \"frontend\", YourLayer)")
    if isinstance(layer, keras.Model):
        return (f"a nested subclassed model runs Python code that interlayer cannot read. Expected a Sequential or "
                f"functional model. Received: class={name}. {fix}")
    base = next((base for base in cls.__mro__[1:] if lookup("keras", "frontend", base) is not None), None)
    if base is not None:
        return (f"no converter for this subclass of {base.__name__}: a subclass may change what the layer computes, "
                f"so it is not converted as its base class. Expected a layer class with a converter. "
                f"Received: class={name}. {fix}")
    return f"no converter for this layer class. Expected a layer class with a converter. Received: class={name}. {fix}"


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
    """The IR shape of a tensor Keras holds as ``keras_shape`` in ``perm``; unknown sizes become symbols."""
    shape: list[Any] = [None] * len(keras_shape)
    for position, size in enumerate(keras_shape):
        axis = perm[position]
        shape[axis] = BATCH if axis == 0 else (int(size) if size is not None else f"{name}.{axis}")
    return tuple(shape)


def _dtype(tensor) -> str:
    return str(getattr(tensor, "dtype", "float32") or "float32")
