"""Where interlayer may write, checked before any work: a refused output costs nothing and leaves nothing.

An output's folder must exist (or, for a batch's output folder, be creatable) and be writable by this user, and
an output is never one of the command's sources: not the same path, not the same file under another name (a
link), and not a folder holding a source (a PyTorch package folder is replaced as a whole). A source is never
replaced, ``--force`` or not.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from .errors import OutputError


def check_output(where: str, output: str | os.PathLike, sources: Iterable[Any] = (), *,
                 also: Iterable[Path] = ()) -> None:
    """Refuse ``output`` (and the other files written with it, ``also``) when its folder cannot be written or
    when it is one of ``sources`` (paths; anything else, a factory or a live model, is skipped)."""
    output = Path(output)
    check_folder(where, output.absolute().parent, output)
    paths = [Path(source) for source in sources if isinstance(source, (str, os.PathLike))]
    for target in (output, *also):
        for source in paths:
            if _same_or_inside(target, source):
                raise OutputError(f"{where}: the output '{output}' is the source '{source}'"
                                  f"{'' if target == output else f' (through {target.name})'}. Expected an output "
                                  f"apart from every source: a source is never replaced, even with --force. "
                                  f"Received: -o {output}. Choose another output name.")


def check_folder(where: str, folder: Path, output: Path | None = None, *, create: bool = False) -> None:
    """``folder`` exists and may be written into; with ``create``, the nearest existing folder above it may."""
    shown = output if output is not None else folder
    existing = folder
    while create and not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{where}: the folder '{folder}' does not exist. Expected the output in an existing folder. "
                          f"Received: -o {shown}. Create the folder first.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{where}: cannot write into the folder '{existing}': permission denied. Expected a "
                          f"folder this user may write to. Received: -o {shown}. Choose another folder, or change "
                          f"its permissions.")


def _same_or_inside(output: Path, source: Path) -> bool:
    """``output`` names ``source``, or an existing folder that holds it."""
    out, src = Path(os.path.realpath(output)), Path(os.path.realpath(source))
    if out == src or (out.is_dir() and src.is_relative_to(out)):
        return True
    try:
        return out.exists() and src.exists() and os.path.samefile(out, src)
    except OSError:
        return False
