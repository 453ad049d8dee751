"""How far correct float32 builds stray from the float64 reference, against float32's own rounding of each graph.

    python benchmarks/tolerance.py [--backends torch,keras,onnx]

Builds every conformance case (tests/conformance) in every backend, runs it on seeded inputs, and prints, per
backend, the distribution of ``error / e32``: the build's relative error against the float64 reference over
the float32 reference's own (``interlayer.tolerance``). ``tolerance.FACTOR`` must sit well above the largest
ratio a correct build shows, and the cases whose bound rises above the ``rtol`` floor are listed.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import interlayer  # noqa: E402
from interlayer.tolerance import FACTOR, RTOL, bounds, relative_error  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="torch,keras,onnx")
    args = parser.parse_args()
    from conformance.cases import CASES
    from conformance.test_backends import SKIPS
    from support import random_inputs

    worst = 0.0
    for backend in args.backends.split(","):
        predict = importlib.import_module(f"interlayer.backends.{backend}").predict
        ratios, raised = [], []
        for name in sorted(CASES):
            if (backend, name) in SKIPS:
                continue
            graph = CASES[name]()
            inputs = random_inputs(graph)
            exact, allowed = bounds(graph, inputs)
            actual = predict(interlayer.build(graph, backend), inputs)
            for spec, value in zip(graph.outputs, actual):
                bound, error = allowed[spec.name], relative_error(value, exact[spec.name])
                if bound.float32_error > 0:
                    ratios.append((error / bound.float32_error, name))
                if bound.allowed > RTOL:
                    raised.append(f"{name} ({bound.describe()}, error {error:.1e})")
        values = np.array([ratio for ratio, _ in ratios])
        top = max(ratios)
        worst = max(worst, top[0])
        print(f"{backend}: {len(values)} outputs; error / e32: median {np.median(values):.2f}, "
              f"95th percentile {np.percentile(values, 95):.2f}, max {top[0]:.2f} ({top[1]})")
        print(f"  bound above the rtol floor in {len(raised)}: {'; '.join(raised[:8]) or '-'}")
    print(f"FACTOR {FACTOR:g}: the largest ratio seen is {worst:.2f} ({worst / FACTOR:.0%} of FACTOR)")
    return 0 if worst < FACTOR else 1


if __name__ == "__main__":
    raise SystemExit(main())
