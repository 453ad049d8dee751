"""Layers whose weights are computed when read: torch.nn.utils.parametrize (weight_norm, spectral_norm) and the
hook-based weight_norm. The computed weight is converted; it maps to no state_dict key."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations

from torch_frontend_support import check_capture


def _hook_weight_norm(layer: nn.Module) -> nn.Module:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in favour of parametrizations.weight_norm
        return torch.nn.utils.weight_norm(layer)


CASES = [
    pytest.param(lambda: parametrizations.weight_norm(nn.Conv1d(3, 4, 5, padding=2)), (1, 3, 11),
                 id="weight_norm-conv1d"),
    pytest.param(lambda: parametrizations.weight_norm(nn.Conv1d(8, 8, 4, padding=2, groups=4), dim=2), (1, 8, 9),
                 id="weight_norm-grouped-conv1d-dim-2"),
    pytest.param(lambda: parametrizations.weight_norm(nn.Linear(6, 5)), (1, 6), id="weight_norm-linear"),
    pytest.param(lambda: parametrizations.spectral_norm(nn.Linear(6, 5)), (1, 6), id="spectral_norm-linear"),
    pytest.param(lambda: parametrizations.weight_norm(nn.ConvTranspose2d(3, 2, 3, stride=2)), (1, 3, 4, 5),
                 id="weight_norm-conv_transpose2d"),
    pytest.param(lambda: _hook_weight_norm(nn.Conv2d(3, 4, 3)), (1, 3, 6, 6), id="hook-weight_norm-conv2d"),
]


@pytest.mark.parametrize("make, shape", CASES)
def test_parametrized_layer_matches_torch(make, shape):
    layer = make()
    graph = check_capture(nn.Sequential(layer), shape)
    (node,) = graph.nodes
    names = graph.source["name_map"]
    assert "0.bias" in names and "0.weight" not in names  # the weight is computed, not a state_dict tensor
    assert node.weights["weight"].shape == tuple(layer.weight.shape)


def test_a_parametrized_conv_with_a_padding_mode_is_a_pad_and_a_conv():
    layer = parametrizations.weight_norm(nn.Conv2d(3, 4, 3, padding_mode="circular", padding=1))
    graph = check_capture(nn.Sequential(layer), (1, 3, 6, 6))
    assert [node.op for node in graph.nodes] == ["pad", "conv"]
