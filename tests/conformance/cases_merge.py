"""Conformance cases of the merge op family (maximum, minimum)."""
from __future__ import annotations

from support import single_op_graph

from .cases import case

for _op in ("maximum", "minimum"):
    case(f"{_op}-two", lambda op=_op: single_op_graph(op, {}, [(2, 3, 4, 4), (2, 3, 4, 4)]))
    case(f"{_op}-three-features", lambda op=_op: single_op_graph(op, {}, [(2, 5), (2, 5), (2, 5)]))
    case(f"{_op}-broadcast-channels", lambda op=_op: single_op_graph(op, {}, [(2, 3, 4, 5), (2, 3, 1, 1)]))
    case(f"{_op}-broadcast-first", lambda op=_op: single_op_graph(op, {}, [(2, 3, 1, 1), (2, 3, 4, 5)]))
    case(f"{_op}-broadcast-both", lambda op=_op: single_op_graph(op, {}, [(2, 3, 1, 5), (2, 1, 4, 1)]))
