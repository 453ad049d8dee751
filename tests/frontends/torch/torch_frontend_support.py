"""Helpers of the torch frontend tests: seeded weights everywhere, and "captured graph == torch model"."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

import interlayer
from interlayer.ir.layout import invert
from interlayer.frontends.torch import capture
from interlayer.frontends.torch.outputs import flat_outputs
from support import assert_equivalent, assert_varies

BATCH = 3


class Fn(nn.Module):
    """A module whose forward is ``fn(self, x)``: functional calls and tensor methods, traced by fx."""

    def __init__(self, fn, *layers: nn.Module):
        super().__init__()
        self.fn = fn
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        return self.fn(self, x)


class Fn2(Fn):
    """Two inputs: ``fn(self, x, y)``."""

    def forward(self, x, y):
        return self.fn(self, x, y)


def randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Every parameter and BatchNorm statistic seeded and random: a converter that drops one fails."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * 1.5 + 0.5)
            elif tensor.dim() >= 2:
                fan_in = max(tensor[0].numel(), 1)
                tensor.copy_(torch.randn(tensor.shape, generator=generator) / fan_in**0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.5)
    return model.eval()


def inputs_for(graph, seed: int = 1, batch: int = BATCH) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch, *spec.shape[1:])).astype(np.float32) for spec in graph.inputs]


def torch_outputs(model: nn.Module, arrays: list[np.ndarray], graph=None) -> list[np.ndarray]:
    """The model's outputs on IR-layout ``arrays``: held as the graph's input ``perm`` says (a time-major
    sequence), and returned in the IR's layout as its output ``perm`` says."""
    specs = graph.inputs if graph is not None else [None] * len(arrays)
    held = [a if spec is None or spec.perm is None else np.ascontiguousarray(a.transpose(spec.perm))
            for a, spec in zip(arrays, specs)]
    with torch.no_grad():
        result = model(*(torch.from_numpy(a) for a in held))
    outputs = [item.numpy() for _, item in flat_outputs(result)]
    if graph is None:
        return outputs
    return [y if spec.perm is None else y.transpose(invert(spec.perm)) for y, spec in zip(outputs, graph.outputs)]


def check_capture(model: nn.Module, example_inputs, seed: int = 0):
    """Capture the randomised model and compare the reference interpreter with torch on a new batch size."""
    randomise(model, seed)
    graph = capture(model, example_inputs=example_inputs)
    arrays = inputs_for(graph)
    expected = torch_outputs(model, arrays, graph)
    actual = list(interlayer.run(graph, arrays).values())
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"output {index}")
    other = list(interlayer.run(graph, inputs_for(graph, seed=2)).values())
    assert_varies(other[0], actual[0])
    return graph
