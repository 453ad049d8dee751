"""The benchmark models and, for each conversion step, the floor (the frameworks doing the same work) and
interlayer's way. Run as a script, one step in a fresh process, it prints that step's peak memory as JSON:

    python benchmarks/cases.py CASE STEP floor|ours FOLDER
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TORCH_EXPORT, KERAS_EXPORT = "PyTorch -> archive", "Keras -> archive"
TO_TORCH, TO_KERAS = "archive -> PyTorch", "archive -> Keras"


class Case:
    """One model: ``source`` is 'torch' or 'keras'; files in the benchmark folder are named after the case."""

    name = ""
    source = "torch"
    example = None

    def __init__(self):
        self.folder: Path | None = None
        self.model = None

    @property
    def steps(self) -> list[str]:
        return [TORCH_EXPORT, TO_TORCH, TO_KERAS] if self.source == "torch" else [KERAS_EXPORT, TO_KERAS, TO_TORCH]

    def path(self, suffix: str) -> Path:
        return self.folder / f"{self.name}{suffix}"

    # building the source ---------------------------------------------------------------------------------

    def make(self):
        raise NotImplementedError

    def make_keras_target(self):
        """The Keras model of the same architecture (a torch source's: the one interlayer builds)."""
        import interlayer

        return self.model if self.source == "keras" else interlayer.build(interlayer.load(self.path(".safetensors")),
                                                                          "keras")

    def prepare(self, folder: Path) -> None:
        """The source model, its archive, and the files the floors read."""
        import interlayer

        self.folder = folder
        self.model = self.make()
        interlayer.save(self._export(), self.path(".safetensors"), overwrite=True)
        if self.source == "torch":
            import safetensors.torch

            safetensors.torch.save_file(self.model.state_dict(), str(self.path(".torch.safetensors")))
        target = self.make_keras_target()
        self.path(".keras.json").write_text(json.dumps(target.get_config()))
        import safetensors.numpy

        safetensors.numpy.save_file({f"{i:05d}": np.asarray(w) for i, w in enumerate(target.get_weights())},
                                    str(self.path(".keras.safetensors")))
        if self.source == "keras":  # the PyTorch code a Keras source becomes, for the torch floor
            import shutil

            import safetensors.torch

            from interlayer.backends.torch import write_package

            module = interlayer.build(interlayer.load(self.path(".safetensors")), "torch")
            shutil.rmtree(self.path("_torch"), ignore_errors=True)
            write_package(module, self.path("_torch"))
            safetensors.torch.save_file(module.state_dict(), str(self.path(".torch.safetensors")))

    @property
    def weight_bytes(self) -> int:
        return self.path(".safetensors").stat().st_size

    def close(self) -> None:
        self.model = None

    def _export(self):
        import interlayer

        return interlayer.export(self.model, example_inputs=self.example)

    # the steps ---------------------------------------------------------------------------------------------

    def floor(self, step: str):
        return {TORCH_EXPORT: self._floor_torch_export, KERAS_EXPORT: self._floor_keras_export,
                TO_TORCH: self._floor_to_torch, TO_KERAS: self._floor_to_keras}[step]

    def ours(self, step: str):
        import interlayer

        archive = self.path(".safetensors")
        if step in (TORCH_EXPORT, KERAS_EXPORT):
            return lambda: interlayer.save(self._export(), self.path(".ours.safetensors"), overwrite=True)
        target = "torch" if step == TO_TORCH else "keras"
        return lambda: interlayer.build(archive, target)  # the archive's checksum verified while building

    def _floor_torch_export(self):
        import safetensors.torch
        import torch

        auto = torch.export.Dim.AUTO  # every axis left for torch.export to keep dynamic, as interlayer's capture does
        torch.export.export(self.model, tuple(self.example),
                            dynamic_shapes=tuple({axis: auto for axis in range(x.dim())} for x in self.example))
        safetensors.torch.save_file(self.model.state_dict(), str(self.path(".floor.safetensors")))

    def _floor_keras_export(self):
        import safetensors.numpy

        config = json.dumps(self.model.get_config())
        weights = self.model.get_weights()
        safetensors.numpy.save_file({f"{i:05d}": np.asarray(w) for i, w in enumerate(weights)},
                                    str(self.path(".floor.safetensors")), metadata={"config": config})

    def _floor_to_torch(self):
        import safetensors.torch

        module = self.make_torch_module()
        module.load_state_dict(safetensors.torch.load_file(str(self.path(".torch.safetensors"))))

    def make_torch_module(self):
        """The PyTorch module the archive becomes, built by its own code: a torch source's factory, or for a Keras
        source the plain PyTorch class interlayer wrote (model.py), constructed as any PyTorch code is."""
        if self.source == "torch":
            return self.make()
        import importlib.util

        import torch

        spec = importlib.util.spec_from_file_location(f"{self.name}_model", self.path("_torch") / "model.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        (cls,) = [value for value in vars(module).values() if isinstance(value, type)
                  and issubclass(value, torch.nn.Module) and value.__module__ == module.__name__]
        return cls()

    def _floor_to_keras(self):
        import keras
        import safetensors.numpy

        import interlayer.backends.keras.layers  # noqa: F401  (interlayer's layers, for a torch source's config)

        config = json.loads(self.path(".keras.json").read_text())
        model = keras.Model.from_config(config)
        stored = safetensors.numpy.load_file(str(self.path(".keras.safetensors")))
        model.set_weights([stored[key] for key in sorted(stored)])


# the models --------------------------------------------------------------------------------------------------


class HFResNet(Case):
    name = "hf-resnet50"

    def make(self):
        import torch
        import transformers

        torch.manual_seed(0)
        self.example = [torch.randn(1, 3, 224, 224)]
        return transformers.ResNetModel(transformers.ResNetConfig()).eval()


class BertBase(Case):
    name = "bert-base"

    def make(self):
        import torch
        import transformers

        torch.manual_seed(0)
        self.example = [torch.randint(0, 1000, (1, 32))]
        config = transformers.BertConfig(attn_implementation="eager")
        return transformers.BertModel(config).eval()


class KerasResNet50(Case):
    name = "keras-resnet50"
    source = "keras"

    def make(self):
        import keras

        keras.utils.set_random_seed(0)
        return keras.applications.ResNet50(weights=None)


class WideMLP(Case):
    """About one billion parameters: 16 linear layers of 8192 x 8192 (4.3 GB of float32)."""

    name = "mlp-1b"

    def make(self):
        import torch
        from torch import nn

        torch.manual_seed(0)
        self.example = [torch.randn(2, 8192)]
        layers = []
        for _ in range(16):
            layers += [nn.Linear(8192, 8192), nn.ReLU()]
        return nn.Sequential(*layers).eval()


CASES = {case.name: case for case in (KerasResNet50, HFResNet, BertBase, WideMLP)}
BIG = {"mlp-1b"}


# one step in this process, for its peak memory ----------------------------------------------------------------


def _resident_peak() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> int:
    """Reset the kernel's peak resident size to the current one (Linux clear_refs 5); the current size."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _measure(name: str, step: str, which: str, folder: Path) -> dict:
    case = CASES[name]()
    case.folder = folder
    if step in (TORCH_EXPORT, KERAS_EXPORT):
        case.model = case.make()
    import interlayer  # noqa: F401  (imports counted in neither)
    import keras  # noqa: F401
    import torch  # noqa: F401

    fn = case.floor(step) if which == "floor" else case.ours(step)
    start = _reset_peak()
    fn()
    return {"peak_bytes": _resident_peak() - start}


if __name__ == "__main__":
    print(json.dumps(_measure(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))))
