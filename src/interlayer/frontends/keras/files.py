"""Keras model files as sources: ``.keras`` (Keras 3's zip archive) and legacy ``.h5``/``.hdf5``.

A file is checked for its kind before Keras opens it, and the Keras version that saved it is read from the
file, so that a failure says which of the three it is: not a model file, a model saved by another Keras
version than the installed one, or a model whose custom classes are not importable.

interlayer's own layers (``interlayer.backends.keras.layers``) are registered before loading, and a file that
interlayer wrote carries ``interlayer.json`` beside Keras's entries: how the model holds each graph input and
output (``_interlayer_perms``), restored on the loaded model so that it is run on canonical inputs as built.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from ...errors import SourceError

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def load_model(path: str | Path) -> Any:
    """The Keras model saved at ``path`` (not compiled); a :class:`SourceError` saying why it cannot be."""
    import keras

    from ...backends.keras import layers  # noqa: F401  (registers interlayer's layer classes)

    path = Path(path)
    saved = saved_version(path)
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # keras raises many kinds for a file it cannot read
        raise SourceError(f"source '{path}': {_explain(exc, saved, keras.__version__)} "
                          f"({type(exc).__name__}: {_first_line(exc)}).") from exc
    perms = _layouts(path)
    if perms is not None:
        object.__setattr__(model, "_interlayer_perms", perms)
    return model


LAYOUTS = "interlayer.json"


def write_layouts(path: str | Path, perms: dict) -> None:
    """Add how the model holds its graph inputs and outputs to a ``.keras`` file interlayer wrote."""
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(LAYOUTS, json.dumps({"perms": perms}))


def _layouts(path: Path) -> dict | None:
    if path.suffix.lower() != ".keras":
        return None
    with zipfile.ZipFile(path) as archive:
        if LAYOUTS not in archive.namelist():
            return None
        return json.loads(archive.read(LAYOUTS)).get("perms")


def saved_version(path: Path) -> str | None:
    """The Keras version recorded in the file (None when it records none); a SourceError for a file that is
    not a Keras model file at all."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if path.suffix.lower() == ".keras":
        if not zipfile.is_zipfile(path):
            raise SourceError(f"source '{path}': not a Keras model file. Expected a .keras zip archive "
                              f"(config.json, metadata.json, model.weights.h5). Received: a file starting with "
                              f"{head!r}.")
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise SourceError(f"source '{path}': a zip archive without config.json is not a Keras model file. "
                                  f"Expected a file written by model.save('....keras'). Received: "
                                  f"{sorted(names)[:5]}.")
            metadata = json.loads(archive.read("metadata.json")) if "metadata.json" in names else {}
        return metadata.get("keras_version")
    if head != _HDF5_SIGNATURE:
        raise SourceError(f"source '{path}': not a Keras model file. Expected an HDF5 file (legacy .h5) written by "
                          f"model.save('....h5'). Received: a file starting with {head!r}.")
    try:
        import h5py
    except ImportError:
        return None
    with h5py.File(path, "r") as handle:
        if "model_config" not in handle.attrs:
            raise SourceError(f"source '{path}': an HDF5 file without a model_config holds weights only. Expected "
                              f"a whole model saved by model.save('....h5'). Pass the model as a factory and "
                              f"this file as --weights.")
        version = handle.attrs.get("keras_version")
    return version.decode() if isinstance(version, bytes) else version


def _explain(exc: Exception, saved: str | None, installed: str) -> str:
    text = str(exc)
    if "Could not locate" in text or "Unknown layer" in text or "custom_objects" in text:
        return ("the file uses a layer or function class Keras cannot find. Expected every custom class importable "
                "and registered with keras.saving.register_keras_serializable. Import the module that defines it "
                "first (for example, open the model in a factory module and convert the factory)")
    if saved and saved.split(".")[:2] != installed.split(".")[:2]:
        return (f"Keras version mismatch: the file was saved by Keras {saved}, this is Keras {installed}, which "
                f"cannot open it. Expected a file saved by a Keras version this one reads. Open it with Keras "
                f"{saved} and save it again as .keras, or install keras=={saved}")
    return f"not a Keras model file Keras {installed} can open. Expected a file written by model.save()"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
