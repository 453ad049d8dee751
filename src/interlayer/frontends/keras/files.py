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
import zlib
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
    perms = _layouts(path, model)
    if perms is not None:
        object.__setattr__(model, "_interlayer_perms", perms)
    return model


LAYOUTS = "interlayer.json"


def write_layouts(path: str | Path, perms: dict) -> None:
    """Add how the model holds its graph inputs and outputs to a ``.keras`` file interlayer wrote."""
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(LAYOUTS, json.dumps({"perms": perms}))


def _layouts(path: Path, model: Any) -> dict | None:
    """The perms of ``interlayer.json``, checked against the loaded model: ``{"inputs": [...], "outputs":
    [...]}``, one entry per model input and output, each null or a permutation of that tensor's axes."""
    if path.suffix.lower() != ".keras":
        return None
    body = _zip_json(path, LAYOUTS)
    if body is None:
        return None
    perms = body.get("perms") if isinstance(body, dict) else None
    problem = _perms_problem(perms, model)
    if problem:
        raise SourceError(f"source '{path}': its {LAYOUTS}, which interlayer wrote, is damaged: {problem}. Convert "
                          f"the model's source again, or delete {LAYOUTS} from the file to read it as Keras holds it.")
    return perms


def _perms_problem(perms: Any, model: Any) -> str | None:
    if not isinstance(perms, dict):
        return (f'\'perms\' is not an object. Expected {{"perms": {{"inputs": [...], "outputs": [...]}}}}. '
                f"Received: perms={_short(perms)}")
    for kind, tensors in (("inputs", model.inputs), ("outputs", model.outputs)):
        entries = perms.get(kind)
        if not isinstance(entries, list) or len(entries) != len(tensors):
            return (f"'{kind}' does not fit the model. Expected a list of {len(tensors)} entries, one per model "
                    f"{kind[:-1]}. Received: {kind}={_short(entries)}")
        for entry, tensor in zip(entries, tensors):
            rank = len(tensor.shape)
            if entry is not None and not _is_permutation(entry, rank):
                return (f"an entry of '{kind}' is not a layout. Expected null or a permutation of {rank} axes. "
                        f"Received: {_short(entry)}")
    values = perms.get("values", {})
    if not isinstance(values, dict) or not all(isinstance(v, list) and _is_permutation(v, len(v))
                                               for v in values.values()):
        return f"'values' is not an object of layouts. Received: values={_short(values)}"
    orders = perms.get("flatten_order", {})
    if not isinstance(orders, dict) or not all(v in ("channels_first", "channels_last") for v in orders.values()):
        return f"'flatten_order' is not an object of flatten orders. Received: flatten_order={_short(orders)}"
    return None


def _is_permutation(entry: Any, rank: int) -> bool:
    return (isinstance(entry, list) and all(isinstance(a, int) and not isinstance(a, bool) for a in entry)
            and sorted(entry) == list(range(rank)))


def _zip_json(path: Path, member: str) -> Any:
    """The JSON of one member of a zip file (None when absent); a SourceError when unreadable."""
    try:
        with zipfile.ZipFile(path) as archive:
            if member not in archive.namelist():
                return None
            text = archive.read(member)
        return json.loads(text)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, UnicodeDecodeError, ValueError,
            RecursionError) as exc:
        raise SourceError(f"source '{path}': its {member} cannot be read ({type(exc).__name__}: "
                          f"{_first_line(exc)}). Expected valid JSON in an intact .keras zip archive. The file is "
                          f"damaged or truncated.") from exc


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def saved_version(path: Path) -> str | None:
    """The Keras version recorded in the file (None when it records none); a SourceError for a file that is
    not a Keras model file at all."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if path.suffix.lower() == ".keras":
        if head.startswith(b"PK") and not zipfile.is_zipfile(path):
            raise SourceError(f"source '{path}': a damaged .keras file: it starts as a zip archive but its table of "
                              f"contents is missing. Expected a whole .keras file written by model.save('....keras'). "
                              f"The file is truncated or damaged; save it again.")
        if not zipfile.is_zipfile(path):
            raise SourceError(f"source '{path}': not a Keras model file. Expected a .keras zip archive "
                              f"(config.json, metadata.json, model.weights.h5). Received: a file starting with "
                              f"{head!r}.")
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise SourceError(f"source '{path}': not a readable zip archive ({_first_line(exc)}). Expected a .keras "
                              f"file written by model.save('....keras'). The file is damaged or truncated.") from exc
        if "config.json" not in names:
            raise SourceError(f"source '{path}': a zip archive without config.json is not a Keras model file. "
                              f"Expected a file written by model.save('....keras'). Received: "
                              f"{sorted(names)[:5]}.")
        metadata = _zip_json(path, "metadata.json")
        version = metadata.get("keras_version") if isinstance(metadata, dict) else None
        return version if isinstance(version, str) else None
    if head != _HDF5_SIGNATURE:
        raise SourceError(f"source '{path}': not a Keras model file. Expected an HDF5 file (legacy .h5) written by "
                          f"model.save('....h5'). Received: a file starting with {head!r}.")
    try:
        import h5py
    except ImportError:
        return None
    try:
        with h5py.File(path, "r") as handle:
            has_config = "model_config" in handle.attrs
            version = handle.attrs.get("keras_version")
    except (OSError, ValueError, KeyError, RuntimeError) as exc:  # h5py's errors for a damaged file
        raise SourceError(f"source '{path}': not a readable HDF5 file ({_first_line(exc)}). Expected a whole model "
                          f"saved by model.save('....h5'). The file is truncated or damaged.") from exc
    if not has_config:
        raise SourceError(f"source '{path}': an HDF5 file without a model_config holds weights only. Expected "
                          f"a whole model saved by model.save('....h5'). Pass the model as a factory and "
                          f"this file as --weights.")
    version = version.decode(errors="replace") if isinstance(version, bytes) else version
    return version if isinstance(version, str) else None


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
