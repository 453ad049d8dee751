"""The archive: one ``.safetensors`` file holding the weights, the graph, provenance and a checksum.

Tensors are named ``<node>.<weight>``; the metadata (all strings, as safetensors requires) holds:

==========================  ================================================================
``format``                  ``"interlayer"``
``interlayer.format``       the IR format version (an integer as text)
``interlayer.version``      the version of interlayer that wrote the file
``interlayer.graph``        the graph as JSON, weights excluded
``source.framework``        where the model came from (``torch``, ``keras``, ...)
``source.version``          that framework's version
``source.name_map``         JSON object: source parameter name -> IR tensor name
``source.output_names``     JSON list: the source's name of each graph output (only when the source named them)
``source.<other>``          any other provenance entry, as JSON
``interlayer.checksum``     ``sha256:<hex>`` over every tensor (see :func:`checksum`)
==========================  ================================================================

Reading parses the safetensors layout directly so that every dtype (bfloat16 included) survives exactly and
damage is reported precisely; plain ``safetensors`` reads the same files. The file is memory-mapped: each weight
of the loaded graph is a read-only view of its bytes, so loading makes no copy, and the checksum reads the file
once, tensor by tensor, handing each one's pages back to the page cache once hashed.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ArchiveError
from .check import validate
from .graph import FORMAT_VERSION, Graph

_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
}
_CODES = {name: code for code, name in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024
_TEXT_SOURCE_KEYS = ("framework", "version")


def save(graph: Graph, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``graph`` to ``path`` atomically. An existing file is kept unless ``overwrite``."""
    from .. import __version__

    path = Path(path)
    if path.exists() and not overwrite:
        raise ArchiveError(f"archive '{path}': the file exists. Pass overwrite=True (--force) to replace it.")
    if not path.parent.is_dir():
        raise ArchiveError(f"archive '{path}': the folder '{path.parent}' does not exist.")
    validate(graph)
    tensors = dict(graph.tensors())
    body = graph.to_json()
    source = body.pop("source")
    metadata = {
        "format": "interlayer",
        "interlayer.format": str(FORMAT_VERSION),
        "interlayer.version": __version__,
        "interlayer.graph": json.dumps(body, sort_keys=True, separators=(",", ":")),
        "interlayer.checksum": checksum(tensors),
    }
    for key, value in source.items():  # framework and version as text, the rest as JSON
        text = value if key in _TEXT_SOURCE_KEYS else json.dumps(value, sort_keys=True, separators=(",", ":"))
        metadata[f"source.{key}"] = str(text)
    write_safetensors(path, tensors, metadata, overwrite=overwrite)
    return path


def load(path: str | os.PathLike) -> Graph:
    """Read an archive, checking its format version and checksum."""
    path = Path(path)
    header, tensors = read_safetensors(path)
    metadata = header.get("__metadata__") or {}
    if metadata.get("format") != "interlayer":
        raise ArchiveError(f"archive '{path}': a safetensors file, but not an interlayer archive (no 'format' "
                           f"metadata). Expected format='interlayer'. Received: format={metadata.get('format')!r}.")
    version = metadata.get("interlayer.format", "")
    if not version.isdigit() or int(version) > FORMAT_VERSION:
        raise ArchiveError(f"archive '{path}': written in IR format {version!r}, newer than this interlayer reads. "
                           f"Expected format <= {FORMAT_VERSION}. Upgrade interlayer to read it.")
    expected = metadata.get("interlayer.checksum")
    actual = checksum(tensors, release=True)
    if expected != actual:
        raise ArchiveError(f"archive '{path}': the tensor data does not match its checksum; the file is damaged. "
                           f"Expected {expected}. Received: {actual}.")
    try:
        body = json.loads(metadata["interlayer.graph"])
        body["source"] = {
            key[len("source."):]: text if key[len("source."):] in _TEXT_SOURCE_KEYS else json.loads(text)
            for key, text in metadata.items() if key.startswith("source.")
        }
        graph = Graph.from_json(body, tensors)
    except (KeyError, ValueError, TypeError) as exc:
        raise ArchiveError(f"archive '{path}': the graph metadata cannot be read ({exc}).") from exc
    return validate(graph)


def checksum(tensors: dict[str, np.ndarray], release: bool = False) -> str:
    """sha256 over the tensors in name order: each as ``name``, dtype code, shape, then its raw bytes.

    With ``release``, the pages of a memory-mapped tensor are handed back once hashed, so that hashing a large
    archive does not hold all of it in memory at once."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name]
        digest.update(json.dumps([name, _code(array), list(array.shape)]).encode())
        digest.update(_bytes(array))
        if release:
            _release(array)
    return "sha256:" + digest.hexdigest()


def _bytes(array: np.ndarray) -> memoryview:
    """The raw bytes of ``array`` without a copy when it is contiguous."""
    contiguous = np.ascontiguousarray(array)
    return memoryview(contiguous.reshape(-1).view(np.uint8)) if contiguous.size else memoryview(b"")


def _release(array: np.ndarray) -> None:
    """Drop the resident pages of a view into a read-only file mapping (they are read again on use)."""
    base = array.base
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None) if not isinstance(base, memoryview) else base.obj
    if not isinstance(base, mmap.mmap) or not array.nbytes or not hasattr(mmap, "MADV_DONTNEED"):
        return
    start = array.__array_interface__["data"][0] - np.frombuffer(base, np.uint8, 1).__array_interface__["data"][0]
    page = mmap.PAGESIZE
    first = start // page * page
    last = min(-(-(start + array.nbytes) // page) * page, len(base))
    if last > first:
        base.madvise(mmap.MADV_DONTNEED, first, last - first)


def read_safetensors(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the tensors of a safetensors file, with every structural fault reported."""
    if not path.is_file():
        raise ArchiveError(f"archive '{path}': no such file.")
    size = path.stat().st_size
    if size < 8:
        raise ArchiveError(f"archive '{path}': too short to be a safetensors file ({size} bytes).")
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    (length,) = struct.unpack("<Q", mapped[:8])
    if length > min(size - 8, _MAX_HEADER):
        raise ArchiveError(f"archive '{path}': not a safetensors file, or truncated (header of {length} bytes "
                           f"in a file of {size}).")
    try:
        header = json.loads(mapped[8:8 + length])
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArchiveError(f"archive '{path}': not a safetensors file: its header is not valid JSON "
                           f"({exc}).") from exc
    data_start, data_size = 8 + length, size - 8 - length
    if not isinstance(header, dict):
        raise ArchiveError(f"archive '{path}': the safetensors header is not a JSON object.")
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            begin, end = entry["data_offsets"]
            dtype = _numpy_dtype(entry["dtype"])
            shape = tuple(entry["shape"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArchiveError(f"archive '{path}': tensor '{name}' has a malformed header entry ({exc}).") from exc
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if end > data_size or end - begin != expected or begin < 0:
            raise ArchiveError(f"archive '{path}': tensor '{name}' lies outside the file or has the wrong size; the "
                               f"file is truncated or damaged.")
        tensors[name] = np.frombuffer(mapped, dtype=dtype, count=expected // dtype.itemsize,
                                      offset=data_start + begin).reshape(shape)
    return header, tensors


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str], *,
                      overwrite: bool = False) -> None:
    """Write a safetensors file atomically: to a temporary name beside ``path``, then linked into place.

    Layout as the safetensors specification has it: an 8-byte little-endian header length, the JSON header
    (space-padded to 8 bytes), then the tensors back to back. Tensors are ordered by item size, largest first,
    then by name, so every tensor is aligned to its item size and the file is byte-for-byte deterministic.
    """
    order = sorted(tensors, key=lambda name: (-tensors[name].dtype.itemsize, name))
    header: dict[str, Any] = {"__metadata__": dict(metadata)}
    offset = 0
    for name in order:
        array = tensors[name]
        header[name] = {"dtype": _code(array), "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(temporary, "wb") as handle:
            handle.write(struct.pack("<Q", len(encoded)))
            handle.write(encoded)
            for name in order:
                handle.write(_bytes(tensors[name]))
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if the destination appeared meanwhile: never overwrite
            except FileExistsError:
                raise ArchiveError(f"archive '{path}': the file exists. Pass overwrite=True (--force) to replace it.") from None
    finally:
        temporary.unlink(missing_ok=True)


def _code(array: np.ndarray) -> str:
    try:
        return _CODES[array.dtype.name]
    except KeyError:
        raise ArchiveError(f"archive: dtype {array.dtype} has no safetensors code. Expected one of "
                           f"{sorted(_CODES)}.") from None


def _numpy_dtype(code: str) -> np.dtype:
    name = _DTYPES.get(code)
    if name is None:
        raise ValueError(f"unknown dtype {code!r}")
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name).newbyteorder("<")
