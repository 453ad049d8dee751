"""A ~1 billion parameter model (16 linear layers of 8192 x 8192, 4.3 GB of float32) converted PyTorch ->
archive -> Keras and PyTorch -> archive -> ONNX (external data), each step in a fresh process that reports its
time, its peak resident memory and, for the targets, the relative error against the reference interpreter.

    python benchmarks/billion.py [FOLDER]      # about 4 minutes and 13 GB of memory at the ONNX step

The archive is sharded (2 GiB shards and model.safetensors.index.json); the ONNX model keeps its weights in one
external data file beside it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _peak_gb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e6
    return 0.0


def step(name: str, folder: Path) -> dict:
    import numpy as np
    import torch
    from torch import nn

    import interlayer
    from interlayer.execute import predict
    from interlayer.tolerance import relative_error

    archive = folder / "mlp.safetensors"
    start = time.perf_counter()
    if name == "export":
        torch.manual_seed(0)
        layers = []
        for _ in range(16):
            layers += [nn.Linear(8192, 8192), nn.ReLU()]
        model = nn.Sequential(*layers).eval()
        built = time.perf_counter()
        path = interlayer.save(interlayer.export(model, example_inputs=(2, 8192)), archive, overwrite=True)
        return {"step": "PyTorch -> archive", "seconds": time.perf_counter() - built, "peak_gb": _peak_gb(),
                "parameters": sum(p.numel() for p in model.parameters()), "written": path.name}
    graph = interlayer.load(archive)
    model = interlayer.build(graph, name)
    if name == "onnx":
        from interlayer.backends.onnx import write_model

        write_model(model, folder / "mlp.onnx", overwrite=True)
    seconds, peak = time.perf_counter() - start, _peak_gb()
    x = np.random.default_rng(0).standard_normal((2, 8192)).astype(np.float32)
    error = relative_error(predict(model, [x])[0], list(interlayer.run(graph, [x]).values())[0])
    return {"step": f"archive -> {name}", "seconds": seconds, "peak_gb": peak, "relative_error": error}


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    print("| step | seconds | peak memory (GB) | relative error |\n|---|---:|---:|---:|")
    for name in ("export", "keras", "onnx"):
        result = subprocess.run([sys.executable, __file__, "--step", name, str(folder)], capture_output=True,
                                text=True, check=True)
        row = json.loads(result.stdout.strip().splitlines()[-1])
        error = f"{row['relative_error']:.1e}" if "relative_error" in row else "-"
        print(f"| {row['step']} | {row['seconds']:.1f} | {row['peak_gb']:.1f} | {error} |", flush=True)
    files = sorted(path.name for path in folder.iterdir())
    print(f"\nfiles: {', '.join(files)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--step":
        print(json.dumps(step(sys.argv[2], Path(sys.argv[3]))))
    else:
        raise SystemExit(main())
