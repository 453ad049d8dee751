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

An archive whose tensors exceed ``max_shard_size`` (2 GiB by default) is sharded the way Hugging Face shards
checkpoints: ``model-00001-of-00003.safetensors``... each a plain safetensors file of some of the tensors, and
``model.safetensors.index.json`` holding ``{"metadata": {...the keys above...}, "weight_map": {tensor: shard}}``.
The index is written last, so it appears only once every shard is complete. ``load("model.safetensors")`` reads
the index when the single file is absent, so sharding is transparent.

Reading parses the safetensors layout directly so that every dtype (bfloat16 included) survives exactly and
damage is reported precisely; plain ``safetensors`` reads the same files. The file is memory-mapped: each weight
of the loaded graph is a read-only view of its bytes, so loading makes no copy, and the checksum reads the file
once, tensor by tensor, handing each one's pages back to the page cache once hashed.
"""
from __future__ import annotations

import hashlib
import json
import math
import mmap
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import ArchiveError, ValidationError
from ..files import atomic_file
from . import json_types
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
MAX_SHARD_SIZE = 2 * 1024 ** 3
INDEX_SUFFIX = ".index.json"


def save(graph: Graph, path: str | os.PathLike, *, overwrite: bool = False,
         max_shard_size: int = MAX_SHARD_SIZE) -> Path:
    """Write ``graph`` to ``path`` atomically; an existing archive is kept unless ``overwrite``. Above
    ``max_shard_size`` bytes of tensors, shards and an index are written instead; the index path is returned."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ArchiveError(f"archive '{path}': the folder '{path.parent}' does not exist.")
    validate(graph)
    tensors = dict(graph.tensors())
    shards = _shard(tensors, max_shard_size)
    targets = [path] if len(shards) == 1 else [_index_path(path)] + [path.with_name(name) for name in shards]
    existing = [str(target) for target in targets if target.exists()]
    if existing and not overwrite:
        raise ArchiveError(f"archive '{path}': {existing[0]} exists. Pass overwrite=True (--force) to replace it.")
    metadata = _metadata(graph)
    # the checksum is computed beside the writing (hashlib lets other threads run), and written into the
    # header's reserved place once the data is out: one pass of each over the tensors, side by side
    with ThreadPoolExecutor(1) as pool:
        digest = pool.submit(checksum, tensors)
        if len(shards) == 1:
            write_safetensors(path, tensors, {**metadata, _CHECKSUM: _PENDING}, overwrite=overwrite,
                              pending=digest.result)
            return path
        return _save_sharded(path, tensors, shards, metadata, overwrite, digest.result)


_CHECKSUM = "interlayer.checksum"
_PENDING = "sha256:" + "0" * 64
_FLUSH_BYTES = 32 * 2 ** 20
"""the checksum's place in a header while the data is written: as long as the checksum, overwritten after"""


def _metadata(graph: Graph) -> dict[str, str]:
    from .. import __version__

    body = graph.to_json()
    source = body.pop("source")
    metadata = {
        "format": "interlayer",
        "interlayer.format": str(FORMAT_VERSION),
        "interlayer.version": __version__,
        "interlayer.graph": json.dumps(body, sort_keys=True, separators=(",", ":")),
    }
    for key, value in source.items():  # framework and version as text, the rest as JSON
        text = value if key in _TEXT_SOURCE_KEYS else json.dumps(value, sort_keys=True, separators=(",", ":"))
        metadata[f"source.{key}"] = str(text)
    return metadata


def _shard(tensors: dict[str, np.ndarray], limit: int) -> dict[str, list[str]]:
    """Shard file name -> its tensors, filled in order up to ``limit`` bytes (a larger tensor alone); one entry
    named ``""`` when everything fits in one file."""
    groups: list[list[str]] = [[]]
    size = 0
    for name, array in tensors.items():
        if groups[-1] and size + array.nbytes > limit:
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += array.nbytes
    if len(groups) == 1:
        return {"": groups[0]}
    return {f"{{stem}}-{index:05d}-of-{len(groups):05d}.safetensors": names for index, names in enumerate(groups, 1)}


def is_archive_path(path: str | os.PathLike) -> bool:
    """Whether a path names an archive: a ``.safetensors`` file or the index of a sharded one."""
    name = Path(path).name
    return name.endswith(".safetensors") or name.endswith(".safetensors" + INDEX_SUFFIX)


def _index_path(path: Path) -> Path:
    return path.with_name(path.name + INDEX_SUFFIX)


def _save_sharded(path: Path, tensors: dict[str, np.ndarray], shards: dict[str, list[str]],
                  metadata: dict[str, str], overwrite: bool, digest: Callable[[], str]) -> Path:
    stem = path.name[:-len(".safetensors")] if path.name.endswith(".safetensors") else path.name
    index = _index_path(path)
    weight_map, written = {}, []
    try:
        for pattern, names in shards.items():
            shard = path.with_name(pattern.format(stem=stem))
            write_safetensors(shard, {name: tensors[name] for name in names},
                              {"format": "interlayer-shard", "interlayer.index": index.name}, overwrite=overwrite)
            written.append(shard)
            weight_map.update(dict.fromkeys(names, shard.name))
        total = sum(array.nbytes for array in tensors.values())
        body = {"metadata": {**metadata, _CHECKSUM: digest(), "total_size": str(total)}, "weight_map": weight_map}
        _write_text(index, json.dumps(body, indent=1, sort_keys=True) + "\n", overwrite)
    except BaseException:
        for shard in written:
            shard.unlink(missing_ok=True)
        raise
    return index


def _write_text(path: Path, text: str, overwrite: bool) -> None:
    with atomic_file(path, overwrite=overwrite, exists=lambda: _exists(path)) as temporary:
        temporary.write_text(text)


def load(path: str | os.PathLike) -> Graph:
    """Read an archive (a single file, or the index of a sharded one), checking its format version and checksum."""
    graph, confirm = load_checking(path, background=False)
    confirm()
    return graph


def load_checking(path: str | os.PathLike, *, background: bool = True) -> tuple[Graph, Callable[[], None]]:
    """The graph of an archive and a function that raises :class:`ArchiveError` unless its checksum matches.

    With ``background``, the checksum is computed in a thread while the caller works (building a model reads
    the same pages), and the function waits for it: a caller must call it before handing out anything made
    from the graph, as ``interlayer.build`` of a path does."""
    path = Path(path)
    if path.name.endswith(INDEX_SUFFIX) or (not path.exists() and _index_path(path).is_file()):
        metadata, tensors = _read_sharded(path if path.name.endswith(INDEX_SUFFIX) else _index_path(path))
    else:
        header, tensors = read_safetensors(path)
        metadata = header.get("__metadata__", {})
    if metadata.get("format") != "interlayer":
        raise ArchiveError(f"archive '{path}': a safetensors file, but not an interlayer archive (no 'format' "
                           f"metadata). Expected format='interlayer'. Received: format={metadata.get('format')!r}.")
    _check_version(path, metadata.get("interlayer.format", ""))
    expected = metadata.get("interlayer.checksum")

    def compare(actual: str) -> None:
        if expected != actual:
            raise ArchiveError(f"archive '{path}': the tensor data does not match its checksum; the file is damaged. "
                               f"Expected {expected}. Received: {actual}.")

    if background:
        pool = ThreadPoolExecutor(1)
        future = pool.submit(checksum, tensors, True)
        pool.shutdown(wait=False)
        confirm = lambda: compare(future.result())  # noqa: E731
    else:
        compare(checksum(tensors, drop_pages=True))
        confirm = lambda: None  # noqa: E731
    graph = _graph(path, metadata, tensors)
    return validate(graph), confirm


def _check_version(path: Path, version: str) -> None:
    if not (version.isascii() and version.isdigit()):
        raise ArchiveError(f"archive '{path}': the IR format version is not a number. Expected "
                           f"interlayer.format='{FORMAT_VERSION}' (or older). Received: interlayer.format={version!r}.")
    if int(version) > FORMAT_VERSION:
        raise ArchiveError(f"archive '{path}': written in IR format {version!r}, newer than this interlayer reads. "
                           f"Expected format <= {FORMAT_VERSION}. Upgrade interlayer to read it.")


def _graph(path: Path, metadata: dict[str, str], tensors: dict[str, np.ndarray]) -> Graph:
    """The graph of the metadata over the file's tensors: every tensor a weight the graph names, every weight it
    names a tensor of the file."""
    if "interlayer.graph" not in metadata:
        raise ArchiveError(f"archive '{path}': no graph. Expected the metadata key 'interlayer.graph'. Received: "
                           f"keys {sorted(metadata)[:8]}. The file is damaged.")
    body = _json(path, "interlayer.graph", metadata["interlayer.graph"])
    if not isinstance(body, dict):
        raise ArchiveError(f"archive '{path}': the graph is not a JSON object. Received: {json_types.short(body)}.")
    body["source"] = {key[len("source."):]: text if key[len("source."):] in _TEXT_SOURCE_KEYS
                      else _json(path, key, text) for key, text in metadata.items() if key.startswith("source.")}
    try:
        graph = Graph.from_json(body, tensors)
    except (ValidationError, ArchiveError) as exc:  # the JSON's types, a weight the file lacks: name the file
        raise ArchiveError(f"archive '{path}': {exc}") from exc
    unused = sorted(set(tensors) - {name for name, _ in graph.tensors()})
    if unused:
        raise ArchiveError(f"archive '{path}': the file holds {len(unused)} tensor(s) that no node of the graph "
                           f"names, e.g. {unused[:3]}. Expected every tensor to be a node's weight "
                           f"('<node>.<weight>'). The file is damaged, or not written by interlayer.")
    return graph


def _json(path: Path, key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ArchiveError(f"archive '{path}': the metadata '{key}' is not valid JSON ({type(exc).__name__}: "
                           f"{str(exc)[:200]}). The file is damaged.") from exc


def _read_sharded(index: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The metadata and the tensors of a sharded archive, each shard checked against the index."""
    try:
        body = json.loads(index.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ArchiveError(f"archive '{index}': not a readable shard index (expected JSON with 'metadata' and "
                           f"'weight_map') ({type(exc).__name__}: {str(exc)[:200]}).") from exc
    found = json_types.problems(body, json_types.SHARD_INDEX, "the shard index")
    if found:
        raise ArchiveError(f"archive '{index}': a malformed shard index: {json_types.summary(found)}.")
    metadata, weight_map = body["metadata"], body["weight_map"]
    tensors: dict[str, np.ndarray] = {}
    for shard in sorted(set(weight_map.values())):
        if Path(shard).name != shard or shard in ("", ".", "..") or "\0" in shard:
            raise ArchiveError(f"archive '{index}': shard names must be files beside the index. Received: {shard!r}.")
        _, found = read_safetensors(index.with_name(shard))
        listed = {name for name, owner in weight_map.items() if owner == shard}
        if set(found) != listed:
            raise ArchiveError(f"archive '{index}': shard '{shard}' does not hold the tensors the index lists "
                               f"(missing {sorted(listed - set(found))[:5]}, unexpected "
                               f"{sorted(set(found) - listed)[:5]}).")
        tensors.update(found)
    return metadata, tensors


def checksum(tensors: dict[str, np.ndarray], drop_pages: bool = False) -> str:
    """sha256 over the tensors in name order: each as ``name``, dtype code, shape, then its raw bytes.

    With ``drop_pages``, the pages of a memory-mapped tensor are handed back once hashed, so that hashing a large
    archive does not hold all of it in memory at once."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name]
        digest.update(json.dumps([name, _code(array), list(array.shape)]).encode())
        digest.update(_bytes(array))
        if drop_pages:
            release(array)
    return "sha256:" + digest.hexdigest()


def _bytes(array: np.ndarray) -> memoryview:
    """The raw bytes of ``array`` without a copy when it is contiguous."""
    contiguous = np.ascontiguousarray(array)
    return memoryview(contiguous.reshape(-1).view(np.uint8)) if contiguous.size else memoryview(b"")


def release(array: np.ndarray) -> None:
    """Drop the resident pages of a view into a read-only file mapping (they are read again on use); nothing for
    any other array. Backends call it once they have copied a weight into the framework, so that building from a
    loaded archive holds each weight once, in the framework."""
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
    """The header and the tensors of a safetensors file, with every structural fault reported.

    The header is checked against its schema (``json_types.TENSOR_ENTRY``; metadata values are strings), each
    tensor's byte range against its dtype and shape, and the ranges, sorted, must tile the data section exactly:
    no overlap, no gap, nothing after the last tensor (the safetensors specification's rule)."""
    if path.is_dir():
        raise ArchiveError(f"archive '{path}': a folder, not an archive. Expected a .safetensors file.")
    if not path.is_file():
        raise ArchiveError(f"archive '{path}': no such file.")
    size = path.stat().st_size
    if size < 8:
        raise ArchiveError(f"archive '{path}': too short to be a safetensors file ({size} bytes).")
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    (length,) = struct.unpack("<Q", mapped[:8])
    if length > min(size - 8, _MAX_HEADER):
        raise ArchiveError(_not_safetensors(path, mapped[:8], f"header of {length} bytes in a file of {size}"))
    header = _parse_header(path, mapped[:8], mapped[8:8 + length])
    data_start, data_size = 8 + length, size - 8 - length
    entries = {name: entry for name, entry in header.items() if name != "__metadata__"}
    ranges = {name: _byte_range(path, name, entry) for name, entry in entries.items()}
    _check_tiling(path, ranges, data_size)
    tensors = {}
    for name, entry in entries.items():
        begin, end = ranges[name]
        dtype = _numpy_dtype(entry["dtype"])
        tensors[name] = np.frombuffer(mapped, dtype=dtype, count=(end - begin) // dtype.itemsize,
                                      offset=data_start + begin).reshape(entry["shape"])
    return header, tensors


_MODEL_FILES = {".keras": "a Keras model file", ".h5": "a Keras model file (HDF5)", ".hdf5": "a Keras model file "
                "(HDF5)", ".onnx": "an ONNX model file"}
_SIGNATURES = ((b"PK\x03\x04", "a zip archive (a Keras .keras model?)"), (b"\x89HDF\r\n\x1a\n", "an HDF5 file"))


def _not_safetensors(path: Path, head: bytes, detail: str) -> str:
    """Why ``path`` is not read as an archive, naming the model file it is when its name or first bytes say so."""
    kind = _MODEL_FILES.get(path.suffix.lower()) or next(
        (kind for signature, kind in _SIGNATURES if head.startswith(signature)), None)
    if kind is None:
        return f"archive '{path}': not a safetensors file, or truncated ({detail})."
    return (f"archive '{path}': {kind}, not an interlayer archive. Expected a .safetensors archive. Convert it to "
            f"an archive first: interlayer convert {path} --to archive -o {path.with_suffix('.safetensors')}.")


def _parse_header(path: Path, head: bytes, text: bytes) -> dict[str, Any]:
    """The header as JSON, its types checked: a refusal names the first field that breaks the schema."""
    try:
        header = json.loads(text, object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        detail = f"its header is not valid JSON: {type(exc).__name__}: {str(exc)[:200]}"
        raise ArchiveError(_not_safetensors(path, head, detail)) from exc
    if not isinstance(header, dict):
        raise ArchiveError(f"archive '{path}': the safetensors header is not a JSON object. Received: "
                           f"{json_types.short(header)}.")
    found = []
    metadata = header.get("__metadata__", {})
    if not json_types.METADATA.test(metadata):
        found.append(f"'__metadata__' has the wrong type. Expected a JSON object of strings (safetensors metadata "
                     f"is text). Received: __metadata__={json_types.short(metadata)}")
    for name, entry in header.items():
        if name != "__metadata__":
            wrong = json_types.problems(entry, json_types.TENSOR_ENTRY, f"tensor '{name}'")
            if not wrong and entry["dtype"] not in _DTYPES:
                wrong.append(f"tensor '{name}': unknown dtype. Expected one of {sorted(_DTYPES)}. "
                             f"Received: dtype={json_types.short(entry['dtype'])}")
            found += wrong
    if found:
        raise ArchiveError(f"archive '{path}': a malformed safetensors header: {json_types.summary(found)}. The "
                           f"file is damaged, or was not written by a safetensors writer.")
    return header


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key is given twice: {sorted({k for k in keys if keys.count(k) > 1})[:3]}")
    return dict(pairs)


def _byte_range(path: Path, name: str, entry: dict[str, Any]) -> tuple[int, int]:
    """The tensor's ``[begin, end)`` in the data section, checked against its dtype and shape (exact integers:
    a shape whose product overflows int64 is refused, not wrapped)."""
    begin, end = entry["data_offsets"]
    expected = math.prod(entry["shape"]) * _numpy_dtype(entry["dtype"]).itemsize
    if end - begin != expected:
        raise ArchiveError(f"archive '{path}': tensor '{name}' has the wrong size; the file is truncated or damaged. "
                           f"Expected {expected} bytes for dtype {entry['dtype']} and shape {entry['shape']}. "
                           f"Received: data_offsets={[begin, end]}.")
    return begin, end


def _check_tiling(path: Path, ranges: dict[str, tuple[int, int]], data_size: int) -> None:
    """The byte ranges, sorted, must cover the data section exactly once: an overlap is named first, then a gap,
    then a data section of another length."""
    ordered = sorted(ranges.items(), key=lambda item: item[1])
    pairs = list(zip([("", (0, 0))] + ordered, ordered))
    overlaps = [(a, b) for (a, (_, end)), (b, (begin, _)) in pairs if begin < end]
    gaps = [(b, begin - end) for (_, (_, end)), (b, (begin, _)) in pairs if begin > end]
    if overlaps or gaps:
        name = overlaps[0][1] if overlaps else gaps[0][0]
        what = f"overlaps tensor '{overlaps[0][0]}'" if overlaps else f"leaves a gap of {gaps[0][1]} bytes before it"
        raise ArchiveError(f"archive '{path}': tensor '{name}' {what}; the file is damaged. Expected tensors back "
                           f"to back, without overlaps or gaps. Received: data_offsets={list(ranges[name])}.")
    position = ordered[-1][1][1] if ordered else 0
    if position != data_size:
        problem = ("is truncated: its tensors end past the end of the file" if position > data_size
                   else f"has {data_size - position} bytes after its last tensor")
        raise ArchiveError(f"archive '{path}': the file {problem}; it is truncated or damaged. Expected a data "
                           f"section of {position} bytes. Received: {data_size} bytes.")


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str], *,
                      overwrite: bool = False, pending: Callable[[], str] | None = None) -> None:
    """Write a safetensors file atomically: to a temporary name beside ``path``, then linked into place.

    Layout as the safetensors specification has it: an 8-byte little-endian header length, the JSON header
    (space-padded to 8 bytes), then the tensors back to back. Tensors are ordered by item size, largest first,
    then by name, so every tensor is aligned to its item size and the file is byte-for-byte deterministic.
    With ``pending``, the checksum's reserved place in the header is filled with ``pending()`` once the data is
    written.
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
    with atomic_file(path, overwrite=overwrite, exists=lambda: _exists(path)) as temporary:
        with open(temporary, "wb") as handle, ThreadPoolExecutor(1) as flusher:
            handle.write(struct.pack("<Q", len(encoded)))
            handle.write(encoded)
            flushing, unflushed = None, 0
            for name in order:
                handle.write(_bytes(tensors[name]))
                unflushed += tensors[name].nbytes
                if unflushed >= _FLUSH_BYTES and (flushing is None or flushing.done()):
                    # the disk takes what is written while the rest is written: the final fsync waits for less
                    handle.flush()
                    flushing, unflushed = flusher.submit(os.fdatasync, handle.fileno()), 0
            if pending is not None:
                handle.seek(8 + encoded.index(_PENDING.encode()))
                handle.write(pending().encode())
            handle.flush()
            if flushing is not None:
                flushing.result()
            os.fsync(handle.fileno())


def _exists(path: Path) -> ArchiveError:
    return ArchiveError(f"archive '{path}': the file exists. Pass overwrite=True (--force) to replace it.")


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
