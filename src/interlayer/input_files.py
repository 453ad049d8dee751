"""Input arrays from ``.npy`` and ``.npz`` files (``interlayer run --input``, ``interlayer verify --input``).

Never unpickled: an object array is refused. Each array's header (dtype and shape) is read first and its size
checked against the tensor size limit (``ir/limits.py``) before its data is read, so that a small file claiming
a huge array is refused rather than allocated.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from .errors import LimitError, SourceError
from .ir import limits


def read_inputs(path: str | os.PathLike) -> list[np.ndarray] | dict[str, np.ndarray]:
    """One array in a list (``.npy``), or the arrays of a ``.npz`` by name."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"input '{path}': no such file. Expected a .npy file (one input) or a .npz file (inputs "
                          f"by name).")
    try:
        if zipfile.is_zipfile(path):
            return _read_npz(path)
        with open(path, "rb") as handle:
            return [_read_array(path, handle, "the array")]
    except (LimitError, SourceError):
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise SourceError(f"input '{path}': not a readable .npy/.npz file ({type(exc).__name__}: "
                          f"{str(exc).strip()[:200]}). Expected arrays saved with numpy.save or numpy.savez.") from exc


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            name = member[:-len(".npy")] if member.endswith(".npy") else member
            with archive.open(member) as handle:
                arrays[name] = _read_array(path, handle, f"array '{name}'")
    return arrays


def _read_array(path: Path, handle, what: str) -> np.ndarray:
    """An array from an open ``.npy`` stream: its header checked (no objects, a size within the limit) first."""
    version = np.lib.format.read_magic(handle)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in read_header:
        raise SourceError(f"input '{path}': {what} has .npy format version {version}. Expected 1.0 or 2.0.")
    shape, fortran, dtype = read_header[version](handle)
    if dtype.hasobject:
        raise SourceError(f"input '{path}': {what} holds Python objects (dtype {dtype}), which only unpickling "
                          f"reads; interlayer never unpickles. Expected numbers. Save the input as a numeric array.")
    limits.check_tensor(f"input '{path}', {what}", shape, dtype.itemsize)
    array = np.empty(limits.elements(shape), dtype=dtype)
    received = _read_into(handle, memoryview(array.view(np.uint8)))
    if received != array.nbytes:
        raise SourceError(f"input '{path}': {what} is truncated. Expected {array.nbytes} bytes for shape "
                          f"{list(shape)} and dtype {dtype}. Received: {received} bytes.")
    return array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)


def _read_into(handle, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``handle``; the number of bytes read (fewer at the end of the stream)."""
    filled = 0
    while filled < len(buffer):
        count = handle.readinto(buffer[filled:])
        if not count:
            break
        filled += count
    return filled
