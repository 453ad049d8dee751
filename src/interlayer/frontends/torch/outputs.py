"""How a PyTorch forward's result becomes an ordered list of named outputs, the same way for capture and predict.

A result is a tensor, or tuples, lists and dicts of results (a Hugging Face ``ModelOutput`` is an ``OrderedDict``
whose unset fields are absent). They are flattened depth first: sequence items by index, dict items in their
order, ``None`` skipped. Each output is named by its path: ``last_hidden_state``, ``pooler_output``; ``0``,
``1.0`` for nested tuples; ``""`` for a bare tensor. No framework is imported here.

The forward is called with ``use_cache=False`` when it takes that parameter beyond the inputs given: a key/value
cache (Hugging Face's ``past_key_values``) is generation-time state, not an output of the layers.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable


def forward_options(forward: Callable, given: int) -> dict[str, Any]:
    """The keyword arguments capture and predict pass to ``forward`` after ``given`` positional inputs."""
    parameters = list(inspect.signature(forward).parameters.values())
    if parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    later = {p.name for p in parameters[given:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return {"use_cache": False} if "use_cache" in later else {}


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
