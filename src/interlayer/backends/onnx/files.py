"""Writing an ONNX model as one ``.onnx`` file, with its weights as external data beside it when protobuf's 2 GB
limit (or a smaller threshold) would be exceeded, and the size arithmetic that decides it.

A model is written into a temporary folder inside the destination folder, checked there by
``onnx.checker.check_model(path, full_check=True)`` (the path form, which also works above 2 GB), and linked into
place only when complete: an existing file is never replaced unless ``overwrite``, and a failure leaves nothing
behind. External data is one file, ``<name>.data`` beside ``<name>`` (``model.onnx.data``), whose ``location``
in the model is that final name.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

import onnx
from onnx import helper, numpy_helper

from ...errors import InterlayerError
from ...files import staging_prefix

PROTOBUF_LIMIT = 2**31 - 1
"""The largest message protobuf serialises: a model above it must keep its weights as external data."""
ALIGNMENT = 4096
"""Each external tensor starts at a multiple of this offset, so that a runtime may map it from the file."""
INLINE_BYTES = 1024
"""Tensors smaller than this stay inside the model file even when the weights go to external data."""


def serialized_size(model: onnx.ModelProto) -> int:
    """An upper bound of the size of ``model`` serialised, computed without serialising it (which protobuf refuses
    above 2 GB): the model without its initializers, plus each initializer with room for its field header."""
    return without_initializers(model).ByteSize() + sum(_tensor_size(t) + 16 for t in model.graph.initializer)


def _tensor_size(tensor: onnx.TensorProto) -> int:
    """Raw data is measured from the dims and type (reading a huge bytes field would copy it); the header is
    bounded by its parts (each dim a varint of at most 10 bytes and its tag)."""
    if tensor.HasField("raw_data"):
        itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        header = len(tensor.name.encode()) + len(tensor.doc_string.encode()) + 11 * len(tensor.dims) + 32
        return header + itemsize * math.prod(tensor.dims)
    return tensor.ByteSize()


def without_initializers(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` whose graph has no initializers, made without copying them."""
    skeleton = onnx.ModelProto()
    _copy_fields(model, skeleton, skip={"graph"})
    _copy_fields(model.graph, skeleton.graph, skip={"initializer"})
    return skeleton


def _copy_fields(source, target, skip: set[str]) -> None:
    for field, value in source.ListFields():
        if field.name in skip:
            continue
        if field.is_repeated:
            getattr(target, field.name).extend(value)
        elif field.type == field.TYPE_MESSAGE:
            getattr(target, field.name).CopyFrom(value)
        else:
            setattr(target, field.name, value)


def with_external_data(model: onnx.ModelProto, folder: Path, location: str) -> onnx.ModelProto:
    """Write every initializer of at least ``INLINE_BYTES`` to ``folder / location`` and return a copy of the model
    whose initializers point there (``location`` as written in the model: the data file's final name)."""
    skeleton = without_initializers(model)
    with open(folder / location, "wb") as data:
        for tensor in model.graph.initializer:
            blob = tensor.raw_data if tensor.HasField("raw_data") else numpy_helper.to_array(tensor).tobytes()
            if len(blob) < INLINE_BYTES:
                skeleton.graph.initializer.add().CopyFrom(tensor)
                continue
            offset = -(-data.tell() // ALIGNMENT) * ALIGNMENT
            data.write(b"\0" * (offset - data.tell()))
            data.write(blob)
            entry = skeleton.graph.initializer.add()
            entry.name, entry.data_type = tensor.name, tensor.data_type
            entry.dims.extend(tensor.dims)
            entry.data_location = onnx.TensorProto.EXTERNAL
            for key, value in (("location", location), ("offset", offset), ("length", len(blob))):
                item = entry.external_data.add()
                item.key, item.value = key, str(value)
    return skeleton


def write_model(model: onnx.ModelProto, path: str | os.PathLike, overwrite: bool = False,
                external_threshold: int | None = None) -> Path:
    """Write ``model`` to ``path`` atomically, checked by ``onnx.checker`` (full check) before it appears.

    Above ``external_threshold`` bytes (None: protobuf's 2 GB limit) the weights go to one external data
    file ``<path>.data`` beside it, which ``onnx.load(path)`` and onnxruntime read back. An existing file is
    kept unless ``overwrite``.
    """
    path = Path(path)
    data_path = path.with_name(path.name + ".data")
    where = f"onnx backend, write_model('{path}')"
    if path.exists() and not overwrite:
        raise InterlayerError(f"{where}: the file exists. Pass overwrite=True (--force) to replace it.")
    if not path.parent.is_dir():
        raise InterlayerError(f"{where}: the folder '{path.parent}' does not exist. Create it first.")
    limit = PROTOBUF_LIMIT if external_threshold is None else external_threshold
    external = serialized_size(model) > limit
    if external and data_path.exists() and not overwrite:
        raise InterlayerError(f"{where}: the external data file '{data_path}' exists. Pass overwrite=True "
                              f"(--force) to replace it.")
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(path), suffix=".partial", dir=path.parent))
    try:
        written = staging / path.name
        if external:
            written.write_bytes(with_external_data(model, staging, data_path.name).SerializeToString())
        else:
            written.write_bytes(model.SerializeToString())
        try:
            onnx.checker.check_model(str(written), full_check=True)
        except onnx.checker.ValidationError as exc:
            raise InterlayerError(f"{where}: the model does not pass onnx.checker; nothing was written. "
                                  f"{exc}") from exc
        if external:
            _place(staging / data_path.name, data_path, overwrite, where)
        try:
            _place(written, path, overwrite, where)
        except InterlayerError:
            if external:
                data_path.unlink(missing_ok=True)
            raise
        if not external and overwrite and data_path.exists():
            data_path.unlink()  # the weights of the model this one replaced
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def _place(source: Path, destination: Path, overwrite: bool, where: str) -> None:
    if overwrite:
        os.replace(source, destination)
        return
    try:
        os.link(source, destination)  # fails if the destination appeared meanwhile: never overwrite
    except FileExistsError:
        raise InterlayerError(f"{where}: the file '{destination}' exists. Pass overwrite=True (--force) to "
                              f"replace it.") from None
