"""The few Keras layers interlayer adds where Keras has no built-in one computing an IR op exactly.

Each is registered as serializable (package ``interlayer``), so a saved model loads again once
``interlayer.backends.keras`` is imported.
"""
from __future__ import annotations

import functools

import keras
import numpy as np

from ...ir.ops.schema import ceil_overflow, spatial_out
from .sizes import SizedLayer, config_size


@keras.saving.register_keras_serializable(package="interlayer")
class Padding(keras.layers.Layer):
    """Pads axes of a tensor in one of numpy.pad's modes, which Keras's padding layers (zeros only) lack:
    'constant' fills with ``value`` (e.g. -inf before a max pooling); 'reflect' mirrors the input without
    repeating its edge (PyTorch's ReflectionPad), each pad < the axis size; 'edge' repeats the edge value
    (ReplicationPad); 'wrap' continues from the other end (CircularPad), each pad <= the axis size.

    ``padding`` has one ``(begin, end)`` pair per padded axis, each >= 0. The padded axes are ``axes`` (any axes
    of the tensor as this layer gets it, axis 0 included), by default the spatial axes of a channels-last tensor
    (1 to rank - 2). Sizes may be unknown (None) until the model runs.
    """

    MODES = ("constant", "reflect", "edge", "wrap")

    def __init__(self, padding, mode: str = "constant", value: float = 0.0, axes=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = tuple((int(begin), int(end)) for begin, end in padding)
        self.mode = _choice(mode, self.MODES, "mode")
        self.value = float(value)
        self.axes = None if axes is None else tuple(int(axis) for axis in axes)
        if any(amount < 0 for pair in self.padding for amount in pair):
            raise ValueError(f"padding amounts must be >= 0. Received: padding={self.padding}.")
        if self.axes is not None and (len(self.axes) != len(self.padding) or len(set(self.axes)) != len(self.axes)):
            raise ValueError(f"Padding: one (begin, end) pair per distinct axis. Received: axes={self.axes}, "
                             f"padding={self.padding}.")

    def padded_axes(self, rank: int) -> tuple[int, ...]:
        return self.axes if self.axes is not None else tuple(range(1, rank - 1))

    def call(self, inputs):
        axes = self.padded_axes(len(inputs.shape))
        if self.mode in ("constant", "reflect"):  # TensorFlow's pad has these two (and 'symmetric')
            widths = [(0, 0)] * len(inputs.shape)
            for axis, pair in zip(axes, self.padding):
                widths[axis] = pair
            fill = {"constant_values": self.value} if self.mode == "constant" else {}
            return keras.ops.pad(inputs, widths, mode=self.mode, **fill)
        for axis, (begin, end) in zip(axes, self.padding):
            inputs = self._copy_ends(inputs, axis, begin, end)
        return inputs

    def _copy_ends(self, x, axis: int, begin: int, end: int):
        """'edge' or 'wrap' along one axis: slices of the input itself joined in front of it and behind it."""
        def part(start, stop):
            return x[(slice(None),) * axis + (slice(start, stop),)]

        if self.mode == "edge":
            front = keras.ops.repeat(part(0, 1), begin, axis=axis) if begin else None
            back = keras.ops.repeat(part(-1, None), end, axis=axis) if end else None
        else:
            front = part(-begin, None) if begin else None
            back = part(0, end) if end else None
        parts = [t for t in (front, x, back) if t is not None]
        return x if len(parts) == 1 else keras.ops.concatenate(parts, axis=axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (begin, end) in zip(self.padded_axes(len(shape)), self.padding):
            shape[axis] = None if shape[axis] is None else shape[axis] + begin + end
        return tuple(shape)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=inputs.dtype)

    def get_config(self):
        config = {**super().get_config(), "padding": [list(pair) for pair in self.padding], "mode": self.mode,
                  "value": self.value}
        return config if self.axes is None else {**config, "axes": list(self.axes)}


@keras.saving.register_keras_serializable(package="interlayer")
class ConstantPadding(Padding):
    """:class:`Padding` in 'constant' mode: the layer the Keras backend writes for a fill other than zero, under
    the name (and config, without ``mode``) that models saved before the other modes existed hold."""

    def __init__(self, padding, value: float = 0.0, **kwargs):
        super().__init__(padding, "constant", value, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["mode"]
        return config


@keras.saving.register_keras_serializable(package="interlayer")
class Clip(keras.layers.Layer):
    """``min(max(x, min_value), max_value)``; either bound may be None."""

    def __init__(self, min_value: float | None = None, max_value: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.min_value = None if min_value is None else float(min_value)
        self.max_value = None if max_value is None else float(max_value)

    def call(self, inputs):
        if self.min_value is not None:
            inputs = keras.ops.maximum(inputs, self.min_value)
        if self.max_value is not None:
            inputs = keras.ops.minimum(inputs, self.max_value)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value}


@keras.saving.register_keras_serializable(package="interlayer")
class HardSigmoid(keras.layers.Layer):
    """``clip(alpha * x + beta, 0, 1)`` for the slopes Keras's own hard_sigmoid (alpha 1/6, beta 0.5) lacks."""

    def __init__(self, alpha: float = 0.2, beta: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def call(self, inputs):
        return keras.ops.clip(inputs * self.alpha + self.beta, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


@keras.saving.register_keras_serializable(package="interlayer")
class Gelu(keras.layers.Layer):
    """GELU with a choice of form: Keras's ``Activation("gelu")`` is the exact erf form only."""

    def __init__(self, approximate: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.approximate = bool(approximate)

    def call(self, inputs):
        return keras.activations.gelu(inputs, approximate=self.approximate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "approximate": self.approximate}


# arithmetic, matmul, reductions, stack and split (the algebra op family) -----------------------------------

_BINARY = ("add", "subtract", "multiply", "divide", "power", "matmul", "floor_divide", "mod", "equal", "not_equal",
           "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor")
_REDUCTIONS = ("mean", "sum", "max", "min")


def _choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise ValueError(f"{what} must be one of {list(choices)}. Received: {value!r}.")
    return value


@keras.saving.register_keras_serializable(package="interlayer")
class ConstantOperand(keras.layers.Layer):
    """``op(x, other)``, or ``op(other, x)`` with ``constant_first``, where ``other`` is this layer's weight.

    ``op`` names a binary ``keras.ops`` function (add, subtract, multiply, divide, power, matmul, floor_divide,
    mod, the comparisons equal ... greater_equal, logical_and/or/xor); ``shape`` is the constant's shape as this
    layer sees it, already in its input's layout. ``other_dtype`` is the weight's dtype when it is not a float
    (an int64 token id, a bool mask). The weight is saved with the model and trains only when the layer is
    ``trainable`` and it is a float.
    """

    def __init__(self, op: str, shape=(), constant_first: bool = False, other_dtype: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.op = _choice(op, _BINARY, "op")
        self.shape = tuple(int(d) for d in shape)
        self.constant_first = bool(constant_first)
        self.other_dtype = None if other_dtype is None else keras.backend.standardize_dtype(other_dtype)
        if self.other_dtype is None:
            self.other = self.add_weight(name="other", shape=self.shape, initializer="zeros")
        else:
            self.other = self.add_weight(name="other", shape=self.shape, initializer="zeros", dtype=self.other_dtype,
                                         trainable=False)

    def call(self, inputs):
        fn = getattr(keras.ops, self.op)
        return fn(self.other, inputs) if self.constant_first else fn(inputs, self.other)

    def get_config(self):
        config = {**super().get_config(), "op": self.op, "shape": list(self.shape),
                  "constant_first": self.constant_first}
        return config if self.other_dtype is None else {**config, "other_dtype": self.other_dtype}


@keras.saving.register_keras_serializable(package="interlayer")
class BinaryOp(keras.layers.Layer):
    """``op(a, b)`` of two tensors with numpy broadcasting (``op(op(a, b), c)`` for more), for what Keras has no
    merge layer for (divide, power, matmul, floor_divide, mod) or where a merge layer would take a broadcast
    axis 0 for the batch, or integer inputs for floats."""

    def __init__(self, op: str, **kwargs):
        super().__init__(**kwargs)
        self.op = _choice(op, _BINARY, "op")

    def call(self, inputs):
        first, *rest = inputs
        for second in rest:
            first = getattr(keras.ops, self.op)(first, second)
        return first

    def get_config(self):
        return {**super().get_config(), "op": self.op}


@keras.saving.register_keras_serializable(package="interlayer")
class Reduce(keras.layers.Layer):
    """``keras.ops.<op>(x, axis=axes, keepdims=keepdims)`` for op in mean, sum, max."""

    def __init__(self, op: str, axes, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.op = _choice(op, _REDUCTIONS, "op")
        self.axes = tuple(int(axis) for axis in axes)
        self.keepdims = bool(keepdims)

    def call(self, inputs):
        return getattr(keras.ops, self.op)(inputs, axis=self.axes, keepdims=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "op": self.op, "axes": list(self.axes), "keepdims": self.keepdims}


@keras.saving.register_keras_serializable(package="interlayer")
class Stack(keras.layers.Layer):
    """Join equal-shaped tensors along a new ``axis``."""

    def __init__(self, axis: int, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        return keras.ops.stack(list(inputs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@keras.saving.register_keras_serializable(package="interlayer")
class Split(keras.layers.Layer):
    """Cut a tensor along ``axis`` into consecutive parts of ``sizes``; returns a list, one tensor per part."""

    def __init__(self, axis: int, sizes, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.sizes = tuple(int(size) for size in sizes)

    def call(self, inputs):
        ends = [sum(self.sizes[:i + 1]) for i in range(len(self.sizes) - 1)]
        return keras.ops.split(inputs, ends or 1, axis=self.axis)  # one part: 1 section (TF refuses no indices)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "sizes": list(self.sizes)}


@keras.saving.register_keras_serializable(package="interlayer")
class SizedReshape(keras.layers.Layer):
    """Reshape to ``sizes`` after the batch axis, where ``copies[i] >= 0`` takes that size from the input's axis
    ``copies[i]`` when the model runs: a reshape of several symbolic sizes, which ``Reshape``'s one -1 cannot say."""

    def __init__(self, sizes, copies, **kwargs):
        super().__init__(**kwargs)
        self.sizes = tuple(int(size) for size in sizes)
        self.copies = tuple(int(axis) for axis in copies)

    def call(self, inputs):
        shape = keras.ops.shape(inputs)
        target = [shape[0]] + [shape[axis] if axis >= 0 else size for size, axis in zip(self.sizes, self.copies)]
        return keras.ops.reshape(inputs, target)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[axis] if axis >= 0 else (None if size == -1 else size)
                                  for size, axis in zip(self.sizes, self.copies)))

    def get_config(self):
        return {**super().get_config(), "sizes": list(self.sizes), "copies": list(self.copies)}


@keras.saving.register_keras_serializable(package="interlayer")
class Tile(keras.layers.Layer):
    """``keras.ops.tile(x, (first, *repeats))``: each axis after the first repeated ``repeats[i]`` times, in the
    order the layer's input holds them, and axis 0 ``first`` times (1 by default: kept)."""

    def __init__(self, repeats, first: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.repeats = tuple(int(count) for count in repeats)
        self.first = int(first)

    def call(self, inputs):
        return keras.ops.tile(inputs, (self.first, *self.repeats))

    def compute_output_spec(self, inputs):
        shape = tuple(size if count == 1 else None if size is None else size * count
                      for size, count in zip(inputs.shape, (self.first, *self.repeats)))
        return keras.KerasTensor(shape, dtype=inputs.dtype)

    def get_config(self):
        config = {**super().get_config(), "repeats": list(self.repeats)}
        return config if self.first == 1 else {**config, "first": self.first}


# resizing (the spatial op family) --------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="interlayer")
class Resize(SizedLayer):
    """Resizes the spatial axes of a channels-last tensor to ``sizes``, one axis after the other: one-hot rows
    (nearest) or two weights per row (linear) of that axis's interpolation matrix
    (``interlayer.reference.spatial.resize_matrix``).

    It computes the IR's ``resize`` exactly where Keras's own layers do not: align_corners, PyTorch's
    scale_factor coordinates, non-integer nearest, 1-D and 3-D linear. With static input sizes and int ``sizes``
    the matrices are made when the layer is built, never saved, and applied as matrix products; a size known only
    when the model runs (a size expression of ``sizes``, bound as ``sizes.py`` describes, or an input size None)
    has its positions and weights computed then, and applied by ``take``.
    """

    def __init__(self, sizes, mode: str = "nearest", coordinate_mode: str = "asymmetric", scales=None,
                 bindings=None, **kwargs):
        super().__init__(bindings, **kwargs)
        self.sizes = tuple(config_size(size) for size in sizes)
        self.mode = mode
        self.coordinate_mode = coordinate_mode
        self.scales = None if scales is None else tuple(float(scale) for scale in scales)
        self._matrices = None

    def build(self, input_shape):
        from ...reference.spatial import resize_matrix

        if input_shape and isinstance(input_shape[0], (list, tuple)):  # [x, *sources]
            input_shape = input_shape[0]
        spatial = input_shape[1:-1]
        if len(spatial) != len(self.sizes):
            raise ValueError(f"Resize needs {len(self.sizes)} spatial axes. Received: shape={input_shape}.")
        if all(isinstance(size, int) for size in (*spatial, *self.sizes)):
            scales = self.scales or (None,) * len(spatial)
            self._matrices = tuple(resize_matrix(n, m, self.mode, self.coordinate_mode, scale)
                                   for n, m, scale in zip(spatial, self.sizes, scales))

    def call(self, inputs):
        (x,), sources = self.split(inputs)
        if self._matrices is not None:
            for axis, matrix in enumerate(self._matrices, start=1):
                matrix = keras.ops.convert_to_tensor(matrix, dtype=x.dtype)
                x = keras.ops.moveaxis(keras.ops.tensordot(x, matrix, axes=[[axis], [1]]), -1, axis)
            return x
        scales = self.scales or (None,) * len(self.sizes)
        for axis, (size, scale) in enumerate(zip(self.computed(self.sizes, sources), scales), start=1):
            x = self._resize_axis(x, axis, size, scale)
        return x

    def _resize_axis(self, x, axis: int, m, scale):
        """One axis resized to ``m`` positions (an int or a size tensor) as resize_matrix's rows say."""
        n = keras.ops.shape(x)[axis]
        dtype = "float32" if self.mode == "nearest" else "float64"  # as the reference computes coordinates
        coordinates = _coordinates(n, m, self.coordinate_mode, scale, dtype)
        last = keras.ops.cast(n, "int32") - 1
        low = keras.ops.floor(coordinates)
        first = keras.ops.minimum(keras.ops.cast(low, "int32"), last)
        if self.mode == "nearest":
            return keras.ops.take(x, first, axis=axis)
        shape = [1] * len(x.shape)
        shape[axis] = -1
        fraction = keras.ops.reshape(keras.ops.cast(coordinates - low, x.dtype), shape)
        second = keras.ops.minimum(first + 1, last)
        return keras.ops.take(x, first, axis=axis) * (1 - fraction) + keras.ops.take(x, second, axis=axis) * fraction

    def compute_output_spec(self, inputs):
        (x,), sources = self.split(inputs)
        return keras.KerasTensor((x.shape[0], *self.known(self.sizes, sources), x.shape[-1]), dtype=x.dtype)

    def get_config(self):
        config = {**super().get_config(), "sizes": list(self.sizes), "mode": self.mode,
                  "coordinate_mode": self.coordinate_mode, "scales": None if self.scales is None else list(self.scales)}
        return config if self.bindings else {key: value for key, value in config.items() if key != "bindings"}


def _coordinates(n, m, coordinate_mode: str, scale, dtype: str):
    """The input coordinate each of the ``m`` output positions reads (``reference.spatial._coordinates``), for
    sizes known when the model runs."""
    o = keras.ops.arange(m, dtype=dtype)
    n_, m_ = keras.ops.cast(n, "float64"), keras.ops.cast(m, "float64")
    if coordinate_mode == "align_corners":  # (n - 1) / (m - 1), rounded to dtype; all 0 when m is 1
        ratio = keras.ops.where(m_ > 1, (n_ - 1) / keras.ops.maximum(m_ - 1, 1), 0.0)
        return o * keras.ops.cast(ratio, dtype)
    if scale is not None:
        step = keras.ops.cast(1.0 / scale, dtype)
    else:
        step = keras.ops.cast(n, dtype) / keras.ops.cast(m, dtype)
    if coordinate_mode == "asymmetric":
        return o * step
    return keras.ops.maximum((o + 0.5) * step - 0.5, 0.0)  # half_pixel, clamped at 0 as PyTorch


# local response normalisation (the normalization op family) -----------------------------------------------


@keras.saving.register_keras_serializable(package="interlayer")
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalisation across the last axis, the channels of a channels-last tensor:
    ``x[c] / (bias + alpha / size * sum(x[j] ** 2 for j in c - before .. c - before + size - 1)) ** beta``, channels
    outside the tensor counting 0. ``before`` defaults to ONNX's ``(size - 1) // 2``; PyTorch's is ``size // 2``.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0,
                 before: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.before = (self.size - 1) // 2 if before is None else int(before)
        if self.size < 1 or not 0 <= self.before < self.size:
            raise ValueError(f"LocalResponseNormalization: the window must hold channel c. Expected size >= 1 and "
                             f"0 <= before < size. Received: size={self.size}, before={self.before}.")
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.bias = float(bias)

    def call(self, inputs):
        channels = inputs.shape[-1]
        widths = [(0, 0)] * (len(inputs.shape) - 1) + [(self.before, self.size - 1 - self.before)]
        squares = keras.ops.pad(keras.ops.square(inputs), widths)
        total = squares[..., :channels]
        for start in range(1, self.size):
            total = total + squares[..., start:start + channels]
        return inputs / keras.ops.power(self.bias + (self.alpha / self.size) * total, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta,
                "bias": self.bias, "before": self.before}


# average pooling over explicit padding (the pool op family) ------------------------------------------------


@keras.saving.register_keras_serializable(package="interlayer")
class AveragePooling(keras.layers.Layer):
    """Average pooling of a channels-last tensor, 1-D to 3-D, with explicit zero padding: each window's sum divided
    by its positions inside the input, plus its positions in ``padding`` when ``count_include_pad`` (PyTorch's
    AvgPool, ONNX's AveragePool). Keras's own AveragePooling pads only as TensorFlow's 'same' does, never counted.

    ``padding`` has one ``(begin, end)`` pair per spatial axis, each at most half the window. With ``ceil_mode``
    the output length rounds up, the last window starting inside the input or its begin padding; positions past
    the padding never count. The divisors are a constant made from the input's sizes when they are static, else
    the same pooling of a tensor of ones.
    """

    def __init__(self, pool_size, strides=None, padding=None, count_include_pad: bool = False,
                 ceil_mode: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = tuple(int(k) for k in pool_size)
        rank = len(self.pool_size)
        self.strides = self.pool_size if strides is None else tuple(int(s) for s in strides)
        self.padding = tuple((int(begin), int(end)) for begin, end in (padding or [(0, 0)] * rank))
        self.count_include_pad = bool(count_include_pad)
        self.ceil_mode = bool(ceil_mode)
        if not 1 <= rank <= 3 or len(self.strides) != rank or len(self.padding) != rank:
            raise ValueError(f"AveragePooling: pools 1 to 3 spatial axes. Expected pool_size, strides and padding of "
                             f"one length from 1 to 3. Received: pool_size={self.pool_size}, strides={self.strides}, "
                             f"padding={self.padding}.")
        if min(self.pool_size + self.strides) < 1 or any(
                min(pair) < 0 or 2 * max(pair) > k for pair, k in zip(self.padding, self.pool_size)):
            raise ValueError(f"AveragePooling: every window must hold an input position. Expected pool_size and "
                             f"strides >= 1, padding from 0 to half the window. Received: pool_size={self.pool_size}, "
                             f"strides={self.strides}, padding={self.padding}.")

    def call(self, inputs):
        static = [inputs.shape[1 + axis] for axis in range(len(self.pool_size))]
        shape = keras.ops.shape(inputs)
        sizes = [shape[1 + axis] if size is None else size for axis, size in enumerate(static)]
        overflow = [self._overflow(axis, size) for axis, size in enumerate(sizes)]
        widths = [(0, 0), *((begin, end + more) for (begin, end), more in zip(self.padding, overflow)), (0, 0)]
        pooled = keras.ops.average_pool(keras.ops.pad(inputs, widths), self.pool_size, self.strides, "valid")
        if None not in static:
            scale = _window_scales(tuple(static), self.pool_size, self.strides, self.padding, self.count_include_pad,
                                   self.ceil_mode)
            return pooled * keras.ops.convert_to_tensor(scale, dtype=pooled.dtype)
        # sizes known only when the model runs: each window's counted share, the same pooling of ones
        ones = keras.ops.pad(keras.ops.ones_like(inputs[..., :1]), [(0, 0), *self.padding, (0, 0)],
                             constant_values=1.0 if self.count_include_pad else 0.0)
        ones = keras.ops.pad(ones, [(0, 0), *((0, more) for more in overflow), (0, 0)])
        return pooled / keras.ops.average_pool(ones, self.pool_size, self.strides, "valid")

    def _overflow(self, axis: int, size):
        """Positions added past the end padding so that a 'valid' pass gives ceil_mode's length (a tensor when the
        size is one)."""
        if not self.ceil_mode:
            return 0
        kernel, stride, (begin, end) = self.pool_size[axis], self.strides[axis], self.padding[axis]
        if isinstance(size, int):
            return ceil_overflow(size, kernel, stride, 1, begin, end)
        out = (size + begin + end - kernel + stride - 1) // stride + 1
        out = keras.ops.where((out - 1) * stride >= size + begin, out - 1, out)  # the last window starts in bounds
        return keras.ops.maximum((out - 1) * stride + kernel - (size + begin + end), 0)

    def compute_output_shape(self, input_shape):
        spatial = [None if size is None else spatial_out(size, kernel, stride, 1, begin, end, self.ceil_mode)
                   for size, kernel, stride, (begin, end) in zip(input_shape[1:-1], self.pool_size, self.strides,
                                                                 self.padding)]
        return (input_shape[0], *spatial, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": [list(pair) for pair in self.padding], "count_include_pad": self.count_include_pad,
                "ceil_mode": self.ceil_mode}


@functools.lru_cache(maxsize=64)
def _window_scales(sizes, pool_size, strides, padding, count_include_pad, ceil_mode) -> np.ndarray:
    """(1, *out, 1) float32: each window's size over the positions it counts. Both are products over the axes."""
    rank = len(sizes)
    scales = np.ones((1,) * (rank + 2))
    for axis, (size, kernel, stride, (begin, end)) in enumerate(zip(sizes, pool_size, strides, padding)):
        starts = np.arange(spatial_out(size, kernel, stride, 1, begin, end, ceil_mode)) * stride - begin
        low, high = (-begin, size + end) if count_include_pad else (0, size)
        counted = np.minimum(starts + kernel, high) - np.maximum(starts, low)
        scales = scales * (kernel / counted).reshape((1,) * (axis + 1) + (-1,) + (1,) * (rank - axis))
    return scales.astype(np.float32)


# the layers defined beside their converters (attention, index, math, sizes) register with this module too, so that
# importing it is all a saved model needs
from . import attention, index, math, sizes  # noqa: E402,F401
