"""Input specs: an input's name, dtype and axes in one string, ``input_ids:int64[batch,seq]`` or
``x:float32[N,3,H=224,W=224]``, as the command line, the batch manifest and ``example_inputs=`` take them.

Each axis is an int (a fixed size), a name (a size kept generic under that name; ``name=size`` gives the example's
size) or ``?`` (kept generic if the model allows it; ``?=size``). The name and the dtype may be left out
(``[1,3,224,224]``, ``x[?,4]``: float32).
"""
from __future__ import annotations

import re

from .errors import SourceError

_SPEC = re.compile(r"^\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*)?(?P<dtype>[a-z0-9]+)?\s*\[(?P<axes>[^\]]*)\]\s*$")
_AXIS = re.compile(r"^\s*(?:(?P<size>\d+)|(?P<auto>\?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*))(?:\s*=\s*(?P<value>\d+))?\s*$")
_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")


def parse_spec(text: str) -> tuple[str | None, str, list]:
    """``(name, dtype, axes)`` of an input spec; axes as ``(kind, value, size)``."""
    match = _SPEC.match(text)
    if match is None:
        raise SourceError(f"input spec {text!r} cannot be read. Expected name:dtype[axes] such as "
                          f"'input_ids:int64[batch,seq]' or 'x:float32[N,3,H=64,W=64]' (name and dtype optional).")
    name, dtype = match["name"], match["dtype"] or "float32"
    if name is None and dtype not in _DTYPES:  # 'x[?,4]': a name without a dtype
        name, dtype = dtype, "float32"
    if dtype not in _DTYPES:
        raise SourceError(f"input spec {text!r}: unknown dtype. Expected one of {list(_DTYPES)}. "
                          f"Received: dtype={dtype!r}.")
    axes = []
    for part in match["axes"].split(",") if match["axes"].strip() else []:
        axis = _AXIS.match(part)
        if axis is None:
            raise SourceError(f"input spec {text!r}: axis {part.strip()!r} is not a size. Expected "
                              f"an int, a name (name=size for the example's size) or '?'.")
        if axis["size"] is not None:
            if axis["value"]:
                raise SourceError(f"input spec {text!r}: axis {part.strip()!r} is a fixed size and "
                                  f"an example size. Expected one of them.")
            axes.append(int(axis["size"]))
        else:
            axes.append((axis["name"] if axis["name"] else None, int(axis["value"]) if axis["value"] else None))
    return name, dtype, axes
