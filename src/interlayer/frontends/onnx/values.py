"""What an ONNX value is during a capture: a constant, a batch-dependent constant, or an IR value seen through a view.

* :class:`Const`: a numpy array that does not depend on the inputs (an initializer, a ``Constant``, a folded result),
  with the ONNX name it came from for provenance.
* :class:`Dual`: a constant that depends on the batch size only, such as ``Shape(x)`` or ``ConstantOfShape`` of it.
  It is evaluated twice, for two batch sizes (:data:`BATCHES`); an entry that follows them is the batch.
* :class:`Held`: an IR value and how the ONNX value reads it: ``numpy.transpose(ir.reshape(split), perm)``, then
  ``groups`` of consecutive axes merged. The batch is axis 0 of ``split``; ``perm`` lets an ONNX value carry the
  batch elsewhere (the time-major ``(T, N, I)`` around an ``LSTM``) and ``groups`` merge it with other axes (an
  attention's ``(N * heads, T, d)``) without any IR node, until a converter needs the value itself, when the
  reshapes and transposes are written (``viewing.py``; no IR axis is special, so any view can be).

Shapes are tuples of ints with ``"N"`` for the batch, ``"N*k"`` for the batch merged with k elements (other
symbolic sizes keep their ONNX names).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...ir.graph import BATCH

BATCHES = (2, 3)
"""The two batch sizes a batch-dependent constant is evaluated for."""


@dataclass(frozen=True)
class Const:
    array: np.ndarray
    source: str | None = None
    """the ONNX initializer (or Constant output) whose value this is, for ``graph.source['name_map']``"""


@dataclass(frozen=True)
class Dual:
    first: np.ndarray
    """the value for batch size ``BATCHES[0]``"""
    second: np.ndarray
    """the value for batch size ``BATCHES[1]``"""

    @property
    def shape(self) -> tuple:
        """Its shape, ``"N"`` on the axis that follows the batch size."""
        return tuple(a if a == b else BATCH for a, b in zip(self.first.shape, self.second.shape))

    def entries(self) -> list | None:
        """A 1-D shape-like value as ints with ``"N"`` where it is the batch and ``"N*k"`` where it is the batch
        times k; None when an entry is computed from the batch otherwise or the value is not 1-D."""
        if self.first.ndim != 1 or self.first.shape != self.second.shape:
            return None
        found = []
        for a, b in zip(self.first.tolist(), self.second.tolist()):
            if a == b:
                found.append(int(a))
            elif (a, b) == BATCHES:
                found.append(BATCH)
            elif a % BATCHES[0] == 0 and b % BATCHES[1] == 0 and a // BATCHES[0] == b // BATCHES[1] > 0:
                found.append(f"{BATCH}*{a // BATCHES[0]}")  # the batch merged with other axes
            else:
                return None
        return found

    def batch_free(self) -> np.ndarray | None:
        """The value with its batch axis of size 1 when it only repeats one slice along that axis (zeros made by
        ``ConstantOfShape(Shape(x))``, a class token expanded to the batch); None otherwise."""
        a, b = self.first, self.second
        if a.ndim != b.ndim:
            return None
        axes = [i for i, (m, n) in enumerate(zip(a.shape, b.shape)) if m != n]
        if len(axes) != 1 or (a.shape[axes[0]], b.shape[axes[0]]) != BATCHES:
            return None
        row = np.take(a, [0], axis=axes[0])
        if np.array_equal(a, np.broadcast_to(row, a.shape)) and np.array_equal(b, np.broadcast_to(row, b.shape)):
            return np.ascontiguousarray(row)
        return None


@dataclass(frozen=True)
class Held:
    value: str
    """the IR value"""
    split: tuple
    """the IR value's shape, or a row-major reshape of it; the batch first, never merged with another axis"""
    perm: tuple[int, ...]
    """the axes of ``split`` in the order the ONNX value lays them out"""
    dtype: str = "float32"
    groups: tuple[int, ...] | None = None
    """how many consecutive axes of ``perm`` form each ONNX axis (None: one each); a group holding the batch and
    other axes is a batch merged with them (the (N * heads, T, d) of an attention)"""

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.groups if self.groups is not None else (1,) * len(self.perm)

    def atoms(self) -> list[list[int]]:
        """The split axes of each ONNX axis, in layout order."""
        found, start = [], 0
        for count in self.sizes:
            found.append(list(self.perm[start:start + count]))
            start += count
        return found

    @property
    def shape(self) -> tuple:
        """The ONNX shape of the value: ``"N"`` for the batch, ``"N*k"`` for the batch merged with k elements."""
        return tuple(_product([self.split[axis] for axis in axes]) for axes in self.atoms())

    @property
    def rank(self) -> int:
        return len(self.sizes)

    @property
    def batch_axis(self) -> int:
        """The ONNX axis that holds the batch."""
        return next(index for index, axes in enumerate(self.atoms()) if 0 in axes)

    def batch_first(self) -> bool:
        """Whether the ONNX value is batch-first with the batch on an axis of its own (an IR value can be)."""
        return self.atoms()[0] == [0]

    def canonical(self, ir_shape: tuple) -> bool:
        """Whether the ONNX value is the IR value itself."""
        return (tuple(self.split) == tuple(ir_shape) and self.perm == tuple(range(len(self.perm)))
                and set(self.sizes) <= {1})


@dataclass(frozen=True)
class Failed:
    """The output of a node that could not be converted (already reported)."""

    node: str
    constant: bool = False
    """whether it stands for a constant (the shape of a value that could not be converted)"""


@dataclass
class Shapes:
    """Symbolic products: an int factor and the symbols multiplied into it."""

    factor: int = 1
    symbols: list = field(default_factory=list)

    @classmethod
    def of(cls, dims) -> "Shapes":
        product = cls()
        for dim in dims:
            if isinstance(dim, str) and dim.startswith(f"{BATCH}*") and dim[len(BATCH) + 1:].isdigit():
                product.symbols.append(BATCH)
                product.factor *= int(dim[len(BATCH) + 1:])
            elif isinstance(dim, str):
                product.symbols.append(dim)
            else:
                product.factor *= int(dim)
        return product


def transpose(held: Held, perm) -> Held:
    """The view of ``numpy.transpose(onnx_value, perm)``."""
    atoms = held.atoms()
    order = [axis for index in perm for axis in atoms[index]]
    groups = tuple(len(atoms[index]) for index in perm)
    return Held(held.value, held.split, tuple(order), held.dtype, None if set(groups) <= {1} else groups)


def _product(sizes) -> int | str:
    """The product of sizes, ``"N"`` or ``"N*k"`` when the batch is among them."""
    static = Shapes.of(sizes)
    if not static.symbols:
        return static.factor
    if static.symbols == [BATCH]:
        return BATCH if static.factor == 1 else f"{BATCH}*{static.factor}"
    return "*".join([str(static.factor)] * (static.factor != 1) + static.symbols)


def resolve_target(source: tuple, target: list, allowzero: bool, fixed_batch: int | None) -> tuple | str:
    """ONNX Reshape's target shape for an input of ONNX shape ``source``: ``"N"`` where the batch goes, ``"N*k"``
    where it goes merged with k elements.

    ``0`` copies the input's size (unless ``allowzero``), ``-1`` takes what is left, and a literal at the
    position of the input's batch equal to the batch size the file fixed (``fixed_batch``, 1 in model-zoo files)
    is the batch. Returns a message when the target cannot hold the batch as one factor of one axis.
    """
    resolved = []
    for index, dim in enumerate(target):
        if dim == 0 and not allowzero:
            if index >= len(source):
                return f"target entry {index} copies a missing input axis"
            dim = source[index]
        elif (fixed_batch is not None and dim == fixed_batch and index < len(source) and source[index] == BATCH
              and not any(isinstance(d, str) for d in target)):
            dim = BATCH
        resolved.append(dim)
    whole = Shapes.of(source)
    known = Shapes.of(d for d in resolved if d != -1)
    if resolved.count(-1) > 1:
        return "the target has more than one -1"
    if -1 in resolved:
        rest = list(whole.symbols)
        for symbol in known.symbols:
            if symbol not in rest:
                return f"the target's symbolic size {symbol!r} is not a size of the input"
            rest.remove(symbol)
        if known.factor == 0 or whole.factor % known.factor:
            return f"the target {target} does not divide the input shape {list(source)}"
        size = whole.factor // known.factor
        if rest == [BATCH]:
            resolved[resolved.index(-1)] = BATCH if size == 1 else f"{BATCH}*{size}"
        elif rest:
            return f"the -1 entry would hold the symbolic sizes {rest}"
        else:
            resolved[resolved.index(-1)] = size
    final = Shapes.of(resolved)
    if final.factor != whole.factor or sorted(final.symbols) != sorted(whole.symbols):
        return f"the target {target} does not hold the same elements as the input shape {list(source)}"
    return tuple(resolved)


def reshape(held: Held, target: tuple) -> Held | str:
    """The view of the ONNX value reshaped (row-major) to the resolved ``target``, or a message saying why no view
    reads it. The ONNX value lays out the axes of ``split`` in ``perm`` order; the target regroups that sequence,
    splitting a static axis where a target size needs part of it. The batch is never split, and may be merged
    with neighbours in that order (``"N*k"``)."""
    if any(isinstance(held.split[a], str) and held.split[a] != BATCH for a in held.perm):
        return "the reshape involves a symbolic size other than the batch"
    pieces = {axis: [held.split[axis]] for axis in held.perm}
    queue = [(axis, 0) for axis in held.perm if held.split[axis] != 1]
    groups: list[list[tuple[int, int]]] = []
    for dim in target:
        if dim == 1:
            groups.append([])
            continue
        need = Shapes.of([dim])
        if [s for s in need.symbols if s != BATCH]:
            return f"the target size {dim!r} is symbolic"
        wants_batch = BATCH in need.symbols
        group, factor, has_batch = [], 1, False
        while factor != need.factor or has_batch != wants_batch:
            if not queue:
                return "the target does not match the input's sizes"
            axis, piece = queue[0]
            size = pieces[axis][piece]
            if size != BATCH and factor == need.factor:
                return "the reshape merges the batch with axes other than its neighbours in the target"
            if size == BATCH:
                if not wants_batch or has_batch:
                    return "the reshape merges the batch into an axis the target gives a fixed size"
                has_batch = True
            elif need.factor % factor or (need.factor // factor) % size and size % (need.factor // factor):
                return "the reshape merges and splits axes across each other"
            elif size > need.factor // factor:  # split this axis: its first part completes the target size
                head = need.factor // factor
                pieces[axis][piece] = head
                pieces[axis].append(size // head)
                queue.insert(1, (axis, piece + 1))
                factor *= head
            else:
                factor *= size
            group.append(queue.pop(0))
        groups.append(group)
    if queue:
        return "the target does not match the input's sizes"
    index: dict[tuple[int, int], int] = {}
    new_split: list = []
    for axis in range(len(held.split)):
        for piece, size in enumerate(pieces.get(axis, [])):
            if size != 1:
                index[axis, piece] = len(new_split)
                new_split.append(size)
    perm, sizes = [], []
    for group in groups:
        if not group:
            perm.append(len(new_split))
            new_split.append(1)
            sizes.append(1)
            continue
        perm += [index[atom] for atom in group]
        sizes.append(len(group))
    return Held(held.value, tuple(new_split), tuple(perm), held.dtype, None if set(sizes) <= {1} else tuple(sizes))


def size(shape) -> int:
    return math.prod(int(d) for d in shape)
