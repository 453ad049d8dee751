"""Tensors made from sizes, casts, slicing, indexing, scans and einsum (the index op family).

* ``constant``, ``full`` and ``arange`` take no input: interlayer's Constant, Full and Arange layers, called on the
  graph inputs whose sizes they read (on the first graph input when they read none), as a functional model
  needs every tensor to come from its inputs. Constant keeps 'value' as its weight, in the IR's dtype.
* ``slice`` is interlayer's Slice (its ranges may be size expressions); ``cast``, ``gather``, ``gather_elements``,
  ``select``, ``argmax``/``argmin``, ``trilu``, ``einsum`` and a plain ``cumsum`` are ``keras.ops`` calls in the
  functional graph; an exclusive or reversed ``cumsum`` is interlayer's Cumsum.
* Axes map through the held perm: a slice or an argmax of a channels-last map needs no Permute, and einsum's
  letters are relabelled to the held order of each operand.
"""
from __future__ import annotations

import keras

from ...ir import layout
from ...registry import register
from .algebra import dropped, same_layout
from .build import BuildContext, assign, prefers
from .sizes import SizedLayer, config_size

_INTEGERS = ("int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64")


def _fill(value, dtype: str):
    """``value`` as a number of ``dtype``: a bool, an int or a float."""
    if dtype == "bool":
        return bool(value)
    return int(value) if dtype in _INTEGERS else float(value)


@keras.saving.register_keras_serializable(package="interlayer")
class Constant(keras.layers.Layer):
    """This layer's weight ``value`` (``shape``, of ``value_dtype``) as it is; its inputs only anchor it in the
    model. Only a floating weight of a trainable layer trains."""

    def __init__(self, shape, value_dtype: str = "float32", **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(int(size) for size in shape)
        self.value_dtype = keras.backend.standardize_dtype(value_dtype)
        floating = "float" in self.value_dtype
        self.value = self.add_weight(name="value", shape=self.shape, initializer="zeros", dtype=self.value_dtype,
                                     trainable=floating and self.trainable)

    def call(self, inputs):
        return keras.ops.convert_to_tensor(self.value)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(self.shape, dtype=self.value_dtype)

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape), "value_dtype": self.value_dtype}


@keras.saving.register_keras_serializable(package="interlayer")
class Full(SizedLayer):
    """A tensor of ``shape`` (ints or size expressions) filled with ``value``, of ``value_dtype``."""

    DATA = 0

    def __init__(self, shape, value: float = 0.0, value_dtype: str = "float32", bindings=None, **kwargs):
        super().__init__(bindings, **kwargs)
        self.shape = tuple(config_size(size) for size in shape)
        self.value_dtype = keras.backend.standardize_dtype(value_dtype)
        self.value = _fill(value, self.value_dtype)

    def call(self, inputs):
        _, sources = self.split(inputs)
        return keras.ops.full(self.computed(self.shape, sources), self.value, dtype=self.value_dtype)

    def compute_output_spec(self, inputs):
        _, sources = self.split(inputs)
        return keras.KerasTensor(tuple(self.known(self.shape, sources)), dtype=self.value_dtype)

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape), "value": self.value,
                "value_dtype": self.value_dtype}


@keras.saving.register_keras_serializable(package="interlayer")
class Arange(SizedLayer):
    """``start, start + step, ...`` while below ``limit`` (above it for a negative step), of ``value_dtype``;
    ``start`` and ``limit`` are ints or size expressions."""

    DATA = 0

    def __init__(self, limit, start=0, step: int = 1, value_dtype: str = "int64", bindings=None, **kwargs):
        super().__init__(bindings, **kwargs)
        self.start, self.limit, self.step = config_size(start), config_size(limit), int(step)
        if self.step == 0:
            raise ValueError("Arange: step must not be 0. Received: step=0.")
        self.value_dtype = keras.backend.standardize_dtype(value_dtype)

    def call(self, inputs):
        _, sources = self.split(inputs)
        start, limit = self.computed([self.start, self.limit], sources)
        return keras.ops.arange(start, limit, self.step, dtype=self.value_dtype)

    def compute_output_spec(self, inputs):
        _, sources = self.split(inputs)
        start, limit = self.known([self.start, self.limit], sources)
        length = None if start is None or limit is None else len(range(start, limit, self.step))
        return keras.KerasTensor((length,), dtype=self.value_dtype)

    def get_config(self):
        return {**super().get_config(), "start": self.start, "limit": self.limit, "step": self.step,
                "value_dtype": self.value_dtype}


@keras.saving.register_keras_serializable(package="interlayer")
class Slice(SizedLayer):
    """``x[start:end:step]`` along each of ``axes`` (axes of the tensor as this layer gets it), the others whole;
    ``starts`` and ``ends`` are resolved positions, ints or size expressions."""

    def __init__(self, axes, starts, ends, steps=None, bindings=None, **kwargs):
        super().__init__(bindings, **kwargs)
        self.axes = tuple(int(axis) for axis in axes)
        self.starts = tuple(config_size(size) for size in starts)
        self.ends = tuple(config_size(size) for size in ends)
        self.steps = tuple(int(step) for step in (steps or [1] * len(self.axes)))
        counts = {len(self.axes), len(self.starts), len(self.ends), len(self.steps)}
        if len(counts) > 1 or any(step < 1 for step in self.steps):
            raise ValueError(f"Slice: a range per axis. Expected one start, end and step >= 1 per axis. Received: "
                             f"axes={self.axes}, starts={self.starts}, ends={self.ends}, steps={self.steps}.")

    def call(self, inputs):
        (x,), sources = self.split(inputs)
        bounds = self.computed([*self.starts, *self.ends], sources)
        index = [slice(None)] * len(x.shape)
        for axis, start, end, step in zip(self.axes, bounds[:len(self.axes)], bounds[len(self.axes):], self.steps):
            index[axis] = slice(start, end, step)
        return x[tuple(index)]

    def compute_output_spec(self, inputs):
        (x,), sources = self.split(inputs)
        bounds = self.known([*self.starts, *self.ends], sources)
        shape = list(x.shape)
        for axis, start, end, step in zip(self.axes, bounds[:len(self.axes)], bounds[len(self.axes):], self.steps):
            shape[axis] = None if start is None or end is None else max(0, -(-(end - start) // step))
        return keras.KerasTensor(tuple(shape), dtype=x.dtype)

    def get_config(self):
        return {**super().get_config(), "axes": list(self.axes), "starts": list(self.starts),
                "ends": list(self.ends), "steps": list(self.steps)}


@keras.saving.register_keras_serializable(package="interlayer")
class Cumsum(keras.layers.Layer):
    """Running sums along ``axis``; ``exclusive`` leaves each element out of its own sum, ``reverse`` sums from
    the end. A bool input counts as int64."""

    def __init__(self, axis: int, exclusive: bool = False, reverse: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.exclusive = bool(exclusive)
        self.reverse = bool(reverse)

    def call(self, inputs):
        x = keras.ops.cast(inputs, "int64") if keras.backend.standardize_dtype(inputs.dtype) == "bool" else inputs
        if self.reverse:
            x = keras.ops.flip(x, axis=self.axis)
        sums = keras.ops.cumsum(x, axis=self.axis)
        if self.exclusive:
            sums = sums - x
        return keras.ops.flip(sums, axis=self.axis) if self.reverse else sums

    def compute_output_spec(self, inputs):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        return keras.KerasTensor(inputs.shape, dtype="int64" if dtype == "bool" else dtype)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "exclusive": self.exclusive, "reverse": self.reverse}


# made from sizes alone -------------------------------------------------------------------------------------


@register("keras", "backend", "constant")
@prefers("identity")
def constant(ctx: BuildContext, node, inputs):
    attrs = ctx.attrs
    anchors, _ = ctx.anchors()
    layer = ctx.layer(Constant, shape=attrs["shape"], value_dtype=attrs["dtype"], trainable=attrs["trainable"])
    y = layer(anchors)
    assign(layer.value, node.weights["value"])
    return ctx.output(y, layout.identity(len(attrs["shape"])))


@register("keras", "backend", "full")
@prefers("identity")
def full(ctx: BuildContext, node, inputs):
    attrs = ctx.attrs
    anchors, bindings = ctx.anchors(attrs["shape"])
    layer = ctx.layer(Full, shape=attrs["shape"], value=attrs["value"], value_dtype=attrs["dtype"],
                      bindings=bindings)
    return ctx.output(layer(anchors), layout.identity(len(attrs["shape"])))


@register("keras", "backend", "arange")
@prefers("identity")
def arange(ctx: BuildContext, node, inputs):
    attrs = ctx.attrs
    anchors, bindings = ctx.anchors([attrs["start"], attrs["limit"]])
    layer = ctx.layer(Arange, start=attrs["start"], limit=attrs["limit"], step=attrs["step"],
                      value_dtype=attrs["dtype"], bindings=bindings)
    return ctx.output(layer(anchors), (0,))


# casts, slices, indexing -----------------------------------------------------------------------------------


@register("keras", "backend", "cast")
@prefers("any")
def cast(ctx: BuildContext, node, inputs):
    x = inputs[0]
    return ctx.output(keras.ops.cast(x.tensor, ctx.attrs["dtype"]), x.perm)


@register("keras", "backend", "slice")
@prefers("any")
def slice_(ctx: BuildContext, node, inputs):
    x, attrs = inputs[0], ctx.attrs
    sources, bindings = ctx.size_inputs([*attrs["starts"], *attrs["ends"]])
    layer = ctx.layer(Slice, axes=[x.perm.index(axis) for axis in attrs["axes"]], starts=attrs["starts"],
                      ends=attrs["ends"], steps=attrs["steps"], bindings=bindings)
    return ctx.output(layer([x.tensor, *sources]), x.perm)


@register("keras", "backend", "gather")
@prefers("any")
def gather(ctx: BuildContext, node, inputs):
    """``keras.ops.take`` along the held axis: the indices' axes, as they are held, take its place."""
    (x, indices), axis = inputs, ctx.attrs["axis"]
    position = x.perm.index(axis)

    def moved(d):  # an axis of x, as an axis of the output
        return d if d < axis else d + indices.rank - 1

    perm = (*map(moved, x.perm[:position]), *(axis + j for j in indices.perm), *map(moved, x.perm[position + 1:]))
    return ctx.output(keras.ops.take(x.tensor, indices.tensor, axis=position), perm)


@register("keras", "backend", "gather_elements")
@prefers("any")
def gather_elements(ctx: BuildContext, node, inputs):
    x, indices = inputs
    indices = ctx.hold(indices, x.perm)
    y = keras.ops.take_along_axis(x.tensor, indices.tensor, axis=x.perm.index(ctx.attrs["axis"]))
    return ctx.output(y, x.perm)


@register("keras", "backend", "select")
@prefers("any")
def select(ctx: BuildContext, node, inputs):
    held, perm = same_layout(ctx, inputs)
    condition, a, b = (x.tensor for x in held)
    return ctx.output(keras.ops.where(condition, a, b), perm)


# scans, searches, triangles, einsum ------------------------------------------------------------------------


@register("keras", "backend", "cumsum")
@prefers("any")
def cumsum(ctx: BuildContext, node, inputs):
    x, attrs = inputs[0], ctx.attrs
    axis = x.perm.index(attrs["axis"])
    if attrs["exclusive"] or attrs["reverse"]:
        y = ctx.layer(Cumsum, axis=axis, exclusive=attrs["exclusive"], reverse=attrs["reverse"])(x.tensor)
        return ctx.output(y, x.perm)
    tensor = keras.ops.cast(x.tensor, "int64") if ctx.input_dtype() == "bool" else x.tensor
    return ctx.output(keras.ops.cumsum(tensor, axis=axis), x.perm)


@register("keras", "backend", "argmax", "argmin")
@prefers("any")
def search(ctx: BuildContext, node, inputs):
    """``keras.ops.argmax``/``argmin`` along the held axis (int32 in Keras: the build casts it to int64)."""
    x, axis, keepdims = inputs[0], ctx.attrs["axis"], ctx.attrs["keepdims"]
    y = getattr(keras.ops, node.op)(x.tensor, axis=x.perm.index(axis), keepdims=keepdims)
    return ctx.output(y, x.perm if keepdims else dropped(x.perm, [axis]))


@register("keras", "backend", "trilu")
@prefers("any")
def trilu(ctx: BuildContext, node, inputs):
    """``keras.ops.triu``/``tril`` of the matrices on the last two axes, which must be held last, in order."""
    x = inputs[0]
    rank = x.rank
    if x.perm[-2:] != (rank - 2, rank - 1):
        x = ctx.identity(x)
    function = keras.ops.triu if ctx.attrs["upper"] else keras.ops.tril
    return ctx.output(function(x.tensor, ctx.attrs["diagonal"]), x.perm)


@register("keras", "backend", "einsum")
@prefers("any")
def einsum(ctx: BuildContext, node, inputs):
    """``keras.ops.einsum`` with each operand's letters in the order its tensor holds its axes: no Permute."""
    terms, output = ctx.attrs["equation"].replace(" ", "").split("->")
    held = ["".join(term[axis] for axis in x.perm) for term, x in zip(terms.split(","), inputs)]
    y = keras.ops.einsum(f"{','.join(held)}->{output}", *(x.tensor for x in inputs))
    return ctx.output(y, layout.identity(len(output)))
