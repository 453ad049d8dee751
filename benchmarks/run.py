"""Conversion cost against the frameworks' own floor for the same work, measured in the same run.

Each step is timed (the median of repeats after a warm-up, the floor's runs and interlayer's alternating, in one
process) and its peak memory measured (a fresh
process per step and per floor: the peak resident size above the size after the step's inputs were ready).

| step | floor: what the frameworks need for the same work |
|---|---|
| PyTorch -> archive | `torch.export.export(model, example, dynamic_shapes=...)` with every axis `Dim.AUTO` + `safetensors.torch.save_file(model.state_dict())` |
| Keras -> archive | `model.get_config()` + `model.get_weights()` + `safetensors.numpy.save_file` |
| archive -> PyTorch | constructing the module + `load_state_dict(safetensors.torch.load_file(...))` |
| archive -> Keras | building the same Keras architecture (`keras.Model.from_config`) + `set_weights` of the weights read with `safetensors.numpy.load_file` |

Targets (issue 8): time at most 1.5x the floor for export, 1.3x for building; peak memory at most half the
weight bytes above the floor's peak. `make bench` runs the standard models; `python benchmarks/run.py --big` adds
the ~1 billion parameter MLP (about 4 GB of float32 weights; several minutes). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases  # noqa: E402  (benchmarks/cases.py: the models and the steps)


def median_seconds(floor, ours, repeat: int) -> tuple[float, float]:
    """The median time of each, their runs alternating (floor, ours, floor, ...) after one warm-up of each, so
    that a slow spell of a shared machine falls on both."""
    times: dict = {floor: [], ours: []}
    for fn in (floor, ours):
        fn()  # warm-up
    for _ in range(repeat):
        for fn in (floor, ours):
            start = time.perf_counter()
            fn()
            times[fn].append(time.perf_counter() - start)
    return statistics.median(times[floor]), statistics.median(times[ours])


def peak_memory(case: str, step: str, which: str, folder: Path) -> float:
    """Peak resident bytes of one step above its starting point, measured in a fresh process."""
    command = [sys.executable, str(HERE / "cases.py"), case, step, which, str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{case} {step} {which}: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_bytes"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also the ~1B parameter MLP")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true", help="time only")
    parser.add_argument("--only", help="one case by name")
    args = parser.parse_args()
    names = [name for name in cases.CASES if (args.big or name not in cases.BIG)]
    if args.only:
        names = [args.only]
    import keras
    import torch

    import interlayer

    print(f"interlayer {interlayer.__version__}, torch {torch.__version__}, keras {keras.__version__}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30:.0f} GiB; median of {args.repeat} "
          f"runs after one warm-up\n")
    print("| model | weights | step | floor (s) | interlayer (s) | time ratio | floor peak (MB) | interlayer peak "
          "(MB) | extra / weights |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in names:
            case = cases.CASES[name]()
            case.prepare(folder)
            repeat = 1 if name in cases.BIG else args.repeat
            for step in case.steps:
                floor, ours = case.floor(step), case.ours(step)
                base, mine = median_seconds(floor, ours, repeat)
                if args.no_memory:
                    memory = "| - | - | -"
                else:
                    floor_peak = peak_memory(name, step, "floor", folder)
                    our_peak = peak_memory(name, step, "ours", folder)
                    extra = max(our_peak - floor_peak, 0) / case.weight_bytes
                    memory = f"| {floor_peak / 1e6:.0f} | {our_peak / 1e6:.0f} | {extra:.2f}"
                print(f"| {name} | {case.weight_bytes / 1e6:.0f} MB | {step} | {base:.3f} | {mine:.3f} | "
                      f"{mine / base:.2f}x {memory} |", flush=True)
            case.close()
    print("\nextra / weights: (interlayer's peak - the floor's peak) / the model's weight bytes; target <= 0.5")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
