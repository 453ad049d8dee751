"""Write a built model as a ``torch.export`` program: one ``.pt2`` file that ``torch.export.load`` reads and runs
with neither interlayer nor any model code.

The program is exported on example inputs with the batch dimension dynamic (the IR's batch is symbolic), saved
under a temporary name in the destination folder, loaded back and compared with the model at the example batch
size and at batch 1, and only then renamed into place. A program that does not reproduce the model leaves no
file behind.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ...errors import ConversionError, InterlayerError
from ...files import partial_name

RTOL = 1e-5


def write_program(model, path: str | os.PathLike, example_inputs: Sequence[np.ndarray], *,
                  overwrite: bool = False, rtol: float = RTOL) -> Path:
    """Export ``model`` on ``example_inputs`` (canonical numpy arrays, batch first) and write ``path`` (.pt2)."""
    import torch

    path = Path(path)
    if path.suffix != ".pt2":
        raise InterlayerError(f"torch export: a torch.export program is written as a .pt2 file. Received: '{path}'.")
    if path.exists() and not overwrite:
        raise InterlayerError(f"torch export: the output '{path}' exists. Pass overwrite=True (--force) to replace it.")
    args = _tensors(model, example_inputs)
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    try:
        program = torch.export.export(model.eval(), args, dynamic_shapes=tuple({0: batch} for _ in args))
    except Exception as exc:
        raise ConversionError(f"torch export: torch.export.export cannot export {type(model).__name__}. "
                              f"Received: {type(exc).__name__}: {exc}") from exc
    temporary = partial_name(path)
    try:
        torch.export.save(program, temporary)
        _verify(model, temporary, args, rtol)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _tensors(model, arrays: Sequence[np.ndarray]) -> tuple:
    import torch

    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    tensors = []
    for array in arrays:
        value = torch.from_numpy(np.ascontiguousarray(array))
        tensors.append(value.to(dtype) if dtype is not None and value.is_floating_point() else value)
    return tuple(tensors)


def _verify(model, file: Path, args: tuple, rtol: float) -> None:
    """The saved program, loaded back, must compute what the model does, at the example batch size and at 1."""
    import torch

    from ...tolerance import relative_error
    from ...frontends.torch.outputs import flat_outputs

    loaded = torch.export.load(file).module()
    for inputs in (args, tuple(x[:1] for x in args)):
        with torch.no_grad():
            expected = [_array(t) for _, t in flat_outputs(model(*inputs))]
            actual = [_array(t) for _, t in flat_outputs(loaded(*inputs))]
        errors = [relative_error(a, e) for a, e in zip(actual, expected)]
        if len(actual) != len(expected) or max(errors, default=0.0) > rtol:
            raise ConversionError(f"torch export: the exported program does not reproduce the model at batch "
                                  f"{len(inputs[0])}; nothing was written. Received: relative errors {errors} "
                                  f"(rtol {rtol:.0e}).")


def _array(tensor) -> np.ndarray:
    tensor = tensor.detach().cpu()
    return (tensor.float() if tensor.is_floating_point() else tensor).numpy()
