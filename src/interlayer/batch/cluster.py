"""``--executor dask``: the same jobs on a dask.distributed cluster, through the runner interface of ``run.py``.

Without a scheduler address, a ``LocalCluster`` of ``jobs`` worker processes with one thread each is started and
closed with the batch. Each worker imports the frameworks once, when it starts, through a worker plugin (which
also runs on workers that join or restart later). With an address, the cluster's workers must be able to import
interlayer (and any factory's module) and see the source and output paths (a shared file system); conversions
cancelled on an interruption may still finish on a remote worker, whose outputs then appear complete or not at all.
"""
from __future__ import annotations

import logging
import os
import uuid

import dask
from distributed import Client, LocalCluster, WorkerPlugin, wait

from .plan import Job
from .worker import Outcome, convert_one, init_worker


class Preload(WorkerPlugin):
    """Imports the frameworks and converters a batch uses into a worker when it starts (or when the plugin is
    registered), with ``threads`` threads for each framework when given (a local cluster shares the cores)."""

    name = "interlayer-preload"

    def __init__(self, modules: tuple[str, ...], threads: int | None):
        self.modules, self.threads = modules, threads

    def setup(self, worker) -> None:
        init_worker(self.modules, self.threads, ignore_interrupt=False)


class DaskRunner:
    def __init__(self, jobs: int, modules: tuple[str, ...], scheduler: str | None):
        self.cluster = None
        if scheduler is None:
            # one retry for a task whose worker died, as the local pool does (dask's default is three)
            with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
                self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=logging.ERROR,
                                            scheduler_kwargs={"dashboard_address": ":0"})  # health routes: any port
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler)
        threads = max(1, (os.cpu_count() or 1) // jobs) if scheduler is None else None
        self.client.register_plugin(Preload(modules, threads))
        self.limit = max(1, sum(self.client.nthreads().values()))
        where = "a local dask cluster" if scheduler is None else f"the dask cluster at {scheduler}"
        self.name = f"{where} of {len(self.client.nthreads())} worker(s), {self.limit} thread(s)"
        self._token = uuid.uuid4().hex[:8]
        self._pending: set = set()

    def submit(self, job: Job):
        future = self.client.submit(convert_one, job, pure=False, key=f"interlayer-{job.name}-{self._token}")
        self._pending.add(future)
        return future

    def wait(self, futures: list) -> list:
        return list(wait(futures, return_when="FIRST_COMPLETED").done)

    def result(self, future) -> Outcome:
        self._pending.discard(future)
        return future.result()  # a worker that died twice raises KilledWorker: the job fails with it

    def recover(self) -> None:  # dask reschedules a dead worker's tasks itself
        pass

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def kill(self) -> None:
        """Cancel what was submitted and close the cluster (a local one stops its worker processes)."""
        try:
            if self._pending:
                self.client.cancel(list(self._pending))
        finally:
            self.close()
