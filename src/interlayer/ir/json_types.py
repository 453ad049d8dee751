"""The types of the JSON an archive holds, checked in one place before anything reads it.

A safetensors header and an interlayer graph are JSON written by whoever wrote the file. Before a field is used,
its record is checked against the small schemas below (:func:`problems`), and every field that breaks its rule is
named. Readers then trust the types: ``archive.py`` checks where the tensors lie, ``check.py`` what the graph
means.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple


class Rule(NamedTuple):
    expected: str
    """what the rule asks for, as text (``"a string"``)"""
    test: Callable[[Any], bool]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def list_of(rule: Rule, items: str, length: int | None = None) -> Rule:
    """A list of ``length`` (any number when None) values that keep ``rule``; ``items`` names them."""
    count = f"{length} " if length is not None else ""
    return Rule(f"a list of {count}{items}",
                lambda v: isinstance(v, list) and (length is None or len(v) == length) and all(rule.test(x) for x in v))


def map_of(rule: Rule, items: str) -> Rule:
    """A JSON object whose values keep ``rule``; ``items`` names them."""
    return Rule(f"a JSON object of {items}", lambda v: isinstance(v, dict) and all(rule.test(x) for x in v.values()))


TEXT = Rule("a string", lambda v: isinstance(v, str))
INTEGER = Rule("an integer", _is_int)
COUNT = Rule("an integer >= 0", lambda v: _is_int(v) and v >= 0)
DIM = Rule("an integer >= 0 or the name of a symbolic size", lambda v: isinstance(v, str) or (_is_int(v) and v >= 0))
OBJECT = Rule("a JSON object", lambda v: isinstance(v, dict))
LIST = Rule("a list", lambda v: isinstance(v, list))
TEXTS = list_of(TEXT, "strings")
PERM = Rule("null or a list of integers", lambda v: v is None or list_of(INTEGER, "integers").test(v))

Fields = dict[str, tuple[Rule, bool]]
"""field -> (rule, required)"""

TENSOR_ENTRY: Fields = {
    "dtype": (TEXT, True),
    "shape": (list_of(COUNT, "integers >= 0"), True),
    "data_offsets": (list_of(COUNT, "integers >= 0", 2), True),
}
"""A tensor of a safetensors header."""

METADATA = map_of(TEXT, "strings")
"""safetensors metadata: text only."""
SHARD_INDEX: Fields = {"metadata": (METADATA, True), "weight_map": (map_of(TEXT, "shard names"), True)}
"""The index of a sharded archive."""

SPEC: Fields = {
    "name": (TEXT, True), "shape": (list_of(DIM, "sizes >= 0 or symbol names"), True), "dtype": (TEXT, False),
    "perm": (PERM, False),
}
NODE: Fields = {
    "name": (TEXT, True), "op": (TEXT, True), "inputs": (TEXTS, True), "outputs": (TEXTS, True),
    "attrs": (OBJECT, True), "weights": (TEXTS, False),
}
GRAPH: Fields = {  # its specs and nodes are checked one by one, against SPEC and NODE
    "format_version": (INTEGER, True), "name": (TEXT, False), "inputs": (LIST, True), "outputs": (LIST, True),
    "nodes": (LIST, True), "source": (OBJECT, False),
    "sizes": (map_of(Rule("a JSON object with 'min' and 'max'", lambda v: isinstance(v, dict) and all(
        (k == "min" and _is_int(x)) or (k == "max" and (x is None or _is_int(x))) for k, x in v.items())),
        "size ranges"), False),
    "guards": (TEXTS, False),
}
SOURCE: Fields = {
    "framework": (TEXT, False), "version": (TEXT, False), "name_map": (map_of(TEXT, "tensor names"), False),
    "output_names": (list_of(Rule("a string or null", lambda v: v is None or isinstance(v, str)),
                             "names (strings or null)"), False),
    "layer_outputs": (map_of(TEXTS, "lists of value names"), False),
    "shared": (map_of(TEXT, "tensor names"), False),
    "held_perms": (map_of(PERM, "permutations of axes"), False),
}
"""Provenance entries interlayer reads; any other is kept as it is."""


def problems(record: Any, fields: Fields, where: str) -> list[str]:
    """Every way ``record`` breaks ``fields``, as ``<where>: ...`` texts; empty when it keeps them all."""
    if not isinstance(record, dict):
        return [f"{where} is not a JSON object. Expected an object with {sorted(fields)}. "
                f"Received: {short(record)}"]
    found = []
    for name, (rule, required) in fields.items():
        if name not in record:
            if required:
                found.append(f"{where}: '{name}' is missing. Expected {rule.expected}")
        elif not rule.test(record[name]):
            found.append(f"{where}: '{name}' has the wrong type. Expected {rule.expected}. "
                         f"Received: {name}={short(record[name])}")
    return found


def summary(found: list[str]) -> str:
    """The first problem, and how many more: one line for an error message."""
    more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
    return found[0] + more


def short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters."""
    try:
        text = repr(value)
    except ValueError:  # an integer of more digits than Python prints
        text = f"<an integer of {value.bit_length()} bits>"
    return text if len(text) <= limit else text[:limit - 3] + "..."
