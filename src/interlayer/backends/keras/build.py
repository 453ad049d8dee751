"""Build an IR graph as a Keras 3 functional model with its weights assigned, and run such models.

Every IR value is tracked as a :class:`Held` Keras tensor: ``keras_tensor = numpy.transpose(ir_value, perm)``.
Spatial layers read channels-last tensors, so a feature map (N, C, H, W) in the IR is a Keras (N, H, W, C)
tensor held with ``perm = (0, 2, 3, 1)``. A converter asks for the layout it needs (``ctx.channels_last(x)``,
``ctx.identity(x)``, ...); a Keras ``Permute`` layer is inserted only when the held perm differs (a
``keras.ops.transpose`` when the perm moves axis 0, which Permute keeps), and an IR ``transpose`` only changes
the perm.

No axis is special: Keras Inputs have the IR's whole shape (axis 0 included, ``None`` for a size name), and a size
known only when the model runs (a size expression of ``reshape``, ``expand``, ``full``, ``arange``, ``slice``) is
computed by interlayer's layers from the shapes of the graph inputs that bind its names
(:meth:`BuildContext.size_inputs`; ``sizes.py``). Inputs have the graph's dtypes (int64 ids, bool masks), and an
integer or bool value keeps the dtype the IR infers for it (``infer_dtypes``): where Keras gives another (its int32
argmax), a cast follows.

A converter is ``fn(ctx, node, inputs) -> Held | None`` registered with ``@register("keras", "backend", op)``:
``inputs`` are the held inputs of ``node``; it creates layers with ``ctx.layer`` and returns the held output
(a list, one per output, for a node with several), or reports why the node cannot be built exactly with
``ctx.unsupported`` and returns None. Every problem of the graph is collected and raised as one
:class:`UnsupportedLayerError` before a model is made.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import keras
import numpy as np

from ...errors import InterlayerError, UnsupportedLayerError
from ...ir import dims, layout, ops
from ...ir.check import bound_names, infer_dtypes, validate
from ...ir.graph import Graph, Node
from ...ir.provenance import shared_nodes
from ...registry import lookup

CONTEXT = "keras backend"


@dataclass(frozen=True)
class Held:
    """A Keras tensor standing for an IR value of canonical ``shape``: ``tensor = transpose(value, perm)``."""

    tensor: Any
    perm: tuple[int, ...]
    shape: tuple

    @property
    def rank(self) -> int:
        return len(self.perm)


def prefers(hint: str | Callable[[Node], str]):
    """Declare the layout a converter's layer reads: ``"channels_last"`` (spatial layers), ``"identity"``, or
    ``"any"`` (element-wise: its consumers decide), or a function of the node returning one of them.

    It decides how graph inputs are held: an image read by a convolution becomes a channels-last Keras Input.
    """

    def mark(fn):
        fn.prefers = hint
        return fn

    return mark


def build(graph: Graph, keep_input_layout: bool = False, **options: Any) -> keras.Model:
    """A Keras functional model computing ``graph``.

    Graph inputs read by spatial layers become channels-last Keras Inputs unless ``keep_input_layout``, which
    keeps every Input in the IR's layout (one Permute then follows it). How the model holds each graph input
    and output is stored on the model as ``_interlayer_perms`` for :func:`predict`.
    """
    if options:
        raise InterlayerError(f"{CONTEXT}: unknown option(s). Expected keep_input_layout. Received: {sorted(options)}.")
    validate(graph)
    if _refoldable(graph):
        graph = layout.refold_flatten(graph, "channels_last")  # a plain Flatten before Dense reads NHWC order
    state = _State(graph)
    inputs = [state.declare_input(spec, keep_input_layout) for spec in graph.inputs]
    for node in graph.nodes:
        state.held.update(zip(node.outputs, _build_node(state, node)))
    if state.problems:
        raise UnsupportedLayerError(CONTEXT, state.problems)
    outputs = [state.output(spec.name) for spec in graph.outputs]
    model = keras.Model(_one_or_list([held.tensor for held in inputs]), _one_or_list([held.tensor for held in outputs]),
                        name=_Names.clean(graph.name))
    perms = {"inputs": [_perm_or_none(held.perm) for held in inputs],
             "outputs": [_perm_or_none(held.perm) for held in outputs],
             # how every other value is held, where not as the IR does (verify compares layers through it)
             "values": {value: list(held.perm) for value, held in state.held.items()
                        if _perm_or_none(held.perm) is not None and id(held.tensor) not in state.input_tensors},
             "flatten_order": {node.name: node.attrs.get("order", "channels_first")
                               for node in graph.nodes if node.op == "flatten"}}
    object.__setattr__(model, "_interlayer_perms", perms)  # plain attribute: no Keras tracking
    # the Keras tensor and perm of every IR value, for layer-by-layer verification (interlayer.verify)
    values = {value: (held.tensor, held.perm) for value, held in state.held.items()
              if id(held.tensor) not in state.input_tensors}
    object.__setattr__(model, "_interlayer_values", values)
    return model


def _refoldable(graph: Graph) -> bool:
    """Whether every flatten reads a map of int sizes, which ``layout.refold_flatten`` needs to permute the
    columns of the linear layers behind it (else each flatten reads in its own order, behind a Permute)."""
    shapes = graph.shapes()
    return all(isinstance(size, int) for node in graph.nodes if node.op == "flatten"
               for size in shapes[node.inputs[0]][1:])


def predict(model: keras.Model, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run a model made by :func:`build` on canonical (IR-layout) inputs; returns canonical outputs, float32 for
    floating outputs and their own dtype for integer and bool ones."""
    perms = getattr(model, "_interlayer_perms", None) or {}
    input_perms = perms.get("inputs") or [None] * len(inputs)
    arrays = [np.asarray(x) if perm is None else np.transpose(x, perm) for x, perm in zip(inputs, input_perms)]
    outputs = run_native(model, arrays)
    output_perms = perms.get("outputs") or [None] * len(outputs)
    return [_canonical_output(out if perm is None else np.transpose(out, layout.invert(perm)))
            for out, perm in zip(outputs, output_perms)]


def _canonical_output(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    return array if array.dtype.kind in "biu" else np.asarray(array, dtype=np.float32)


def run_native(model: keras.Model, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run any Keras model in inference mode on inputs in its own layout; the outputs as numpy arrays."""
    functional = getattr(model, "_functional", None) or model
    arguments = keras.tree.pack_sequence_as(functional.input, [np.asarray(array) for array in inputs])
    outputs = model(arguments, training=False)
    return [np.asarray(keras.ops.convert_to_numpy(out)) for out in keras.tree.flatten(outputs)]


# building -------------------------------------------------------------------------------------------------


class _Names:
    """Keras layer names from IR names: characters Keras rejects become '_', repeats get a suffix."""

    def __init__(self):
        self.taken: set[str] = set()

    @staticmethod
    def clean(name: str) -> str:
        return re.sub(r"[^A-Za-z0-9_.\-]", "_", name) or "layer"

    def take(self, name: str) -> str:
        base = self.clean(name)
        name, index = base, 1
        while name in self.taken:
            name = f"{base}_{index}"
            index += 1
        self.taken.add(name)
        return name


class _State:
    def __init__(self, graph: Graph):
        self.graph = graph
        self.shapes = graph.shapes()
        self.dtypes = infer_dtypes(graph)
        self.bound = bound_names(graph)
        """size name -> (graph input index, axis) of the first input axis it is the size of"""
        self.inputs: list[Held] = []
        self.consumers = graph.consumers()
        self.names = _Names()
        self.held: dict[str, Held] = {}
        self.permutes: dict[tuple[int, tuple[int, ...], tuple[int, ...]], Held] = {}
        self.problems: list[tuple[str, str]] = []
        self.input_tensors: set[int] = set()
        self.outputs_taken: set[int] = set()
        self.shared = shared_nodes(graph)
        """node -> the node whose layers it calls again (a layer the source called several times)"""
        self.layers: dict[tuple[str, str | None], Any] = {}
        """(node, suffix) -> the layer made for it"""

    def declare_input(self, spec, keep_input_layout: bool) -> Held:
        rank = len(spec.shape)
        wanted = None if keep_input_layout or rank < 3 else _wanted_perm(self, spec.name, rank)
        perm = wanted or layout.identity(rank)
        tensor = keras.Input(batch_shape=keras_shape(spec.shape, perm), name=self.names.take(spec.name),
                             dtype=spec.dtype)
        self.held[spec.name] = Held(tensor, perm, tuple(spec.shape))
        self.input_tensors.add(id(tensor))
        self.inputs.append(self.held[spec.name])
        return self.held[spec.name]

    def output(self, value: str) -> Held:
        """A graph output; an Input or an already used output tensor is passed through an Identity layer."""
        held = self.held[value]
        if id(held.tensor) in self.input_tensors | self.outputs_taken:
            tensor = keras.layers.Identity(name=self.names.take(f"{value}_output"))(held.tensor)
            held = Held(tensor, held.perm, held.shape)
        self.outputs_taken.add(id(held.tensor))
        return held


def keras_shape(shape, perm) -> tuple:
    """The static Keras shape of an IR ``shape`` held in ``perm``: None for a size known only when it runs."""
    return tuple(shape[axis] if isinstance(shape[axis], int) else None for axis in perm)


def grown(size, amount: int):
    """``size + amount`` for an int or a size expression; a size no expression names ('?') stays unknown."""
    if isinstance(size, int) or dims.is_symbolic(size) and size != "?":
        return dims.add(size, amount)
    return size


def _one_or_list(tensors: list):
    """A single tensor as itself, so that ``model(x)`` is called as any one-input Keras model is."""
    return tensors[0] if len(tensors) == 1 else tensors


def _perm_or_none(perm):
    return None if perm == layout.identity(len(perm)) else list(perm)


def _build_node(state: _State, node: Node) -> list[Held]:
    """The held outputs of ``node``: a converter returns one Held, or a list for a node with several outputs."""
    ctx = BuildContext(state, node)
    converter = lookup("keras", "backend", node.op)
    result = None
    if converter is None:
        ctx.unsupported(f"no Keras converter for op '{node.op}'. Expected an op with a converter. "
                        f"Received: op={node.op!r}")
    else:
        result = converter(ctx, node, [state.held[value] for value in node.inputs])
    if ctx.failed or result is None:
        shapes = [state.shapes[value] for value in node.outputs]
        return [Held(keras.Input(batch_shape=keras_shape(shape, layout.identity(len(shape)))),
                     layout.identity(len(shape)), shape) for shape in shapes]
    held = list(result) if isinstance(result, (list, tuple)) else [result]
    return [_with_dtype(held_value, state.dtypes[value]) for held_value, value in zip(held, node.outputs)]


def _with_dtype(held: Held, dtype: str) -> Held:
    """``held`` cast to the IR's ``dtype`` where both are integers or bools and differ (Keras's argmax is int32,
    the IR's int64). Floats are left as they are: their width follows Keras's dtype policy, and a float against an
    integer is a dtype one side only declares."""
    have = keras.backend.standardize_dtype(held.tensor.dtype)
    if have == dtype or _is_float(have) or _is_float(dtype):
        return held
    return Held(keras.ops.cast(held.tensor, dtype), held.perm, held.shape)


def _is_float(dtype: str) -> bool:
    return "float" in dtype


class BuildContext:
    """What a converter gets besides the node: its filled attributes, layout helpers, layer creation."""

    def __init__(self, state: _State, node: Node):
        self._state = state
        self.node = node
        self.attrs = ops.get(node.op).fill(node.attrs)
        self.where = f"node '{node.name}' ({node.op})"
        self.failed = False

    @property
    def output_shape(self) -> tuple:
        return self._state.shapes[self.node.outputs[0]]

    def input_dtype(self, index: int = 0) -> str:
        return self._state.dtypes[self.node.inputs[index]]

    def input_shape(self, index: int = 0) -> tuple:
        """The IR shape of an input (symbolic sizes as names)."""
        return tuple(self._state.shapes[self.node.inputs[index]])

    @property
    def output_shapes(self) -> list[tuple]:
        """The shape of every output, for a node with several."""
        return [self._state.shapes[value] for value in self.node.outputs]

    def layer(self, cls, suffix: str | None = None, **kwargs):
        """A Keras layer named after the node (``<node>_<suffix>`` for a helper layer); for a node that shares the
        weights of an earlier one, that node's layer, called again so the weights stay shared."""
        state = self._state
        original = state.layers.get((state.shared.get(self.node.name, ""), suffix))
        if original is not None and type(original) is cls:
            return original
        name = self.node.name if suffix is None else f"{self.node.name}_{suffix}"
        made = cls(name=state.names.take(name), **_zero_initialisers(cls, kwargs))
        state.layers[self.node.name, suffix] = made
        return made

    def output(self, tensor, perm: Sequence[int]) -> Held:
        return Held(tensor, tuple(perm), self.output_shape)

    def hold(self, x: Held, perm: Sequence[int]) -> Held:
        """``x`` held in ``perm``: a Permute layer (one per tensor and perm) when it is held otherwise, or a
        ``keras.ops.transpose`` when axis 0 moves (Permute keeps Keras's axis 0 in place)."""
        perm = tuple(perm)
        if x.perm == perm:
            return x
        key = (id(x.tensor), x.perm, perm)  # a transpose holds the same tensor with another perm
        if key not in self._state.permutes:
            # T(value, perm) = T(T(value, held), r) with r = compose(invert(held), perm)
            moves = layout.compose(layout.invert(x.perm), perm)
            if moves[0] == 0:
                tensor = self.layer(keras.layers.Permute, "permute", dims=tuple(moves[1:]))(x.tensor)
            else:
                tensor = keras.ops.transpose(x.tensor, moves)
            self._state.permutes[key] = Held(tensor, perm, x.shape)
        return self._state.permutes[key]

    def identity(self, x: Held) -> Held:
        return self.hold(x, layout.identity(x.rank))

    def channels_last(self, x: Held) -> Held:
        return self.hold(x, layout.channels_last(x.rank))

    def size_inputs(self, sizes: Sequence) -> tuple[list, dict[str, list[int]]]:
        """What a layer of ``sizes.py`` needs to compute ``sizes`` (ints or size expressions) when the model runs:
        the Keras Inputs of the graph inputs that bind their names, and for each name the (position among those
        inputs, Keras axis) whose size it is. No inputs when every size is an int."""
        state = self._state
        names = sorted(set().union(set(), *(dims.names(size) for size in sizes)))
        tensors: list = []
        bindings: dict[str, list[int]] = {}
        for name in names:
            index, axis = state.bound[name]
            held = state.inputs[index]
            positions = [position for position, tensor in enumerate(tensors) if tensor is held.tensor]
            if not positions:
                tensors.append(held.tensor)
                positions = [len(tensors) - 1]
            bindings[name] = [positions[0], held.perm.index(axis)]
        return tensors, bindings

    def anchors(self, sizes: Sequence = ()) -> tuple[list, dict[str, list[int]]]:
        """:meth:`size_inputs`, with the first graph input when no size needs one: a value made from nothing
        (constant, full, arange) still comes from the model's inputs in a functional model."""
        tensors, bindings = self.size_inputs(sizes)
        return (tensors or [self._state.inputs[0].tensor]), bindings

    def unsupported(self, message: str) -> None:
        self.failed = True
        self._state.problems.append((self.where, message))


_INITIALISERS = ("kernel_initializer", "bias_initializer", "depthwise_initializer", "pointwise_initializer",
                 "recurrent_initializer", "embeddings_initializer", "gamma_initializer", "beta_initializer",
                 "moving_mean_initializer", "moving_variance_initializer", "alpha_initializer")


def _zero_initialisers(cls, kwargs: dict) -> dict:
    """Weights created as zeros instead of random draws: every one is assigned from the graph right after, and
    drawing a large model's initial weights costs as much as building it."""
    return {**dict.fromkeys(_initialisers_of(cls), "zeros"), **kwargs}


@functools.cache
def _initialisers_of(cls) -> tuple[str, ...]:
    """The initialiser arguments a layer class takes (read once per class: a signature costs more than a layer)."""
    import inspect

    accepted = inspect.signature(cls.__init__).parameters
    return tuple(name for name in _INITIALISERS if name in accepted)


def assign(variable, array: np.ndarray) -> None:
    """Set a Keras variable to ``array`` exactly (same shape; float32 stays bit for bit)."""
    from ...ir.archive import release

    variable.assign(np.asarray(array).astype(variable.dtype, copy=False))
    release(array)


def _wanted_perm(state: _State, value: str, rank: int, depth: int = 0) -> tuple[int, ...] | None:
    """The perm the first layout-minded reader of ``value`` wants, looking through element-wise ops and
    transposes; None when no reader cares."""
    if depth > 64:
        return None
    for node in state.consumers.get(value, []):
        if node.op == "transpose":  # a transpose only relabels: want what its reader wants, mapped back
            after = _wanted_perm(state, node.outputs[0], rank, depth + 1)
            if after is not None:
                return layout.compose(ops.get("transpose").fill(node.attrs)["perm"], after)
            continue
        hint = getattr(lookup("keras", "backend", node.op), "prefers", "identity")
        hint = hint(node) if callable(hint) else hint
        if hint == "channels_last":
            return layout.channels_last(rank)
        if hint == "any":
            after = _wanted_perm(state, node.outputs[0], rank, depth + 1)
            if after is not None:
                return after
    return None
