"""Progress of a batch: a snapshot after every start and finish, and a printer for it (a redrawn bar on a
terminal, one plain line per model otherwise)."""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from typing import TextIO

from .report import Entry


@dataclass
class Progress:
    """Where a batch stands. ``remaining`` (seconds) is estimated from the models converted or failed so far."""

    done: int
    total: int
    running: list[str]
    elapsed: float
    remaining: float | None
    finished: Entry | None = None  # the model that just finished, None when one just started


class ProgressPrinter:
    """A ``progress`` callback for :func:`interlayer.batch.convert_many`.

    On a terminal (``tty``, by default ``stream.isatty()``), one line redrawn in place with ``\\r``: models done of
    total, the ones being converted, elapsed and remaining time; a failure is printed above it and stays. Elsewhere
    (a log, a pipe), one line per finished model."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None, width: int | None = None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.width = width
        self._drawn = False

    def __call__(self, progress: Progress) -> None:
        entry = progress.finished
        if not self.tty:
            if entry is not None:
                count = f"[{progress.done:>{len(str(progress.total))}}/{progress.total}]"
                self.stream.write(f"{count} {entry.line()}\n")
                self.stream.flush()
            return
        if entry is not None and entry.status == "failed":
            self._clear()
            self.stream.write(entry.line() + "\n")
        self._draw(progress)

    def close(self) -> None:
        """End the bar's line (call once, after the batch)."""
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")

    def _draw(self, progress: Progress) -> None:
        width = self.width or shutil.get_terminal_size((100, 20)).columns
        filled = 20 * progress.done // max(progress.total, 1)
        bar = "#" * filled + "-" * (20 - filled)
        left = "" if progress.remaining is None else f", ~{clock(progress.remaining)} left"
        more = len(progress.running) - 2
        current = ", ".join(progress.running[:2]) + (f" +{more}" if more > 0 else "")
        line = (f"[{bar}] {progress.done}/{progress.total} {clock(progress.elapsed)} elapsed{left}"
                + (f" | {current}" if current else ""))
        self.stream.write("\r\x1b[K" + line[:max(width - 1, 10)])
        self.stream.flush()
        self._drawn = True


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
