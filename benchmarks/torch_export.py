"""PyTorch models through torch.export: interlayer's capture and its ONNX and Keras targets against what PyTorch
and Keras need for the same work, measured in the same run.

| step | interlayer | floor |
|---|---|---|
| capture | `interlayer.export(model, example_inputs=spec)` | `torch.export.export` of the same inputs, `Dim.AUTO` on the same axes |
| PyTorch -> ONNX | `interlayer.export` + `interlayer.build(graph, "onnx")` + `write_model` | `torch.onnx.export(..., dynamo=True, dynamic_shapes=...)` (its defaults: optimised, weights as external data) |
| PyTorch -> Keras | `interlayer.export` + `interlayer.build(graph, "keras")` | the capture's floor + `keras.Model.from_config` + `set_weights` of the model interlayer built |

Times are medians of ``--repeat`` runs after one warm-up of each, the floor's runs and interlayer's alternating in
one process, so that a slow spell of a shared machine falls on both. The ONNX step's peak memory is measured in a
fresh process per side: the resident high-water mark above the resident size once the model is built (the
libraries imported and one conversion of the small variant of the model done first, so that neither side pays
for imports), also as a multiple of the model's weight bytes. The latency of each ONNX file is onnxruntime's
(CPU, default session options) on one seeded input of batch 1, the median of ``--runs`` after warm-up, the two
sessions alternating; both outputs are compared with the PyTorch model's.

Targets: capture at most 1.2x torch.export; ONNX conversion faster than the dynamo exporter, its latency no
worse, its extra peak memory at most 0.5x the weight bytes. ``--quick`` runs small configurations once.

    python benchmarks/torch_export.py [--quick] [--repeat N] [--only bert-base] [--no-memory]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cases import _reset_peak, _resident_peak  # the other benchmarks' measure of peak memory

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent


# the models ----------------------------------------------------------------------------------------------------


class Case:
    """One model: its factory (seeded random weights, eval mode), interlayer's input spec, and the same example
    and generic axes as torch.export takes them."""

    name = ""
    parameter = ""  # forward's parameter taking the input
    dtype = "float32"

    def __init__(self, quick: bool):
        self.quick = quick

    def config(self):
        raise NotImplementedError

    def model_class(self):
        raise NotImplementedError

    def make(self):
        import torch

        torch.manual_seed(0)
        return self.model_class()(self.config()).eval()

    @property
    def sizes(self) -> dict[str, int]:
        """name -> example size of each axis (an int: a fixed axis)"""
        raise NotImplementedError

    def spec(self) -> str:
        axes = ",".join(str(size) if isinstance(name, int) else f"{name}={size}"
                        for name, size in self.sizes.items())
        return f"{self.parameter}:{self.dtype}[{axes}]"

    def torch_inputs(self):
        """(kwargs, dynamic_shapes) for torch.export and torch.onnx.export: the example's shape (batch 2, as
        interlayer's), ``Dim.AUTO`` on the axes the spec keeps generic, and ``use_cache=False`` where forward
        takes it (as interlayer passes)."""
        import inspect

        import torch
        from torch.export import Dim

        shape = list(self.sizes.values())
        generator = torch.Generator().manual_seed(0)
        if self.dtype == "int64":
            tensor = torch.randint(0, 2, shape, generator=generator)
        else:
            tensor = torch.randn(shape, generator=generator)
        kwargs = {self.parameter: tensor}
        shapes = {self.parameter: {axis: Dim.AUTO for axis, name in enumerate(self.sizes) if not isinstance(name, int)}}
        if "use_cache" in inspect.signature(self.model_class().forward).parameters:
            kwargs["use_cache"], shapes["use_cache"] = False, None
        return kwargs, shapes

    def feed(self) -> np.ndarray:
        """The input onnxruntime runs: the example's sizes with batch 1."""
        rng = np.random.default_rng(1)
        shape = [1, *list(self.sizes.values())[1:]]
        if self.dtype == "int64":
            return rng.integers(0, self.vocab, shape).astype(np.int64)
        return rng.standard_normal(shape).astype(np.float32)


class ResNet50(Case):
    name = "resnet-50"
    parameter = "pixel_values"

    def config(self):
        import transformers

        if self.quick:
            return transformers.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1])
        return transformers.ResNetConfig()

    def model_class(self):
        import transformers

        return transformers.ResNetModel

    @property
    def sizes(self):
        side = 32 if self.quick else 224
        return {"batch": 2, 1: 3, "H": side, "W": side}


class BertBase(Case):
    name = "bert-base"
    parameter = "input_ids"
    dtype = "int64"

    def config(self):
        import transformers

        if self.quick:
            return transformers.BertConfig(vocab_size=512, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                           intermediate_size=64)
        return transformers.BertConfig()

    @property
    def vocab(self) -> int:
        return self.config().vocab_size

    def model_class(self):
        import transformers

        return transformers.BertModel

    @property
    def sizes(self):
        return {"batch": 2, "seq": 16 if self.quick else 128}


class ViTBase(Case):
    name = "vit-base"
    parameter = "pixel_values"

    def config(self):
        import transformers

        if self.quick:
            return transformers.ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                          intermediate_size=64, image_size=32, patch_size=8)
        return transformers.ViTConfig()

    def model_class(self):
        import transformers

        return transformers.ViTModel

    @property
    def sizes(self):
        side = self.config().image_size  # ViT's position table holds one image size
        return {"batch": 2, 1: 3, 2: side, 3: side}


CASES = {case.name: case for case in (ResNet50, BertBase, ViTBase)}


def weight_bytes(model) -> int:
    """The bytes of the model's parameters and buffers, each storage counted once."""
    seen = {}
    for tensor in model.state_dict().values():
        seen[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
    return sum(seen.values())


# the steps -----------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet():
    """The dynamo exporter's progress lines and warnings kept off the table."""
    import logging
    import warnings

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        level = logging.getLogger("torch").level
        logging.getLogger("torch").setLevel(logging.ERROR)
        try:
            yield
        finally:
            logging.getLogger("torch").setLevel(level)


class Steps:
    """The functions each step times, for one model."""

    def __init__(self, case: Case, model, folder: Path):
        self.case, self.model, self.folder = case, model, folder
        self.kwargs, self.shapes = case.torch_inputs()

    def capture(self):
        import interlayer

        return interlayer.export(self.model, example_inputs=self.case.spec())

    def torch_export(self):
        import torch

        with torch.no_grad():  # as interlayer exports
            return torch.export.export(self.model, (), kwargs=self.kwargs, dynamic_shapes=self.shapes)

    def onnx(self) -> Path:
        import interlayer
        from interlayer.backends.onnx import write_model

        path = self.folder / f"{self.case.name}.interlayer.onnx"
        write_model(interlayer.build(self.capture(), "onnx"), path, overwrite=True)
        return path

    def torch_onnx(self) -> Path:
        import torch

        path = self.folder / f"{self.case.name}.dynamo.onnx"
        with quiet():
            torch.onnx.export(self.model, (), str(path), kwargs=self.kwargs, dynamic_shapes=self.shapes, dynamo=True)
        return path

    def keras(self):
        import interlayer

        return interlayer.build(self.capture(), "keras")

    def keras_floor(self, config: str, weights: list):
        """torch.export's capture, then building the Keras model interlayer built from its config and weights."""
        self.torch_export()
        return self.keras_build_floor(config, weights)

    @staticmethod
    def keras_build_floor(config: str, weights: list):
        """``from_config`` of the config's JSON text (``from_config`` empties the dict it is given) + ``set_weights``."""
        import keras

        model = keras.Model.from_config(json.loads(config))
        model.set_weights(weights)
        return model


def medians(functions: list, repeat: int) -> list[float]:
    """The median time of each function, their runs alternating after one warm-up of each."""
    times = [[] for _ in functions]
    for function in functions:
        function()
    for _ in range(repeat):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            function()
            times[index].append(time.perf_counter() - start)
    return [statistics.median(found) for found in times]


def latencies(paths: list[Path], feed: np.ndarray, runs: int) -> tuple[list[float], list[list[np.ndarray]]]:
    """onnxruntime's median latency of each file on ``feed`` (sessions alternating after 3 warm-up runs each),
    and each file's outputs."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    sessions = [onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                for path in paths]
    feeds = [{session.get_inputs()[0].name: feed} for session in sessions]
    outputs = [session.run(None, inputs) for session, inputs in zip(sessions, feeds)]
    for _ in range(2):
        for session, inputs in zip(sessions, feeds):
            session.run(None, inputs)
    times = [[] for _ in sessions]
    for _ in range(runs):
        for index, (session, inputs) in enumerate(zip(sessions, feeds)):
            start = time.perf_counter()
            session.run(None, inputs)
            times[index].append(time.perf_counter() - start)
    return [statistics.median(found) for found in times], outputs


def relative_error(model, case: Case, outputs: list[np.ndarray]) -> float:
    """The largest difference of the ONNX outputs from PyTorch's (first two outputs, by position), relative to
    the largest magnitude of each."""
    import torch

    with torch.no_grad():
        expected = model(**{case.parameter: torch.from_numpy(case.feed())})
    expected = [value.numpy() for value in expected.values()]
    return max(float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
               for got, want in zip(outputs, expected))


# peak memory in a fresh process --------------------------------------------------------------------------------




def measure(name: str, which: str, quick: bool) -> dict:
    """One ONNX conversion in this process: its peak resident bytes above the size once the model is built."""
    import onnx  # noqa: F401  (imports counted in neither)
    import onnxscript  # noqa: F401
    import torch
    import torch.onnx  # noqa: F401

    import interlayer  # noqa: F401
    import interlayer.backends.onnx  # noqa: F401
    import interlayer.frontends.torch  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        small = CASES[name](quick=True)
        getattr(Steps(small, small.make(), Path(tmp)), which)()  # lazy imports and caches of the first conversion
        case = CASES[name](quick)
        steps = Steps(case, case.make(), Path(tmp))
        start = _reset_peak()
        getattr(steps, which)()
        return {"peak_bytes": _resident_peak() - start}


def peak_memory(name: str, which: str, quick: bool) -> float:
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", name, which] + (["--quick"] if quick else [])
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{name} {which}: {result.stderr.strip().splitlines()[-3:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_bytes"]


# the run -------------------------------------------------------------------------------------------------------


def run_case(case: Case, args, folder: Path) -> list[str]:
    """The table rows of one model."""
    model = case.make()
    weights = weight_bytes(model)
    steps = Steps(case, model, folder)
    label = f"{case.name} | {weights / 1e6:.0f} MB"
    rows = []
    floor, ours = medians([steps.torch_export, steps.capture], args.repeat)
    rows.append(f"| {label} | capture | {floor:.2f} | {ours:.2f} | {ours / floor:.2f}x (<= 1.2x) | | | |")

    floor, ours = medians([steps.torch_onnx, steps.onnx], args.repeat)
    (dynamo_latency, our_latency), outputs = latencies([steps.torch_onnx(), steps.onnx()], case.feed(), args.runs)
    errors = [relative_error(model, case, found) for found in outputs]
    if args.no_memory:
        memory = "| - | -"
    else:
        dynamo_peak, our_peak = (peak_memory(case.name, which, case.quick) for which in ("torch_onnx", "onnx"))
        memory = (f"| {dynamo_peak / 1e6:.0f} / {our_peak / 1e6:.0f} MB | {dynamo_peak / weights:.2f} / "
                  f"{our_peak / weights:.2f} (<= 0.5)")
    rows.append(f"| | | PyTorch -> ONNX | {floor:.2f} | {ours:.2f} | {ours / floor:.2f}x (< 1x) {memory} | "
                f"{dynamo_latency * 1e3:.1f} / {our_latency * 1e3:.1f} ms = {our_latency / dynamo_latency:.2f}x "
                f"(<= 1x); error {errors[0]:.0e} / {errors[1]:.0e} |")

    built = steps.keras()
    config, values = json.dumps(built.get_config()), built.get_weights()
    import interlayer.backends.keras.layers  # noqa: F401  (interlayer's layers, for from_config)

    floor, ours = medians([lambda: steps.keras_floor(config, values), steps.keras], args.repeat)
    rows.append(f"| | | PyTorch -> Keras | {floor:.2f} | {ours:.2f} | {ours / floor:.2f}x | | | |")
    graph = steps.capture()
    floor, ours = medians([lambda: steps.keras_build_floor(config, values),
                           lambda: __import__("interlayer").build(graph, "keras")], args.repeat)
    rows.append(f"| | | (build Keras only) | {floor:.2f} | {ours:.2f} | {ours / floor:.2f}x | | | |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small configurations, one run (a smoke test)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each step (median)")
    parser.add_argument("--runs", type=int, default=20, help="onnxruntime runs of each file (median)")
    parser.add_argument("--only", choices=sorted(CASES), help="one model")
    parser.add_argument("--no-memory", action="store_true", help="time only")
    parser.add_argument("--measure", nargs=2, metavar=("CASE", "STEP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure, args.quick)))
        return 0
    if args.quick:
        args.repeat, args.runs = 1, 3
    import keras
    import onnxruntime
    import torch
    import transformers

    import interlayer

    print(f"interlayer {interlayer.__version__}, torch {torch.__version__}, transformers {transformers.__version__}, "
          f"keras {keras.__version__}, onnxruntime {onnxruntime.__version__}; {platform.machine()}, "
          f"{os.cpu_count()} cores; median of {args.repeat} runs after one warm-up"
          f"{'; small configurations' if args.quick else ''}\n")
    print("| model | weights | step | floor (s) | interlayer (s) | time ratio (target) | peak above the model: "
          "dynamo / interlayer | ... / weight bytes (target) | onnxruntime latency: dynamo / interlayer |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---|")
    names = [args.only] if args.only else list(CASES)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for row in run_case(CASES[name](args.quick), args, Path(tmp)):
                print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
