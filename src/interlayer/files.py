"""Writing output files atomically: through a temporary name beside the destination, moved into place only when
complete, and never over an existing file unless asked. Every writer of interlayer (archives and their shards,
drawings, transferred weights) goes through :func:`atomic_file`; a batch run sweeps the ``.*partial*`` names a
killed process may leave."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Iterator


def partial_name(path: Path) -> Path:
    """The temporary name of ``path`` while it is written (its suffix kept, for writers that check it)."""
    return path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")


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
