"""Batch migration: many models converted into one output folder, with a report, resumable, in parallel.

:func:`convert_many` plans the jobs (``plan.py``: files, folders, globs, factories and manifest lines, each given a
safe unique output name), hashes what each reads (``files.py``), decides which are up to date (``--resume``: the
output exists and the ledger ``.interlayer-batch.json`` says it was made from the same sha256 with the same
settings), runs the rest (``run.py``, ``worker.py``) and writes ``report.json`` and ``report.md`` (``report.py``).

Workers. ``jobs=1`` converts in this process. ``jobs=N`` starts N *spawned* worker processes (never forked: a fork
of a process holding TensorFlow's or torch's threads can deadlock) whose initializer imports the frameworks the
batch needs, once; each worker then converts model after model. Every conversion goes through
:func:`interlayer.conversion.convert_file`, which writes through a temporary name and only after verification.

Interruption. Workers ignore SIGINT; on Ctrl-C the parent stops them, removes every temporary
(``.<name>...partial``) left in the output folder, writes the report with the unfinished models marked
``interrupted``, and re-raises ``KeyboardInterrupt``. A worker that dies takes the models in flight with it: each
is tried again alone in a fresh worker, and failed if it kills that one too.

Why dask for clusters (``executor="dask"``) rather than ray: dask.distributed is a pure-Python wheel (ray ships a
large platform-specific binary with its own object store and dashboard processes); a ``LocalCluster`` starts in a
second or two, so the tests run it for real; and ``Client.submit`` / ``wait`` / ``as_completed`` have the shape of
``concurrent.futures``, so the local pool and the cluster share one driver loop (``run.drive``) and differ only in
a small runner class (``cluster.py``). The local process pool stays the default and needs nothing beyond the
standard library.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import InterlayerError
from ..outputs import check_folder
from .files import fingerprint, output_bytes, output_exists
from .plan import REPORT_JSON, Job, assign_outputs, is_batch, plan_jobs
from .progress import Progress, ProgressPrinter
from .report import BatchReport, Entry, Ledger
from .run import InlineRunner, PoolRunner, drive
from .worker import modules_for

__all__ = ["BatchReport", "Entry", "Progress", "ProgressPrinter", "convert_many", "is_batch"]
EXECUTORS = ("local", "dask")
LOCK = ".interlayer-batch.lock"


def convert_many(sources: Iterable[str | os.PathLike], to: str, outdir: str | os.PathLike, *,
                 manifest: str | os.PathLike | None = None, jobs: int = 1, executor: str = "local",
                 scheduler: str | None = None, resume: bool = False, fail_fast: bool = False, verify: bool = True,
                 progress: Callable[[Progress], None] | None = None, overwrite: bool = False,
                 example_inputs: Any = None, **options: Any) -> BatchReport:
    """Convert every model of ``sources`` (files, folders searched recursively, globs, PyTorch factories) and of
    ``manifest`` (JSON lines) to ``to``, into ``outdir/<name><ext>``; write ``outdir/report.json`` and
    ``report.md`` and return the report.

    A failing model is reported and the batch goes on (``fail_fast`` stops it at the first failure). ``resume``
    skips models whose output was made from the same source checksum and settings, and reconverts (overwriting)
    those whose source changed; ``overwrite`` converts every model again. With neither, a batch whose outputs
    exist (a finished batch run again) is refused before any work: nothing is written, the earlier report is kept.
    ``jobs`` worker processes (``executor="local"``) or dask workers (``executor="dask"``: the cluster at
    ``scheduler``, else a ``LocalCluster`` of ``jobs`` processes). ``example_inputs`` (input shapes) applies to
    the factories among ``sources``; manifest lines give their own. ``options`` go to every conversion
    (``keep_input_layout``).
    ``progress`` is called with a :class:`Progress` whenever a model starts or finishes (:class:`ProgressPrinter`
    prints it). On ``KeyboardInterrupt`` the report is written, unfinished models marked, and the interrupt
    re-raised.
    """
    _check_arguments(jobs, executor, scheduler)
    outdir = Path(outdir).absolute()
    if outdir.exists() and not outdir.is_dir():
        raise InterlayerError(f"batch: the output '{outdir}' is a file. Expected a folder for the converted models "
                              f"and the report. Received: -o {outdir}.")
    check_folder("batch", outdir, create=True)
    planned = plan_jobs(sources, to, outdir, manifest=manifest, example_inputs=example_inputs, options=options,
                   verify=verify)
    outdir.mkdir(parents=True, exist_ok=True)
    assign_outputs(planned, outdir)
    with _lock(outdir):
        if not (resume or overwrite):
            _refuse_existing(planned, outdir)
        return _Batch(planned, outdir, resume, overwrite, progress).run(jobs, executor, scheduler, fail_fast)


def _refuse_existing(planned: list[Job], outdir: Path) -> None:
    """Outputs already there, unasked to keep or replace them: the whole batch is refused, the folder untouched
    (a rerun would otherwise fail every model and write its report over the good one)."""
    existing = [Path(job.output).name for job in planned if not job.skip_reason and output_exists(Path(job.output))]
    if not existing:
        return
    shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
    earlier = " (an earlier batch's; its report is kept)" if (outdir / REPORT_JSON).exists() else ""
    raise InterlayerError(f"batch: {len(existing)} of the {len(planned)} outputs exist in '{outdir}': {shown}"
                          f"{earlier}. Expected a folder without this batch's outputs, or --resume or --force. "
                          f"Received: -o {outdir}, neither --resume nor --force. Pass --resume (resume=True) to keep "
                          f"the outputs made from the same sources and convert the rest, or --force (overwrite=True) "
                          f"to convert every model again; nothing was written.")


def _check_arguments(jobs: Any, executor: str, scheduler: str | None) -> None:
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise InterlayerError(f"batch: jobs must be a positive integer. Received: jobs={jobs!r}.")
    if executor not in EXECUTORS:
        raise InterlayerError(f"batch: unknown executor. Expected one of {EXECUTORS}. Received: executor={executor!r}.")
    if scheduler is not None and executor != "dask":
        raise InterlayerError(f"batch: a scheduler address is for the dask executor. Received: scheduler={scheduler!r}"
                              f" with executor={executor!r}. Pass --executor dask, or leave out --scheduler.")


class _Batch:
    def __init__(self, planned: list[Job], outdir: Path, resume: bool, overwrite: bool, progress):
        self.planned, self.outdir, self.progress = planned, outdir, progress
        self.entries: dict[str, Entry] = {}
        self.running: dict[str, str] = {}  # output -> name, in submission order
        self.ledger = Ledger(outdir)
        self.started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.start = time.perf_counter()
        self.first_submit: float | None = None
        self.worked = 0  # models converted or failed by the runner (not decided beforehand)
        sweep(outdir)  # what an earlier run killed outright left behind
        self.todo = [job for job in planned if not self._decided(job, resume, overwrite)]
        self.ledger.save()

    def _decided(self, job: Job, resume: bool, overwrite: bool) -> bool:
        """Settle what needs no conversion (skipped, up to date, an output in the way); prepare the rest."""
        fingerprint(job, self.ledger.hashes)
        output = Path(job.output)
        if job.skip_reason:
            self._finished(job, Entry.of(job, "skipped", job.skip_reason))
        elif resume and self.ledger.up_to_date(job):
            previous = self.ledger.previous(job)
            self._finished(job, Entry.of(job, "skipped", "up to date: made from a source with the same sha256 and "
                                         "settings (--resume)", max_relative_error=previous.get("max_relative_error"),
                                         verdict=previous.get("verdict"), bytes_out=output_bytes(output)))
        elif output_exists(output) and not (resume or overwrite):
            self._finished(job, Entry.of(job, "failed", error_class="InterlayerError", error=(
                f"batch: the output '{output}' exists. Expected a new output name. Received: an existing "
                f"{'folder' if output.is_dir() else 'file'}. Pass --resume to keep outputs made from the same "
                f"source, or --force to replace them.")))
        else:
            job.overwrite = output_exists(output)
            return False
        return True

    def run(self, jobs: int, executor: str, scheduler: str | None, fail_fast: bool) -> BatchReport:
        runner, name, problem = None, "nothing to run", None
        try:
            if self.todo:
                runner = _runner(jobs, executor, scheduler, modules_for(self.todo))
                name = runner.name
                drive(runner, self.todo, fail_fast=fail_fast, started=self._started, finished=self._finished)
                runner.close()
        except BaseException as exc:
            problem = exc
            raise
        finally:
            sweep(self.outdir)
            reason = ("the batch was interrupted before this model finished" if isinstance(problem, KeyboardInterrupt)
                      else f"the batch stopped before this model finished ({type(problem).__name__}: {problem})")
            for job in self.planned:
                if job.output not in self.entries:
                    self.entries[job.output] = Entry.of(job, "interrupted", reason)
            report = BatchReport(self.outdir, [self.entries[job.output] for job in self.planned],
                                 time.perf_counter() - self.start, self.started_at, name, jobs)
            report.write()
        return report

    def _started(self, job: Job) -> None:
        if self.first_submit is None:
            self.first_submit = time.perf_counter()
        self.running[job.output] = job.name
        self._emit(None)

    def _finished(self, job: Job, entry: Entry) -> None:
        entry.finished_at = round(time.perf_counter() - self.start, 3)
        self.entries[job.output] = entry
        if self.running.pop(job.output, None) is not None and entry.status in ("converted", "failed"):
            self.worked += 1
        if entry.status == "converted":
            self.ledger.record(job, entry)
        self._emit(entry)

    def _emit(self, entry: Entry | None) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        remaining = None
        if self.worked and self.first_submit is not None:
            left = len(self.planned) - len(self.entries)
            remaining = (now - self.first_submit) / self.worked * left
        self.progress(Progress(len(self.entries), len(self.planned), list(self.running.values()), now - self.start,
                               remaining, entry))


def _runner(jobs: int, executor: str, scheduler: str | None, modules: tuple[str, ...]):
    if executor == "dask":
        try:
            from .cluster import DaskRunner
        except ImportError as exc:
            raise InterlayerError(f"batch: the dask executor needs dask.distributed ({exc}). Install interlayer's "
                                  f"'cluster' extra: pip install 'interlayer[cluster]'.") from exc
        try:
            return DaskRunner(jobs, modules, scheduler)
        except OSError as exc:  # includes distributed's connection timeouts
            raise InterlayerError(f"batch: cannot reach the dask scheduler at {scheduler} ({exc}). Expected the "
                                  f"address of a running scheduler, e.g. tcp://host:8786.") from exc
    return InlineRunner() if jobs == 1 else PoolRunner(jobs, modules)


def sweep(outdir: Path) -> list[str]:
    """Remove the temporaries interlayer's writers leave when killed (``.<name>.<pid>.partial...`` files and
    folders) from ``outdir``; return their names."""
    removed = []
    for item in outdir.iterdir():
        if item.name.startswith(".") and ".partial" in item.name:
            shutil.rmtree(item, ignore_errors=True) if item.is_dir() else item.unlink(missing_ok=True)
            removed.append(item.name)
    return removed


class _lock:
    """One batch at a time per output folder: ``outdir/.interlayer-batch.lock`` holds the running batch's pid."""

    def __init__(self, outdir: Path):
        self.path = outdir / LOCK

    def __enter__(self):
        for _ in range(2):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if _alive(self.path):
                    raise InterlayerError(f"batch: another batch is writing into '{self.path.parent}' (its pid is in "
                                          f"{self.path.name}). Expected one batch per output folder at a time. "
                                          f"Wait for it, or delete {self.path} if no batch is running.") from None
                self.path.unlink(missing_ok=True)  # left by a batch that was killed
                continue
            with os.fdopen(descriptor, "w") as handle:
                handle.write(str(os.getpid()))
            return self
        raise InterlayerError(f"batch: cannot create the lock file {self.path}. Delete it if no batch is running.")

    def __exit__(self, *exc_info) -> None:
        self.path.unlink(missing_ok=True)


def _alive(path: Path) -> bool:
    try:
        os.kill(int(path.read_text().strip()), 0)
    except PermissionError:
        return True  # alive, and another user's
    except (OSError, ValueError):
        return False
    return True
