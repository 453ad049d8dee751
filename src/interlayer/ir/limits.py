"""How large a tensor interlayer makes: every allocation a graph asks for is estimated from shapes and refused
past a limit, before anything is allocated.

The limit is per tensor: ``MAX_TENSOR_BYTES`` (8 GiB), or the number of bytes in the environment variable
``INTERLAYER_MAX_TENSOR_BYTES`` (read at each check, so a test or a large machine may change it). It is checked

- when a graph is validated (loading an archive, building, saving): every value whose shape is known, each
  symbolic size counted as 1, at 8 bytes an element (the reference interpreter computes in float64): a graph
  that cannot run even on one sample is refused;
- when the reference interpreter runs a graph: every value and every large temporary of each node (a padded
  input, the windows of a convolution, attention scores), with this run's sizes, before the first node runs;
- when the PyTorch frontend makes example inputs from ``--input-shape`` sizes (4 bytes an element, float32).

A refusal is a :class:`~interlayer.errors.LimitError` naming the tensor, its shape and its size.
"""
from __future__ import annotations

import math
import os
from typing import Iterable

from ..errors import LimitError

MAX_TENSOR_BYTES = 8 * 1024 ** 3
ENVIRONMENT = "INTERLAYER_MAX_TENSOR_BYTES"
FLOAT64 = 8


def max_tensor_bytes() -> int:
    """The limit in force: ``INTERLAYER_MAX_TENSOR_BYTES`` when set, else :data:`MAX_TENSOR_BYTES`."""
    text = os.environ.get(ENVIRONMENT, "").strip()
    if not text:
        return MAX_TENSOR_BYTES
    if not text.isdigit() or int(text) < 1:
        raise LimitError(f"limits: {ENVIRONMENT} is not a size. Expected a positive number of bytes, e.g. "
                         f"{MAX_TENSOR_BYTES}. Received: {ENVIRONMENT}={text!r}. Set it to a number of bytes, or "
                         f"unset it for the default of 8 GiB.")
    return int(text)


def elements(shape: Iterable) -> int:
    """The element count of ``shape``, exact (Python integers do not overflow); a symbolic size counts as 1."""
    return math.prod(d if isinstance(d, int) else 1 for d in shape)


def check_tensor(where: str, shape: Iterable, itemsize: int = FLOAT64) -> None:
    """Raise :class:`LimitError` when a tensor of ``shape`` with ``itemsize`` bytes an element exceeds the limit."""
    shape = tuple(shape)
    size = elements(shape) * itemsize
    limit = max_tensor_bytes()
    if size > limit:
        raise LimitError(f"{where}: a tensor of shape {list(shape)} would take {_bytes(size)}. Expected at most "
                         f"{_bytes(limit)} per tensor. Received: shape={list(shape)}. Use smaller sizes, or raise "
                         f"the limit with {ENVIRONMENT}=<bytes> if this machine has the memory.")


def _bytes(size: int) -> str:
    if size >= 1024 ** 6:
        return f"more than 2^{size.bit_length() - 1} bytes"
    for unit, scale in (("PiB", 1024 ** 5), ("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"
