"""Tensor.repeat, torch.tile and Tensor.tile as the IR's tile: captured graph == torch at other sizes; a constant
repeated over the batch (a class token) as a constant expanded to it; repeats of the batch, of new leading axes and
by a size."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from torch_frontend_support import Fn, check_capture

MAP = (1, 3, 4, 5)

CASES = [
    pytest.param(lambda m, x: x.repeat(1, 2, 1, 3), MAP, [1, 2, 1, 3], id="Tensor.repeat"),
    pytest.param(lambda m, x: x.repeat((1, 1, 2, 2)), MAP, [1, 1, 2, 2], id="Tensor.repeat-tuple"),

    pytest.param(lambda m, x: torch.tile(x, (1, 3, 1, 1)), MAP, [1, 3, 1, 1], id="torch.tile"),
    pytest.param(lambda m, x: torch.tile(x, (2,)), MAP, [1, 1, 1, 2], id="torch.tile-last-axis"),
    pytest.param(lambda m, x: torch.tile(x, dims=(2, 1, 3)), MAP, [1, 2, 1, 3], id="torch.tile-dims"),
    pytest.param(lambda m, x: x.tile(1, 2, 2, 1), MAP, [1, 2, 2, 1], id="Tensor.tile"),
    pytest.param(lambda m, x: x.repeat(1, 3), (1, 6), [1, 3], id="Tensor.repeat-features"),
    pytest.param(lambda m, x: x.repeat(1, 2, 3), (1, 3, 7), [1, 2, 3], id="Tensor.repeat-1d"),
    pytest.param(lambda m, x: x.repeat(1, 1, 2, 1, 3), (1, 2, 3, 4, 2), [1, 1, 2, 1, 3], id="Tensor.repeat-3d"),
]


@pytest.mark.parametrize("fn, shape, repeats", CASES)
def test_tile_matches_torch(fn, shape, repeats):
    graph = check_capture(Fn(fn), shape)
    assert [(node.op, node.attrs) for node in graph.nodes] == [("tile", {"repeats": repeats})]


class ConvTileConv(nn.Module):
    """Channels and one spatial axis repeated between two convolutions."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.conv2 = nn.Conv2d(8, 2, 3)

    def forward(self, x):
        return self.conv2(self.conv1(x).repeat(1, 2, 1, 3))


def test_repeat_of_ones_is_the_tensor_itself():
    graph = check_capture(Fn(lambda m, x: x.repeat(1, 1, 1, 1) * 2.0), MAP)
    assert [node.op for node in graph.nodes] == ["mul"]


def test_tile_between_convolutions():
    graph = check_capture(ConvTileConv(), (1, 3, 7, 6))
    assert [node.op for node in graph.nodes] == ["conv", "tile", "conv"]


class ClassToken(nn.Module):
    """A learned token repeated over the batch and put in front of the sequence (as ViT-style models do)."""

    def __init__(self, counts=(1, 1)):
        super().__init__()
        self.token = nn.Parameter(torch.randn(1, 1, 6))
        self.counts = counts

    def forward(self, x):
        return torch.cat([self.token.repeat(x.size(0), *self.counts), x], 1)


def test_class_token_repeated_over_the_batch_stays_trainable():
    graph = check_capture(ClassToken(), (1, 4, 6))
    token = graph.nodes[0]
    assert (token.op, token.attrs) == ("constant", {"shape": [1, 1, 6], "dtype": "float32", "trainable": True})
    assert graph.source["name_map"]["token"] == f"{token.name}.value"
    # repeated N times: a new axis expanded to N, merged with the token's own axis of 1
    assert [node.op for node in graph.nodes] == ["constant", "reshape", "expand", "reshape", "concat"]
    assert graph.nodes[2].attrs["shape"] == ["N", 1, 1, 6]


def test_class_token_tiled_along_its_axes_too():
    graph = check_capture(ClassToken(counts=(2, 1)), (1, 4, 6))
    assert [(node.op, node.attrs.get("repeats")) for node in graph.nodes][-2:] == [("tile", [1, 2, 1]),
                                                                                   ("concat", None)]
    assert graph.source["name_map"]["token"] == "token.value"


# repeats the concrete tracer refused (of the batch, of new leading axes, by the batch size): what torch computes
BATCH_REPEATS = [
    pytest.param(lambda m, x: x.repeat(2, 1, 1, 1), [("tile", [2, 1, 1, 1])], id="repeat-batch"),
    pytest.param(lambda m, x: torch.tile(x, (3, 1, 1, 1)), [("tile", [3, 1, 1, 1])], id="tile-batch"),
    pytest.param(lambda m, x: x.repeat(1, 1, 1, 1, 1), [("reshape", None)], id="repeat-new-axis-of-1"),
    pytest.param(lambda m, x: x.tile(1, 1, 2, 1, 1), [("reshape", None), ("tile", [1, 1, 2, 1, 1])],
                 id="tile-new-axis"),
    pytest.param(lambda m, x: x.repeat(x.size(0), 1, 1, 1), [("reshape", None), ("expand", None), ("reshape", None)],
                 id="repeat-by-batch-size"),
]


@pytest.mark.parametrize("fn, ops", BATCH_REPEATS)
def test_repeats_of_the_batch(fn, ops):
    graph = check_capture(Fn(fn), MAP)
    assert [(node.op, node.attrs.get("repeats")) for node in graph.nodes] == ops
