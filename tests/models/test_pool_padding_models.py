"""PyTorch average pooling over padding, converted to Keras: a small CNN around nn.AvgPool2d, run at two batch sizes.

Padding PyTorch does not count is TensorFlow's 'same' at stride 1 (Keras's own AveragePooling2D); with stride 2 and
ceil_mode it is neither, and the Keras model holds interlayer's AveragePooling layer; counted padding is zeros in
front of Keras's layer."""
from __future__ import annotations

import keras
import pytest
import torch
from torch import nn

import interlayer
from interlayer.backends.keras.layers import AveragePooling
from interlayer.execute import predict
from support import assert_equivalent, assert_varies

SIZE = 12  # even: ceil_mode adds a window at stride 2


def pooling_cnn(pool: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), pool, nn.Conv2d(8, 4, 1)).eval()


POOLS = {
    "stride1-exclude-padding": (lambda: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                                [keras.layers.AveragePooling2D]),
    "stride2-ceil-exclude-padding": (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                          count_include_pad=False), [AveragePooling]),
    "stride2-ceil-include-padding": (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
                                     [keras.layers.ZeroPadding2D, keras.layers.AveragePooling2D]),
}


@pytest.fixture(scope="module", params=sorted(POOLS))
def converted(request):
    make, layers = POOLS[request.param]
    source = pooling_cnn(make())
    graph = interlayer.export(source, example_inputs=(1, 3, SIZE, SIZE))
    return source, interlayer.build(graph, "keras"), layers


def _pooling_layers(model: keras.Model) -> list[type]:
    return [type(layer) for layer in model.layers
            if isinstance(layer, (keras.layers.ZeroPadding2D, keras.layers.AveragePooling2D, AveragePooling))]


@pytest.mark.parametrize("batch", [1, 5])
def test_pytorch_average_pooling_to_keras(converted, batch):
    source, target, layers = converted
    assert _pooling_layers(target) == layers
    rng = torch.Generator().manual_seed(batch)
    x, other = (torch.randn((batch, 3, SIZE, SIZE), generator=rng).numpy() for _ in range(2))
    expected = predict(source, [x])[0]
    assert_varies(expected, predict(source, [other])[0])
    assert_equivalent(predict(target, [x])[0], expected, what=f"Keras at batch {batch}")
