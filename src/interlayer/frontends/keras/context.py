"""What a Keras frontend converter works with: :class:`Held` values, the :class:`LayerContext` of one layer
call (layouts, constants, node writing, error reporting) and the ``@prefers`` layout declaration.

See :mod:`interlayer.frontends.keras.capture` for how a model is walked and what a converter is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import keras
import numpy as np

from ...ir import layout, ops

if TYPE_CHECKING:
    from .capture import _State

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


class LayerContext:
    """What a converter gets besides the layer: layout helpers, node writing, error reporting."""

    def __init__(self, state: _State, layer, prefix: str = "", node=None, call: int = 0):
        self._state = state
        self.layer = layer
        self.node = node
        """The Keras call node (``node.arguments`` holds the call's constant arguments too)."""
        self.name = prefix + layer.name + (f"_call{call}" if call else "")
        """The IR node name: the layer's name, after ``<model>/`` for a layer of a nested model, with
        ``_call<k>`` for the k-th further call of a shared layer."""
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

    def reshape(self, x: Held, keras_shape: Sequence[int], name: str | None = None) -> Held:
        """Keras's row-major reshape of ``x`` to ``keras_shape`` (batch axis excluded: it keeps its size), as one
        IR reshape, which gives every axis.

        The result is held channels-last when that reads the same elements in the same order (only size-1
        axes move: (N, 1, 1, C) is the IR's (N, C, 1, 1), as a squeeze-excitation needs it), else as the IR
        holds it. ``x`` is brought to the IR's own order first unless only size-1 axes are out of order.
        """
        if not same_order(x.perm, self.keras_shape(x)):
            x = self.identity(x)
        target = (self.keras_shape(x)[0], *(int(size) for size in keras_shape))
        rank = len(target)
        perm = layout.channels_last(rank) if rank >= 3 else layout.identity(rank)
        if not same_order(perm, target):
            perm = layout.identity(rank)
        canonical = [target[position] for position in layout.invert(perm)]
        return self.add("reshape", [x], {"shape": canonical}, perm=perm, name=name)

    def constant(self, x: Held, array, dtype="float32", min_rank: int = 0) -> np.ndarray:
        """A constant that Keras broadcasts against ``x`` (numpy rules, in Keras's axis order) in the IR's
        order: transposed as ``x`` is held, leading size-1 axes dropped down to ``min_rank`` (a scalar is 0-d). One
        with more axes than ``x`` is taken as it is when ``x`` is held in the IR's order; else None (after
        reporting)."""
        array = np.asarray(array, dtype=dtype)
        if array.size == 1 and not min_rank:
            return array.reshape(())
        if array.ndim > x.rank:
            if x.perm == layout.identity(x.rank):
                return np.ascontiguousarray(array)
            self.unsupported(f"a constant operand with more axes than its input broadcasts the input's axes as "
                             f"Keras holds them. Expected at most {x.rank} axes. Received: constant shape="
                             f"{array.shape}, input shape={self.keras_shape(x)}")
            return None
        full = array.reshape((1,) * (x.rank - array.ndim) + array.shape)
        canonical = np.transpose(full, layout.invert(x.perm))
        while canonical.ndim > min_rank and canonical.shape[0] == 1:
            canonical = canonical[0]
        return np.ascontiguousarray(canonical)

    def with_constant(self, op: str, x: Held, constant: np.ndarray, *, first: bool = False, trainable: bool = False,
                      name: str | None = None, source=None) -> Held:
        """``op(x, constant)`` (``op(constant, x)`` when ``first``) as an algebra node; ``constant`` in IR order."""
        attrs = {"constant": True, "constant_shape": list(constant.shape), "trainable": trainable}
        if first:
            attrs["constant_first"] = True
        sources = None if source is None else {"other": source}
        return self.add(op, [x], attrs, {"other": constant}, perm=x.perm, name=name, sources=sources)

    def common(self, inputs: Sequence[Held]) -> list[Held]:
        """Equal-rank inputs of an element-wise op held alike: in the perm of the first input whose Keras
        shape is the broadcast result's (the smaller operands move, as a squeeze-excitation's does)."""
        shapes = [self.keras_shape(x) for x in inputs]
        broadcast = [axis for axis in range(len(shapes[0])) if any(shape[axis] != 1 for shape in shapes)]
        full = [x for x, shape in zip(inputs, shapes) if all(shape[axis] != 1 for axis in broadcast)]
        perm = (full or list(inputs))[0].perm
        return [self.hold(x, perm) for x in inputs]

    def arguments(self, inputs: Sequence[Held]) -> list:
        """The call's positional arguments, its Keras tensors replaced by their held IR values."""
        held = {id(tensor): value for tensor, value in zip(self.node.input_tensors, inputs)}

        def replace(item):
            if isinstance(item, (list, tuple)):
                return type(item)(replace(part) for part in item)
            return held.get(id(item), item)

        return [replace(item) for item in self.node.arguments.args]

    def keras_axis(self, x: Held, axis: int, batch: bool = False) -> int:
        """A Keras axis of ``x`` as a non-negative index; None (after reporting) out of range, or for the batch
        axis unless ``batch`` (the IR op takes any axis, as concat and softmax do)."""
        index = axis + x.rank if axis < 0 else axis
        if not (0 if batch else 1) <= index < x.rank:
            which = "an" if batch else "a non-batch"
            self.unsupported(f"the axis must be {which} axis of the rank {x.rank} input. "
                             f"Expected -{x.rank - (0 if batch else 1)} <= axis < {x.rank}"
                             f"{'' if batch else ', axis != 0'}. Received: axis={axis}")
            return None
        return index

    def dtype(self, x: Held) -> str:
        """The IR dtype of ``x``."""
        return self._state.dtypes[x.value]

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
        state = self._state
        paths = {weight: variable.path for weight, variable in (sources or {}).items()}
        value = state.builder.add(op, [x.value for x in inputs], filled, weights, name=name or self.name, sources=paths)
        state.shapes[value] = tuple(schema.infer(filled, [self.shape(x) for x in inputs])[0])
        state.dtypes[value] = schema.output_dtypes(filled, [self.dtype(x) for x in inputs])[0]
        return Held(value, tuple(perm))

    def add_outputs(self, op: str, inputs: list[Held], attrs: dict | None = None, *, perm: Sequence[int],
                    name: str | None = None) -> list[Held]:
        """Write a node with several outputs (no weights); each output is held in ``perm``."""
        schema = ops.get(op)
        filled = schema.fill(dict(attrs or {}))
        values = self._state.builder.add_node(op, [x.value for x in inputs], filled, name=name or self.name)
        for value, shape in zip(values, schema.infer(filled, [self.shape(x) for x in inputs])):
            self._state.shapes[value] = tuple(shape)
        for value, dtype in zip(values, schema.output_dtypes(filled, [self.dtype(x) for x in inputs])):
            self._state.dtypes[value] = dtype
        return [Held(value, tuple(perm)) for value in values]

    def unsupported(self, message: str) -> None:
        self.failed = True
        self._state.builder.unsupported(self.where, message)


def array(variable) -> np.ndarray:
    """A Keras variable's value as a numpy array."""
    return np.asarray(keras.ops.convert_to_numpy(variable))


def same_order(perm, keras_shape) -> bool:
    """Whether a tensor held in ``perm`` lists its elements in the IR's row-major order: the axes of size
    other than 1 keep their canonical order."""
    axes = [axis for axis, size in zip(perm, keras_shape) if size != 1]
    return axes == sorted(axes)
