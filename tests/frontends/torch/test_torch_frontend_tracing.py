"""What torch.export makes of Python code around the layers: shape questions answered (sizes kept generic, or
fixed where the code reads them as ints), tensors made for the batch, value-dependent code refused with the place
named, keyword defaults, named outputs, constants computed once, and the model left untouched."""
from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import interlayer
from interlayer.errors import SourceError, UnsupportedLayerError
from interlayer.execute import predict
from interlayer.frontends.torch import capture
from interlayer.ir import provenance
from support import assert_equivalent
from torch_frontend_support import Fn, check_capture, inputs_for, randomise


class ChannelCheck(nn.Module):
    """Hugging Face's habit: a Python check of the channel count, then a layer."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        if x.shape[1] != self.conv.in_channels:
            raise ValueError("wrong number of channels")
        return self.conv(x)


class SamePad(nn.Module):
    """TensorFlow-style 'same' padding computed in Python from the input's size (MobileNet's apply_tf_padding)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)

    def forward(self, x):
        height, width = int(x.shape[-2]), int(x.shape[-1])
        pads = [max(3 - (size % 2 or 2), 0) for size in (width, height)]
        x = F.pad(x, (pads[0] // 2, pads[0] - pads[0] // 2, pads[1] // 2, pads[1] - pads[1] // 2))
        return self.conv(x)


SHAPE_QUESTIONS = [
    pytest.param(ChannelCheck, (1, 3, 6, 6), id="shape-1-check"),
    pytest.param(SamePad, (1, 3, 7, 8), id="int-of-shape-padding"),
    pytest.param(lambda: Fn(lambda m, x: m.layers[0](x) if x.dim() == 4 else x, nn.ReLU()), (1, 3, 4, 4), id="dim"),
    pytest.param(lambda: Fn(lambda m, x: m.layers[0](x) if len(x.shape) == 2 else x, nn.Linear(5, 2)), (1, 5),
                 id="len-shape"),
    pytest.param(lambda: Fn(lambda m, x: x.reshape(x.size(0), *[d for d in x.shape[1:]][::-1]), nn.ReLU()),
                 (1, 2, 3, 4), id="iterate-shape"),
    pytest.param(lambda: Fn(lambda m, x: x.view(x.size(0), x.size(1) * x.size(-1), -1)), (1, 2, 3, 4),
                 id="size-arithmetic"),
    pytest.param(lambda: Fn(lambda m, x: F.relu(x) if x.ndim > 2 else x), (1, 3, 4), id="ndim"),
    pytest.param(lambda: Fn(lambda m, x: torch.relu(x) if x.numel() > 0 else x), (1, 3, 4), id="numel"),
]


@pytest.mark.parametrize("make, shape", SHAPE_QUESTIONS)
def test_shape_questions_are_answered_while_exporting(make, shape):
    graph = check_capture(make(), shape)
    assert graph.inputs[0].shape[0] == "N"


def test_same_padding_from_int_of_the_shape_fixes_those_sizes():
    """int(x.shape[-2]) makes torch.export take the size for the example's: the pads are baked in for it."""
    graph = check_capture(SamePad(), (1, 3, 7, 8))
    assert graph.inputs[0].shape == ("N", 3, 7, 8)
    assert [(node.op, node.attrs.get("pads")) for node in graph.nodes] == [("pad", [1, 0, 1, 1]),
                                                                            ("conv", [0, 0, 0, 0])]


@pytest.mark.parametrize("fn", [
    pytest.param(lambda m, x: x.view(x.size(0), -1), id="view-size0"),
    pytest.param(lambda m, x: x.reshape(x.shape[0], -1), id="reshape-shape0"),
    pytest.param(lambda m, x: x.reshape(*x.shape[:1], -1), id="reshape-shape-slice"),
])
def test_the_sizes_of_a_reshape_stay_symbolic(fn):
    graph = check_capture(Fn(fn), (1, 3, 4))  # captured at batch 1, checked at batch 3 and at other sizes
    assert graph.inputs[0].shape == ("N", "T", "A2") and graph.outputs[0].shape == ("N", "A2*T")
    # (N, T, A2) to one vector per sample: a flatten, which the Keras backend folds into a following Dense
    assert [(node.op, node.attrs) for node in graph.nodes] == [("flatten", {"axis": 1, "order": "channels_first"})]


@pytest.mark.parametrize("fn", [
    pytest.param(lambda m, x: x + torch.ones(x.shape[0], 5).cumsum(1), id="torch.ones-cumsum"),
    pytest.param(lambda m, x: torch.cat([x, torch.zeros(x.size(0), 2)], 1), id="torch.zeros-cat"),
    pytest.param(lambda m, x: x * torch.full((x.size(0), 1), 0.5), id="torch.full"),
])
def test_a_tensor_made_for_the_batch_by_a_torch_function_follows_it(fn):
    """torch.ones(x.shape[0], n) and its like: a ``full`` of the batch's size."""
    graph = check_capture(Fn(fn), (1, 5))  # captured at batch 1, checked at batch 3
    [made] = [node for node in graph.nodes if node.op == "full"]
    assert made.attrs["shape"][0] == "N"


def test_len_of_a_tensor_fixes_the_batch():
    """len(x) is an int: torch.export takes the batch for the example's, and the graph keeps it fixed."""
    graph = check_capture(Fn(lambda m, x: x.reshape(len(x), -1)), (2, 3, 4))
    assert graph.inputs[0].shape == (2, "T", "A2")


def test_size_arithmetic_leaves_no_nodes_behind():
    model = Fn(lambda m, x: m.layers[0](x) if x.size(0) * x.size(1) > 0 and x.shape[2:] == (4, 4) else x,
               nn.ReLU())
    graph = check_capture(model, (1, 3, 4, 4))
    assert [node.op for node in graph.nodes] == ["relu"]


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:  # the value decides
            return self.fc(x)
        return x


class Count(nn.Module):
    def forward(self, x):
        return x * x.abs().max().item()


class Select(nn.Module):
    def forward(self, x):
        return torch.nonzero(x)


class Mask(nn.Module):
    def forward(self, x):
        return x[x > 0]


class Guarded(nn.Module):
    """Code fx cannot trace (a proxy is not a torch.Tensor) that runs fine eagerly."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError("Guarded expects a tensor")
        return self.fc(x)


class Several(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = Gate()
        self.guarded = Guarded()
        self.count = Count()
        self.blocks = nn.Sequential(nn.ReLU(), Gate())

    def forward(self, x):
        x = self.count(self.guarded(self.gate(x)))
        if x.mean() < 100:  # in the root's own forward
            x = x + 1
        return self.blocks(x)


def test_value_dependent_control_flow_is_refused_where_it_is():
    """torch.export stops at the first place a Python branch reads a tensor's value, and names its line."""
    with pytest.raises(SourceError) as info:
        capture(Several(), (1, 4))
    message = str(info.value)
    assert message.startswith("torch frontend: torch.export cannot export Several on inputs {'x': (2, 4)}.")
    assert "Could not guard on data-dependent expression" in message
    assert "if x.sum() > 0:  # the value decides" in message


@pytest.mark.parametrize("make, error, what", [
    pytest.param(Select, UnsupportedLayerError, r"node 'nonzero' \(aten.nonzero\): its result's size depends on the "
                                                r"values of the tensor", id="nonzero"),
    pytest.param(Mask, UnsupportedLayerError, r"node 'index' \(aten.index\): a boolean mask index: the result's "
                                              r"size depends on the mask's values", id="boolean-mask"),
    pytest.param(Count, UnsupportedLayerError, r"node 'item' \(aten.item\): it reads a tensor's value as a "
                                               r"Python number", id="item"),
    pytest.param(lambda: Fn(lambda m, x: x[: int(x[0, 0] > 0) + 1]), SourceError,
                 r"(?s)cannot export Fn.*Could not guard on data-dependent expression", id="int"),
    pytest.param(lambda: Fn(lambda m, x: x * float(x.max())), SourceError,
                 r"(?s)cannot export Fn.*Could not guard on data-dependent expression", id="float"),
])
def test_value_dependent_code_is_refused(make, error, what):
    with pytest.raises(error, match=what):
        capture(make(), (2, 4))


def test_code_fx_could_not_trace_is_exported():
    """An isinstance check of the input (fx's proxies were no tensors): torch.export runs it on real tensors."""
    graph = check_capture(nn.Sequential(Guarded(), nn.ReLU()), (1, 4))
    assert [(node.name, node.op) for node in graph.nodes] == [("0.fc", "linear"), ("1", "relu")]


def test_value_dependent_code_in_a_registered_module_is_not_traced(monkeypatch):
    table = interlayer.registry.converters("torch", "frontend")
    monkeypatch.setitem(table, Gate, lambda ctx, module: ctx.add("identity", [ctx.input]))
    graph = capture(nn.Sequential(Gate(), nn.ReLU()), (1, 4))
    assert [(node.name, node.op) for node in graph.nodes] == [("0", "identity"), ("1", "relu")]


def test_a_model_that_fails_on_its_example_names_the_error():
    model = nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.Linear(5, 2)))
    with pytest.raises(SourceError, match=r"(?s)cannot export Sequential on inputs \{'input': \(2, 4\)\}.*"
                                          r"RuntimeError:\n  a and b must have same reduction dim"):
        capture(model, (1, 4))


def test_an_error_raised_by_the_model_code_is_named():
    with pytest.raises(SourceError, match=r"(?s)cannot export Sequential.*ValueError:\n  wrong number of channels"):
        capture(nn.Sequential(ChannelCheck()), (1, 2, 6, 6))


class Options(nn.Module):
    """A Hugging Face style signature: the input, then optional keyword arguments."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.head = nn.Linear(3, 2)

    def forward(self, x, mask=None, output_hidden_states=None, return_dict=True, **kwargs):
        hidden = torch.tanh(self.fc(x))
        if mask is not None:
            hidden = hidden * mask
        if not return_dict:
            return hidden, self.head(hidden)
        out = OrderedDict(last_hidden_state=hidden, extra=None, logits=self.head(hidden))
        if output_hidden_states:
            out["hidden_states"] = (x, hidden)
        return out


def test_keyword_parameters_keep_their_defaults_and_dict_outputs_are_named():
    model = randomise(Options())
    graph = capture(model, (1, 4))
    assert [spec.name for spec in graph.inputs] == ["x"]
    assert graph.source["output_names"] == ["last_hidden_state", "logits"]
    assert provenance.output_names(graph) == {"last_hidden_state": "tanh", "logits": "head"}
    arrays = inputs_for(graph)
    for got, want in zip(interlayer.run(graph, arrays).values(), predict(model, arrays), strict=True):
        assert_equivalent(got, want)


Pair = namedtuple("Pair", "features logits")


@pytest.mark.parametrize("fn, names", [
    pytest.param(lambda m, x: (x.relu(), [x.tanh(), (x.sigmoid(),)]), ["0", "1.0", "1.1.0"], id="nested"),
    pytest.param(lambda m, x: Pair(x.relu(), x.tanh()), ["features", "logits"], id="namedtuple"),
    pytest.param(lambda m, x: {"a": x.relu(), "b": None, "c": {"d": x.tanh()}}, ["a", "c.d"], id="dict"),
    pytest.param(lambda m, x: x.relu(), None, id="tensor"),
])
def test_output_names(fn, names):
    model = Fn(fn)
    graph = capture(model, (1, 4))
    assert graph.source.get("output_names") == names
    arrays = inputs_for(graph)
    for got, want in zip(interlayer.run(graph, arrays).values(), predict(model, arrays), strict=True):
        assert_equivalent(got, want)


def test_output_names_survive_the_archive(tmp_path):
    graph = capture(Options(), (1, 4))
    loaded = interlayer.load(interlayer.save(graph, tmp_path / "m.safetensors"))
    assert loaded.source["output_names"] == ["last_hidden_state", "logits"]


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(2, 4, 1)

    def forward(self, image, extra, scale: float = 1.0):
        return torch.cat([self.a(image), self.b(extra)], 1) if scale == 1.0 else image


def test_several_inputs_bind_to_the_first_parameters():
    graph = check_capture(TwoInputs(), [(1, 3, 5, 5), (1, 2, 5, 5)])
    # the cat along the channels makes the two inputs' batch, height and width one size each
    assert [(spec.name, spec.shape) for spec in graph.inputs] == [("image", ("N", 3, "H", "W")),
                                                                   ("extra", ("N", 2, "H", "W"))]


def test_a_missing_required_input_is_a_source_error():
    with pytest.raises(SourceError, match=r"(?s)cannot export TwoInputs.*missing a required argument: 'extra'"):
        capture(TwoInputs(), (1, 3, 5, 5))


def test_too_many_inputs_is_a_source_error():
    with pytest.raises(SourceError, match=r"Linear.forward takes 1 tensor parameter\(s\) \['input'\]. Received: 2 "
                                          r"example inputs"):
        capture(nn.Linear(3, 2), [(1, 3), (1, 3)])


class MadeTensors(nn.Module):
    """Tensors the forward creates, and a buffer used outside a layer: constants, computed once at capture."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("offset", torch.ones(4))

    def forward(self, x):
        return self.fc(x) + torch.ones(4).cumsum(0) * self.offset if self.offset.shape[0] == 4 else x


def test_constants_are_computed_once_and_the_model_is_untouched():
    model = MadeTensors()
    before = {name for name, _ in model.named_modules()}, set(model.state_dict()), set(vars(model))
    graph = check_capture(model, (1, 4))
    assert [node.op for node in graph.nodes] == ["linear", "add"]
    assert np.array_equal(graph.nodes[1].weights["other"], (torch.arange(1.0, 5.0) * model.offset).numpy())
    assert ({name for name, _ in model.named_modules()}, set(model.state_dict()), set(vars(model))) == before


def test_a_branch_on_a_tensor_the_forward_made_is_refused_too():
    """torch.export runs the forward on fake tensors: a tensor made inside it has no value to branch on either."""
    class Branch(nn.Module):
        def forward(self, x):
            return x if bool(torch.ones(4).sum() > 0) else -x

    with pytest.raises(SourceError, match=r"(?s)cannot export Branch.*Could not guard on data-dependent expression"):
        capture(Branch(), (1, 4))


def test_a_constant_operand_reaches_converters(monkeypatch):
    """A parameter used in functional code: converters read it with ctx.const, its state_dict key with it."""

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.gamma = nn.Parameter(torch.full((3,), 2.0))

        def forward(self, x):
            return self.gamma * self.fc(x)

    seen = {}

    def mul(ctx):
        constant, other = ctx.node.args
        found = ctx.const(constant)
        seen.update(value=found.tensor, name=found.source, trainable=found.trainable, tensor=ctx.is_const(other))
        return ctx.add("identity", [ctx.tensor(other)])

    monkeypatch.setitem(interlayer.registry.converters("torch", "frontend"), torch.ops.aten.mul, mul)
    graph = capture(Scaled(), (1, 3))
    assert (seen["name"], seen["trainable"], seen["tensor"]) == ("gamma", True, False)
    assert np.array_equal(seen["value"].detach().numpy(), np.full((3,), 2.0, np.float32))
    assert [node.op for node in graph.nodes] == ["linear", "identity"]


def test_the_batch_example_can_be_larger_than_one():
    graph = check_capture(Fn(lambda m, x: x.view(x.size(0), -1)), (4, 3, 2))
    assert graph.inputs[0].shape == ("N", "T", "A2")


class Flaky(nn.Module):
    """Reads a parameter, then an isinstance check fx failed on."""

    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(4))

    def forward(self, x):
        y = self.gamma * x
        if not isinstance(x, torch.Tensor):
            raise TypeError("Flaky expects a tensor")
        return y


class AfterFlaky(nn.Module):
    def __init__(self):
        super().__init__()
        self.flaky = Flaky()

    def forward(self, x):
        return self.flaky(x) * self.flaky.gamma + x.sum(1, keepdim=True)


def test_a_parameter_read_in_two_places_is_one_source_tensor():
    graph = check_capture(AfterFlaky(), (1, 4))
    assert [node.op for node in graph.nodes] == ["mul", "mul", "reduce_sum", "add"]
    assert graph.source["name_map"] == {"flaky.gamma": "flaky.other"}
    assert graph.source["shared"] == {"mul.other": "flaky.other"}  # the same bits, read again
