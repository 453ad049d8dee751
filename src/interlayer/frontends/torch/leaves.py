"""Modules captured whole: an instance of a class registered with
``interlayer.register("torch", "frontend", ModuleClass)`` is one opaque call of the exported program, converted by
that converter, and its ``forward`` is never traced (it may hold code torch.export cannot follow).

While exporting, each such module's ``forward`` calls the custom operator ``interlayer::leaf`` instead, which
runs the real forward eagerly and, under torch.export, gives a result shaped as the module's was on the example.
What the module requires of its input's sizes is hidden in its forward, so every axis of its first input but
axis 0 (the batch) keeps the example's size; an axis of the result that had the size of the same axis of the
input follows it, any other keeps the example's size. A converter is ``fn(ctx, module) -> IR value`` and sees
``ctx.input`` (the first input's IR value), ``ctx.inputs``, ``ctx.module`` and ``ctx.add(op, inputs, attrs,
weights, sources={"weight": "fc.weight"})`` with sources relative to the module, its node named after it.
"""
from __future__ import annotations

import contextlib
from typing import Any

_LEAVES: dict[int, Any] = {}
"""key -> (module, original forward, recorded (input shape, output shape, output dtype))"""
_DEFINED = []


def _define() -> None:
    if _DEFINED:
        return
    import torch

    @torch.library.custom_op("interlayer::leaf", mutates_args=(), schema="(Tensor[] inputs, int key) -> Tensor")
    def leaf(inputs, key):
        module, forward, _ = _LEAVES[key]
        return forward(*inputs).clone()

    @leaf.register_fake
    def _(inputs, key):
        _, _, (first, output, dtype) = _LEAVES[key]
        for axis in range(1, len(first)):  # what the module requires of them is hidden in its forward
            torch._check(inputs[0].shape[axis] == first[axis])
        sizes = [inputs[0].shape[axis] if axis < len(first) and first[axis] == size else size
                 for axis, size in enumerate(output)]
        return inputs[0].new_empty(sizes, dtype=dtype)

    _DEFINED.append(leaf)


def is_leaf_call(node) -> bool:
    return "interlayer::leaf" in str(getattr(node.target, "_name", ""))


@contextlib.contextmanager
def opaque(model, table: dict, examples: dict):
    """Within the block, every module of a registered class is an opaque ``interlayer::leaf`` call; yields the
    map from a call's key (its second argument) to (module path, module)."""
    import torch

    classes = tuple(key for key in table if isinstance(key, type) and issubclass(key, torch.nn.Module))
    paths = {id(module): path for path, module in model.named_modules()}
    leaves = [module for module in model.modules() if classes and type(module) in classes and module is not model]
    if not leaves:
        yield {}
        return
    _define()
    recorded = _record(model, leaves, examples)
    try:
        for module in leaves:
            key = id(module)
            _LEAVES[key] = (module, module.forward, recorded[key])
            module.forward = (lambda key: lambda *args: torch.ops.interlayer.leaf(list(args), key))(key)
        yield {id(module): (paths[id(module)], module) for module in leaves}
    finally:
        for module in leaves:
            _LEAVES.pop(id(module), None)
            if "forward" in vars(module):
                del module.forward


def _record(model, leaves: list, examples: dict) -> dict:
    """(first input's shape, output's shape, output's dtype) of each leaf module on the examples."""
    import torch

    found = {}

    def hook(module, args, output):
        if not args or not isinstance(args[0], torch.Tensor) or not isinstance(output, torch.Tensor):
            raise TypeError(f"{type(module).__name__}: a module captured whole takes tensors and returns one tensor")
        found[id(module)] = (tuple(args[0].shape), tuple(output.shape), output.dtype)

    handles = [module.register_forward_hook(hook) for module in leaves]
    try:
        with torch.no_grad():
            model(**examples)
    finally:
        for handle in handles:
            handle.remove()
    return found
