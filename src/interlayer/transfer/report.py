"""What a transfer did, and the one error it raises when it cannot be done."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConversionError

RTOL = 1e-5


class TransferError(ConversionError):
    """Weights cannot be moved (a layer without a partner, shapes that differ, an ambiguous pairing, a destination
    parameter nothing fills, a failed verification). ``problems`` lists every one; the destination is unchanged."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = "\n".join([f"transfer: {len(self.problems)} problems; no weight was written:"]
                                + [f"  - {problem}" for problem in self.problems])
        super().__init__(message)


@dataclass
class TensorPair:
    """One destination parameter and the source tensor written into it."""

    source: str
    """the source's own name for the tensor (state_dict key, Keras variable path), else its IR tensor name"""
    destination: str
    """the destination's parameter name (state_dict key or Keras variable path)"""
    source_node: str
    destination_node: str
    shape: tuple[int, ...]
    """the destination parameter's shape, in the destination framework's layout"""

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "destination": self.destination, "source_node": self.source_node,
                "destination_node": self.destination_node, "shape": list(self.shape)}


@dataclass
class Verification:
    """Source and destination run on the same seeded random inputs (canonical layout, each model fed its own)."""

    relative_error: float
    rtol: float = RTOL
    batch: int = 2

    @property
    def passed(self) -> bool:
        return self.relative_error <= self.rtol

    def line(self) -> str:
        verdict = "verified" if self.passed else "NOT equivalent"
        return (f"{verdict}: max relative error {self.relative_error:.2e} between source and destination outputs "
                f"(rtol {self.rtol:.0e}, batch of {self.batch} seeded random inputs)")


@dataclass
class TransferReport:
    source: str
    destination: str
    method: str
    """how tensors were paired: 'structure' (graph isomorphism), 'node order' (alignment), 'position'
    (a weights-only state dict)"""
    pairs: list[TensorPair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verification: Verification | None = None
    unverified: str | None = None
    """why there is no verification"""
    output: str | None = None

    @property
    def tensors_copied(self) -> int:
        return len(self.pairs)

    @property
    def parameters_copied(self) -> int:
        return sum(math.prod(pair.shape) for pair in self.pairs)

    def node_pairs(self) -> list[tuple[str, str]]:
        """(source node, destination node), each once, in the destination's order."""
        return list(dict.fromkeys((pair.source_node, pair.destination_node) for pair in self.pairs))

    def lines(self) -> list[str]:
        lines = [f"transfer: {self.source} -> {self.destination}",
                 f"paired by {self.method}: {len(self.node_pairs())} layers, {self.tensors_copied} tensors, "
                 f"{self.parameters_copied:,} values copied"]
        for source_node, destination_node in self.node_pairs():
            tensors = [p for p in self.pairs if (p.source_node, p.destination_node) == (source_node, destination_node)]
            lines.append(f"  {source_node} -> {destination_node}: "
                         + ", ".join(f"{p.source} -> {p.destination} {tuple(p.shape)}" for p in tensors))
        lines += [f"note: {note}" for note in self.notes]
        if self.verification is not None:
            lines.append(self.verification.line())
        elif self.unverified:
            lines.append(f"not verified: {self.unverified}")
        if self.output:
            lines.append(f"wrote {self.output}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_json(self) -> dict[str, Any]:
        check = self.verification
        return {
            "source": self.source, "destination": self.destination, "method": self.method,
            "tensors_copied": self.tensors_copied, "parameters_copied": self.parameters_copied,
            "pairs": [pair.to_json() for pair in self.pairs], "notes": list(self.notes),
            "verification": None if check is None else {"relative_error": check.relative_error, "rtol": check.rtol,
                                                        "batch": check.batch, "passed": check.passed},
            "unverified": self.unverified, "output": self.output,
        }
