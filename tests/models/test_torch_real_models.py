"""Real PyTorch models whose forward is code, captured through torch.export and converted both ways.

Hugging Face ResNet, ConvNeXt and MobileNetV2 are built from their default configs with seeded random weights
(never downloaded), plus three hand-written networks: a residual network, a U-Net and a squeeze-excitation
network. Each goes PyTorch -> archive -> Keras and PyTorch -> archive -> PyTorch and must match the source
output by output within 1e-5, at the capture's image size and, where the graph keeps the height and width
generic, at another; the Keras model must hold its feature maps channels-last with no Permute layer.
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
import transformers

import interlayer
from interlayer.execute import predict
from interlayer.ir import provenance
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies
from torch_models import ResidualNet, SENet, UNet, archive_maker, randomise, target_cases


SIZE = 64  # every model still ends on a real 2x2 (or larger) feature map
OTHER_SIZE = (48, 80)  # another height and width (not square), multiples of 16 as the U-Net needs


def _inputs(shape, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)


def _permutes(model) -> int:
    return sum(isinstance(layer, keras.layers.Permute) for layer in model.layers)


# Hugging Face models from their default configs -----------------------------------------------------------


def resnet():
    return transformers.ResNetModel(transformers.ResNetConfig())


def convnext():
    return transformers.ConvNextModel(transformers.ConvNextConfig())


def mobilenet_v2():
    return transformers.MobileNetV2Model(transformers.MobileNetV2Config())


def tiny_resnet():
    config = transformers.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 2], layer_type="basic")
    return transformers.ResNetModel(config)


def tiny_convnext():
    """Two stages, and stochastic depth: its drop path is traced as the identity it is at inference."""
    return transformers.ConvNextModel(transformers.ConvNextConfig(hidden_sizes=[8, 16], depths=[2, 2], num_stages=2,
                                                                  drop_path_rate=0.5, hidden_act="gelu_new"))


def tiny_convnext_v2():
    """ConvNeXt V2: global response normalisation, a norm over the spatial axes of a channels-last tensor."""
    return transformers.ConvNextV2Model(transformers.ConvNextV2Config(hidden_sizes=[8, 16], depths=[2, 2],
                                                                      num_stages=2))


def tiny_mobilenet_v2():
    return transformers.MobileNetV2Model(transformers.MobileNetV2Config(depth_multiplier=0.25))


POOLED = ["last_hidden_state", "pooler_output"]
MODELS = {
    "hf-resnet": (resnet, POOLED),
    "hf-convnext": (convnext, POOLED),
    "hf-mobilenet-v2": (mobilenet_v2, POOLED),
    "hf-tiny-resnet": (tiny_resnet, POOLED),
    "hf-tiny-convnext": (tiny_convnext, POOLED),
    "hf-tiny-mobilenet-v2": (tiny_mobilenet_v2, POOLED),
    "hf-tiny-convnext-v2": (tiny_convnext_v2, POOLED),
    "residual-net": (ResidualNet, ["0", "1"]),
    "unet": (UNet, None),
    "squeeze-excitation": (SENet, None),
}
SLOW = {"hf-resnet", "hf-convnext", "hf-mobilenet-v2"}
PINNED = {"hf-mobilenet-v2", "hf-tiny-mobilenet-v2"}
"""Models whose height and width torch.export fixes at the example's: MobileNetV2's TF-style padding computes its
pads from int(height) and int(width). Every other model keeps both generic."""


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """Each model captured once and saved: (source model, archive path), made on first use."""
    return archive_maker(tmp_path_factory.mktemp("archives"),
                         lambda name: (randomise(MODELS[name][0]()), (1, 3, SIZE, SIZE)))


def _assert_source_outputs(name: str, target_name: str, model, graph, target, x) -> None:
    expected = predict(model, [x])
    actual = predict(target, [x])
    names = provenance.output_names(graph)
    assert len(actual) == len(expected) == len(names)
    for output, got, want in zip(names, actual, expected):
        assert_equivalent(got, want, what=f"{name} -> {target_name} at {x.shape[2:]}: {output}")


def _check(name: str, target_name: str, archives, folder):
    model, path = archives(name)
    graph = interlayer.load(path)
    assert graph.source.get("output_names") == MODELS[name][1]
    pinned = name in PINNED
    assert graph.inputs[0].shape == (("N", 3, SIZE, SIZE) if pinned else ("N", 3, "H", "W"))
    x, other = _inputs((2, 3, SIZE, SIZE))
    expected = predict(model, [x])
    assert_varies(expected[0], predict(model, [other])[0], what=f"{name} output 0")
    assert np.ndim(expected[0]) < 4 or min(expected[0].shape[2:]) >= 2, "a real spatial map at the end"
    target = interlayer.build(graph, target_name)
    _assert_source_outputs(name, target_name, model, graph, target, x)
    if not pinned:
        _assert_source_outputs(name, target_name, model, graph, target, _inputs((3, 3, *OTHER_SIZE), seed=2)[0])
    if target_name == "keras":
        spatial = (SIZE, SIZE) if pinned else (None, None)
        assert target.inputs[0].shape == (None, *spatial, 3), "an NHWC Keras model"
        assert _permutes(target) == 0, "layout tracking absorbs every transpose"
    if target_name == "torch":
        assert_package_reproduces(target, [x], folder / "package")
    return graph


@pytest.mark.parametrize("name, target_name", target_cases(MODELS, SLOW))
def test_model_through_the_archive(name, target_name, archives, tmp_path):
    _check(name, target_name, archives, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hf-resnet", "hf-convnext", "hf-mobilenet-v2"])
def test_hugging_face_provenance_both_ways(name, archives):
    model, path = archives(name)
    graph = interlayer.load(path)
    keys = {key for key in model.state_dict() if not key.endswith("num_batches_tracked")}
    assert set(graph.source["name_map"]) == keys
    reverse = provenance.source_names(graph)
    tensors = dict(graph.tensors())
    for key, tensor in model.state_dict().items():
        if key in keys:
            assert key in reverse[graph.source["name_map"][key]]
            assert np.array_equal(tensors[graph.source["name_map"][key]], tensor.numpy()), key
    assert provenance.unmapped_tensors(graph) == []


def test_convnext_layers_become_single_ops(archives):
    """ConvNextLayerNorm is one layer_norm over the channels whichever its data format (channels_first: its two
    permutes cancel; channels_last after permute(0, 2, 3, 1): the norm of the tensor before the permute, which
    follows it), gelu_new one gelu, the layer scale a constant operand, and drop path nothing at all."""
    model, path = archives("hf-tiny-convnext")
    graph = interlayer.load(path)
    name_map, shapes, producers, readers = (graph.source["name_map"], graph.shapes(), graph.producers(),
                                            graph.consumers())

    def holder(key: str):
        return graph.node(name_map[key].rpartition(".")[0])

    assert any(type(m).__name__ == "ConvNextDropPath" for m in model.modules())
    assert not [node.name for node in graph.nodes if "drop_path" in node.name and node.op != "identity"]
    stem = holder("embeddings.layernorm.weight")  # channels_first on (N, C, H, W)
    assert stem.op == "layer_norm" and stem.attrs["axes"] == [1] and len(shapes[stem.outputs[0]]) == 4
    assert producers[stem.inputs[0]].name == "embeddings.patch_embeddings"
    assert "transpose" not in {node.op for node in readers[stem.outputs[0]]}
    block = holder("encoder.stages.0.layers.0.layernorm.weight")  # channels_last after permute(0, 2, 3, 1)
    assert block.op == "layer_norm" and block.attrs["axes"] == [1]
    assert producers[block.inputs[0]].name == "encoder.stages.0.layers.0.dwconv"
    (permute,) = readers[block.outputs[0]]
    assert permute.op == "transpose" and permute.attrs["perm"] == [0, 2, 3, 1]
    pooled = holder("layernorm.weight")  # nn.LayerNorm on the pooled (N, C)
    assert pooled.op == "layer_norm" and pooled.attrs["axes"] == [1] and len(shapes[pooled.outputs[0]]) == 2
    assert {node.attrs["approximate"] for node in graph.nodes if node.op == "gelu"} == {"tanh"}
    scale = holder("encoder.stages.0.layers.0.layer_scale_parameter")
    assert scale.op == "mul" and scale.attrs["trainable"]
    assert name_map["encoder.stages.0.layers.0.layer_scale_parameter"] == f"{scale.name}.other"
    (back,) = readers[scale.outputs[0]]
    assert back.op == "transpose" and back.attrs["perm"] == [0, 3, 1, 2]
    (residual,) = readers[back.outputs[0]]  # the residual add reads the block's output: no drop path between
    assert residual.op == "add" and sorted(residual.inputs) == sorted([stem.outputs[0], back.outputs[0]])
