"""The concrete-shape tracer: shape questions answered, the batch kept symbolic, value-dependent code refused
with every place named, keyword defaults, named outputs, constants, and the model left untouched."""
from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import interlayer
from interlayer.errors import SourceError
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
def test_shape_questions_are_answered_while_tracing(make, shape):
    check_capture(make(), shape)


def test_same_padding_from_the_example_shape_is_baked_in():
    graph = check_capture(SamePad(), (1, 3, 7, 8))
    assert [(node.op, node.attrs.get("pads")) for node in graph.nodes] == [("pad", [1, 0, 1, 1]),
                                                                            ("conv", [0, 0, 0, 0])]


@pytest.mark.parametrize("fn", [
    pytest.param(lambda m, x: x.view(x.size(0), -1), id="view-size0"),
    pytest.param(lambda m, x: x.reshape(x.shape[0], -1), id="reshape-shape0"),
    pytest.param(lambda m, x: x.reshape(*x.shape[:1], -1), id="reshape-shape-slice"),
])
def test_the_batch_of_a_reshape_stays_symbolic(fn):
    graph = check_capture(Fn(fn), (1, 3, 4))  # captured at batch 1, checked at batch 3
    assert [(node.op, node.attrs) for node in graph.nodes] == [("reshape", {"shape": [12]})]


@pytest.mark.parametrize("fn", [
    pytest.param(lambda m, x: x + torch.ones(x.shape[0], 5).cumsum(1), id="torch.ones-cumsum"),
    pytest.param(lambda m, x: torch.cat([x, torch.zeros(x.size(0), 2)], 1), id="torch.zeros-cat"),
    pytest.param(lambda m, x: x * torch.full((x.size(0), 1), 0.5), id="torch.full"),
])
def test_a_tensor_made_for_the_batch_by_a_torch_function_follows_it(fn):
    """torch.ones(x.shape[0], n) and its like, recorded (torch rejects a proxy size): a constant over the batch."""
    graph = check_capture(Fn(fn), (1, 5))  # captured at batch 1, checked at batch 3
    assert "batch_constant" in [node.op for node in graph.nodes]


def test_len_of_a_tensor_is_the_example_batch_and_refused_in_a_reshape():
    with pytest.raises(interlayer.errors.UnsupportedLayerError, match="the batch size must not be written"):
        capture(Fn(lambda m, x: x.reshape(len(x), -1)), (2, 3, 4))


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


def test_every_value_dependent_place_is_named_in_one_error():
    with pytest.raises(SourceError) as info:
        capture(Several(), (1, 4))
    message = str(info.value)
    assert message.startswith("torch frontend: cannot trace Several: 5 place(s)")
    lines = message.splitlines()[1:-1]
    assert lines[0].startswith("  - module 'gate' (Gate) at test_torch_frontend_tracing.py:")
    assert "`if x.sum() > 0:  # the value decides`" in lines[0] and "bool() of a tensor value" in lines[0]
    assert "operator.gt" in lines[0]
    assert lines[1].startswith("  - module 'guarded' (Guarded)") and "TypeError: Guarded expects a tensor" in lines[1]
    assert lines[2].startswith("  - module 'count' (Count)") and "Tensor.item() reads a tensor value" in lines[2]
    assert lines[3].startswith("  - Several.forward at") and "operator.lt" in lines[3]
    assert lines[4].startswith("  - module 'blocks.1' (Gate)")
    assert "interlayer.register('torch', 'frontend', ModuleClass)" in message


@pytest.mark.parametrize("make, what", [
    pytest.param(Select, "torch.nonzero makes a tensor whose shape depends on tensor values", id="nonzero"),
    pytest.param(Mask, "indexing with a boolean mask", id="boolean-mask"),
    pytest.param(Count, r"Tensor.item\(\) reads a tensor value", id="item"),
    pytest.param(lambda: Fn(lambda m, x: x[: int(x[0, 0] > 0) + 1]), r"int\(\) of a tensor value", id="int"),
    pytest.param(lambda: Fn(lambda m, x: x * float(x.max())), r"float\(\) of a tensor value", id="float"),
])
def test_value_dependent_code_is_refused(make, what):
    with pytest.raises(SourceError, match=what):
        capture(make(), (2, 4))


def test_value_dependent_code_in_a_registered_module_is_not_traced(monkeypatch):
    table = interlayer.registry.converters("torch", "frontend")
    monkeypatch.setitem(table, Gate, lambda ctx, module: ctx.add("identity", [ctx.input]))
    graph = capture(nn.Sequential(Gate(), nn.ReLU()), (1, 4))
    assert [(node.name, node.op) for node in graph.nodes] == [("0", "identity"), ("1", "relu")]


def test_a_model_that_fails_on_its_example_names_the_layer():
    model = nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.Linear(5, 2)))
    with pytest.raises(SourceError, match=r"running Sequential on the example inputs failed.*In module '1.0' "
                                          r"\(Linear\): RuntimeError"):
        capture(model, (1, 4))


def test_an_error_raised_by_the_model_code_is_not_a_tracing_problem():
    with pytest.raises(SourceError, match=r"failed.*In module '0' \(ChannelCheck\): ValueError: wrong number"):
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
    assert [(spec.name, spec.shape) for spec in graph.inputs] == [("image", ("N", 3, 5, 5)),
                                                                   ("extra", ("N", 2, 5, 5))]


def test_a_missing_required_input_is_a_source_error():
    with pytest.raises(SourceError, match=r"needs more inputs.*missing \['extra'\]"):
        capture(TwoInputs(), (1, 3, 5, 5))


def test_too_many_inputs_is_a_source_error():
    with pytest.raises(SourceError, match="takes 1 positional input"):
        capture(nn.Linear(3, 2), [(1, 3), (1, 3)])


class MadeTensors(nn.Module):
    """Tensors the forward creates, and a parameter used outside a layer: constants, not inputs."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("offset", torch.zeros(4))

    def forward(self, x):
        ones = torch.ones(4)
        return self.fc(x) if bool(ones.sum() > 0) and self.offset.shape[0] == 4 else x


def test_constants_are_not_value_dependent_and_the_model_is_untouched():
    model = MadeTensors()
    before = {name for name, _ in model.named_modules()}, set(model.state_dict()), set(vars(model))
    graph = check_capture(model, (1, 4))
    assert [node.op for node in graph.nodes] == ["linear"]
    assert ({name for name, _ in model.named_modules()}, set(model.state_dict()), set(vars(model))) == before


def test_a_constant_operand_reaches_converters(monkeypatch):
    """A parameter used in functional code: converters read it with ctx.constant and map its provenance."""

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.gamma = nn.Parameter(torch.full((3,), 2.0))

        def forward(self, x):
            return self.gamma * self.fc(x)

    seen = {}

    def mul(ctx, target):
        constant, other = ctx.node.args
        seen.update(value=ctx.constant(constant), name=ctx.constant_name(constant), tensor=ctx.is_constant(other))
        return ctx.add("identity", [ctx.value(other)])

    import operator

    monkeypatch.setitem(interlayer.registry.converters("torch", "frontend"), operator.mul, mul)
    capture(Scaled(), (1, 3))
    assert seen["name"] == "gamma" and not seen["tensor"]
    assert np.array_equal(seen["value"], np.full((3,), 2.0, np.float32))


def test_the_batch_example_can_be_larger_than_one():
    graph = check_capture(Fn(lambda m, x: x.view(x.size(0), -1)), (4, 3, 2))
    assert graph.inputs[0].shape == ("N", 3, 2)


class Flaky(nn.Module):
    """Reads a parameter, then fails to trace: the attempt's nodes (and fx's cached parameter proxy) are undone."""

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
        return self.flaky(x) * self.flaky.gamma + x.sum(1, keepdim=True).item()


def test_tracing_goes_on_cleanly_after_an_untraceable_submodule():
    with pytest.raises(SourceError) as info:
        capture(AfterFlaky(), (1, 4))
    lines = str(info.value).splitlines()[1:-1]
    assert len(lines) == 2
    assert lines[0].startswith("  - module 'flaky' (Flaky)") and "TypeError: Flaky expects a tensor" in lines[0]
    assert lines[1].startswith("  - AfterFlaky.forward") and "Tensor.item()" in lines[1]
