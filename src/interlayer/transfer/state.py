"""Weights only: a PyTorch state dict into a PyTorch destination whose names differ.

A state dict carries no architecture, so there is no structure to match. Its tensors are grouped into modules
(the key up to its last dot) and the modules are paired with the destination's by position, both in module
registration order, once hints have pinned their pairs (a hint names a module or one of its tensors on each
side). A ``.safetensors`` file keeps no order: its modules are taken in name order, numbers compared as numbers
(``layer.2`` before ``layer.10``), which is registration order for ``nn.Sequential`` and numbered lists. Within a
pair of modules, tensors are paired by role (``weight``, ``bias``, ``running_mean``...), and every role must
agree in shape and kind (floating or integer); every pair that does not is named. Modules whose tensors others
share in shape are paired by their order alone; the report says how many. When the source architecture exists,
pass it instead (``transfer_file("package.module:factory", destination, output, weights=...)``): it is matched
by structure and verified.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from .report import TensorPair, TransferError, TransferReport
from .sides import Source

SHOWN = 8
"""mismatched pairs listed one by one; a shifted order would otherwise list every later module"""


def transfer_state(source: Source, destination: Any, framework: str, hints: dict[str, str] | None) -> TransferReport:
    if framework != "torch":
        raise TransferError(
            f"transfer: {source.label} holds weights without an architecture, and the destination is a {framework} "
            f"model. Expected the source architecture for a transfer across frameworks. Received: weights only. "
            f"Pass the architecture with the weights: transfer_file('package.module:factory', destination, output, "
            f"weights=...), or load them into the model and pass the model.")
    state, target = source.state, destination.state_dict()
    sources, targets = _modules(state, natural=not source.ordered), _modules(target, natural=False)
    pairs, problems = _pins(hints or {}, sources, targets)
    pinned = set(pairs.values())
    rest_s = [module for module in sources if module not in pairs]
    rest_d = [module for module in targets if module not in pinned]
    pairs.update(zip(rest_s, rest_d))
    signed = {name: _signature(state, roles) for name, roles in sources.items()}
    signs = {name: _signature(target, roles) for name, roles in targets.items()}
    mismatched = [f"'{s}' ({_show(signed[s])}) vs '{d}' ({_show(signs[d])})" for s, d in pairs.items()
                  if signed[s] != signs[d]]
    if mismatched:
        more = f"; and {len(mismatched) - SHOWN} more" if len(mismatched) > SHOWN else ""
        problems.append(f"transfer: the state dict's modules and the destination's disagree in order. Expected "
                        f"modules with the same tensors (role, shape, kind) at each position. Received (source vs "
                        f"destination): {'; '.join(mismatched[:SHOWN])}{more}. Pin pairs with hints={{'source module': "
                        f"'destination module'}}, or pass the source architecture (weights=...) to match by structure.")
    for module in rest_s[len(rest_d):]:
        problems.append(f"transfer: source module '{module}' ({_show(signed[module])}) has no destination module left. "
                        f"Expected as many modules as the destination has. Received: {len(sources)} vs {len(targets)}.")
    for module in rest_d[len(rest_s):]:
        problems.append(f"transfer: destination module '{module}' ({_show(signs[module])}) has no source module "
                        f"left, so nothing fills it. Expected as many modules as the destination has. Received: "
                        f"{len(sources)} vs {len(targets)}.")
    if problems:
        raise TransferError(problems)
    tensors = [(sources[s][role], targets[d][role], s, d) for s, d in pairs.items() for role in targets[d]]
    _copy(destination, {d_key: state[s_key] for s_key, d_key, _, _ in tensors})
    report = TransferReport(source.label, f"torch model '{type(destination).__name__}'", "position",
                            [TensorPair(s_key, d_key, s, d, tuple(target[d_key].shape))
                             for s_key, d_key, s, d in tensors])
    if not source.ordered:
        report.notes.append("a .safetensors file keeps no order: its modules were taken in name order, numbers "
                            "compared as numbers")
    counts = Counter(signs.values())
    alike = sum(counts[signs[d]] > 1 for d in pairs.values())
    if alike:
        report.notes.append(f"{alike} of {len(pairs)} modules have tensors of the same shapes as another module, so "
                            f"their pairing rests on the order alone")
    report.unverified = "the source has no architecture to compare with"
    return report


def _modules(state: dict, natural: bool) -> dict[str, dict[str, str]]:
    """module -> role -> key, modules in the state dict's order (or in natural name order)."""
    modules: dict[str, dict[str, str]] = {}
    for key in sorted(state, key=_natural) if natural else state:
        module, _, role = key.rpartition(".")
        modules.setdefault(module, {})[role] = key
    return modules


def _natural(key: str) -> list:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.]", key)]


def _signature(state: dict, roles: dict[str, str]) -> tuple:
    return tuple(sorted((role, tuple(state[key].shape), "float" if state[key].is_floating_point() else "int")
                        for role, key in roles.items()))


def _show(signature: tuple) -> str:
    return ", ".join(f"{role} {shape}" + ("" if kind == "float" else f" {kind}") for role, shape, kind in signature)


def _pins(hints: dict[str, str], sources: dict, targets: dict) -> tuple[dict[str, str], list[str]]:
    """Pinned module pairs from hints naming a module, or a tensor of it, on each side."""
    pairs: dict[str, str] = {}
    problems = []
    for key, value in hints.items():
        found = _module_of(key, sources), _module_of(value, targets)
        if None in found or found[0][1] != found[1][1]:
            problems.append(f"hints: '{key}' -> '{value}' does not name a module, or a tensor of the same role, on "
                            f"each side. Expected a state dict module or key of each. Received: {key!r}: {value!r}.")
            continue
        pairs[found[0][0]] = found[1][0]
    return pairs, problems


def _module_of(name: str, modules: dict[str, dict[str, str]]) -> tuple[str, str | None] | None:
    if name in modules:
        return name, None
    module, _, role = name.rpartition(".")
    return (module, role) if role in modules.get(module, {}) else None


def _copy(destination, values: dict) -> None:
    import torch

    live = destination.state_dict(keep_vars=True)
    with torch.no_grad():
        for key, value in values.items():
            live[key].copy_(value)
