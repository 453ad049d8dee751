"""build(): a trainable fx.GraphModule of native layers, named after the IR nodes, with bit-exact weights."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer import registry
from interlayer.backends.torch import build, predict
from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from interlayer.ir import Graph, Node, TensorSpec
from support import assert_equivalent, chain_graph, random_inputs, single_op_graph


def conv(in_c, out_c, k, **extra):
    return {"in_channels": in_c, "out_channels": out_c, "kernel_size": list(k), **extra}


def small_net() -> Graph:
    return chain_graph([
        ("conv", conv(3, 4, (3, 3), pads=[1, 1, 1, 1])), ("batch_norm", {"num_features": 4, "epsilon": 1e-3}),
        ("relu", {}), ("max_pool", {"kernel_size": [2, 2], "strides": [2, 2]}), ("flatten", {}),
        ("linear", {"in_features": 4 * 3 * 3, "out_features": 5}), ("softmax", {"axis": 1})], (2, 3, 6, 6))


def renamed(graph: Graph, names: list[str]) -> Graph:
    """The same chain with its nodes (and their output values) renamed."""
    old = {node.name: new for node, new in zip(graph.nodes, names)}
    nodes = [Node(old[n.name], n.op, [old.get(v, v) for v in n.inputs], [old[n.name]], n.attrs, n.weights)
             for n in graph.nodes]
    return Graph(nodes, graph.inputs, [TensorSpec(old[graph.outputs[0].name], graph.outputs[0].shape)], graph.name)


def test_built_model_matches_reference():
    graph = small_net()
    inputs = random_inputs(graph)
    assert_equivalent(predict(build(graph), inputs)[0], interlayer.run(graph, inputs)["softmax_6"])


def test_native_layers_in_eval_mode():
    model = build(small_net())
    assert isinstance(model, torch.fx.GraphModule)
    assert not model.training
    layers = dict(model.named_children())
    assert isinstance(layers["conv_0"], nn.Conv2d) and layers["conv_0"].padding == (1, 1)
    assert isinstance(layers["batch_norm_1"], nn.BatchNorm2d) and layers["batch_norm_1"].eps == 1e-3
    assert [type(layers[name]) for name in ("relu_2", "max_pool_3", "flatten_4", "linear_5", "softmax_6")] == [
        nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Linear, nn.Softmax]
    assert "self.conv_0(x)" in model.code


def test_trainable_every_parameter_gets_a_gradient():
    model = build(small_net()).train()
    x = torch.from_numpy(random_inputs(small_net())[0])
    model(x)[:, 0].sum().backward()
    for name, param in model.named_parameters():
        assert param.requires_grad and param.grad is not None and param.grad.abs().sum() > 0, name


def test_state_dict_names_follow_node_names():
    graph = renamed(small_net(), ["features.0", "features.1", "features.2", "features.3", "flatten", "classifier.0",
                                  "classifier.1"])
    model = build(graph)
    assert list(model.state_dict()) == [
        "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias", "features.1.running_mean",
        "features.1.running_var", "features.1.num_batches_tracked", "classifier.0.weight", "classifier.0.bias"]
    inputs = random_inputs(graph)
    assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)["classifier.1"])


def test_weights_are_bit_identical_copies():
    graph = small_net()
    model = build(graph)
    state = model.state_dict()
    pairs = {"conv_0.weight": ("conv_0", "weight"), "conv_0.bias": ("conv_0", "bias"),
             "batch_norm_1.weight": ("batch_norm_1", "scale"), "batch_norm_1.bias": ("batch_norm_1", "offset"),
             "batch_norm_1.running_mean": ("batch_norm_1", "mean"),
             "batch_norm_1.running_var": ("batch_norm_1", "variance"),
             "linear_5.weight": ("linear_5", "weight"), "linear_5.bias": ("linear_5", "bias")}
    for key, (node, weight) in pairs.items():
        array = graph.node(node).weights[weight]
        assert state[key].numpy().dtype == array.dtype and state[key].numpy().tobytes() == array.tobytes(), key
    with torch.no_grad():
        model.conv_0.weight.zero_()
    assert np.abs(graph.node("conv_0").weights["weight"]).sum() > 0


def test_float64_weights_keep_their_dtype():
    graph = single_op_graph("linear", {"in_features": 3, "out_features": 2}, [(2, 3)])
    node = graph.nodes[0]
    node.weights = {name: array.astype(np.float64) for name, array in node.weights.items()}
    model = build(graph)
    assert model.linear.weight.dtype == torch.float64
    assert model.linear.weight.detach().numpy().tobytes() == node.weights["weight"].tobytes()


def test_torch_round_trip_keeps_state_dict_and_outputs():
    source = nn.Sequential(nn.Conv2d(3, 6, 3, padding="same"), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(6 * 4 * 4, 4)).eval()
    with torch.no_grad():
        source[1].running_mean.normal_()
        source[1].running_var.uniform_(0.5, 2.0)
    graph = capture(source, (1, 3, 8, 8))
    model = build(graph)
    assert list(model.state_dict()) == list(source.state_dict())
    for key, value in source.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            assert torch.equal(model.state_dict()[key], value), key
    model.load_state_dict(source.state_dict())
    inputs = [np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)]  # the size Linear takes
    assert_equivalent(predict(model, inputs)[0], predict(source, inputs)[0])


def test_names_are_sanitised_deterministically():
    graph = renamed(chain_graph([("relu", {})] * 7, (2, 3)),
                    ["block1/conv 1", "forward", "2x", "a.b", "a", "a.b.c", "class"])
    model = build(graph)
    assert [name for name, _ in model.named_modules()][1:] == [
        "block1_conv_1", "forward_", "_2x", "a", "a.b", "a_1", "a_b_c", "class_"]
    assert build(graph).code == model.code
    inputs = random_inputs(graph)
    assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)["class"])


def test_input_names_become_forward_arguments():
    graph = single_op_graph("add", {}, [(2, 3), (2, 3)])
    graph.inputs[0].name, graph.inputs[1].name = "input-1", "lambda"
    graph.nodes[0].inputs = ["input-1", "lambda"]
    model = build(graph)
    assert "def forward(self, input_1, lambda_)" in model.code


def test_missing_converters_are_all_named_before_building(monkeypatch):
    table = registry.converters("torch", "backend")
    monkeypatch.delitem(table, "gelu")
    monkeypatch.delitem(table, "elu")
    graph = chain_graph([("gelu", {}), ("relu", {}), ("elu", {"alpha": 0.5})], (2, 3))
    with pytest.raises(UnsupportedLayerError) as info:
        build(graph)
    assert [where for where, _ in info.value.problems] == ["node 'gelu_0' (gelu)", "node 'elu_2' (elu)"]
    assert "op 'gelu' has no torch backend converter" in str(info.value)


def test_inexpressible_attributes_are_all_named():
    graph = chain_graph([
        ("hard_sigmoid", {"alpha": 0.2}),
        ("avg_pool", {"kernel_size": [3], "strides": [2], "pads": [0, 1], "ceil_mode": True}),
        ("relu", {})], (2, 3, 7))
    with pytest.raises(UnsupportedLayerError) as info:
        build(graph)
    problems = dict(info.value.problems)
    assert list(problems) == ["node 'hard_sigmoid_0' (hard_sigmoid)", "node 'avg_pool_1' (avg_pool)"]
    assert "Expected alpha=1/6, beta=0.5" in problems["node 'hard_sigmoid_0' (hard_sigmoid)"]
    assert "Received: pads=[0, 1], count_include_pad=False, ceil_mode=True" in problems["node 'avg_pool_1' (avg_pool)"]


def test_multiple_outputs_in_order():
    graph = chain_graph([("relu", {}), ("tanh", {})], (2, 3))
    graph.outputs = [TensorSpec("tanh_1", ("N", 3)), TensorSpec("relu_0", ("N", 3))]
    inputs = random_inputs(graph)
    expected = interlayer.run(graph, inputs)
    actual = predict(build(graph), inputs)
    assert_equivalent(actual[0], expected["tanh_1"])
    assert_equivalent(actual[1], expected["relu_0"])


def test_predict_runs_a_source_model_with_nested_outputs():
    class Heads(nn.Module):
        def forward(self, x):
            return x + 1, [x * 2]

    model = Heads().train()
    x = np.ones((2, 3), np.float32)
    out = predict(model, [x])
    assert [o.tolist() for o in out] == [(x + 1).tolist(), (x * 2).tolist()]
    assert model.training


def test_unknown_option_is_an_error():
    with pytest.raises(interlayer.errors.InterlayerError, match="unknown option"):
        build(small_net(), device="cuda")


class BasicBlock(nn.Module):
    """torchvision's ResNet block: conv-bn-relu-conv-bn, a strided 1x1 downsample, ``out += identity``."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class MiniResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 8))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2), BasicBlock(16, 16))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def test_resnet_style_round_trip():
    torch.manual_seed(0)
    source = MiniResNet().eval()
    with torch.no_grad():
        for module in source.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.normal_(1, 0.2)
                module.bias.normal_(0, 0.2)
    graph = capture(source, (1, 3, 32, 32))
    model = build(graph)
    # same names (in execution order: the downsample runs before conv1 here)
    assert sorted(model.state_dict()) == sorted(source.state_dict())
    model.load_state_dict(source.state_dict())
    inputs = random_inputs(graph)
    expected = predict(source, inputs)[0]
    assert_equivalent(interlayer.run(graph, inputs)[graph.outputs[0].name], expected)
    assert_equivalent(predict(model, inputs)[0], expected)


def test_convert_through_the_public_api():
    source = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)).eval()
    model = interlayer.convert(source, "torch", example_inputs=(1, 2, 6, 6))
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6)).astype(np.float32)
    assert_equivalent(predict(model, [x])[0], predict(source, [x])[0])
    assert sorted(model.state_dict()) == sorted(source.state_dict())
