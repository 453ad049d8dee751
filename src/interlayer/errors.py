"""One exception tree for everything interlayer raises.

Messages follow ``<where>: <what is wrong>. Expected <rule>. Received: <name>=<value>. <how to fix>``.
"""
from __future__ import annotations


class InterlayerError(Exception):
    """Base class of every error interlayer raises on purpose."""


class ValidationError(InterlayerError):
    """A graph, node, attribute or weight breaks the IR's rules."""


class LimitError(ValidationError):
    """A tensor would be larger than interlayer allocates (``INTERLAYER_MAX_TENSOR_BYTES``, see ``ir/limits.py``)."""


class ExecutionError(InterlayerError):
    """A node failed while the reference interpreter ran it; the node's error is chained (``__cause__``)."""


class ArchiveError(InterlayerError):
    """An archive cannot be written or read (missing, corrupt, newer format, bad checksum)."""


class UnsupportedLayerError(InterlayerError):
    """One or more layers or ops have no converter, or use an option with no equivalent.

    ``problems`` lists every offending place as ``(where, message)`` so one error names them all.
    """

    def __init__(self, context: str, problems: list[tuple[str, str]]):
        self.context = context
        self.problems = list(problems)
        lines = [f"{context}: {len(self.problems)} layer(s) cannot be converted:"]
        lines += [f"  - {where}: {message}" for where, message in self.problems]
        lines.append("Register a converter for them with interlayer.register(...), or change the model.")
        super().__init__("\n".join(lines))


class SourceError(InterlayerError):
    """A model source (file, factory, weights) cannot be opened or is not a model."""


class OutputError(InterlayerError):
    """An output cannot be written where asked: its folder is missing or not writable, or it is a source."""


class ConversionError(InterlayerError):
    """A conversion produced a model that does not reproduce its source."""
