"""Flatten, view/reshape, dropout, padding, identity, residual add and concatenation: captured graph == torch."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_frontend_support import Fn, Fn2, check_capture


class LeNetHead(nn.Module):
    """conv -> pool -> flatten -> linear on a real 16x5x5 map: the flatten order reaches the linear's columns."""

    def __init__(self, flatten):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.flatten = flatten
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.conv(x))))


CASES = [
    pytest.param(lambda: nn.Flatten(), (1, 3, 4, 5), id="Flatten"),
    pytest.param(lambda: nn.Flatten(2), (1, 3, 4, 5), id="Flatten-start-2"),
    pytest.param(lambda: nn.Flatten(1, 2), (1, 3, 4, 5), id="Flatten-end-2"),
    pytest.param(lambda: Fn(lambda m, x: torch.flatten(x, 1)), (1, 3, 4, 5), id="torch.flatten"),
    pytest.param(lambda: Fn(lambda m, x: x.flatten(1)), (1, 3, 4, 5), id="Tensor.flatten"),
    pytest.param(lambda: Fn(lambda m, x: x.unsqueeze(2) * 2.0), (1, 3, 4, 5), id="Tensor.unsqueeze"),
    pytest.param(lambda: Fn(lambda m, x: torch.unsqueeze(x, -1) + 1.0), (1, 3, 4, 5), id="torch.unsqueeze-last"),
    pytest.param(lambda: Fn(lambda m, x: x[:, :1].squeeze(1)), (1, 3, 4, 5), id="Tensor.squeeze"),
    pytest.param(lambda: Fn(lambda m, x: torch.squeeze(x[..., :1], -1)), (1, 3, 4, 5), id="torch.squeeze-last"),
    pytest.param(lambda: LeNetHead(nn.Flatten()), (1, 3, 14, 14), id="lenet-Flatten-Linear"),
    pytest.param(lambda: LeNetHead(lambda x: x.view(x.size(0), -1)), (1, 3, 14, 14), id="lenet-view-size0"),
    pytest.param(lambda: LeNetHead(lambda x: x.view(-1, 16 * 5 * 5)), (1, 3, 14, 14), id="lenet-view-minus1"),
    pytest.param(lambda: Fn(lambda m, x: x.reshape(x.shape[0], 12, 5)), (1, 3, 4, 5), id="Tensor.reshape-shape0"),
    pytest.param(lambda: Fn(lambda m, x: torch.reshape(x, (-1, 5, 12))), (1, 3, 4, 5), id="torch.reshape"),
    pytest.param(lambda: Fn(lambda m, x: x.view(x.size(0), 3, -1).contiguous()), (1, 3, 4, 5),
                 id="Tensor.view-contiguous"),
    pytest.param(lambda: nn.Dropout(0.3), (1, 3, 4), id="Dropout"),
    pytest.param(lambda: Fn(lambda m, x: F.dropout(x, 0.2, training=m.training)), (1, 3, 4), id="F.dropout"),
    pytest.param(lambda: nn.Identity(), (1, 3, 4), id="Identity"),
    pytest.param(lambda: nn.ZeroPad2d((1, 2, 0, 3)), (1, 3, 4, 5), id="ZeroPad2d"),
    pytest.param(lambda: nn.ZeroPad2d(1), (1, 3, 4, 5), id="ZeroPad2d-int"),
    pytest.param(lambda: nn.ZeroPad1d((2, 1)), (1, 3, 5), id="ZeroPad1d"),
    pytest.param(lambda: nn.ConstantPad2d((0, 1, 2, 0), 1.5), (1, 3, 4, 5), id="ConstantPad2d"),
    pytest.param(lambda: nn.ConstantPad1d(2, -0.5), (1, 3, 5), id="ConstantPad1d"),
    pytest.param(lambda: nn.ZeroPad2d((-1, 1, 1, -1)), (1, 3, 4, 5), id="ZeroPad2d-crop"),
    pytest.param(lambda: Fn(lambda m, x: F.pad(x, (1, 2))), (1, 3, 4, 5), id="F.pad-last-axis"),
    pytest.param(lambda: Fn(lambda m, x: F.pad(x, (1, 0, 2, 1), value=0.25)), (1, 3, 4, 5), id="F.pad-value"),
]


@pytest.mark.parametrize("make, shape", CASES)
def test_tensor_op_matches_torch(make, shape):
    check_capture(make(), shape)


def test_flatten_before_linear_keeps_channels_first_order():
    graph = check_capture(LeNetHead(nn.Flatten()), (1, 3, 14, 14))
    assert graph.node("flatten").attrs == {"axis": 1, "order": "channels_first"}
    assert graph.node("fc").attrs["in_features"] == 400


def test_pad_order_is_converted():
    graph = check_capture(nn.Sequential(nn.ZeroPad2d((1, 2, 3, 4))), (1, 2, 5, 5))
    # torch: (left, right, top, bottom); IR: (top, left, bottom, right)
    assert graph.nodes[0].attrs["pads"] == [3, 1, 4, 2]


MERGES = [
    pytest.param(lambda m, x, y: x + y, id="operator.add"),
    pytest.param(lambda m, x, y: torch.add(x, y), id="torch.add"),
    pytest.param(lambda m, x, y: x.add(y), id="Tensor.add"),
    pytest.param(lambda m, x, y: torch.cat([x, y], 1), id="torch.cat-1"),
    pytest.param(lambda m, x, y: torch.cat((x, y), dim=-1), id="torch.cat-minus-1"),
    pytest.param(lambda m, x, y: torch.cat([x, y, x], dim=2), id="torch.cat-three"),
    pytest.param(lambda m, x, y: torch.concat([x, y], 1), id="torch.concat"),
]


@pytest.mark.parametrize("fn", MERGES)
def test_merge_of_two_inputs(fn):
    graph = check_capture(Fn2(fn), [(1, 3, 4, 4), (1, 3, 4, 4)])
    assert [spec.name for spec in graph.inputs] == ["x", "y"]


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.conv2(out)
        out += x
        return F.relu(out)


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU(), nn.Conv2d(2, 5, 3, padding=1))
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x):
        return torch.cat([self.a(x), self.b(x), self.pool(x)], 1)


@pytest.mark.parametrize("make, shape", [
    pytest.param(Residual, (1, 4, 6, 6), id="residual-add"),
    pytest.param(Inception, (1, 3, 6, 6), id="inception-cat"),
])
def test_branching_model(make, shape):
    check_capture(make(), shape)


def test_residual_names_follow_module_paths():
    graph = check_capture(Residual(), (1, 4, 6, 6))
    assert [(node.name, node.op) for node in graph.nodes] == [
        ("conv1", "conv"), ("bn1", "batch_norm"), ("relu", "relu"), ("conv2", "conv"), ("add", "add"),
        ("relu_1", "relu")]


# what the concrete tracer refused because it touched the batch axis (or alpha): converted, equal to torch at two
# sets of sizes
BATCH_AXIS = [
    pytest.param(lambda m, x: torch.add(x, x, alpha=2), ["mul", "add"], id="add-alpha"),
    pytest.param(lambda m, x: x + x[:1], ["slice", "add"], id="getitem-batch"),
    pytest.param(lambda m, x: torch.cat([x, x], 0), ["concat"], id="cat-batch"),
    pytest.param(lambda m, x: torch.flatten(x), ["reshape"], id="flatten-batch"),
    pytest.param(lambda m, x: x.view(1, -1), ["reshape"], id="view-batch-literal"),
    pytest.param(lambda m, x: x.view(-1), ["reshape"], id="view-all"),
    pytest.param(lambda m, x: F.pad(x, (0, 0, 0, 0, 1, 1)), ["pad"], id="F.pad-channels"),
]


@pytest.mark.parametrize("fn, ops", BATCH_AXIS)
def test_call_the_concrete_tracer_refused(fn, ops):
    graph = check_capture(Fn(fn), (1, 3, 4, 4))
    assert [node.op for node in graph.nodes] == ops


def test_a_reshape_that_merges_the_batch_writes_it():
    graph = check_capture(Fn(lambda m, x: x.view(1, -1)), (1, 3, 4, 4))
    assert graph.nodes[0].attrs["shape"] == [1, "3*H*N*W"]


def test_dropout_active_at_inference_is_refused():
    with pytest.raises(UnsupportedLayerError, match=r"node 'dropout' \(aten.dropout\): dropout is active at "
                                                    r"inference \(train=True: F.dropout's default\)"):
        capture(Fn(lambda m, x: F.dropout(x, 0.5)), (1, 3, 4, 4))


def test_functional_zero_padding_writes_no_node():
    model = Fn(lambda self, x: self.layers[0](F.pad(x, (0, 0, 0, 0))), nn.Conv2d(3, 4, 3))
    graph = check_capture(model, (1, 3, 6, 6))
    assert [node.op for node in graph.nodes] == ["conv"]


# calls torch.export records that the concrete tracer never saw: assignments made functional, flips, windows
MOVES = [
    pytest.param(lambda m, x: torch.flip(x, (1, 3)), ["arange", "sub", "gather", "arange", "sub", "gather"],
                 id="torch.flip"),
    pytest.param(lambda m, x: x.repeat_interleave(2, dim=1), ["reshape", "expand", "reshape"],
                 id="Tensor.repeat_interleave"),
    pytest.param(lambda m, x: x.repeat_interleave(3), ["reshape", "reshape", "expand", "reshape"],
                 id="Tensor.repeat_interleave-flat"),
    pytest.param(lambda m, x: x.unfold(3, 2, 1), ["arange", "reshape", "add", "gather"], id="Tensor.unfold-last"),
    pytest.param(lambda m, x: x.unfold(2, 3, 2), ["arange", "reshape", "add", "gather", "transpose"],
                 id="Tensor.unfold-middle"),
]


@pytest.mark.parametrize("fn, ops", MOVES)
def test_data_movement_matches_torch(fn, ops):
    graph = check_capture(Fn(fn), (1, 3, 5, 4))
    assert [node.op for node in graph.nodes] == ops


class Assigned(nn.Module):
    """Slices and positions assigned in place (made functional by torch.export: slice_scatter, select_scatter,
    copy, fill)."""

    def forward(self, x):
        y = x.clone()
        y[:, 1:3] = x[:, :2] * 2.0
        y[:, 0] = 5.0
        y[..., -1] = x[..., 0]
        return y


def test_assignments_to_slices_are_joins():
    graph = check_capture(Assigned(), (1, 4, 3))
    assert [node.op for node in graph.nodes].count("concat") == 3
    assert "full" in [node.op for node in graph.nodes]  # y[:, 0] = 5.0


def test_assignment_to_a_strided_slice_is_refused():
    def forward(m, x):
        y = x.clone()
        y[:, ::2] = 0.0
        return y

    with pytest.raises(UnsupportedLayerError, match=r"an assignment to a strided slice"):
        capture(Fn(forward), (1, 4, 3))
