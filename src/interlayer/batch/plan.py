"""What a batch converts: sources (files, folders, globs, factories, manifest lines) turned into jobs, each with a
safe unique output name. Nothing here imports a framework."""
from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..conversion import TARGETS
from ..errors import InterlayerError
from ..input_specs import parse_spec
from ..sources import KERAS_SUFFIXES, ONNX_SUFFIXES, is_factory, is_package
from .files import SHARD_INDEX, archive_kind, archive_of_index

MODEL_SUFFIXES = (*KERAS_SUFFIXES, *ONNX_SUFFIXES, ".safetensors")
EXTENSIONS = {"archive": ".safetensors", "keras": ".keras", "onnx": ".onnx", "torch": ""}  # torch: a package folder
REPORT_JSON, REPORT_MD, LEDGER = "report.json", "report.md", ".interlayer-batch.json"
MANIFEST_KEYS = ("path", "input_shape", "input_shapes", "inputs", "weights", "to", "name")
_GLOB = re.compile(r"[*?\[]")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10)),
             "report"}  # Windows device names, and the stem of report.json and report.md


@dataclass
class Job:
    """One model to convert: everything a worker needs, and what the report says about its source."""

    name: str
    source: str  # an absolute file path, or a factory spec
    given: str  # where the source was named: itself, or "<manifest>:<line>"
    to: str
    output: str = ""  # absolute; set by assign_outputs
    weights: str | None = None
    example_inputs: Any = None
    options: dict = field(default_factory=dict)
    verify: bool = True
    overwrite: bool = False
    sha256: str | None = None
    bytes_in: int = 0
    skip_reason: str | None = None  # known before any work: the job is reported as skipped

    @property
    def factory(self) -> bool:
        return is_factory(self.source)

    def settings(self) -> dict:
        """What besides the source's bytes decides the output (compared by --resume)."""
        return {"to": self.to, "factory": self.source if self.factory else None,
                "example_inputs": _jsonable(self.example_inputs), "options": self.options}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


def is_batch(sources: Iterable[str | os.PathLike], manifest: str | os.PathLike | None = None) -> bool:
    """Whether a command line names a batch: several sources, a folder, a glob that is not a file, or a manifest.
    (One file, factory, Hugging Face folder or PyTorch package folder is a single conversion, whose ``-o`` is the output itself.)"""
    from .. import hugging_face

    sources = [str(source) for source in sources]
    if manifest is not None or len(sources) > 1:
        return True
    return any(not is_factory(source) and not hugging_face.is_folder(source) and not is_package(source)
               and (Path(source).is_dir() or (not Path(source).exists() and bool(_GLOB.search(source))))
               for source in sources)


def plan_jobs(sources: Iterable[str | os.PathLike], to: str, outdir: Path, *, manifest: str | os.PathLike | None,
         example_inputs: Any, options: dict, verify: bool) -> list[Job]:
    """Jobs in a deterministic order: the sources as given (folders and globs sorted), then the manifest lines."""
    _check_target(to, "batch: --to")
    jobs: list[Job] = []
    seen: set[str] = set()
    for given in sources:
        for path, skip in _expand(str(given), outdir):
            factory = is_factory(path)
            key = path if factory else os.path.normcase(path)
            if key in seen:
                continue
            seen.add(key)
            jobs.append(Job(_default_name(path, None), path, path, to, options=dict(options), verify=verify,
                            example_inputs=example_inputs if factory else None, skip_reason=skip))
    if manifest is not None:
        jobs += read_manifest(Path(manifest), to, options, verify)
    if not jobs:
        raise InterlayerError("batch: no model to convert. Expected model files, folders holding .keras/.h5/.onnx "
                              "files or interlayer .safetensors archives, globs, factories, or --manifest FILE. "
                              "Received: no source.")
    return jobs


def _expand(given: str, outdir: Path) -> list[tuple[str, str | None]]:
    """The sources one command-line item names: itself (a file, a factory or a Hugging Face folder), a folder's
    model files, or a glob's."""
    from .. import hugging_face

    if is_factory(given):
        return [(given, None)]
    path = Path(given)
    if hugging_face.is_folder(path):
        return [(str(path.absolute()), None)]
    if path.is_dir():
        found = _walk(path, outdir)
        if not found:
            raise InterlayerError(f"batch: the folder '{given}' holds no model file. Expected files ending in "
                                  f"{list(MODEL_SUFFIXES)} (searched recursively; hidden files and the output folder "
                                  f"excluded). Received: an empty or model-less folder.")
        return found
    if path.exists() or not _GLOB.search(given):
        return [(str(archive_of_index(path).absolute()), None)]  # a missing file: a failed model, reported
    found = []
    for match in sorted(glob.glob(given, recursive=True)):
        match_path = Path(match)
        if match_path.is_dir():
            found += _walk(match_path, outdir)
        elif _is_model_name(match_path.name) and not _inside(match_path, outdir):
            found += _model_file(match_path)
    if not found:
        raise InterlayerError(f"batch: the pattern '{given}' matches no model file. Expected a glob matching files "
                              f"ending in {list(MODEL_SUFFIXES)} or folders holding them. Received: {given!r}.")
    return found


def _walk(folder: Path, outdir: Path) -> list[tuple[str, str | None]]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _inside(Path(root) / d, outdir))
        for name in sorted(files):
            if not name.startswith(".") and _is_model_name(name):
                found += _model_file(Path(root) / name)
    return found


def _is_model_name(name: str) -> bool:
    return Path(name).suffix.lower() in MODEL_SUFFIXES or name.endswith(".safetensors" + SHARD_INDEX)


def _inside(path: Path, outdir: Path) -> bool:
    path, outdir = path.resolve(), outdir.resolve()
    return path == outdir or outdir in path.parents


def _model_file(path: Path) -> list[tuple[str, str | None]]:
    """A file found in a folder or by a glob: a model, a safetensors file of weights only (listed as skipped), or
    a shard of a sharded archive (not listed: its index is)."""
    path = archive_of_index(path)
    kind = archive_kind(path) if path.suffix.lower() == ".safetensors" and path.is_file() else "model"
    if kind == "shard":
        return []
    skip = "not an interlayer archive: a safetensors file of weights only (give it as a factory's weights)" \
        if kind == "weights" else None
    return [(str(path.absolute()), skip)]


def read_manifest(path: Path, to: str, options: dict, verify: bool) -> list[Job]:
    """One job per JSON line; relative paths are read from the manifest's folder. Blank lines are ignored."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InterlayerError(f"batch: cannot read the manifest '{path}' ({exc}). Expected a file of JSON lines.") \
            from exc
    jobs = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            jobs.append(_manifest_job(line, f"{path}:{number}", path.parent, to, options, verify))
    return jobs


def _manifest_job(line: str, where: str, base: Path, to: str, options: dict, verify: bool) -> Job:
    try:
        entry = json.loads(line)
    except ValueError as exc:
        raise InterlayerError(f"manifest {where}: not valid JSON ({exc}). Expected one object per line, e.g. "
                              f'{{"path": "model.keras"}}. Received: {line[:80]!r}.') from exc
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise InterlayerError(f"manifest {where}: expected an object with a \"path\" (a model file or a factory "
                              f"package.module:function). Received: {line[:80]!r}.")
    unknown = sorted(set(entry) - set(MANIFEST_KEYS))
    if unknown:
        raise InterlayerError(f"manifest {where}: unknown key(s) {unknown}. Expected keys among {list(MANIFEST_KEYS)}. "
                              f"Received: {line[:80]!r}.")
    given = [key for key in ("input_shape", "input_shapes", "inputs") if key in entry]
    if len(given) > 1:
        raise InterlayerError(f"manifest {where}: {' and '.join(given)} together. Expected one of them (input_shapes "
                              f"lists one shape per input, inputs one input spec per input).")
    target = entry.get("to", to)
    _check_target(target, f"manifest {where}: \"to\"")
    source = entry["path"]
    if not is_factory(source):
        source = str((base / source).absolute())
    weights = entry.get("weights")
    if weights is not None:
        weights = str((base / weights).absolute())
    example = _shapes(entry, where)
    name = entry.get("name")
    if name is not None and not isinstance(name, str):
        raise InterlayerError(f"manifest {where}: \"name\" must be a string. Received: name={name!r}.")
    return Job(_default_name(source, weights, name), source, where, target, weights=weights, example_inputs=example,
               options=dict(options), verify=verify)


def _shapes(entry: dict, where: str) -> Any:
    if "inputs" in entry:
        specs = entry["inputs"]
        if not isinstance(specs, list) or not specs or not all(isinstance(spec, str) for spec in specs):
            raise InterlayerError(f"manifest {where}: \"inputs\" must be a list of input specs, e.g. "
                                  f"[\"input_ids:int64[batch,seq]\"]. Received: inputs={specs!r}.")
        for spec in specs:
            try:
                parse_spec(spec)
            except InterlayerError as exc:
                raise InterlayerError(f"manifest {where}: {exc}") from None
        return list(specs)
    if "input_shape" in entry:
        return _shape(entry["input_shape"], where, "input_shape")
    if "input_shapes" in entry:
        shapes = entry["input_shapes"]
        if not isinstance(shapes, list) or not shapes:
            raise InterlayerError(f"manifest {where}: \"input_shapes\" must be a list of shapes, e.g. "
                                  f"[[1, 3, 32, 32], [1, 10]]. Received: input_shapes={shapes!r}.")
        parsed = [_shape(shape, where, "input_shapes") for shape in shapes]
        return parsed[0] if len(parsed) == 1 else parsed
    return None


def _shape(value: Any, where: str, key: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(d, int) and d > 0 for d in value):
        raise InterlayerError(f"manifest {where}: \"{key}\" holds a shape as a list of positive integers, e.g. "
                              f"[1, 3, 224, 224]. Received: {value!r}.")
    return tuple(value)


def _check_target(to: str, where: str) -> None:
    if to not in TARGETS:
        raise InterlayerError(f"{where}: unknown target. Expected one of {TARGETS}. Received: to={to!r}.")


def _default_name(source: str, weights: str | None, name: str | None = None) -> str:
    """The manifest's name, else a factory's weights file or function name, else the file's stem."""
    if name:
        return name
    if is_factory(source):
        return Path(weights).stem if weights else source.rsplit(":", 1)[1]
    return Path(source).stem


def safe_name(name: str) -> str:
    """Letters, digits, '-' and '_' only (no dots: a name never gains a suffix), at most 100 characters."""
    cleaned = _UNSAFE.sub("_", name).strip("_-")[:100] or "model"
    return cleaned + "_" if cleaned.lower() in _RESERVED else cleaned


def assign_outputs(jobs: list[Job], outdir: Path) -> None:
    """``outdir/<name><ext>``, each name made safe and unique in the batch, case-insensitively and whatever the
    target (``name``, ``name-2``, ...), so that a name identifies one model in the report."""
    taken: set[str] = set()
    for job in jobs:
        base = candidate = safe_name(job.name)
        number = 1
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{base}-{number}"
        taken.add(candidate.casefold())
        job.name = candidate
        job.output = str(outdir / (candidate + EXTENSIONS[job.to]))
