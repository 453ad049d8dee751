"""Batch throughput: ``interlayer convert DIR --jobs 2`` against ``--jobs 1`` on the same small models.

Makes ``--count`` small seeded Keras models (in turn an MLP, a plain CNN, a residual CNN of 2-3 blocks with
BatchNorm; 2k-20k parameters) in a temporary folder, converts them with each
``--jobs`` value in a fresh ``interlayer`` process, and prints, per run, the wall-clock time (process start to
exit, framework imports included) and the steady throughput (models per second once every worker has finished
its first model, read from report.json's ``finished_at``), then the ratios against the first run. The issue's
target is a ratio of at least 1.7 for two jobs on two cores. Then the floor, measured in the same run: the
frameworks' own share of the same batch (spawned processes that import TensorFlow/Keras and PyTorch, then load each
model with ``keras.saving.load_model`` and run it once), in 1 and N processes; no converter of these models can
scale better than its floor does. Last, the machine's own ceiling (plain Python in N processes over one) and the
wall-clock bound it gives once each worker's start-up is paid.

    .venv/bin/python benchmarks/batch_jobs.py [--count 50] [--to torch] [--jobs 1 2] [--repeat 1]

With ``--repeat N`` the runs alternate (1, 2, 1, 2, ...) and each figure is the best of N, which keeps other work
on a shared machine from deciding the ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def make_models(folder: Path, count: int) -> None:
    """Run in a child process, so that this one never imports a framework."""
    code = f"""
import keras
from keras import layers

def residual(x, filters):
    y = layers.Conv2D(filters, 3, padding="same")(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(y))
    return layers.ReLU()(layers.Add()([x, y]))

for i in range({count}):
    keras.utils.set_random_seed(i)
    if i % 3 == 0:  # an MLP
        inputs = keras.Input((32,))
        x = layers.Dense(64, activation="tanh")(layers.Dense(64, activation="relu")(inputs))
    elif i % 3 == 1:  # a plain CNN
        inputs = keras.Input((16, 16, 3))
        x = layers.MaxPooling2D(2)(layers.Conv2D(8, 3, activation="relu")(inputs))
        x = layers.GlobalAveragePooling2D()(layers.Conv2D(16, 3, activation="relu")(x))
    else:  # a small residual CNN with BatchNorm
        inputs = keras.Input((32, 32, 3))
        x = layers.Conv2D(16, 3, padding="same")(inputs)
        for _ in range(2 + i % 2):
            x = residual(x, 16)
        x = layers.GlobalAveragePooling2D()(x)
    keras.Model(inputs, layers.Dense(10)(x)).save({str(folder)!r} + f"/model_{{i:03d}}.keras")
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def run(models: Path, outdir: Path, to: str, jobs: int) -> dict:
    command = [sys.executable, "-m", "interlayer.cli", "convert", str(models), "--to", to, "-o", str(outdir),
               "--jobs", str(jobs)]
    start = time.perf_counter()
    finished = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if finished.returncode != 0:
        raise SystemExit(f"--jobs {jobs} failed ({finished.returncode}):\n{finished.stderr}")
    report = json.loads((outdir / "report.json").read_text())
    times = sorted(model["finished_at"] for model in report["models"])
    firsts: dict[str, float] = {}
    for model in report["models"]:
        firsts[model["worker"]] = min(firsts.get(model["worker"], model["finished_at"]), model["finished_at"])
    warm = max(firsts.values())  # every worker has finished its first model (and its imports) by then
    steady = sum(time > warm for time in times) / (times[-1] - warm)
    first = wall - (times[-1] - times[0])  # process start to the first model finished
    return {"jobs": jobs, "wall": wall, "models": len(times), "throughput": len(times) / wall, "steady": steady,
            "first": first}


def _import_frameworks() -> None:
    import keras  # noqa: F401
    import torch  # noqa: F401


def _load_and_run(path: str) -> None:
    import keras
    import numpy as np

    model = keras.saving.load_model(path)
    model(np.random.default_rng(0).standard_normal((2, *model.input_shape[1:])).astype("float32"))


def floor(models: Path, processes: int) -> float:
    """Seconds for ``processes`` spawned processes to import the frameworks and load and run every model once,
    spread over them as the batch spreads its jobs (one at a time, to whichever process is free)."""
    import multiprocessing

    paths = sorted(str(path) for path in models.glob("*.keras"))
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_import_frameworks) as pool:
        for _ in pool.imap_unordered(_load_and_run, paths, chunksize=1):
            pass
    return time.perf_counter() - start


def _spin(count: int) -> int:
    total = 0
    for i in range(count):
        total += i * i % 7
    return total


def ceiling(processes: int, count: int = 4_000_000) -> float:
    """The machine's own parallel speed-up for plain Python work: the throughput of ``processes`` spawned
    processes over one process doing the same tasks (imports excluded). No batch can scale better."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    seconds = []
    for workers in (1, processes):
        with context.Pool(workers) as pool:
            pool.map(_spin, [1000] * workers)  # the workers are up
            start = time.perf_counter()
            pool.map(_spin, [count] * 2 * processes, chunksize=1)
            seconds.append(time.perf_counter() - start)
    return seconds[0] / seconds[1]


def best(rows: list[dict]) -> dict:
    """The fastest of repeated runs: the shortest wall clock and the highest steady throughput."""
    return {**min(rows, key=lambda row: row["wall"]), "steady": max(row["steady"] for row in rows)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--to", default="torch", choices=("archive", "keras", "torch", "onnx"))
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        models = Path(temporary) / "models"
        models.mkdir()
        make_models(models, args.count)
        runs = [run(models, Path(temporary) / f"out{jobs}-{attempt}", args.to, jobs)
                for attempt in range(args.repeat) for jobs in args.jobs]
        floors = {jobs: min(floor(models, jobs) for _ in range(args.repeat)) for jobs in args.jobs}
    rows = [best([row for row in runs if row["jobs"] == jobs]) for jobs in args.jobs]
    print(f"{args.count} small Keras models -> {args.to}, {os.cpu_count()} CPU(s), best of {args.repeat}\n")
    print("| --jobs | wall clock (s) | models/s | steady models/s | wall ratio | steady ratio | floor (s) | "
          "floor ratio |")
    print("|---|---|---|---|---|---|---|---|")
    base = rows[0]
    for row in rows:
        jobs = row["jobs"]
        print(f"| {jobs} | {row['wall']:.1f} | {row['throughput']:.2f} | {row['steady']:.2f} | "
              f"{base['wall'] / row['wall']:.2f}x | {row['steady'] / base['steady']:.2f}x | {floors[jobs]:.1f} | "
              f"{floors[args.jobs[0]] / floors[jobs]:.2f}x |")
    most = max(args.jobs)
    if most > 1:
        scale = ceiling(most)
        print(f"\nthe machine's ceiling, {most} processes of plain Python over 1: {scale:.2f}x; the wall clock's "
              f"bound once each worker has paid its start-up (imports and first model, {base['first']:.1f} s at "
              f"--jobs 1): {_bound(base, scale):.2f}x")


def _bound(base: dict, scale: float) -> float:
    """Amdahl's bound on the wall-clock ratio: the start-up (imports, first model) is paid once per worker, in
    parallel, and only the rest divides among the workers."""
    rest = base["wall"] - base["first"]
    return base["wall"] / (base["first"] + rest / scale)


if __name__ == "__main__":
    main()
