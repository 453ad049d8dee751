"""Helpers of the torch frontend tests: seeded weights everywhere, and "captured graph == torch model"."""
from __future__ import annotations

import inspect

import numpy as np
import torch
from torch import nn

import interlayer
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


def example_sizes(graph, example_inputs, batch: int = BATCH) -> dict:
    """The sizes of the example (as the test gave its shapes or tensors), the batch ``batch``, kept within the
    graph's ranges and guards."""
    from interlayer.ir import bindings, dims

    examples = example_inputs if isinstance(example_inputs, (list, tuple)) and example_inputs and \
        not isinstance(example_inputs[0], int) else [example_inputs]
    wanted = {}
    for spec, example in zip(graph.inputs, examples):
        shape = tuple(example.shape) if hasattr(example, "shape") else _spec_shape(example) \
            if isinstance(example, str) else tuple(example)
        for axis, dim in enumerate(spec.shape):
            if dims.is_name(dim) and axis < len(shape):
                wanted.setdefault(dim, batch if dim == "N" else int(shape[axis]))
    chosen = bindings.choose(graph, wanted)
    assert chosen is not None, f"no sizes near {wanted} keep the guards {graph.guards}"
    return chosen


def _spec_shape(text: str) -> tuple:
    """The example sizes of an input spec (``"x:float32[N,3,H=8,W]"``: 2 for axis 0 and 8 elsewhere unless given)."""
    from interlayer.frontends.torch.inputs import parse_spec

    _, _, axes = parse_spec(text)
    return tuple(a if isinstance(a, int) else (a[1] if isinstance(a, tuple) and a[1] else (2 if i == 0 else 8))
                 for i, a in enumerate(axes))


def inputs_for(graph, seed: int = 1, batch: int = BATCH, sizes: dict | None = None) -> list[np.ndarray]:
    """Seeded inputs of the graph's dtypes at ``sizes`` (every size name bound), else near the batch ``batch``."""
    from interlayer.conversion import random_inputs

    return random_inputs(graph, batch=batch, seed=seed, sizes=sizes)


def torch_outputs(model: nn.Module, arrays: list[np.ndarray], graph=None) -> list[np.ndarray]:
    """The model's outputs on ``arrays``, given to its forward by the graph's input names (copies: a model that
    works in place must not change the arrays the graph is run on next)."""
    with torch.no_grad():
        if graph is None:
            result = model(*(torch.from_numpy(a.copy()) for a in arrays))
        else:
            named = {spec.name: torch.from_numpy(a.copy()) for spec, a in zip(graph.inputs, arrays)}
            if "use_cache" in inspect.signature(model.forward).parameters:
                named["use_cache"] = False  # as the capture calls it: a key/value cache is no output of the layers
            result = model(**named)
    return [item.numpy() for _, item in flat_outputs(result)]


def check_capture(model: nn.Module, example_inputs, seed: int = 0):
    """Capture the randomised model, then compare the reference interpreter with torch at the example's sizes
    (a new batch size) and at other sizes the graph keeps generic."""
    from interlayer.ir import bindings

    from interlayer.ir.check import infer_dtypes

    randomise(model, seed)
    graph = capture(model, example_inputs=example_inputs)
    dtypes = infer_dtypes(graph)
    assert [spec.dtype for spec in graph.outputs] == [dtypes[spec.name] for spec in graph.outputs], \
        "the graph's outputs are declared with other dtypes than its ops compute"
    base = example_sizes(graph, example_inputs)
    first = None
    for sizes in [base, *bindings.alternatives(graph, base, count=1)]:
        arrays = inputs_for(graph, sizes=sizes)
        expected = torch_outputs(model, arrays, graph)
        actual = list(interlayer.run(graph, arrays).values())
        assert len(actual) == len(expected)
        for index, (got, want) in enumerate(zip(actual, expected)):
            assert np.asarray(got).dtype == want.dtype, f"output {index}: dtype {np.asarray(got).dtype} != {want.dtype}"
            assert_equivalent(got, want, what=f"output {index} at {sizes}")
        first = actual if first is None else first
    other = list(interlayer.run(graph, inputs_for(graph, seed=2, sizes=base)).values())
    assert_varies(other[0], first[0])
    return graph
