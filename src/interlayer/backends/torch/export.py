"""Write a built model as a ``torch.export`` program: one ``.pt2`` file that ``torch.export.load`` reads and runs
with neither interlayer nor any model code.

The program is exported on example inputs with every size the graph names dynamic (``torch.export.Dim`` of
the graph's own name: the batch ``N``, a sequence length ``T``, an image's ``H`` and ``W``; torch's own dynamic
sizes where the model holds for part of a size's range only), so that a program traced at one length runs at
another. It is saved under a temporary name in the destination folder, loaded back and compared with the model
at the example sizes and at other sizes (each named size one larger, the inputs' values repeated to fill them),
and only then renamed into place. A program that does not reproduce the model leaves no file behind.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ...errors import ConversionError, InterlayerError
from ...files import partial_name
from ...ir import dims
from ...ir.check import bound_names
from .names import identifier

RTOL = 1e-5


def write_program(model, path: str | os.PathLike, example_inputs: Sequence[np.ndarray], *,
                  overwrite: bool = False, rtol: float = RTOL) -> Path:
    """Export ``model`` on ``example_inputs`` (numpy arrays, as the graph inputs are) and write ``path`` (.pt2)."""
    import torch

    path = Path(path)
    if path.suffix != ".pt2":
        raise InterlayerError(f"torch export: a torch.export program is written as a .pt2 file. Received: '{path}'.")
    if path.exists() and not overwrite:
        raise InterlayerError(f"torch export: the output '{path}' exists. Pass overwrite=True (--force) to replace it.")
    graph = getattr(model, "meta", {}).get("interlayer.graph")
    args = _tensors(model, example_inputs)
    program = _export(model.eval(), args, dynamic_shapes(graph, len(args)))
    temporary = partial_name(path)
    try:
        torch.export.save(program, temporary)
        _verify(model, temporary, [args, _tensors(model, other_sizes(graph, example_inputs))], rtol)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def dynamic_shapes(graph, count: int) -> tuple[dict, ...]:
    """For each input, ``{axis: torch.export.Dim}`` of every axis whose size the graph names: one ``Dim`` per
    name, shared by every input it sizes, under the graph's name, in [1, 65536] (or the range the graph states
    for it); an axis sized by an expression of names is derived from them where torch can say it (``2 * T``,
    ``T + 1``), else left for torch to find. Without a graph (a module interlayer did not build), axis 0 of each
    input is the batch."""
    import torch

    Dim = torch.export.Dim
    if graph is None:
        batch = Dim("batch", min=1, max=1 << 16)
        return tuple({0: batch} for _ in range(count))
    taken: set[str] = set()
    named = {}
    for name in bound_names(graph):
        label = identifier(name)
        while label in taken:
            label += "_"
        taken.add(label)
        limits = getattr(graph, "sizes", {}).get(name, {})  # a range the graph states for the size, if any
        named[name] = Dim(label, min=max(limits.get("min") or 1, 1), max=limits.get("max") or 1 << 16)
    shapes = []
    for spec in graph.inputs:
        axes = {}
        for axis, size in enumerate(spec.shape):
            if isinstance(size, str):
                axes[axis] = named[size] if size in named else _derived(size, named)
        shapes.append(axes)
    return tuple(shapes)


def _derived(size: str, named: dict):
    """A Dim derived from the named ones by linear arithmetic (what torch.export accepts), or Dim.AUTO."""
    import torch

    try:
        value = dims.evaluate(size, named)
    except Exception:  # noqa: BLE001  (a product of names, a floor division: torch derives no such Dim)
        return torch.export.Dim.AUTO
    return value if not isinstance(value, int) else torch.export.Dim.AUTO


def _export(model, args: tuple, shapes: tuple):
    """``torch.export.export`` with ``shapes``. Where the model holds for only part of a named size's range (a
    window that must fit, a half that must not be 1), torch refuses the named ``Dim``'s whole range; every size
    is then ``Dim.DYNAMIC``: still dynamic, in the range torch finds the model needs. Where the model holds at
    one size only (a position table of one length), ``Dim.AUTO`` lets torch keep that size."""
    import torch

    Dim = torch.export.Dim
    first = None
    for hint in (None, Dim.DYNAMIC, Dim.AUTO):
        tried = shapes if hint is None else tuple({axis: hint for axis in axes} for axes in shapes)
        try:
            return torch.export.export(model, args, dynamic_shapes=tried)
        except Exception as exc:  # noqa: BLE001  (the first failure is reported as the project's error below)
            first = first or exc
    raise ConversionError(f"torch export: torch.export.export cannot export {type(model).__name__} with its named "
                          f"sizes dynamic. Received: {type(first).__name__}: {first}") from first


def other_sizes(graph, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``arrays`` at other sizes: each size the graph names one larger (smaller at the top of a range the graph
    states), an input size that is an expression of them computed again, and the values repeated along the axis
    to fill it (token ids stay valid ids). Without a graph, the first item of each batch (axis 0)."""
    if graph is None:
        return [np.asarray(array)[:1] for array in arrays]
    other: dict[str, int] = {}
    for name, (index, axis) in bound_names(graph).items():
        size = np.shape(arrays[index])[axis]
        limits = getattr(graph, "sizes", {}).get(name, {})  # a range the graph states for the size, if any
        low, high = max(limits.get("min") or 1, 1), limits.get("max")
        other[name] = size + 1 if high is None or size < high else max(size - 1, low)
    resized = []
    for spec, array in zip(graph.inputs, arrays):
        array = np.asarray(array)
        for axis, size in enumerate(spec.shape):
            if isinstance(size, str) and array.shape[axis]:
                wanted = dims.evaluate(dims.normal(size), other)
                array = np.take(array, np.arange(wanted) % array.shape[axis], axis=axis)
        resized.append(array)
    return resized


def _tensors(model, arrays: Sequence[np.ndarray]) -> tuple:
    import torch

    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    tensors = []
    for array in arrays:
        value = torch.from_numpy(np.ascontiguousarray(array))
        tensors.append(value.to(dtype) if dtype is not None and value.is_floating_point() else value)
    return tuple(tensors)


def _verify(model, file: Path, runs: list[tuple], rtol: float) -> None:
    """The saved program, loaded back, must compute what the model does on each set of inputs in ``runs`` (the
    example's first; another the model itself does not take is passed over)."""
    import torch

    from ...frontends.torch.outputs import flat_outputs
    from .build import output_error

    loaded = torch.export.load(file).module()
    for run, inputs in enumerate(runs):
        shapes = [tuple(x.shape) for x in inputs]
        try:
            with torch.no_grad():
                expected = [_array(t) for _, t in flat_outputs(model(*inputs))]
        except Exception:  # noqa: BLE001  (the model itself takes only the example's sizes: nothing to compare)
            if run == 0:
                raise
            continue
        try:
            with torch.no_grad():
                actual = [_array(t) for _, t in flat_outputs(loaded(*inputs))]
        except Exception as exc:
            raise ConversionError(f"torch export: the exported program does not run at input shapes {shapes}; "
                                  f"nothing was written. Expected every named size dynamic. Received: "
                                  f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
        errors = [output_error(a, e) for a, e in zip(actual, expected)]
        if len(actual) != len(expected) or max(errors, default=0.0) > rtol:
            raise ConversionError(f"torch export: the exported program does not reproduce the model at input "
                                  f"shapes {shapes}; nothing was written. Received: relative errors {errors} "
                                  f"(rtol {rtol:.0e}).")


def _array(tensor) -> np.ndarray:
    tensor = tensor.detach().cpu()
    return (tensor.float() if tensor.is_floating_point() else tensor).numpy()
