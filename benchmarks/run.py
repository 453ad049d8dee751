"""Conversion cost against the frameworks' own floor, measured in the same run.

For each model: export + save against `torch.fx.symbolic_trace` + `safetensors.torch.save_file` (the floor of
capturing and storing), and load + build against constructing the module and `load_state_dict` (PyTorch) or
building the Keras model and `set_weights` (Keras). Prints a Markdown table of medians and their ratios.
Run with `make bench`.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import safetensors.torch  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import interlayer  # noqa: E402
from interlayer import examples  # noqa: E402


def median_seconds(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def vgg_like():
    layers, channels = [], 3
    for width in (64, 128, 256, 256):
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)]
        channels = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 4 * 4, 1024), nn.ReLU(), nn.Linear(1024, 10))


MODELS = {
    "lenet5": (examples.lenet5, (1, 1, 28, 28)),
    "small_cnn": (examples.small_cnn, (1, 3, 12, 12)),
    "vgg_like (7.7M params)": (vgg_like, (1, 3, 64, 64)),
}


def bench(name, factory, shape, folder: Path, repeat: int) -> list[tuple[str, float, float]]:
    model = factory().eval()
    example = torch.randn(shape)
    graph = interlayer.export(model, example_inputs=shape)
    archive = folder / f"{name.split()[0]}.safetensors"
    weights = folder / f"{name.split()[0]}.weights.safetensors"

    def floor_export():
        torch.fx.symbolic_trace(model)
        safetensors.torch.save_file(model.state_dict(), str(weights))

    def ours_export():
        interlayer.save(interlayer.export(model, example_inputs=(example,)), archive, overwrite=True)

    def floor_torch_build():
        fresh = factory()
        fresh.load_state_dict(safetensors.torch.load_file(str(weights)))

    def ours_torch_build():
        interlayer.build(interlayer.load(archive), "torch")

    keras_model = interlayer.build(graph, "keras")
    keras_weights = keras_model.get_weights()

    def floor_keras_build():
        rebuilt = keras.models.clone_model(keras_model)  # Keras building the same architecture itself
        rebuilt.set_weights(keras_weights)

    def ours_keras_build():
        interlayer.build(interlayer.load(archive), "keras")

    ours_export()
    rows = []
    for step, floor, ours in [("PyTorch -> archive", floor_export, ours_export),
                              ("archive -> PyTorch", floor_torch_build, ours_torch_build),
                              ("archive -> Keras", floor_keras_build, ours_keras_build)]:
        base = median_seconds(floor, repeat)
        mine = median_seconds(ours, repeat)
        rows.append((step, base, mine))
    return rows


def main() -> int:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    print(f"interlayer {interlayer.__version__}, torch {torch.__version__}, keras {keras.__version__}, "
          f"{os.cpu_count()} cores; median of {repeat} runs after one warm-up\n")
    print("| model | step | floor (ms) | interlayer (ms) | ratio |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for name, (factory, shape) in MODELS.items():
            for step, base, mine in bench(name, factory, shape, Path(folder), repeat):
                print(f"| {name} | {step} | {base * 1e3:.1f} | {mine * 1e3:.1f} | {mine / base:.2f}x |")
    print("\nfloors: fx.symbolic_trace + safetensors save_file; module construction + load_state_dict; "
          "keras.models.clone_model + set_weights")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
