"""What a batch reports: one :class:`Entry` per model, ``report.json`` and ``report.md``, and the ledger
``.interlayer-batch.json`` that ``--resume`` reads (which output was made from which source checksum)."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .files import output_exists
from .plan import LEDGER, REPORT_JSON, REPORT_MD, Job
from .worker import Outcome

STATUSES = ("converted", "failed", "skipped", "interrupted")
LEDGER_FORMAT = 1


@dataclass
class Entry:
    """One model's line in the report."""

    name: str
    source: str  # the file (absolute) or the factory spec
    to: str
    output: str
    status: str  # one of STATUSES
    reason: str | None = None  # why a model was skipped or not finished
    error_class: str | None = None
    error: str | None = None
    traceback: str | None = None
    max_relative_error: float | None = None
    verdict: str | None = None  # "verified", "NOT equivalent", "not checked"
    checks: list[dict] = field(default_factory=list)
    seconds: float | None = None
    finished_at: float | None = None  # seconds into the batch when the model finished
    bytes_in: int = 0
    bytes_out: int | None = None
    sha256: str | None = None
    weights: str | None = None
    origin: str | None = None  # the manifest line that named the model ("<manifest>:<line>")
    worker: str | None = None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, job: Job, status: str, reason: str | None = None, **values) -> "Entry":
        return cls(job.name, job.source, job.to, job.output, status, reason, sha256=job.sha256,
                   bytes_in=job.bytes_in, weights=job.weights,
                   origin=job.given if job.given != job.source else None, **values)

    @classmethod
    def from_outcome(cls, job: Job, outcome: Outcome) -> "Entry":
        return cls.of(job, outcome.status, error_class=outcome.error_class, error=outcome.error,
                      traceback=outcome.traceback, max_relative_error=outcome.max_relative_error,
                      verdict=outcome.verdict if outcome.checks or outcome.status == "converted" else None,
                      checks=outcome.checks, seconds=round(outcome.seconds, 3),
                      bytes_out=outcome.bytes_out if outcome.status == "converted" else None,
                      worker=outcome.worker, warnings=outcome.warnings)

    def line(self) -> str:
        """One line for a log: the status, the model, and what happened."""
        if self.status == "converted":
            error = "" if self.max_relative_error is None else f", max relative error {self.max_relative_error:.2e}"
            return f"converted  {self.name} -> {self.output} ({self.seconds:.1f} s, {self.verdict}{error})"
        if self.status == "failed":
            return f"FAILED     {self.name} ({self.source}): {self.error_class}: {_first_line(self.error)}"
        return f"{self.status:<10} {self.name}: {self.reason}"


@dataclass
class BatchReport:
    """The outcome of :func:`interlayer.batch.convert_many`."""

    outdir: Path
    entries: list[Entry]
    seconds: float
    started: str
    executor: str
    jobs: int

    def of(self, status: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.status == status]

    @property
    def converted(self) -> list[Entry]:
        return self.of("converted")

    @property
    def failed(self) -> list[Entry]:
        return self.of("failed")

    @property
    def skipped(self) -> list[Entry]:
        return self.of("skipped")

    @property
    def interrupted(self) -> list[Entry]:
        return self.of("interrupted")

    @property
    def ok(self) -> bool:
        """No model failed and none was left unfinished."""
        return not self.failed and not self.interrupted

    def summary(self) -> str:
        line = f"{len(self.converted)} converted, {len(self.failed)} failed, {len(self.skipped)} skipped"
        if self.interrupted:
            line += f", {len(self.interrupted)} interrupted"
        return f"{line} in {self.seconds:.1f} s"

    def to_dict(self) -> dict:
        from .. import __version__

        counts = {status: len(self.of(status)) for status in STATUSES}
        return {"interlayer": __version__, "started": self.started, "seconds": round(self.seconds, 3),
                "executor": self.executor, "jobs": self.jobs, "outdir": str(self.outdir), "summary": self.summary(),
                "counts": {**counts, "total": len(self.entries)}, "models": [asdict(e) for e in self.entries]}

    def markdown(self) -> str:
        rows = ["| model | status | max rel. error | verdict | seconds | bytes in | bytes out | note |",
                "|---|---|---|---|---|---|---|---|"]
        for entry in self.entries:
            error = "" if entry.max_relative_error is None else f"{entry.max_relative_error:.2e}"
            note = entry.reason or (f"{entry.error_class}: {_first_line(entry.error)}" if entry.error else "")
            cells = [f"`{entry.name}`", entry.status, error, entry.verdict or "",
                     "" if entry.seconds is None else f"{entry.seconds:.2f}", f"{entry.bytes_in:,}",
                     "" if entry.bytes_out is None else f"{entry.bytes_out:,}", note]
            rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        text = [f"# interlayer batch report\n", f"**{self.summary()}** ({self.executor}, {self.jobs} job(s), "
                f"started {self.started}). Outputs in `{self.outdir}`.\n", *rows, ""]
        for entry in self.failed:
            origin = f" (from {entry.origin})" if entry.origin else ""
            text += [f"## {entry.name}: {entry.error_class}\n", f"Source: `{entry.source}`{origin}\n",
                     "```", entry.error or "", "```", ""]
        return "\n".join(text)

    def write(self) -> tuple[Path, Path]:
        """Write ``report.json`` and ``report.md`` into the output folder, each atomically."""
        paths = self.outdir / REPORT_JSON, self.outdir / REPORT_MD
        write_atomic(paths[0], json.dumps(self.to_dict(), indent=2) + "\n")
        write_atomic(paths[1], self.markdown())
        return paths


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_atomic(path: Path, text: str) -> None:
    """Through a temporary name that the batch's clean-up recognises (``.<name>.<pid>.partial``)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class Ledger:
    """``outdir/.interlayer-batch.json``: per output name, the source checksum and settings it was made from;
    per source file, its size, mtime and sha256 (so unchanged files are not hashed again)."""

    def __init__(self, outdir: Path):
        self.path = outdir / LEDGER
        self.outputs: dict[str, dict] = {}
        self.hashes: dict[str, list] = {}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return  # absent or unreadable: nothing is known to be up to date
        if isinstance(data, dict) and data.get("format") == LEDGER_FORMAT:
            self.outputs = data.get("outputs") or {}
            self.hashes = data.get("hashes") or {}

    def up_to_date(self, job: Job) -> bool:
        """The output exists and was made from the same source checksum with the same settings (and verified if
        this run verifies)."""
        known = self.outputs.get(Path(job.output).name)
        return (output_exists(Path(job.output)) and isinstance(known, dict) and job.sha256 is not None
                and known.get("sha256") == job.sha256 and known.get("settings") == job.settings()
                and (known.get("verified", False) or not job.verify))

    def previous(self, job: Job) -> dict:
        return self.outputs.get(Path(job.output).name) or {}

    def record(self, job: Job, entry: Entry) -> None:
        self.outputs[Path(job.output).name] = {
            "source": job.source, "sha256": job.sha256, "settings": job.settings(), "verified": job.verify,
            "max_relative_error": entry.max_relative_error, "verdict": entry.verdict, "bytes_out": entry.bytes_out,
            "converted": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self.save()

    def save(self) -> None:
        write_atomic(self.path, json.dumps({"format": LEDGER_FORMAT, "outputs": self.outputs,
                                            "hashes": self.hashes}, indent=1) + "\n")
