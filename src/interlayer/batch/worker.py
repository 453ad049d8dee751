"""What runs in a worker: a one-time set-up that imports the frameworks a batch needs, and the conversion of one
model, which never raises for a model's own failure (it returns an :class:`Outcome` saying what went wrong)."""
from __future__ import annotations

import importlib
import os
import signal
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import InterlayerError
from ..sources import KERAS_SUFFIXES, ONNX_SUFFIXES
from .files import output_bytes
from .plan import Job

_FRONTENDS = {"torch": ("torch", "interlayer.frontends.torch"), "keras": ("keras", "interlayer.frontends.keras"),
              "onnx": ("onnx", "interlayer.frontends.onnx")}
_BACKENDS = {"torch": ("torch", "interlayer.backends.torch"), "keras": ("keras", "interlayer.backends.keras"),
             "onnx": ("onnx", "interlayer.backends.onnx")}
_READY: set[str] = set()


@dataclass
class Outcome:
    """A worker's answer for one job."""

    status: str  # "converted" or "failed"
    seconds: float
    worker: str
    error_class: str | None = None
    error: str | None = None
    traceback: str | None = None  # only for errors that are not interlayer's own (a bug, not a bad model)
    checks: list[dict] = field(default_factory=list)
    bytes_out: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def max_relative_error(self) -> float | None:
        return max((check["relative_error"] for check in self.checks), default=None)

    @property
    def verdict(self) -> str:
        if not self.checks:
            return "not checked"
        return "verified" if all(check["passed"] for check in self.checks) else "NOT equivalent"


def modules_for(jobs: Iterable[Job]) -> tuple[str, ...]:
    """The modules a set of jobs uses: each source framework and its frontend, each target framework and its
    backend (an archive needs neither)."""
    needed: dict[str, None] = {}
    for job in jobs:
        suffix = Path(job.source).suffix.lower()
        source = "torch" if job.factory else "keras" if suffix in KERAS_SUFFIXES else \
            "onnx" if suffix in ONNX_SUFFIXES else None
        for modules in (_FRONTENDS.get(source, ()), _BACKENDS.get(job.to, ())):
            needed.update(dict.fromkeys(modules))
    return tuple(needed)


def init_worker(modules: tuple[str, ...], threads: int | None = None, ignore_interrupt: bool = True) -> None:
    """Once per worker process: quiet TensorFlow, cap each framework's threads (``threads`` per worker, so that N
    workers share the cores instead of fighting for them), leave Ctrl-C to the parent (which stops the workers
    and removes what they left), and import the frameworks and interlayer's converters (``modules``)."""
    if ignore_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if threads:
        for variable in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
            os.environ[variable] = str(threads)
    preload(modules)
    if threads and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def preload(modules: Iterable[str]) -> None:
    """Import each module, once per process. One that fails to import is left out: each conversion that needs it
    then reports the import error as its own failure."""
    for module in modules:
        if module not in _READY:
            try:
                importlib.import_module(module)
            except Exception:
                continue
            _READY.add(module)


def convert_one(job: Job) -> Outcome:
    """Convert one job with :func:`interlayer.conversion.convert_file`; every ``Exception`` becomes a failed
    outcome. ``KeyboardInterrupt`` and ``SystemExit`` propagate (``convert_file`` removes its temporaries)."""
    from ..conversion import convert_file

    start = time.perf_counter()
    worker = f"pid {os.getpid()}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            result = convert_file(job.source, job.to, job.output, example_inputs=job.example_inputs,
                                  weights=job.weights, overwrite=job.overwrite, verify=job.verify, **job.options)
        except Exception as exc:
            return Outcome("failed", time.perf_counter() - start, worker, type(exc).__name__, str(exc),
                           None if isinstance(exc, InterlayerError) else traceback.format_exc(limit=-8),
                           checks=_failed_check(exc), warnings=_messages(caught))
    checks = [{"what": check.what, "relative_error": float(check.relative_error), "rtol": check.rtol,
               "passed": check.passed} for check in result.checks]
    return Outcome("converted", time.perf_counter() - start, worker, checks=checks,
                   bytes_out=output_bytes(Path(result.path)), warnings=_messages(caught))


def _failed_check(exc: Exception) -> list[dict]:
    """The figures of a conversion refused by its check, read from the ConversionError (its ``check`` when it
    carries one, else its message, which ends with ``Check.line()``)."""
    from ..conversion import Check
    from ..errors import ConversionError

    if not isinstance(exc, ConversionError):
        return []
    check = getattr(exc, "check", None)
    if isinstance(check, Check):
        return [{"what": check.what, "relative_error": float(check.relative_error), "rtol": check.rtol,
                 "passed": check.passed}]
    import re

    found = re.search(r"NOT equivalent: (.+?), max relative error (\S+) \(allowed ([^:;]+)[:;]", str(exc))
    if found is None:
        return []
    error, rtol = float(found.group(2)), float(found.group(3))
    return [{"what": found.group(1), "relative_error": error, "rtol": rtol, "passed": False}]


def _messages(caught: list) -> list[str]:
    unique: dict[str, None] = {}
    for item in caught:
        unique.setdefault(f"{item.category.__name__}: {item.message}", None)
    return list(unique)[:10]
