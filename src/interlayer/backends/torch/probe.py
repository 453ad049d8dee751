"""Intermediate values of a PyTorch module, for layer-by-layer verification (``interlayer.verify``).

A module built by interlayer records which fx node computes each IR value (``meta["interlayer.values"]``): an
``fx.Interpreter`` run keeps them all. Any other module exposes each submodule's output through forward
hooks, under its module path, which is the name the PyTorch frontend gives the node; a source module is given
its inputs by name (the graph's input names are its forward's parameters). PyTorch tensors are in the IR's
layout already.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import fx

from ...ir.graph import Graph
from .build import _numpy, call, to_eval


def activations(model, inputs: Sequence[np.ndarray], graph: Graph) -> dict[str, np.ndarray]:
    tensors = _tensors(model, inputs)
    modes = {module: module.training for module in model.modules()}
    to_eval(model)
    try:
        with torch.no_grad():
            recorded = getattr(model, "meta", {}).get("interlayer.values")
            if isinstance(model, fx.GraphModule) and recorded:
                return _interpreted(model, tensors, recorded)
            return _hooked(model, tensors, graph)
    finally:
        for module, mode in modes.items():
            module.training = mode


def _tensors(model, inputs: Sequence[np.ndarray]) -> list:
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    tensors = []
    for array in inputs:
        value = torch.from_numpy(np.array(array) if not np.asarray(array).flags.writeable
                                 else np.ascontiguousarray(array))
        tensors.append(value.to(dtype) if dtype is not None and value.is_floating_point() else value)
    return tensors


def _interpreted(model: fx.GraphModule, tensors: list, recorded: dict[str, str]) -> dict[str, np.ndarray]:
    wanted = set(recorded.values())
    seen: dict[str, np.ndarray] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, node):
            result = super().run_node(node)
            if node.name in wanted and isinstance(result, torch.Tensor):
                seen[node.name] = _numpy(result)
            return result

    Recorder(model).run(*tensors)
    return {value: seen[name] for value, name in recorded.items() if name in seen}


def _hooked(model, tensors: list, graph: Graph) -> dict[str, np.ndarray]:
    nodes = {node.name: node for node in graph.nodes}
    seen: dict[str, np.ndarray] = {}
    handles = []

    def hook(name):
        def keep(module, args, output):
            first = output[0] if isinstance(output, (tuple, list)) else output
            value = nodes[name].outputs[0]
            if isinstance(first, torch.Tensor):
                seen[value] = _numpy(first.detach().clone())  # an in-place layer after it changes it
        return keep

    for path, module in model.named_modules():
        if path in nodes:
            handles.append(module.register_forward_hook(hook(path)))
    try:
        call(model, tensors, [spec.name for spec in graph.inputs])
    finally:
        for handle in handles:
            handle.remove()
    return seen
