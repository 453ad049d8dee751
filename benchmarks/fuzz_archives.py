"""Fuzzed archives: ``--count`` mutants of small valid archives (bytes flipped, files cut short, header and graph
JSON edited; ``tests/ir/archive_mutants.py`` makes them), each loaded with ``interlayer.load`` and, when it
loads, run with the reference interpreter on seeded inputs.

Every mutant must either load and run or raise interlayer's own error (``InterlayerError``). Prints how many did
what (loaded and ran; refused at load or at run, by error class; failed), the first failures with their ids, and
exits 1 when any mutant raised anything else. The mutants are spread evenly over the kinds and are a function of
``--seed``, so a failure is replayed from its id (``KIND-SEED``) with ``--only KIND-SEED``.

    .venv/bin/python benchmarks/fuzz_archives.py [--count 10000] [--seed 0] [--only graph-sizes-123]

While it runs, ``INTERLAYER_MAX_TENSOR_BYTES`` is lowered to 64 MiB (a mutant asking for a huge tensor is refused
at a size the machine can afford to reach). About two minutes for 10,000 mutants.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ir.archive_mutants import (FUZZ_MAX_TENSOR_BYTES, KINDS, attempt, base_archives,  # noqa: E402
                                mutant, one_line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="mutants in all (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="first seed of each kind (default 0)")
    parser.add_argument("--only", action="append", default=[], metavar="KIND-SEED", help="run these mutants only")
    parser.add_argument("--examples", type=int, default=10, help="failures to show (default 10)")
    args = parser.parse_args(argv)
    os.environ["INTERLAYER_MAX_TENSOR_BYTES"] = str(FUZZ_MAX_TENSOR_BYTES)
    bases = base_archives()
    plan = [_parse(text) for text in args.only] or _plan(args.count, args.seed)
    outcomes: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    slowest = (0.0, "")
    start = time.perf_counter()
    warnings.simplefilter("ignore", RuntimeWarning)  # a mutated graph may well compute log(-1)
    with tempfile.TemporaryDirectory() as folder, np.errstate(all="ignore"):
        for kind, seed in plan:
            item = mutant(kind, seed, bases)
            began = time.perf_counter()
            try:
                outcomes[attempt(item, Path(folder))] += 1
            except Exception as exc:  # the point: anything but interlayer's own error is a failure
                outcomes[f"FAILED: {type(exc).__name__}"] += 1
                detail = traceback.format_exc() if args.only else one_line(exc)
                failures.append(f"{item.describe()}\n    {detail}")
            slowest = max(slowest, (time.perf_counter() - began, item.id))
    _print(outcomes, failures, args.examples, len(plan), time.perf_counter() - start, slowest)
    return 1 if failures else 0


def _plan(count: int, first_seed: int) -> list[tuple[str, int]]:
    kinds = sorted(KINDS)
    return [(kinds[index % len(kinds)], first_seed + index // len(kinds)) for index in range(count)]


def _parse(text: str) -> tuple[str, int]:
    kind, _, seed = text.rpartition("-")
    if kind not in KINDS or not seed.isdigit():
        raise SystemExit(f"fuzz_archives: not a mutant id. Expected KIND-SEED with KIND in {sorted(KINDS)}. "
                         f"Received: {text!r}.")
    return kind, int(seed)


def _print(outcomes, failures: list[str], examples: int, total: int, seconds: float, slowest) -> None:
    print(f"{total} mutants in {seconds:.1f} s (slowest {slowest[1]}: {slowest[0]:.2f} s)")
    for outcome, count in sorted(outcomes.items(), key=lambda item: (item[0].startswith("FAILED"), item[0])):
        print(f"  {count:6d}  {outcome}")
    if failures:
        print(f"\n{len(failures)} mutant(s) raised something other than interlayer's own error; the first "
              f"{min(examples, len(failures))}:")
        for failure in failures[:examples]:
            print(f"  - {failure}")
    else:
        print("every mutant loaded and ran, or raised interlayer's own error")


if __name__ == "__main__":
    raise SystemExit(main())
