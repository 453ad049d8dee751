"""The files of a batch: which files a source reads and their sha256 (the checksum ``--resume`` compares), whether
an output is there and its size. Sharded archives (``<name>.safetensors.index.json`` beside its shards) count as
one file set."""
from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from ..sources import ONNX_SUFFIXES

if TYPE_CHECKING:
    from .plan import Job

SHARD_INDEX = ".index.json"  # as ir/archive.py names the index of a sharded archive


def archive_of_index(path: Path) -> Path:
    """``m.safetensors.index.json`` -> ``m.safetensors`` (which ``interlayer.load`` reads through its index)."""
    return path.with_name(path.name[:-len(SHARD_INDEX)]) if path.name.endswith(".safetensors" + SHARD_INDEX) else path


def archive_kind(path: Path) -> str:
    """'archive' (interlayer metadata), 'shard' (part of a sharded archive), 'weights' (a readable safetensors
    header without either) or 'unreadable'."""
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > min(path.stat().st_size - 8, 100 * 1024 * 1024):
                return "unreadable"
            header = json.loads(handle.read(length))
    except (OSError, struct.error, ValueError):
        return "unreadable"
    if not isinstance(header, dict):
        return "unreadable"
    kind = (header.get("__metadata__") or {}).get("format")
    return {"interlayer": "archive", "interlayer-shard": "shard"}.get(kind, "weights")


def fingerprint(job: Job, cache: dict) -> None:
    """Set ``job.sha256`` and ``job.bytes_in``: the hash of the file(s) the job reads (a factory's weights file,
    or its spec when it has none). ``cache`` maps a path to ``[size, mtime_ns, sha256]`` from the last run, so
    unchanged files are not read again; it is updated in place."""
    if job.factory and job.weights is None:
        job.sha256 = hashlib.sha256(job.source.encode()).hexdigest()
        return
    files = [Path(job.weights)] if job.factory else _source_files(Path(job.source))
    hashes, total = [], 0
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            return  # a missing file: the conversion will say so
        known = cache.get(str(path))
        if not (isinstance(known, list) and known[:2] == [stat.st_size, stat.st_mtime_ns]):
            known = [stat.st_size, stat.st_mtime_ns, _sha256(path)]
            cache[str(path)] = known
        hashes.append(f"{path.name}:{known[2]}")
        total += stat.st_size
    combined = hashlib.sha256("\n".join(hashes).encode()).hexdigest()
    job.sha256 = hashes[0].rsplit(":", 1)[1] if len(hashes) == 1 else combined
    job.bytes_in = total


def _source_files(path: Path) -> list[Path]:
    """A model file; an archive's files (a sharded one's index and shards); an ONNX file and its external data."""
    if path.suffix.lower() == ".safetensors":
        return archive_files(path)
    if path.suffix.lower() not in ONNX_SUFFIXES or not path.is_file():
        return [path]
    try:
        import onnx  # small, no deep-learning framework

        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        return [path]  # unreadable: the conversion reports why
    tensors = list(model.graph.initializer) + [attribute.t for node in model.graph.node
                                                for attribute in node.attribute if attribute.HasField("t")]
    locations = {entry.value for tensor in tensors for entry in tensor.external_data if entry.key == "location"}
    return [path] + [path.parent / location for location in sorted(locations)]


def archive_files(path: Path) -> list[Path]:
    """``path``, or when only the index of a sharded archive is there, the index and the shards it lists."""
    index = path.with_name(path.name + SHARD_INDEX)
    if path.exists() or not index.is_file():
        return [path]
    try:
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return [index]
    return [index] + [index.with_name(Path(str(shard)).name) for shard in shards]


def output_exists(path: Path) -> bool:
    """An output is there: a file or package folder, or a sharded archive's index."""
    return path.exists() or (path.suffix == ".safetensors" and path.with_name(path.name + SHARD_INDEX).is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def output_bytes(path: Path) -> int:
    """Size of an output: a file (with an ONNX file's external data, or a sharded archive's shards), or every file
    of a package folder."""
    path = archive_of_index(path)
    if path.is_dir():
        return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
    files = archive_files(path) if path.suffix == ".safetensors" else [path]
    if path.suffix == ".onnx":
        files.append(path.with_name(path.name + ".data"))
    return sum(item.stat().st_size for item in files if item.is_file())
