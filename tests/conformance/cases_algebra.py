"""Conformance cases of the algebra op family."""
from __future__ import annotations

from support import chain_graph, single_op_graph  # noqa: F401

from .cases import case, conv  # noqa: F401
