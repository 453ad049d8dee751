"""Keras frontend, layer by layer: each small model's IR graph, run by the reference interpreter, reproduces
Keras (seeded weights, BN statistics randomised, biases non-zero)."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from keras_helpers import check


def seq(input_shape, *stack, name="model"):
    return keras.Sequential([keras.Input(input_shape), *stack], name=name)


def conv_then(*stack, input_shape=(6, 7, 3)):
    """A channels-last feature map from a conv, then ``stack``: the layers under test see a held NHWC tensor."""
    return seq(input_shape, layers.Conv2D(4, 3), *stack)


def branches_add():
    x = keras.Input((6, 6, 3))
    a = layers.Conv2D(4, 3, padding="same")(x)
    b = layers.Conv2D(4, 1)(x)
    y = layers.Add()([a, layers.ReLU()(b)])
    return keras.Model(x, layers.GlobalAveragePooling2D()(y), name="branches_add")


def branches_concat_channels():
    x = keras.Input((6, 6, 3))
    a = layers.Conv2D(4, 3, padding="same")(x)
    b = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    y = layers.Concatenate()([a, b])
    return keras.Model(x, layers.Conv2D(2, 1)(y), name="branches_concat")


def branches_concat_width():
    x = keras.Input((5, 6, 3))
    a = layers.Conv2D(2, (1, 3))(x)
    b = layers.Conv2D(2, (1, 2))(x)
    return keras.Model(x, layers.Concatenate(axis=2)([a, b]), name="concat_width")


def two_inputs_two_outputs():
    image, features = keras.Input((6, 6, 3), name="image"), keras.Input((5,), name="features")
    pooled = layers.GlobalMaxPooling2D()(layers.Conv2D(4, 3)(image))
    joined = layers.Concatenate()([pooled, layers.Dense(3)(features)])
    return keras.Model([image, features], [layers.Dense(2)(joined), layers.Softmax()(joined)], name="two_by_two")


def nested_sequential():
    block = keras.Sequential([keras.Input((6, 6, 3)), layers.Conv2D(4, 3, activation="relu"),
                              layers.BatchNormalization()], name="block")
    x = keras.Input((6, 6, 3))
    return keras.Model(x, layers.Flatten()(block(x)), name="nested")


def shared_layer():
    x = keras.Input((5,))
    dense = layers.Dense(5, activation="tanh")
    return keras.Model(x, dense(dense(x)), name="shared")


def merge_of(layer, *shapes, conv_first=True):
    """``layer`` merging one input per shape; image-shaped inputs pass a conv first (held channels-last)."""
    inputs = [keras.Input(shape) for shape in shapes]
    tensors = [layers.Conv2D(shape[-1], 1)(x) if conv_first and len(shape) == 3 else x
               for x, shape in zip(inputs, shapes)]
    return keras.Model(inputs, layer(tensors), name="merge")


def squeeze_excitation():
    """EfficientNet's block: pool, Reshape((1, 1, C)), two 1x1 convs, Multiply with the feature map."""
    x = keras.Input((6, 6, 8))
    features = layers.Conv2D(8, 3, padding="same", activation="swish")(x)
    se = layers.Reshape((1, 1, 8))(layers.GlobalAveragePooling2D()(features))
    se = layers.Conv2D(2, 1, activation="swish")(se)
    se = layers.Conv2D(8, 1, activation="sigmoid")(se)
    return keras.Model(x, layers.Multiply()([features, se]), name="se")


def operations(fn, shape=(5, 6, 3), conv=True):
    """A functional graph applying ``fn`` (keras.ops / Python operators) to a (conv of the) input."""
    x = keras.Input(shape)
    y = layers.Conv2D(shape[-1], 1)(x) if conv else x
    return keras.Model(x, fn(y), name="ops")


def normalization_adapted(**options):
    layer = layers.Normalization(**options)
    layer.adapt(np.random.default_rng(3).standard_normal((16, 5, 6, 3)).astype(np.float32) * 2.0 + 1.0)
    return seq((5, 6, 3), layer)


MODELS = {
    # Dense
    "dense": lambda: seq((7,), layers.Dense(5)),
    "dense-no-bias": lambda: seq((7,), layers.Dense(5, use_bias=False)),
    "dense-fused-relu": lambda: seq((7,), layers.Dense(5, activation="relu")),
    "dense-on-sequence": lambda: seq((4, 7), layers.Dense(5)),
    "dense-on-feature-map": lambda: conv_then(layers.Dense(3)),
    # convolutions
    "conv2d-3x4-same-on-5x6": lambda: seq((5, 6, 3), layers.Conv2D(2, (3, 4), padding="same")),
    "conv2d-stride2-same": lambda: seq((7, 8, 3), layers.Conv2D(4, 3, strides=2, padding="same")),
    "conv2d-stride2-valid": lambda: seq((7, 8, 3), layers.Conv2D(4, 3, strides=(2, 1))),
    "conv2d-dilation-same": lambda: seq((7, 8, 3), layers.Conv2D(4, 3, dilation_rate=2, padding="same")),
    "conv2d-groups": lambda: seq((6, 6, 4), layers.Conv2D(6, 3, groups=2)),
    "conv2d-no-bias": lambda: seq((5, 5, 3), layers.Conv2D(4, 1, use_bias=False)),
    "conv2d-fused-tanh": lambda: seq((5, 5, 3), layers.Conv2D(4, 3, activation="tanh")),
    "conv1d": lambda: seq((10, 3), layers.Conv1D(4, 3)),
    "conv1d-stride2-same": lambda: seq((11, 3), layers.Conv1D(4, 4, strides=2, padding="same")),
    "conv1d-causal-dilated": lambda: seq((10, 3), layers.Conv1D(4, 3, padding="causal", dilation_rate=2)),
    "depthwise2d-multiplier2-same": lambda: seq((6, 6, 3),
                                                layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")),
    "depthwise1d": lambda: seq((9, 3), layers.DepthwiseConv1D(3)),
    # pooling
    "max-pool2d-valid": lambda: seq((7, 7, 3), layers.MaxPooling2D(2)),
    "max-pool2d-same-odd": lambda: seq((5, 7, 3), layers.MaxPooling2D(2, padding="same")),
    "max-pool2d-3-stride2-same": lambda: seq((8, 8, 3), layers.MaxPooling2D(3, strides=2, padding="same")),
    "avg-pool2d-valid": lambda: seq((7, 7, 3), layers.AveragePooling2D(2)),
    "avg-pool2d-same-odd": lambda: seq((5, 7, 3), layers.AveragePooling2D(2, padding="same")),
    "avg-pool2d-3-stride1-same": lambda: seq((5, 5, 3), layers.AveragePooling2D(3, strides=1, padding="same")),
    "max-pool1d": lambda: seq((9, 3), layers.MaxPooling1D(3, strides=2)),
    "avg-pool1d-same": lambda: seq((9, 3), layers.AveragePooling1D(2, padding="same")),
    "global-avg2d": lambda: seq((5, 6, 3), layers.GlobalAveragePooling2D()),
    "global-avg2d-keepdims": lambda: seq((5, 6, 3), layers.GlobalAveragePooling2D(keepdims=True)),
    "global-max2d": lambda: seq((5, 6, 3), layers.GlobalMaxPooling2D()),
    "global-max2d-keepdims": lambda: seq((5, 6, 3), layers.GlobalMaxPooling2D(keepdims=True)),
    "global-avg1d": lambda: seq((7, 3), layers.GlobalAveragePooling1D()),
    "global-max1d-keepdims": lambda: seq((7, 3), layers.GlobalMaxPooling1D(keepdims=True)),
    # normalisation
    "batchnorm-eps1e-3-after-conv": lambda: conv_then(layers.BatchNormalization(epsilon=1e-3)),
    "batchnorm-features": lambda: seq((6,), layers.BatchNormalization()),
    "batchnorm-no-affine": lambda: conv_then(layers.BatchNormalization(center=False, scale=False)),
    "batchnorm-sequence-axis1": lambda: seq((5, 4), layers.BatchNormalization(axis=1)),
    # activation layers
    "relu-max6": lambda: conv_then(layers.ReLU(max_value=6.0)),
    "relu-negative-slope": lambda: conv_then(layers.ReLU(negative_slope=0.1)),
    "relu-max-and-slope": lambda: conv_then(layers.ReLU(max_value=0.5, negative_slope=0.1)),
    "leaky-relu-0.3": lambda: conv_then(layers.LeakyReLU(negative_slope=0.3)),
    "elu-0.5": lambda: conv_then(layers.ELU(alpha=0.5)),
    "softmax-layer-default": lambda: conv_then(layers.Softmax()),
    "softmax-layer-axis1": lambda: conv_then(layers.Softmax(axis=1)),
    # reshaping
    "flatten-dense-5x5x16": lambda: seq((7, 7, 3), layers.Conv2D(16, 3), layers.Flatten(), layers.Dense(4)),
    "flatten-channels-first-format": lambda: conv_then(layers.Flatten(data_format="channels_first"), layers.Dense(3)),
    "flatten-input": lambda: seq((3, 4, 2), layers.Flatten()),
    "dropout": lambda: conv_then(layers.Dropout(0.3)),
    "spatial-dropout2d": lambda: conv_then(layers.SpatialDropout2D(0.2)),
    "zero-padding2d-asymmetric": lambda: seq((4, 5, 3), layers.ZeroPadding2D(((1, 2), (0, 1))), layers.Conv2D(2, 3)),
    "zero-padding1d": lambda: seq((6, 3), layers.ZeroPadding1D((2, 1))),
    "cropping2d": lambda: conv_then(layers.Cropping2D(((1, 0), (1, 2)))),
    "reshape-4x4x3-conv": lambda: seq((6,), layers.Dense(48), layers.Reshape((4, 4, 3)),
                                      layers.Conv2D(2, 3, padding="same")),
    "reshape-of-feature-map": lambda: conv_then(layers.Reshape((-1, 4))),
    "permute-then-dense": lambda: conv_then(layers.Permute((3, 1, 2)), layers.Dense(2)),
    # merging and graphs
    "add-branches": branches_add,
    "concatenate-channels-branches": branches_concat_channels,
    "concatenate-width": branches_concat_width,
    "two-inputs-two-outputs": two_inputs_two_outputs,
    "nested-sequential": nested_sequential,
    "shared-dense": shared_layer,
    # separable and transposed convolutions
    "separable2d-same-multiplier2": lambda: seq((6, 7, 3), layers.SeparableConv2D(5, 3, padding="same",
                                                                                  depth_multiplier=2)),
    "separable2d-stride2-relu": lambda: seq((8, 8, 3), layers.SeparableConv2D(4, 3, strides=2, activation="relu")),
    "separable2d-dilated-no-bias": lambda: seq((9, 9, 3), layers.SeparableConv2D(4, 3, dilation_rate=2,
                                                                                 use_bias=False)),
    "separable1d-same": lambda: seq((10, 3), layers.SeparableConv1D(4, 3, padding="same")),
    "conv2d-transpose-valid": lambda: seq((4, 5, 3), layers.Conv2DTranspose(2, 3)),
    "conv2d-transpose-stride2-same": lambda: seq((4, 5, 3), layers.Conv2DTranspose(2, 3, strides=2, padding="same")),
    "conv2d-transpose-stride2-same-even": lambda: seq((4, 5, 3), layers.Conv2DTranspose(2, 4, strides=2,
                                                                                        padding="same")),
    "conv2d-transpose-stride3-k2-valid": lambda: seq((4, 4, 3), layers.Conv2DTranspose(2, 2, strides=3)),
    "conv2d-transpose-output-padding": lambda: seq((4, 4, 3), layers.Conv2DTranspose(2, 3, strides=2,
                                                                                     output_padding=1)),
    "conv2d-transpose-same-output-padding": lambda: seq((4, 4, 3), layers.Conv2DTranspose(
        2, 3, strides=2, padding="same", output_padding=1)),
    "conv2d-transpose-stride-1x2-relu": lambda: seq((4, 5, 3), layers.Conv2DTranspose(
        2, (2, 3), strides=(1, 2), activation="relu", use_bias=False)),
    "conv1d-transpose-stride2": lambda: seq((6, 3), layers.Conv1DTranspose(4, 3, strides=2, padding="same")),
    # resizing
    "upsampling2d-nearest": lambda: conv_then(layers.UpSampling2D(2)),
    "upsampling2d-nearest-2x3": lambda: conv_then(layers.UpSampling2D((2, 3))),
    "upsampling2d-bilinear": lambda: conv_then(layers.UpSampling2D(2, interpolation="bilinear")),
    "upsampling2d-bilinear-3x2": lambda: conv_then(layers.UpSampling2D((3, 2), interpolation="bilinear")),
    "upsampling1d": lambda: seq((5, 3), layers.Conv1D(4, 1), layers.UpSampling1D(3)),
    "resizing-bilinear-down": lambda: conv_then(layers.Resizing(3, 4)),
    "resizing-nearest-up": lambda: conv_then(layers.Resizing(8, 10, interpolation="nearest")),
    # preprocessing
    "rescaling": lambda: seq((5, 6, 3), layers.Rescaling(1.0 / 255.0), layers.Conv2D(2, 3)),
    "rescaling-offset": lambda: seq((5, 6, 3), layers.Rescaling(1.0 / 127.5, offset=-1.0), layers.Conv2D(2, 3)),
    "rescaling-per-channel": lambda: seq((5, 6, 3), layers.Rescaling([0.5, 2.0, 3.0]), layers.Conv2D(2, 3)),
    "normalization-given": lambda: seq((5, 6, 3), layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.5, 2.0]),
                                       layers.Conv2D(2, 3)),
    "normalization-adapted": lambda: normalization_adapted(),
    "normalization-adapted-axis-1-2": lambda: normalization_adapted(axis=(1, 2)),
    "normalization-invert": lambda: seq((5, 6, 3), layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.5, 2.0],
                                                                        invert=True)),
    "normalization-features": lambda: seq((7,), layers.Normalization(mean=0.5, variance=2.0), layers.Dense(3)),
    # merges
    "multiply-squeeze-excitation": squeeze_excitation,
    "multiply-three": lambda: merge_of(layers.Multiply(), (4, 5, 3), (4, 5, 3), (4, 5, 3)),
    "multiply-broadcast-rank": lambda: merge_of(layers.Multiply(), (4, 5, 3), (3,)),
    "subtract": lambda: merge_of(layers.Subtract(), (4, 5, 3), (4, 5, 3)),
    "average-two": lambda: merge_of(layers.Average(), (4, 5, 3), (4, 5, 3)),
    "average-three": lambda: merge_of(layers.Average(), (4, 5, 3), (4, 5, 3), (4, 5, 3)),
    "maximum": lambda: merge_of(layers.Maximum(), (4, 5, 3), (4, 5, 3)),
    "minimum-three-features": lambda: merge_of(layers.Minimum(), (6,), (6,), (6,)),
    "add-broadcast-1x1": lambda: merge_of(layers.Add(), (4, 5, 3), (1, 1, 3)),
    "concatenate-axis1-of-maps": lambda: merge_of(layers.Concatenate(axis=1), (4, 5, 3), (2, 5, 3)),
    "concatenate-negative-axis-2": lambda: merge_of(layers.Concatenate(axis=-2), (4, 5, 3), (4, 2, 3)),
    # normalisation over other axes
    "layernorm-last-axis-of-map": lambda: conv_then(layers.LayerNormalization()),
    "layernorm-axes-1-2-3": lambda: conv_then(layers.LayerNormalization(axis=(1, 2, 3), epsilon=1e-5)),
    "layernorm-axes-1-2": lambda: conv_then(layers.LayerNormalization(axis=[1, 2])),
    "layernorm-sequence-no-center": lambda: seq((4, 6), layers.LayerNormalization(center=False)),
    "layernorm-no-scale-axis1": lambda: seq((4, 6), layers.LayerNormalization(axis=1, scale=False)),
    "groupnorm-channels-last": lambda: conv_then(layers.GroupNormalization(groups=2)),
    "batchnorm-axis1-of-map": lambda: conv_then(layers.BatchNormalization(axis=1)),
    "batchnorm-axis2-of-map": lambda: conv_then(layers.BatchNormalization(axis=2)),
    # activations
    "prelu-shared-spatial": lambda: conv_then(layers.PReLU(shared_axes=[1, 2])),
    "prelu-shared-all": lambda: conv_then(layers.PReLU(shared_axes=[1, 2, 3])),
    "relu-threshold-zero-max": lambda: conv_then(layers.ReLU(max_value=1.0, negative_slope=0.2)),
    "softmax-axis-2-of-map": lambda: conv_then(layers.Softmax(axis=2)),
    # identity-like
    "identity": lambda: conv_then(layers.Identity()),
    "spatial-dropout1d": lambda: seq((6, 3), layers.SpatialDropout1D(0.3)),
    "dense-on-4d-then-flatten": lambda: conv_then(layers.Dense(5), layers.Flatten(), layers.Dense(2)),
    # keras.ops calls in a functional graph
    "ops-add-scalar": lambda: operations(lambda y: y + 1.5),
    "ops-scalar-minus": lambda: operations(lambda y: 2.0 - y),
    "ops-divide-by-array": lambda: operations(lambda y: y / np.array([1.0, 2.0, 4.0], np.float32)),
    "ops-subtract-eager-tensor": lambda: operations(lambda y: keras.ops.subtract(
        y, keras.ops.convert_to_tensor(np.array([[0.5], [1.0], [-1.0], [2.0], [0.0], [3.0]], np.float32)))),
    "ops-multiply-broadcast": lambda: operations(lambda y: y * keras.ops.mean(y, axis=(1, 2), keepdims=True)),
    "ops-maximum-tensors": lambda: operations(lambda y: keras.ops.maximum(y, keras.ops.relu(y) * 0.5)),
    "ops-activations": lambda: operations(lambda y: keras.ops.gelu(keras.ops.silu(keras.ops.sigmoid(y)))),
    "ops-mean-spatial": lambda: operations(lambda y: keras.ops.mean(y, axis=(1, 2))),
    "ops-softmax-axis1": lambda: operations(lambda y: keras.ops.softmax(y, axis=1)),
}


@pytest.mark.parametrize("case", sorted(MODELS))
def test_layer_matches_keras(case):
    check(MODELS[case]())


# every activation Keras accepts by name that the IR has, on a channels-last feature map
ACTIVATIONS = ["relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "swish", "sigmoid", "tanh", "softmax",
               "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "mish", "linear"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_layer_by_name(name):
    check(conv_then(layers.Activation(name), input_shape=(4, 5, 3)))


@pytest.mark.parametrize("name", ["relu", "gelu", "hard_sigmoid", "softmax"])
def test_fused_activation_is_second_node(name):
    graph = check(seq((5, 5, 3), layers.Conv2D(4, 3, activation=name, name="conv")))
    assert [(node.name, node.op) for node in graph.nodes][0] == ("conv", "conv")
    assert graph.nodes[1].name == "conv_activation"
