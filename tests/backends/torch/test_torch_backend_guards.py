"""What the source requires of its input sizes (a maximum position, an even length) is checked at the top of the
built module's forward, in the package's model.py and in the .pt2 program: an input that breaks it stops with a
message naming the requirement, not a shape error deep inside the model."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.backends.torch.package import load_package, write_package
from interlayer.conversion import convert_file


class Pairs(nn.Module):
    """Positions from a table of 16, and the steps taken in pairs (the length must be even)."""

    def __init__(self):
        super().__init__()
        self.positions = nn.Parameter(torch.randn(16, 4))
        self.mix = nn.Linear(8, 4)

    def forward(self, x):
        n, t, _ = x.shape
        x = x + self.positions[:t]
        return self.mix(x.reshape(n, t // 2, 8))


@pytest.fixture(scope="module")
def graph():
    torch.manual_seed(0)
    return interlayer.export(Pairs().eval(), example_inputs=(2, 6, 4))


def test_the_graph_states_the_requirements(graph):
    assert graph.sizes["T"]["max"] == 16
    assert any("T//2" in guard for guard in graph.guards), graph.guards


@pytest.mark.parametrize("length, broken", [(18, "T <= 16"), (7, "T//2")])
def test_built_module_and_package_refuse_sizes_the_model_does_not_take(graph, length, broken, tmp_path):
    model = interlayer.build(graph, "torch")
    assert "require(" in model.code
    package = load_package(write_package(model, tmp_path / "package"))
    ok = torch.randn(3, 10, 4)
    torch.testing.assert_close(package(ok), model(ok))
    for module in (model, package):
        with pytest.raises(RuntimeError, match="break a requirement of the model: .*" + re.escape(broken)):
            module(torch.randn(2, length, 4))
    assert "require(T <= 16, 'T <= 16')" in (tmp_path / "package" / "model.py").read_text()


def test_pt2_program_keeps_the_check(graph, tmp_path):
    path = tmp_path / "pairs.pt2"
    convert_file(graph, "torch", path)
    program = torch.export.load(str(path)).module()
    x = torch.randn(2, 12, 4)
    expected = interlayer.run(graph, [x.numpy()])
    np.testing.assert_allclose(program(x).detach().numpy(), list(expected.values())[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(Exception):
        program(torch.randn(2, 18, 4))
