"""In-place calls (``nn.ReLU(inplace=True)``, ``F.relu(x, inplace=True)``) as IR, which has no mutation.

Converting one as its out-of-place twin is exact only when nothing reads the mutated tensor afterwards, under
any name: the input itself, or a view or alias of it (``x.view(...)``, ``nn.Identity``, ``nn.Dropout`` at
inference, another in-place call). This module finds such a later reader; the capture refuses the call if one
exists instead of producing a graph that silently differs.
"""
from __future__ import annotations

import inspect
import operator

_ALIAS_METHODS = {"view", "view_as", "reshape", "reshape_as", "flatten", "contiguous", "squeeze", "unsqueeze",
                  "permute", "transpose", "t", "detach", "expand", "expand_as", "narrow", "unflatten"}


def is_inplace(root, node) -> bool:
    """Whether the fx node mutates its first argument."""
    if node.op == "call_module":
        return bool(getattr(root.get_submodule(node.target), "inplace", False))
    if node.op == "call_method":
        return node.target.endswith("_") and not node.target.endswith("__")
    if node.op == "call_function":
        return _inplace_argument(node)
    return False


def later_reader(root, node, order: dict):
    """The first node after ``node`` that reads the tensor ``node`` mutates (or an alias of it), or None."""
    seen, stack = set(), [node.args[0]]
    while stack:
        value = stack.pop()
        if value in seen or not hasattr(value, "users"):
            continue
        seen.add(value)
        if _aliases_input(root, value) and value.args:
            stack.append(value.args[0])
        stack += [user for user in value.users
                  if user is not node and order[user] < order[node] and _aliases_input(root, user)]
    readers = [user for value in seen for user in value.users if user is not node and order[user] > order[node]]
    return min(readers, key=order.get) if readers else None


def _aliases_input(root, node) -> bool:
    """Whether the node's result may share memory with its first argument (conservatively)."""
    from torch import nn

    if node.op == "call_module":
        module = root.get_submodule(node.target)
        return isinstance(module, (nn.Identity, nn.Dropout, nn.Flatten)) or bool(getattr(module, "inplace", False))
    if node.op == "call_method":
        return node.target in _ALIAS_METHODS or is_inplace(root, node)
    if node.op == "call_function":
        return node.target in _alias_functions() or _inplace_argument(node)
    return False


def _alias_functions() -> set:
    import torch
    import torch.nn.functional as F

    return {torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze, torch.permute, torch.transpose,
            torch.narrow, F.dropout, operator.getitem}


def _inplace_argument(node) -> bool:
    try:
        bound = inspect.signature(node.target).bind(*node.args, **node.kwargs)
    except (TypeError, ValueError):
        return False
    return bound.arguments.get("inplace") is True
