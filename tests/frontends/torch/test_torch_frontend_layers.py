"""Linear, Conv1d/2d and BatchNorm1d/2d: the captured graph computes what the torch layer computes."""
from __future__ import annotations

import pytest
import torch.nn.functional as F
from torch import nn

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_frontend_support import check_capture

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

CASES = [
    pytest.param(lambda: nn.Linear(7, 5), (1, 7), id="linear"),
    pytest.param(lambda: nn.Linear(7, 5, bias=False), (1, 7), id="linear-no-bias"),
    pytest.param(lambda: nn.Linear(6, 4), (1, 3, 6), id="linear-rank3"),
    pytest.param(lambda: nn.Conv2d(3, 4, 3), (1, 3, 9, 8), id="conv2d"),
    pytest.param(lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), dilation=(1, 2)), (1, 3, 11, 10),
                 id="conv2d-stride-dilation"),
    pytest.param(lambda: nn.Conv2d(3, 4, 3, padding=1), (1, 3, 8, 8), id="conv2d-padding-int"),
    pytest.param(lambda: nn.Conv2d(3, 4, (3, 5), padding=(1, 2), stride=2), (1, 3, 9, 9), id="conv2d-padding-tuple"),
    pytest.param(lambda: nn.Conv2d(3, 4, 3, padding="valid"), (1, 3, 7, 7), id="conv2d-valid"),
    pytest.param(lambda: nn.Conv2d(3, 4, 3, padding="same"), (1, 3, 7, 6), id="conv2d-same"),
    pytest.param(lambda: nn.Conv2d(2, 3, (2, 4), padding="same"), (1, 2, 5, 6), id="conv2d-same-even-kernel"),
    pytest.param(lambda: nn.Conv2d(2, 3, 4, padding="same", dilation=2), (1, 2, 9, 9), id="conv2d-same-dilation"),
    pytest.param(lambda: nn.Conv2d(4, 6, 3, groups=2), (1, 4, 7, 7), id="conv2d-groups"),
    pytest.param(lambda: nn.Conv2d(4, 8, 3, groups=4, padding=1), (1, 4, 7, 7), id="conv2d-depthwise"),
    pytest.param(lambda: nn.Conv2d(3, 4, 1, bias=False), (1, 3, 5, 5), id="conv2d-no-bias"),
    pytest.param(lambda: nn.Conv1d(3, 5, 3, stride=2, padding=1), (1, 3, 12), id="conv1d"),
    pytest.param(lambda: nn.Conv1d(3, 5, 4, padding="same"), (1, 3, 12), id="conv1d-same-even-kernel"),
    pytest.param(lambda: nn.Conv1d(4, 4, 3, groups=4, dilation=2, bias=False), (1, 4, 12), id="conv1d-depthwise"),
    pytest.param(lambda: nn.BatchNorm2d(3, eps=1e-3), (1, 3, 4, 5), id="bn2d-eps"),
    pytest.param(lambda: nn.BatchNorm2d(3, affine=False), (1, 3, 4, 5), id="bn2d-no-affine"),
    pytest.param(lambda: nn.BatchNorm1d(6, eps=1e-3), (2, 6), id="bn1d-features"),
    pytest.param(lambda: nn.BatchNorm1d(4), (1, 4, 9), id="bn1d-sequence"),
    pytest.param(lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1)), (1, 3, 6, 6),
                 id="sequential-conv-bn-conv"),
]


@pytest.mark.parametrize("make, shape", CASES)
def test_layer_matches_torch(make, shape):
    check_capture(make(), shape)


def test_conv_attributes():
    graph = check_capture(nn.Sequential(nn.Conv2d(2, 3, (2, 4), padding="same", dilation=(1, 2))), (1, 2, 6, 9))
    attrs = graph.node("0").attrs
    # PyTorch puts the odd pad at the end: kernel span 2 -> (0, 1); span 7 -> (3, 3)
    assert attrs["pads"] == [0, 3, 1, 3]
    assert attrs["dilations"] == [1, 2]


def test_batch_norm_attributes_exact():
    model = nn.Sequential(nn.BatchNorm2d(3, eps=1e-3, momentum=0.01))
    graph = check_capture(model, (1, 3, 4, 4))
    assert graph.node("0").attrs == {"num_features": 3, "epsilon": 1e-3, "momentum": 0.01,
                                     "center": True, "scale": True}


def test_batch_norm_cumulative_momentum():
    graph = check_capture(nn.Sequential(nn.BatchNorm1d(5, momentum=None)), (2, 5))
    assert graph.node("0").attrs["momentum"] is None


@pytest.mark.parametrize("make, shape", [
    pytest.param(lambda: nn.BatchNorm2d(3, track_running_stats=False), (2, 3, 4, 4), id="bn2d"),
    pytest.param(lambda: nn.BatchNorm1d(5, affine=False, track_running_stats=False), (4, 5), id="bn1d-no-affine"),
])
def test_batch_norm_without_running_stats_normalises_with_the_batch(make, shape):
    """No running statistics: PyTorch normalises each channel with the mean and variance of the batch itself
    (over axis 0 and the spatial axes), at inference too; the graph computes the same, for any batch."""
    graph = check_capture(nn.Sequential(make()), shape)
    assert [node.op for node in graph.nodes][:2] == ["reduce_mean", "sub"]
    assert graph.nodes[0].attrs["axes"] == [0, *range(2, len(shape))]
    if make().affine:
        assert graph.source["name_map"] == {"0.weight": "0_scale.other", "0.bias": "0.other"}


def test_batch_norm_with_a_computed_weight_is_refused():
    class Computed(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm2d(3)

        def forward(self, x):
            return F.batch_norm(x, self.bn.running_mean, self.bn.running_var, x.mean((0, 2, 3)), None)

    with pytest.raises(UnsupportedLayerError, match=r"node 'batch_norm' \(aten.batch_norm\): its weight or bias is "
                                                    r"computed from the inputs"):
        capture(Computed(), (2, 3, 4, 4))


def test_bare_layer_names_its_node_after_the_class():
    graph = check_capture(nn.Linear(3, 4), (1, 3))
    assert [node.name for node in graph.nodes] == ["linear"]
    assert graph.source["name_map"] == {"weight": "linear.weight", "bias": "linear.bias"}
