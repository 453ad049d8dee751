"""Writing views: how a converter turns an ONNX value held through a view (``values.Held``) into IR values.

A view lets an ONNX value hold the batch elsewhere than on axis 0 (a time-major sequence) or merged with other axes
(the (N * heads, T, d) of an attention) without any IR node. ``materialize`` writes the IR value an op needs
(reshape, transpose, reshape: the IR writes any of them), ``settle`` writes a view result when its batch is first
again, ``last_axis`` lets an op along the last axis run on the IR value behind any view, and ``split_form`` gives
the IR value the shape of the view's ``split`` so that a node can cut one of its axes.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...ir import dims
from . import values as views
from .values import Held


class Views:
    """The view-writing half of :class:`~.context.NodeContext` (it provides ``capture``, ``add``, ``held_as`` and
    ``unsupported``)."""

    def materialize(self, held: Held, role: str | None = "input") -> str | None:
        """The IR value equal to the ONNX value ``held``: its IR value reshaped, transposed and reshaped again as
        the view says (``flatten`` for a reshape to (N, K)), wherever the view holds the batch (no IR axis is
        special: a time-major sequence is a transpose, an attention's (N * heads, T, d) a reshape to
        ``"N*heads"``); None after reporting when the IR cannot express a step."""
        ir_shape = self.capture.shapes[held.value]
        if held.canonical(ir_shape):
            return held.value
        key = (held.value, held.split, held.perm, held.groups)
        if key in self.capture.materialized:
            return self.capture.materialized[key]
        final = tuple(held.shape)
        steps = []
        if held.perm == tuple(range(len(held.perm))):
            if final != tuple(ir_shape):
                steps.append(_reshape_step(final, ir_shape))
        else:
            if tuple(held.split) != tuple(ir_shape):
                steps.append(_reshape_step(held.split, ir_shape))
            steps.append(("transpose", {"perm": list(held.perm)}))
            if held.groups is not None:
                steps.append(_reshape_step(final, held.split))
        value = held.value
        for index, (op, attrs) in enumerate(steps):
            last = index == len(steps) - 1
            value = self.add(op, [value], attrs, role=role if last else "_".join(filter(None, (role, op))))
        if value is not None:
            self.capture.materialized[key] = value
        return value

    def split_form(self, held: Held, role: str = "view") -> Held | None:
        """``held`` with an IR value shaped exactly as its ``split`` (an IR reshape when it is not)."""
        ir_shape = self.capture.shapes[held.value]
        if tuple(held.split) == tuple(ir_shape):
            return held
        key = (held.value, held.split)
        if key not in self.capture.materialized:
            value = self.add("reshape", [held.value], {"shape": _sizes(held.split)}, role=role)
            if value is None:
                return None
            self.capture.materialized[key] = value
        return replace(held, value=self.capture.materialized[key])

    def last_axis(self, held: Held, role: str = "view") -> Held | None:
        """``held`` with an IR value whose last axis is the ONNX value's last axis, so that an op along the last
        axis (linear, softmax, layer_norm, a per-feature constant) runs on the IR value and the view still reads
        the result. The IR value is the ONNX value's axes in layout order with the batch moved first (IR
        transpose/reshape nodes written when needed). None after reporting when the batch is in the last axis."""
        atoms = held.atoms()
        last = atoms[-1]
        ir_shape = self.capture.shapes[held.value]
        if 0 in last:
            self.unsupported(f"the op runs along the last axis, which holds the batch. Received: shape="
                             f"{list(held.shape)}")
            return None
        if last == [len(held.split) - 1] and tuple(held.split) == tuple(ir_shape):
            return held
        order = [0] + [axis for axis in held.perm if axis != 0]
        sizes = [held.split[axis] for axis in order]
        merged = sizes[:len(sizes) - len(last)] + [_size(sizes[len(sizes) - len(last):])]
        value = held.value
        if order != list(range(len(order))):
            form = self.split_form(held, role=f"{role}_reshape")
            value = None if form is None else self.add("transpose", [form.value], {"perm": order},
                                                       role=f"{role}_transpose")
        if value is not None and tuple(self.capture.shapes[value]) != tuple(merged):
            value = self.add("reshape", [value], {"shape": _sizes(merged)}, role=role)
        if value is None:
            return None
        position = {axis: index for index, axis in enumerate(order[:len(order) - len(last)])}
        perm = [position[axis] for axes in atoms[:-1] for axis in axes] + [len(merged) - 1]
        groups = tuple(len(axes) for axes in atoms[:-1]) + (1,)
        return Held(value, tuple(merged), tuple(perm), held.dtype, None if set(groups) <= {1} else groups)

    def along_last(self, held: Held, value: str | None) -> Held | None:
        """The view of ``value``, the result of an op along the last axis of ``held`` (from ``last_axis``)."""
        if value is None:
            return None
        size = self.capture.shapes[value][-1]
        return replace(held, value=value, split=(*held.split[:-1], size))

    def settle(self, held: Held | str, role: str | None = None) -> Held | None:
        """A view result: written to the IR now (named after this node) when its batch is first, else kept as a
        view for a later node (an LSTM reads a time-major view)."""
        if held is None:
            return None
        if isinstance(held, str):
            self.unsupported(held)
            return None
        if not held.batch_first():
            return held
        value = self.materialize(held, role=role)
        return self.held_as(value, held.dtype)

    def reshape(self, held: Held, target: tuple, role: str | None = None) -> Held | None:
        """``held`` reshaped (row-major) to the resolved ONNX ``target`` (``"N"`` for the batch)."""
        result = views.reshape(held, target)
        if isinstance(result, str):
            self.unsupported(f"{result}. Expected a reshape that keeps the batch on an axis of its own. Received: "
                             f"input shape={list(held.shape)}, target={list(target)}")
            return None
        return self.settle(result, role)


def _size(sizes) -> int:
    return int(np.prod([int(d) for d in sizes]))


def _reshape_step(target, source) -> tuple[str, dict]:
    """An IR reshape to ``target``, or ``flatten`` when it makes (N, K) of a rank > 2 value whose axis 0 it keeps."""
    if len(target) == 2 and len(source) > 2 and target[0] == source[0]:
        return "flatten", {"axis": 1, "order": "channels_first"}
    return "reshape", {"shape": _sizes(target)}


def _sizes(shape) -> list:
    """An IR reshape's sizes of every axis: ints, and the batch ``"N"`` (``"N*k"`` merged) or another size by name."""
    return [dims.normal(d) if isinstance(d, str) else int(d) for d in shape]
