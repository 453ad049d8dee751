"""PyTorch average pooling over padding, converted to Keras: a small CNN around nn.AvgPool2d, run at two batch sizes
and, where the graph keeps the height and width generic, at another image size.

Padding PyTorch does not count is TensorFlow's 'same' at stride 1 (Keras's own AveragePooling2D); with stride 2 and
ceil_mode it is neither, and the Keras model holds interlayer's AveragePooling layer. Counted padding with ceil_mode
is zeros in front of Keras's layer where the sizes are fixed; at generic sizes the extra window ceil_mode adds comes
and goes with the parity of the size, and interlayer's AveragePooling computes it at run time."""
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
OTHER_SIZE = (9, 14)  # odd and even, not square


def pooling_cnn(pool: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), pool, nn.Conv2d(8, 4, 1)).eval()


POOLS = {  # the pooling, the Keras layers it becomes at generic sizes and at fixed ones
    "stride1-exclude-padding": (lambda: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                                [keras.layers.AveragePooling2D], [keras.layers.AveragePooling2D]),
    "stride2-ceil-exclude-padding": (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                          count_include_pad=False),
                                     [AveragePooling], [AveragePooling]),
    "stride2-ceil-include-padding": (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
                                     [AveragePooling], [keras.layers.ZeroPadding2D, keras.layers.AveragePooling2D]),
}
EXAMPLES = {"generic": (1, 3, SIZE, SIZE), "fixed": f"[N,3,{SIZE},{SIZE}]"}
"""The example each graph is captured on: a shape (height and width kept generic), or a spec fixing them."""


@pytest.fixture(scope="module", params=[f"{pool}-{sizes}" for pool in sorted(POOLS) for sizes in EXAMPLES])
def converted(request):
    pool, _, sizes = request.param.rpartition("-")
    make, generic, fixed = POOLS[pool]
    source = pooling_cnn(make())
    graph = interlayer.export(source, example_inputs=EXAMPLES[sizes])
    spatial = ("H", "W") if sizes == "generic" else (SIZE, SIZE)
    assert graph.inputs[0].shape == ("N", 3, *spatial)
    return source, interlayer.build(graph, "keras"), generic if sizes == "generic" else fixed, sizes


def _pooling_layers(model: keras.Model) -> list[type]:
    return [type(layer) for layer in model.layers
            if isinstance(layer, (keras.layers.ZeroPadding2D, keras.layers.AveragePooling2D, AveragePooling))]


def _assert_source_output(source, target, shape: tuple, seed: int) -> None:
    rng = torch.Generator().manual_seed(seed)
    x, other = (torch.randn(shape, generator=rng).numpy() for _ in range(2))
    expected = predict(source, [x])[0]
    assert_varies(expected, predict(source, [other])[0])
    assert_equivalent(predict(target, [x])[0], expected, what=f"Keras at {shape}")


@pytest.mark.parametrize("batch", [1, 5])
def test_pytorch_average_pooling_to_keras(converted, batch):
    source, target, layers, sizes = converted
    assert _pooling_layers(target) == layers
    spatial = (None, None) if sizes == "generic" else (SIZE, SIZE)
    assert target.inputs[0].shape == (None, *spatial, 3)
    _assert_source_output(source, target, (batch, 3, SIZE, SIZE), seed=batch)
    if sizes == "generic":
        _assert_source_output(source, target, (batch, 3, *OTHER_SIZE), seed=batch + 10)
