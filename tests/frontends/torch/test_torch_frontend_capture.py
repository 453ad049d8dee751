"""capture(): inputs, names, provenance, outputs, errors, and which class's converter a subclass gets."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import interlayer
from interlayer import registry
from interlayer.errors import SourceError, UnsupportedLayerError
from interlayer.frontends.torch import capture
from interlayer.ir import dims, provenance
from support import assert_equivalent
from torch_frontend_support import Fn2, check_capture, inputs_for, randomise, torch_outputs


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16, eps=1e-3), nn.ReLU(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 5 * 5, 32), nn.Dropout(0.25),
                                        nn.BatchNorm1d(32), nn.Linear(32, 10), nn.Softmax(dim=1))

    def forward(self, x):
        return self.classifier(self.features(x))


def test_convnet_matches_torch():
    check_capture(ConvNet(), (1, 1, 28, 28))


def test_name_map_covers_every_state_dict_key():
    model = ConvNet()
    graph = check_capture(model, (1, 1, 28, 28))
    keys = {key for key in model.state_dict() if not key.endswith("num_batches_tracked")}
    name_map = graph.source["name_map"]
    assert set(name_map) == keys
    tensors = dict(graph.tensors())
    for key, tensor_name in name_map.items():
        assert np.array_equal(tensors[tensor_name], model.state_dict()[key].numpy()), key
    assert name_map["features.1.running_var"] == "features.1.variance"
    assert name_map["classifier.3.weight"] == "classifier.3.scale"


def test_provenance_reads_both_ways():
    model = ConvNet()
    graph = check_capture(model, (1, 1, 28, 28))
    reverse = provenance.source_names(graph)
    assert reverse["features.1.variance"] == ["features.1.running_var"]
    assert reverse["classifier.1.weight"] == ["classifier.1.weight"]
    assert {name for names in reverse.values() for name in names} == set(graph.source["name_map"])
    assert set(reverse) == {name for name, _ in graph.tensors()}
    assert provenance.unmapped_tensors(graph) == []
    assert provenance.output_names(graph) == {"classifier.5": "classifier.5"}


def test_provenance():
    graph = check_capture(ConvNet(), (1, 1, 28, 28))
    assert graph.name == "ConvNet"
    assert graph.source["framework"] == "torch"
    assert graph.source["version"] == torch.__version__
    assert [node.name for node in graph.nodes][:3] == ["features.0", "features.1", "features.2"]


def test_inputs_keep_every_size_the_model_allows_generic():
    graph = check_capture(ConvNet(), (1, 1, 28, 28))
    [spec] = graph.inputs
    # the Linear(400) after the flatten takes 16 x 5 x 5 features: torch.export requires (H//4 - ...)-products to
    # be 400, which holds at scattered sizes only, so H and W are fixed at the example's and the reason recorded
    assert (spec.name, spec.shape, spec.dtype, spec.perm) == ("x", ("N", 1, 28, 28), "float32", None)
    assert graph.outputs[0].shape == ("N", 10)
    assert set(graph.source["fixed_sizes"]) == {"H", "W"}
    assert graph.source["fixed_sizes"]["H"]["size"] == 28 and "fixed features" in graph.source["fixed_sizes"]["H"]["reason"]


def test_a_relation_that_holds_at_every_multiple_keeps_the_sizes_generic():
    """PixelUnshuffle(2) requires H // (H // 2) == 2 (an even size): generic all the same."""
    graph = check_capture(nn.Sequential(nn.PixelUnshuffle(2)), (1, 2, 4, 6))
    assert graph.inputs[0].shape == ("N", 2, "H", "W") and "fixed_sizes" not in graph.source


@pytest.mark.parametrize("example", [
    pytest.param((2, 1, 28, 28), id="shape-tuple"),
    pytest.param([2, 1, 28, 28], id="shape-list"),
    pytest.param([(2, 1, 28, 28)], id="list-of-shapes"),
    pytest.param(torch.zeros(2, 1, 28, 28), id="tensor"),
    pytest.param((torch.zeros(2, 1, 28, 28),), id="tuple-of-tensors"),
    pytest.param(np.zeros((2, 1, 28, 28), np.float32), id="numpy-array"),
])
def test_example_input_forms(example):
    graph = capture(randomise(ConvNet()), example_inputs=example)
    assert graph.inputs[0].shape == ("N", 1, 28, 28)  # H and W fixed by the flatten before Linear(400)


def test_two_inputs_from_shapes():
    graph = check_capture(Fn2(lambda m, x, y: torch.cat([x, y], 1)), [(1, 2, 3), (1, 4, 3)])
    # axis 1 of each input is its own size; axis 2 one size the cat makes them share
    assert [(spec.name, spec.shape) for spec in graph.inputs] == [("x", ("N", "T", "A2")), ("y", ("N", "T1", "A2"))]
    assert graph.outputs[0].shape == ("N", "T + T1", "A2")


def test_tuple_outputs_are_flattened_in_order():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(4, 6)
            self.a = nn.Linear(6, 2)
            self.b = nn.Linear(6, 3)

        def forward(self, x):
            h = torch.relu(self.body(x))
            return self.a(h), [self.b(h), h]

    graph = check_capture(TwoHeads(), (1, 4))
    assert [spec.name for spec in graph.outputs] == ["a", "b", "relu"]
    assert [spec.shape for spec in graph.outputs] == [("N", 2), ("N", 3), ("N", 6)]


def test_without_example_inputs_is_a_source_error():
    with pytest.raises(SourceError, match=r"needs example inputs.*example_inputs=None"):
        capture(ConvNet())


def test_export_without_example_inputs_is_a_source_error():
    with pytest.raises(SourceError, match="example_inputs"):
        interlayer.export(ConvNet())


def test_wrong_example_shape_is_a_source_error():
    # the batch of 1 is exported as 2 (torch.export takes a size of 1 for a constant)
    with pytest.raises(SourceError, match=r"cannot export ConvNet on inputs \{'x': \(2, 3, 28, 28\)\}.*RuntimeError:"
                                          r"\n.*weight of size \[6, 1, 5, 5\]") as info:
        capture(ConvNet(), (1, 3, 28, 28))
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize("example, message", [
    pytest.param(["image"], r"input spec 'image' cannot be read. Expected name:dtype\[axes\]", id="not-a-spec"),
    pytest.param(["x:float32[N,3,H!]"], r"axis 'H!' is not a size", id="spec-axis"),
    pytest.param(["x:complex64[N,3]"], r"unknown dtype.*Received: dtype='complex64'", id="spec-dtype"),
    pytest.param([3.5], r"each example input is a tensor, an array, a shape or an input spec. Received: 3.5",
                 id="number"),
])
def test_unreadable_example_inputs_is_a_source_error(example, message):
    with pytest.raises(SourceError, match=message):
        capture(ConvNet(), example)


def test_every_unsupported_layer_is_named_in_one_error():
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(nn.Upsample(scale_factor=2, mode="bicubic"), nn.ReLU(),
                                               nn.AvgPool2d(2, divisor_override=3), nn.Hardtanh()))
    with pytest.raises(UnsupportedLayerError) as info:
        capture(model, (1, 8, 8, 8))
    message = str(info.value)
    assert "2 layer(s) cannot be converted" in message  # the layers after them, which read what they made, are not
    assert "node 'features.0' (aten.upsample_bicubic2d in Upsample): upsample_bicubic has no IR equivalent." in message
    assert "node 'features.2' (aten.avg_pool2d in AvgPool2d): divisor_override must be None." in message
    assert "Received: divisor_override=3." in message
    assert [where for where, _ in info.value.problems] == ["node 'features.0' (aten.upsample_bicubic2d in Upsample)",
                                                           "node 'features.2' (aten.avg_pool2d in AvgPool2d)"]


def test_an_operator_without_a_converter_is_named():
    with pytest.raises(UnsupportedLayerError, match=r"node 'fft_fft' \(aten.fft_fft\): has no torch frontend "
                                                    r"converter.*Received: aten.fft_fft.default"):
        capture(Fn2(lambda m, x, y: torch.fft.fft(x).real + y), [(1, 4), (1, 4)])


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return x


def test_data_dependent_control_flow_is_a_source_error():
    with pytest.raises(SourceError, match=r"(?s)torch.export cannot export DataDependent.*no Python control flow on "
                                          r"tensor values.*Could not guard on data-dependent expression.*"
                                          r"if x.sum\(\) > 0:") as info:
        capture(DataDependent(), (1, 4))
    assert info.value.__cause__ is not None  # torch.export's own error, chained


class MyConv(nn.Conv2d):
    """Only its arguments differ from Conv2d's: it computes as a Conv2d does."""

    def __init__(self):
        super().__init__(3, 4, 3, padding=1)


class ScaledEmbedding(nn.Embedding):
    """Its own forward around its parent's (Gemma's and BART's scaled word embeddings)."""

    def __init__(self):
        super().__init__(10, 6)
        self.scale = 2.5

    def forward(self, ids):
        return super().forward(ids) * self.scale


class ProjectedLinear(nn.Linear):
    """Its own forward, written with F.linear (Falcon's Linear)."""

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + x.mean(-1, keepdim=True)


class StandardisedConv(nn.Conv2d):
    """A method the parent's forward calls, overridden: its code is followed into, as any other code."""

    def _conv_forward(self, x, weight, bias):
        weight = (weight - weight.mean((1, 2, 3), keepdim=True)) / (weight.std((1, 2, 3), keepdim=True) + 1e-5)
        return F.conv2d(x, weight, bias, self.stride, self.padding)


def test_subclass_that_only_sets_arguments_is_converted_as_its_parent():
    graph = check_capture(nn.Sequential(MyConv()), (1, 3, 6, 6))
    assert [node.op for node in graph.nodes] == ["conv"] and graph.node("0").attrs["pads"] == [1, 1, 1, 1]


@pytest.mark.parametrize("parent, arguments, shape, op", [
    pytest.param(nn.InstanceNorm2d, (3,), (1, 3, 5, 5), "group_norm", id="InstanceNorm2d"),
    pytest.param(nn.ReflectionPad2d, (1,), (1, 3, 5, 5), "pad", id="ReflectionPad2d"),
    pytest.param(nn.Softsign, (), (1, 3), "softsign", id="Softsign"),
    pytest.param(nn.MaxPool2d, (2,), (1, 3, 4, 4), "max_pool", id="MaxPool2d"),
    pytest.param(nn.LSTM, (3, 4), (1, 5, 3), "lstm", id="LSTM"),
])
def test_converters_that_read_their_class_read_the_parent_of_such_a_subclass(parent, arguments, shape, op):
    """Converters keyed by class (a rank, a padding mode, an op) look up the class they convert as."""
    subclass = type(f"My{parent.__name__}", (parent,), {})
    layer = subclass(*arguments, batch_first=True) if parent is nn.LSTM else subclass(*arguments)
    graph = capture(nn.Sequential(layer), example_inputs=[shape])
    assert graph.nodes[0].op == op


@pytest.mark.parametrize("make, example, ops", [
    pytest.param(ScaledEmbedding, torch.tensor([[1, 4, 9]]), ["embedding", "mul"], id="scaled-embedding"),
    pytest.param(lambda: ProjectedLinear(5, 5), (1, 5), ["linear", "reduce_mean", "add"], id="functional-linear"),
])
def test_subclass_with_its_own_forward_is_traced_through(make, example, ops):
    model = nn.Sequential(make())
    randomise(model)
    graph = capture(model, example_inputs=[example] if isinstance(example, torch.Tensor) else example)
    assert [node.op for node in graph.nodes] == ops
    assert "0.weight" in graph.source["name_map"]  # the parameter keeps its state_dict name
    x = example if isinstance(example, torch.Tensor) else torch.randn(3, *example[1:])
    with torch.no_grad():
        expected = model(x).numpy()
    assert_equivalent(list(interlayer.run(graph, [x.numpy()]).values())[0], expected)


def test_subclass_overriding_what_its_parent_calls_is_followed_into():
    """Its standardised kernel is computed from the parameters alone: a constant, computed once at capture."""
    model = nn.Sequential(StandardisedConv(3, 4, 3))
    graph = check_capture(model, (1, 3, 6, 6))
    (node,) = graph.nodes
    weight = model[0].weight.detach()
    expected = (weight - weight.mean((1, 2, 3), keepdim=True)) / (weight.std((1, 2, 3), keepdim=True) + 1e-5)
    assert node.op == "conv" and np.allclose(node.weights["weight"], expected.numpy())
    assert graph.source["name_map"] == {"0.bias": "0.bias"}  # the kernel is no state_dict tensor


class Scale(nn.Module):
    """A user layer with data-dependent code that fx could not trace; a registered converter makes it a leaf."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) if x.sum() > -1e9 else x


def test_registered_user_module_is_a_leaf(monkeypatch):
    table = registry.converters("torch", "frontend")

    def scale(ctx, module):
        return ctx.add("linear", [ctx.input], {"in_features": 4, "out_features": 4},
                       {"weight": module.fc.weight.detach().numpy(), "bias": module.fc.bias.detach().numpy()},
                       sources={"weight": "fc.weight", "bias": "fc.bias"})

    monkeypatch.setitem(table, Scale, scale)
    model = nn.Sequential(Scale(), nn.ReLU())
    graph = check_capture(model, (1, 4))
    assert [node.name for node in graph.nodes] == ["0", "1"]
    assert graph.source["name_map"] == {"0.fc.weight": "0.weight", "0.fc.bias": "0.bias"}


def test_training_mode_is_restored():
    model = ConvNet().train()
    model.features[1].eval()
    capture(model, (1, 1, 28, 28))
    assert model.training and model.classifier[2].training
    assert not model.features[1].training


def test_weights_share_memory_read_only_and_keep_their_dtype():
    """As state_dict does, the graph shares the model's memory (no copy of a large model); nothing reached
    through the graph can change the model."""
    model = randomise(nn.Sequential(nn.Linear(3, 2))).double()
    graph = capture(model, torch.zeros(1, 3, dtype=torch.float64))
    weight = graph.node("0").weights["weight"]
    assert weight.dtype == np.float64
    assert np.shares_memory(weight, model[0].weight.detach().numpy())
    with pytest.raises(ValueError, match="read-only"):
        weight[0, 0] = 1.0


def test_shared_module_called_twice():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(torch.tanh(self.fc(x)))

    model = Twice()
    graph = check_capture(model, (1, 4))
    assert [node.name for node in graph.nodes] == ["fc", "tanh", "fc_1"]
    assert graph.source["name_map"] == {"fc.weight": "fc.weight", "fc.bias": "fc.bias"}


def test_graph_survives_the_archive(tmp_path):
    model = ConvNet()
    graph = check_capture(model, (1, 1, 28, 28))
    interlayer.save(graph, tmp_path / "convnet.safetensors")
    loaded = interlayer.load(tmp_path / "convnet.safetensors")
    arrays = inputs_for(loaded)
    assert_equivalent(list(interlayer.run(loaded, arrays).values())[0], torch_outputs(model, arrays)[0])


class InPlaceChain(nn.Module):
    """torchvision's habit: in-place activations on a tensor nobody reads again."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.fc(x)
        out += x
        return torch.nn.functional.hardtanh(self.relu(out), -0.5, 0.5, inplace=True)


def test_in_place_layers_whose_input_is_not_read_again():
    check_capture(InPlaceChain(), (1, 4))


class InPlaceThroughAlias(nn.Module):
    """The in-place ReLU overwrites x through the Dropout alias; torch's sum then reads relu(x) twice."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return x + self.relu(self.drop(x))


def test_in_place_layer_whose_input_is_read_later_changes_it_as_in_torch():
    """torch.export records the inactive dropout as a new tensor; the in-place ReLU really changes x itself."""
    graph = check_capture(InPlaceThroughAlias(), (1, 4))
    assert [(node.op, node.inputs) for node in graph.nodes] == [("relu", ["x"]), ("add", ["relu", "relu"])]
