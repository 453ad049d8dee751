"""Writing output files atomically: through a temporary name beside the destination, moved into place only when
complete, and never over an existing file unless asked. Every writer of interlayer (archives and their shards,
Keras files, PyTorch packages and programs, ONNX files, drawings, transferred weights, batch reports) writes
through a temporary named ``.<name>.<pid>.partial...`` (:func:`partial_name`); a process killed while writing
leaves one behind, which the next run into that folder removes once no process of that pid is alive
(:func:`sweep_stale`)."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path
from typing import Callable, Iterator

_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?:[A-Za-z0-9_]+\.)?partial(?:\.[^.]*)?$")
"""``.<name>.<pid>.partial<suffix>``, or ``.<name>.<pid>.<random>.partial`` for a staging folder"""


def partial_name(path: Path) -> Path:
    """The temporary name of ``path`` while it is written (its suffix kept, for writers that check it)."""
    return path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")


def staging_prefix(path: Path) -> str:
    """The ``tempfile.mkdtemp`` prefix of a staging folder for ``path`` (with ``suffix=".partial"``)."""
    return f".{path.name}.{os.getpid()}."


def stale_partials(folder: str | os.PathLike) -> list[Path]:
    """The temporaries in ``folder`` left by interlayer processes that are no longer running."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for item in sorted(folder.iterdir()):
        match = _PARTIAL.match(item.name)
        if match and int(match["pid"]) != os.getpid() and not pid_alive(int(match["pid"])):
            found.append(item)
    return found


def sweep_stale(folder: str | os.PathLike) -> list[str]:
    """Remove :func:`stale_partials` from ``folder``; return their names (for the caller to say so)."""
    removed = []
    for item in stale_partials(folder):
        try:
            shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()
        except OSError:
            continue  # another run removed it, or it is not ours to remove: leave it
        removed.append(item.name)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process of that pid runs (another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except (OSError, OverflowError):
        return False
    return True


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, overwrite: bool, exists: Callable[[], Exception]) -> Iterator[Path]:
    """Yield the temporary path to write; once the block completes it becomes ``path``: replacing it with
    ``overwrite``, else linked into place, which fails (raising ``exists()``) if ``path`` appeared meanwhile. The
    temporary file is removed whatever happens."""
    path = Path(path)
    temporary = partial_name(path)
    try:
        yield temporary
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise exists() from None
    finally:
        temporary.unlink(missing_ok=True)
