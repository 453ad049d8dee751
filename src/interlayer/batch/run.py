"""Running jobs: one driver loop over three runners with the same small interface (``submit`` a job, ``wait`` for
the first of some futures to finish, read its ``result``): in this process, on a local pool of spawned worker
processes, or on a dask.distributed cluster (``cluster.py``).

At most ``runner.limit`` jobs are in flight at once, so that ``--fail-fast`` stops promptly, an interruption
leaves little to undo, and a worker that dies is known to have been converting one of the models in flight. Those
models are tried once more, each alone in a fresh worker: the one that kills its worker again is failed, the others
convert."""
from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from .plan import Job
from .report import Entry
from .worker import Outcome, convert_one, init_worker


class WorkerLost(Exception):
    """The worker process converting a job died (the pool is broken); the runner can start a fresh one."""


class InlineRunner:
    """``--jobs 1``: each job runs in this process, when submitted."""

    limit = 1
    name = "in-process"

    def submit(self, job: Job) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_result(convert_one(job))
        return future

    def wait(self, futures: list) -> list:
        return [future for future in futures if future.done()]

    def result(self, future) -> Outcome:
        return future.result()

    def recover(self) -> None:  # nothing can break: a crash here ends the process itself
        pass

    def close(self) -> None:
        pass

    def kill(self) -> None:
        pass


class PoolRunner:
    """``--jobs N``: N spawned worker processes (never forked from a process that may hold TensorFlow or torch
    threads), each importing the frameworks once, in its initializer, and converting one model at a time."""

    def __init__(self, jobs: int, modules: tuple[str, ...]):
        self.limit = jobs
        self.name = f"{jobs} local worker processes"
        self._initargs = (modules, max(1, (os.cpu_count() or 1) // jobs))
        self._pool = self._start()

    def _start(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(self.limit, mp_context=multiprocessing.get_context("spawn"),
                                                      initializer=init_worker, initargs=self._initargs)

    def submit(self, job: Job) -> concurrent.futures.Future:
        try:
            return self._pool.submit(convert_one, job)
        except BrokenProcessPool as exc:  # a worker died since the last wait: this job is lost with the others
            lost: concurrent.futures.Future = concurrent.futures.Future()
            lost.set_exception(exc)
            return lost

    def wait(self, futures: list) -> list:
        return list(concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED).done)

    def result(self, future) -> Outcome:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise WorkerLost(str(exc)) from exc

    def recover(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._start()

    def close(self) -> None:
        """Every job has finished: stop the idle workers rather than wait for them to exit (a spawned interpreter
        with TensorFlow loaded takes seconds to shut down; an idle worker has nothing left to write)."""
        self.kill()

    def kill(self) -> None:
        """Stop every worker now (they ignore SIGINT: the parent decides); what they leave is swept afterwards."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())  # no public API before 3.14
        for process in processes:
            process.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(10)


def drive(runner, jobs: list[Job], *, fail_fast: bool, started: Callable[[Job], None],
          finished: Callable[[Job, Entry], None]) -> None:
    """Run ``jobs`` on ``runner``, calling ``started`` when a job is submitted and ``finished`` with its entry.

    With ``fail_fast``, the first failure stops further submissions (jobs in flight finish; the others are
    finished as skipped). On ``KeyboardInterrupt`` the runner's workers are stopped and the interrupt propagates;
    the caller marks the unfinished jobs."""
    try:
        _Driver(runner, jobs, fail_fast, started, finished).run()
    except BaseException:
        runner.kill()
        raise


class _Driver:
    def __init__(self, runner, jobs, fail_fast, started, finished):
        self.runner, self.fail_fast, self.started, self.finished = runner, fail_fast, started, finished
        self.queue = deque(jobs)
        self.running: dict = {}  # future -> job
        self.suspects: set[str] = set()  # outputs of jobs in flight when a worker died: tried again, each alone
        self.stop_reason: str | None = None

    def run(self) -> None:
        while self.queue or self.running:
            self._submit()
            if not self.running:
                break
            lost = self._collect(self.runner.wait(list(self.running)))
            if lost:
                self._recover(lost)
        for job in self.queue:
            self.finished(job, Entry.of(job, "skipped", f"not started ({self.stop_reason})"))

    def _submit(self) -> None:
        """Fill the free slots; a suspect runs alone."""
        while self.queue and self.stop_reason is None and len(self.running) < self.runner.limit:
            solo = self.queue[0].output in self.suspects
            if self.running and (solo or any(job.output in self.suspects for job in self.running.values())):
                return
            job = self.queue.popleft()
            self.started(job)
            self.running[self.runner.submit(job)] = job

    def _finish(self, job: Job, entry: Entry) -> None:
        self.finished(job, entry)
        if entry.status == "failed" and self.fail_fast and self.stop_reason is None:
            self.stop_reason = f"--fail-fast: '{job.name}' failed"

    def _collect(self, futures: list) -> list[tuple[Job, str]]:
        """Finish the jobs of the done ``futures``; return those whose worker died."""
        lost = []
        for future in futures:
            job = self.running.pop(future)
            try:
                outcome = self.runner.result(future)
            except WorkerLost as exc:
                lost.append((job, str(exc)))
                continue
            except Exception as exc:  # the runner failed this job (a cluster error, a cancelled task)
                self._finish(job, Entry.of(job, "failed", error_class=type(exc).__name__, error=str(exc)))
                continue
            self._finish(job, Entry.from_outcome(job, outcome))
        return lost

    def _recover(self, lost: list[tuple[Job, str]]) -> None:
        """A worker died, so the pool is broken: every job in flight is lost with it. Start a fresh pool; try each
        lost job again alone, or fail it if it was already alone."""
        concurrent.futures.wait(list(self.running))
        lost += self._collect(list(self.running))
        self.runner.recover()
        for job, error in reversed(lost):
            if job.output not in self.suspects:
                self.suspects.add(job.output)
                # the lost attempt may have placed its output just before its pool broke: that output is this
                # run's own (a job only starts where it may write), so the retry may replace it
                self.queue.appendleft(dataclasses.replace(job, overwrite=True))
                continue
            self._finish(job, Entry.of(job, "failed", error_class="BrokenProcessPool", error=(
                f"batch: the worker process died while converting this model, twice (the second time alone in a "
                f"fresh worker). Expected a model that converts without crashing its process. Received: {error}. "
                f"Convert it alone with `interlayer convert` to see the crash.")))
