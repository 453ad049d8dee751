"""Hugging Face layers: ACT2FN activations and ConvNeXt's LayerNorm as single IR ops, converters kept out of the
registry, and a user's registered converter taking precedence."""
from __future__ import annotations

import pytest
import torch
import transformers
from torch import nn
from transformers.activations import ACT2FN
from transformers.models.convnext.modeling_convnext import ConvNextLayerNorm

from interlayer import registry
from interlayer.errors import SourceError
from interlayer.frontends.torch import capture
from torch_frontend_support import Fn, check_capture


@pytest.mark.parametrize("name, ops", [
    ("gelu", ["gelu"]), ("gelu_python", ["gelu"]), ("gelu_new", ["gelu"]), ("gelu_fast", ["gelu"]),
    ("gelu_pytorch_tanh", ["gelu"]), ("gelu_python_tanh", ["gelu"]), ("gelu_accurate", ["gelu"]),
    ("gelu_10", ["gelu", "clip"]), ("silu", ["silu"]), ("swish", ["silu"]),
    ("linear", []),  # the input itself
    ("quick_gelu", ["mul", "sigmoid", "mul"]),  # x * sigmoid(1.702 x) is no GELU: its ops as written
    ("relu", ["relu"]), ("relu6", ["clip"]),
])
def test_act2fn_activation(name, ops):
    graph = check_capture(Fn(lambda m, x: m.layers[0](x), ACT2FN[name]), (1, 3, 5))
    assert [node.op for node in graph.nodes] == ops


def test_gelu_approximation_is_kept():
    exact = check_capture(Fn(lambda m, x: m.layers[0](x), ACT2FN["gelu"]), (1, 4))
    tanh = check_capture(Fn(lambda m, x: m.layers[0](x), ACT2FN["gelu_new"]), (1, 4))
    assert [exact.nodes[0].attrs, tanh.nodes[0].attrs] == [{"approximate": "none"}, {"approximate": "tanh"}]


@pytest.mark.parametrize("data_format, shape, axes, name", [
    ("channels_first", (1, 6, 4, 5), [1], "0_layer_norm"),  # permute, F.layer_norm, permute: the norm over axis 1
    ("channels_last", (1, 4, 5, 6), [3], "0"),
])
def test_convnext_layer_norm(data_format, shape, axes, name):
    graph = check_capture(nn.Sequential(ConvNextLayerNorm(6, eps=1e-6, data_format=data_format)), shape)
    [node] = graph.nodes
    assert (node.name, node.op, node.attrs["axes"], node.attrs["normalized_shape"], node.attrs["epsilon"]) == (
        name, "layer_norm", axes, [6], 1e-6)
    assert graph.source["name_map"] == {"0.weight": f"{name}.scale", "0.bias": f"{name}.offset"}


def test_transformers_converters_stay_out_of_the_registry():
    capture(nn.Sequential(ConvNextLayerNorm(6, data_format="channels_first")), (1, 6, 2, 2))
    assert ConvNextLayerNorm not in registry.converters("torch", "frontend")
    assert type(ACT2FN["gelu"]) not in registry.converters("torch", "frontend")


def test_a_registered_converter_takes_precedence(monkeypatch):
    monkeypatch.setitem(registry.converters("torch", "frontend"), ConvNextLayerNorm,
                        lambda ctx, module: ctx.add("identity", [ctx.input]))
    graph = capture(nn.Sequential(ConvNextLayerNorm(6, data_format="channels_first")), (1, 6, 2, 2))
    assert [node.op for node in graph.nodes] == ["identity"]


def test_resnet_channel_check_is_answered_and_refuses_wrong_channels():
    model = transformers.ResNetModel(transformers.ResNetConfig(embedding_size=8, hidden_sizes=[8], depths=[1],
                                                               layer_type="basic"))
    graph = check_capture(model, (1, 3, 16, 16))
    assert graph.source["output_names"] == ["last_hidden_state", "pooler_output"]
    assert graph.inputs[0].shape == ("N", 3, "H", "W")
    with pytest.raises(SourceError, match=r"(?s)cannot export ResNetModel.*ValueError:\n  Make sure that the channel "
                                          r"dimension of the pixel values match"):
        capture(model, (1, 4, 16, 16))
    assert torch.is_grad_enabled()


def test_init_only_subclasses_use_their_parents_converter():
    from transformers.models.efficientnet.modeling_efficientnet import EfficientNetDepthwiseConv2d
    from transformers.models.poolformer.modeling_poolformer import PoolFormerGroupNorm

    graph = check_capture(nn.Sequential(EfficientNetDepthwiseConv2d(4, kernel_size=3, padding=1),
                                        PoolFormerGroupNorm(4)), (1, 4, 5, 5))
    assert [(node.op, node.attrs.get("groups", node.attrs.get("num_groups"))) for node in graph.nodes] == [
        ("conv", 4), ("group_norm", 1)]
