"""How a PyTorch forward's result becomes an ordered list of named outputs, the same way for capture and predict.

A result is a tensor, or tuples, lists and dicts of results (a Hugging Face ``ModelOutput`` is an ``OrderedDict``
whose unset fields are absent). They are flattened depth first: sequence items by index, dict items in their
order, ``None`` skipped. Each output is named by its path: ``last_hidden_state``, ``pooler_output``; ``0``,
``1.0`` for nested tuples; ``""`` for a bare tensor. No framework is imported here.
"""
from __future__ import annotations

from typing import Any


def flat_outputs(result: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(name, leaf)`` pairs of a forward's result, in the order interlayer records graph outputs."""
    if result is None:
        return []
    if isinstance(result, dict):
        items = [(str(key), value) for key, value in result.items()]
    elif isinstance(result, (list, tuple)):
        fields = getattr(result, "_fields", None)  # a namedtuple's items are named by field
        items = list(zip(fields, result)) if fields else [(str(index), value) for index, value in enumerate(result)]
    else:
        return [(prefix, result)]
    pairs = []
    for key, value in items:
        pairs += flat_outputs(value, f"{prefix}.{key}" if prefix else key)
    return pairs
