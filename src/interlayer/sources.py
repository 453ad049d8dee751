"""Open what users point interlayer at: archives, Keras and ONNX files, PyTorch factories with their weights."""
from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path
from typing import Any

from .errors import ArchiveError, SourceError

_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
TORCH_WEIGHT_SUFFIXES = (".pt", ".pth", ".bin")
ONNX_SUFFIXES = (".onnx",)


def is_factory(spec: str | os.PathLike) -> bool:
    """``package.module:function`` and not an existing file."""
    return isinstance(spec, str) and bool(_FACTORY.match(spec)) and not Path(spec).exists()


def open_source(spec: str | os.PathLike, example_inputs: Any = None, weights: str | os.PathLike | None = None,
                **options: Any):
    """The IR graph of a source: an archive is loaded, anything else opened as a model and exported."""
    from .api import export

    from .ir.archive import is_archive_path

    if not is_factory(spec) and is_archive_path(spec):
        if weights is not None:
            raise SourceError(f"source '{spec}': an archive carries its own weights; --weights applies to factories.")
        from .ir import archive

        try:
            return archive.load(spec)
        except ArchiveError as exc:
            if "not an interlayer archive" in str(exc):
                raise SourceError(f"source '{spec}': a safetensors file of weights only, with no architecture. "
                                  f"Pass the model as a factory and this file as its weights: "
                                  f"`interlayer convert package.module:factory --weights {spec} ...`.") from exc
            raise
    model = load_model(spec, weights)
    return export(model, example_inputs=default_examples(spec, model, example_inputs), **options)


def default_examples(spec: Any, model: Any, given: Any) -> Any:
    """The example inputs to export ``model`` on: the ones given, or for a Hugging Face folder specs that fit its
    config (``hugging_face.py``), or for a PyTorch package folder the specs its weights file records."""
    from . import hugging_face

    if given is None and hugging_face.is_folder(spec):
        return hugging_face.example_inputs(model)
    if given is None and not is_factory(spec) and isinstance(spec, (str, os.PathLike)) and is_package(spec):
        from .backends.torch.package import input_specs

        return input_specs(spec)
    return given


def is_package(path: str | os.PathLike) -> bool:
    """A PyTorch package folder (``model.py`` and ``model.safetensors``, as ``--to torch -o DIR`` writes)."""
    path = Path(path)
    return path.is_dir() and (path / "model.py").is_file() and (path / "model.safetensors").is_file()


def load_model(spec: str | os.PathLike, weights: str | os.PathLike | None = None) -> Any:
    """A live model: a Keras or ONNX file, a Hugging Face folder (``config.json`` and safetensors weights), or
    the result of calling a ``package.module:factory`` (weights loaded)."""
    from . import hugging_face

    if hugging_face.is_folder(spec):
        if weights is not None:
            raise SourceError(f"source '{spec}': a Hugging Face folder carries its weights; --weights is for "
                              f"factories.")
        return hugging_face.load(spec)
    if is_factory(spec):
        model = _call_factory(str(spec))
        if weights is not None:
            _load_weights(model, Path(weights))
        return model
    path = Path(spec)
    if is_package(path):  # a PyTorch package folder interlayer wrote: its model.py is run
        if weights is not None:
            raise SourceError(f"source '{spec}': a PyTorch package folder carries its weights; --weights is for "
                              f"factories.")
        from .backends.torch.package import load_package

        return load_package(path)
    if path.suffix.lower() == ".pt2" and path.is_file():
        import torch

        try:
            return torch.export.load(str(path)).module()
        except Exception as exc:  # noqa: BLE001  (torch's loader raises many kinds for a damaged file)
            raise SourceError(f"source '{spec}': torch.export.load cannot read it ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}).") from exc
    if not path.exists():
        raise SourceError(f"source '{spec}': no such file. Expected a .keras/.h5 or .onnx file, an interlayer "
                          f".safetensors archive, or a PyTorch factory as package.module:function.")
    if path.suffix.lower() in KERAS_SUFFIXES:
        if weights is not None:
            raise SourceError(f"source '{spec}': a Keras model file carries its weights; --weights is for factories.")
        return _load_keras(path)
    if path.suffix.lower() in ONNX_SUFFIXES:
        if weights is not None:
            raise SourceError(f"source '{spec}': an ONNX file carries its weights; --weights is for factories.")
        from .frontends.onnx.files import load_model as load_onnx_file  # checks the file, reads external data

        return load_onnx_file(path)
    raise SourceError(f"source '{spec}': not a model file interlayer reads. Expected a suffix in "
                      f"{list(KERAS_SUFFIXES) + list(ONNX_SUFFIXES) + ['.safetensors']} or a factory package.module:function. "
                      f"Received: suffix='{path.suffix}'.")


def _call_factory(spec: str) -> Any:
    module_name, function_name = spec.split(":")
    try:
        module = _import(module_name)
    except ImportError as exc:
        missing = isinstance(exc, ModuleNotFoundError) and f"{module_name}.".startswith(f"{exc.name}.")
        hint = (f" Expected a module under the current folder '{os.getcwd()}' or an installed one: run interlayer "
                f"from the folder that holds the package, or add that folder to PYTHONPATH.") if missing else ""
        raise SourceError(f"source '{spec}': cannot import module '{module_name}' ({exc}).{hint}") from exc
    factory = getattr(module, function_name, None)
    if not callable(factory):
        raise SourceError(f"source '{spec}': module '{module_name}' has no function '{function_name}'.")
    return factory()


def _import(module_name: str) -> Any:
    """Import a factory's module as ``python -m`` would find it: the current folder is on the import path (the
    ``interlayer`` script's own folder is, instead, when it starts). The folder is added only when the module is
    found nowhere else, so a package of the current folder never hides an installed one."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.partition(".")[0]
        here = os.getcwd()
        if exc.name != top or here in sys.path or "" in sys.path:
            raise
        if not (Path(here, top).is_dir() or Path(here, top + ".py").is_file()):
            raise
    sys.path.append(here)  # kept: the factory may import its own package's modules later
    importlib.invalidate_caches()
    return importlib.import_module(module_name)


def _load_keras(path: Path) -> Any:
    from .frontends.keras.files import load_model as load_keras_file  # checks the file kind and Keras version

    return load_keras_file(path)


def _load_weights(model: Any, path: Path) -> None:
    from .api import framework_of

    if not path.is_file():
        raise SourceError(f"weights '{path}': no such file.")
    if framework_of(model) == "keras":
        try:
            model.load_weights(path)
        except Exception as exc:
            raise SourceError(f"weights '{path}': cannot be loaded into the Keras model ({exc}).") from exc
        return
    state = _torch_state_dict(path)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise SourceError(f"weights '{path}': do not fit the model (every mismatch follows).\n{exc}") from exc


def _torch_state_dict(path: Path) -> dict:
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:
            raise SourceError(f"weights '{path}': not a readable safetensors file ({exc}).") from exc
    if path.suffix not in TORCH_WEIGHT_SUFFIXES:
        raise SourceError(f"weights '{path}': expected a .safetensors file or a state dict saved as "
                          f"{list(TORCH_WEIGHT_SUFFIXES)}. Received: suffix='{path.suffix}'.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise SourceError(f"weights '{path}': not a state dict that loads with weights_only=True (interlayer never "
                          f"unpickles arbitrary objects) ({type(exc).__name__}: {exc}).") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SourceError(f"weights '{path}': expected a state dict (parameter name -> tensor). "
                          f"Received: {type(state).__name__}.")
    return state
