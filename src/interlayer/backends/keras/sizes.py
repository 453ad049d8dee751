"""Sizes computed when the model runs: the base of interlayer's layers whose sizes are size expressions
(``interlayer.ir.dims``: ``"N*T"``, ``"T - 1"``, ``"(H - 1)//2 + 1"``), and the two layers that reshape and
broadcast to such sizes.

A :class:`SizedLayer` is called on its data input (if it has one) followed by the graph inputs that bind the
names its sizes read: ``bindings`` maps each name to (position among those inputs, axis), and ``call`` reads
that axis with ``keras.ops.shape`` and evaluates the expression through ``keras.ops``, so one model runs at any
sizes on every Keras backend. Its output spec has the sizes that are ints when the model is built and None for
the others.

Each layer is registered as serializable (package ``interlayer``), so a saved model loads again once
``interlayer.backends.keras`` is imported.
"""
from __future__ import annotations

from typing import Any

import keras

from ...ir import dims


def _either(python, tensor):
    """``python(a, b)`` for ints (sizes known when traced), ``tensor(a, b)`` for the size tensors of a backend
    that traces with sizes unknown (TensorFlow's graphs)."""
    def apply(a, b):
        return python(a, b) if isinstance(a, int) and isinstance(b, int) else tensor(a, b)

    return apply


OPERATIONS = {"max": _either(max, keras.ops.maximum), "min": _either(min, keras.ops.minimum)}
"""dims.evaluate's operations over Keras sizes: ``+ - * // %`` are Python's, which backend tensors have too"""


def config_size(value) -> Any:
    """A size as a config holds it: an int or the canonical text of an expression."""
    return dims.normal(value if isinstance(value, str) else int(value))


class SizedLayer(keras.layers.Layer):
    """A layer whose sizes are ints or size expressions over names that axes of its extra inputs bind.

    ``call`` gets ``[*data, *sources]`` (``DATA`` data inputs first), or the data tensor alone when no size
    needs a source; ``bindings`` maps each name to ``[source position, axis]``. A subclass computes with
    :meth:`computed` in ``call`` and :meth:`known` in ``compute_output_spec``.
    """

    DATA = 1
    """how many of the inputs are data; the rest only give sizes"""

    def __init__(self, bindings=None, **kwargs):
        super().__init__(**kwargs)
        self.bindings = {str(name): (int(source), int(axis)) for name, (source, axis) in dict(bindings or {}).items()}

    def split(self, inputs) -> tuple[list, list]:
        """(data inputs, size sources) of a call's inputs."""
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        return inputs[:self.DATA], inputs[self.DATA:]

    def computed(self, values, sources) -> list:
        """Each of ``values`` with the names bound to the sizes of ``sources`` now: an int, or a scalar tensor."""
        shapes = [keras.ops.shape(source) for source in sources]
        bound = {name: shapes[source][axis] for name, (source, axis) in self.bindings.items()}
        return [dims.evaluate(value, bound, OPERATIONS) for value in values]

    def known(self, values, sources) -> list:
        """Each of ``values`` from the static shapes of ``sources`` (KerasTensors): None where a name it reads is
        unknown until the model runs."""
        known = {name: sources[source].shape[axis] for name, (source, axis) in self.bindings.items()}
        found = []
        for value in values:
            if isinstance(value, int) or all(known.get(name) is not None for name in dims.names(value)):
                found.append(dims.evaluate(value, known))
            else:
                found.append(None)
        return found

    def get_config(self):
        return {**super().get_config(), "bindings": {name: list(pair) for name, pair in self.bindings.items()}}


class ShapedLayer(SizedLayer):
    """A sized layer whose one attribute is a target ``shape`` of ints and size expressions."""

    def __init__(self, shape, bindings=None, **kwargs):
        super().__init__(bindings, **kwargs)
        self.shape = tuple(config_size(size) for size in shape)

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape)}


@keras.saving.register_keras_serializable(package="interlayer")
class ReshapeTo(ShapedLayer):
    """Row-major reshape of every axis (axis 0 included) to ``shape``: ints, size expressions and at most one
    -1; what Keras's Reshape (which keeps axis 0 and one unknown size) cannot say: a batch merged with a sequence
    (``["N*T", 64]``), heads moved into the batch (``["2*N", "T", 32]``), a table of rows made from a length."""

    def call(self, inputs):
        (x,), sources = self.split(inputs)
        return keras.ops.reshape(x, self.computed(self.shape, sources))

    def compute_output_spec(self, inputs):
        (x,), sources = self.split(inputs)
        shape = self.known(self.shape, sources)
        if -1 in shape:
            known = [size for size in x.shape if size is not None]
            rest = [size for size in shape if size != -1]
            if len(known) == len(x.shape) and None not in rest:
                total, others = 1, 1
                for size in known:
                    total *= size
                for size in rest:
                    others *= size
                shape[shape.index(-1)] = total // others if others else 0
            else:
                shape[shape.index(-1)] = None
        return keras.KerasTensor(tuple(shape), dtype=x.dtype)


@keras.saving.register_keras_serializable(package="interlayer")
class BroadcastTo(ShapedLayer):
    """``numpy.broadcast_to(x, shape)`` (the IR's ``expand``): axes of size 1 repeat to ``shape``, new axes in
    front; sizes are ints or size expressions."""

    def call(self, inputs):
        (x,), sources = self.split(inputs)
        return keras.ops.broadcast_to(x, self.computed(self.shape, sources))

    def compute_output_spec(self, inputs):
        (x,), sources = self.split(inputs)
        shape = self.known(self.shape, sources)
        return keras.KerasTensor(tuple(shape), dtype=x.dtype)
