"""What a PyTorch model is exported on: example tensors, bound to ``forward``'s parameters by name, and which of
their sizes stay generic.

``example_inputs`` takes: a tensor or array; a shape (``(1, 3, 224, 224)``: seeded float32 values); an input
spec (``"input_ids:int64[batch,seq]"``, ``"x:float32[N,3,H=64,W=64]"``, ``"[1,3,224,224]"``); a list or tuple of
these for several inputs; or a dict from parameter name to one of them. In a spec an axis is an int (fixed), a
name (kept generic under that name; ``name=size`` gives the example's size, 2 for axis 0 and 8 otherwise when
absent; a name in several specs is one size) or ``?`` (kept generic if the model allows it, named by its role;
``?=size`` gives the example's size). Axes of tensors and shapes are all ``?``, but the channels of an image or a
volume (axis 1 of a float tensor of rank 4 or 5), which stay the example's. torch.export decides which generic
axes the model really allows to vary (``Dim.AUTO``); a named axis it cannot keep generic is an error naming it.

Axis 0 of an example of size 1 is grown to 2 (rows repeated) before export, because torch.export takes a size
of 1 for a constant.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import SourceError
from ...input_specs import parse_spec
from ...ir import limits

_SEED = 0


@dataclass
class Example:
    """One input: its parameter name, example tensor and, per axis, an int (fixed), a name, or None (auto)."""

    name: str | None
    tensor: Any
    axes: list = field(default_factory=list)


def examples(model, example_inputs) -> list[Example]:
    """The examples of ``example_inputs`` in any accepted form, each bound to a parameter of ``forward``."""
    parameters = forward_parameters(model)
    if isinstance(example_inputs, dict):
        items = [(name, value) for name, value in example_inputs.items()]
    elif _is_single(example_inputs):
        items = [(None, example_inputs)]
    elif isinstance(example_inputs, (list, tuple)):
        items = [(None, value) for value in example_inputs]
    else:
        raise SourceError(f"torch frontend: example_inputs must be tensors, shapes or input specs (alone, in a list, "
                          f"or in a dict by parameter name). Received: type={type(example_inputs).__name__}.")
    generator = _generator()
    named = _named_sizes([value for _, value in items])
    found = [_example(name, value, generator, named) for name, value in items]
    free = [p for p in parameters if p not in {e.name for e in found if e.name}]
    for example in found:
        if example.name is None:
            if not free:
                raise SourceError(f"torch frontend: {type(model).__name__}.forward takes {len(parameters)} tensor "
                                  f"parameter(s) {parameters}. Received: {len(found)} example inputs.")
            example.name = free.pop(0)
        elif example.name not in parameters:
            raise SourceError(f"torch frontend: {type(model).__name__}.forward has no parameter "
                              f"'{example.name}'. Expected one of {parameters}.")
    return found


def forward_parameters(model) -> list[str]:
    """The names of ``forward``'s parameters that can take a tensor, in order."""
    signature = inspect.signature(model.forward)
    return [p.name for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _is_single(value) -> bool:
    import torch

    return isinstance(value, (torch.Tensor, np.ndarray, str)) or _is_shape(value)


def _is_shape(value) -> bool:
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(d, int) and not isinstance(d, bool) for d in value))


def _generator():
    import torch

    return torch.Generator().manual_seed(_SEED)


def _named_sizes(values: list) -> dict[str, int]:
    """The example size of each size name the specs give one for (``rows=3``), for every axis of that name."""
    sizes: dict[str, int] = {}
    for value in values:
        if isinstance(value, str):
            for axis in parse_spec(value)[2]:
                if not isinstance(axis, int) and axis[0] and axis[1]:
                    if sizes.setdefault(axis[0], axis[1]) != axis[1]:
                        raise SourceError(f"torch frontend: input specs give size {axis[0]} two example sizes. "
                                          f"Expected one. Received: {sizes[axis[0]]} and {axis[1]}.")
    return sizes


def _example(name, value, generator, named: dict[str, int]) -> Example:
    import torch

    if isinstance(value, np.ndarray):
        value = torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, torch.Tensor):
        return Example(name, value, default_axes(value))
    if _is_shape(value):
        tensor = _made("float32", [int(d) for d in value], generator, name)
        return Example(name, tensor, default_axes(tensor))
    if isinstance(value, str):
        spec_name, dtype, axes = parse_spec(value)
        sizes = [a if isinstance(a, int) else a[1] or named.get(a[0]) or (2 if i == 0 else 8)
                 for i, a in enumerate(axes)]
        kinds = [a if isinstance(a, int) else a[0] for a in axes]
        return Example(name or spec_name, _made(dtype, sizes, generator, name or spec_name), kinds)
    raise SourceError(f"torch frontend: each example input is a tensor, an array, a shape or an input spec. "
                      f"Received: {value!r}.")


def default_axes(tensor) -> list:
    """Which axes of an example given as a tensor or a shape may vary: every axis, but the channels of an image
    or a volume (axis 1 of a float tensor of rank 4 or 5), which a layer reads with weights of that size."""
    rank = tensor.dim()
    if tensor.is_floating_point() and rank >= 4:
        return [None, int(tensor.shape[1])] + [None] * (rank - 2)
    return [None] * rank


def _made(dtype: str, sizes: list[int], generator, name) -> Any:
    """A seeded example of ``dtype``: floats standard normal, integers 0 or 1 (valid ids for any table), bools True."""
    import torch

    if any(size < 0 for size in sizes):
        where = f"torch frontend, example input '{name}'" if name else "torch frontend, example input"
        raise SourceError(f"{where}: negative size. Expected sizes >= 0. Received: shape={list(sizes)}.")
    limits.check_tensor(f"torch frontend, example input {name or ''}".rstrip(), sizes, 4)
    torch_dtype = getattr(torch, dtype)
    if torch_dtype.is_floating_point:
        return torch.randn(sizes, generator=generator).to(torch_dtype)
    if torch_dtype == torch.bool:
        return torch.ones(sizes, dtype=torch.bool)
    return torch.randint(0, 2, sizes, generator=generator, dtype=torch_dtype)


def dynamic_shapes(examples_: list[Example]) -> dict:
    """torch.export's ``dynamic_shapes`` for the examples, by parameter name: ``Dim.AUTO`` for every axis that
    may vary (named or not: torch.export finds the range the model allows, a maximum position for instance, and
    the name is given to the size afterwards), nothing for fixed axes."""
    from torch.export import Dim

    return {example.name: {axis: Dim.AUTO for axis, kind in enumerate(example.axes) if not isinstance(kind, int)}
            for example in examples_}


def grown(example: Example) -> Any:
    """The example with axis 0 of size 1 grown to 2 (its row repeated) when that axis may vary."""
    tensor = example.tensor
    if tensor.dim() and tensor.shape[0] == 1 and not isinstance(example.axes[0], int):
        return tensor.repeat(2, *([1] * (tensor.dim() - 1)))
    return tensor
