"""`--to torch` writes model.py + model.safetensors: plain PyTorch that runs without interlayer and trains."""
from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer import examples
from interlayer.backends.torch import package, predict, write_package
from interlayer.backends.torch.package import load_package
from interlayer.cli import main
from interlayer.conversion import convert_file, random_inputs
from interlayer.errors import ConversionError, InterlayerError
from interlayer.ir import Graph, Node, TensorSpec
from models.package_check import assert_package_reproduces
from support import assert_equivalent, single_op_graph


def _import(path):
    spec = importlib.util.spec_from_file_location(f"generated_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _randomised(model):
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.dtype.is_floating_point:
                tensor.copy_(torch.randn(tensor.shape, generator=generator).abs() + 0.5 if "var" in name
                             else torch.randn(tensor.shape, generator=generator))
    return model.eval()


@pytest.mark.parametrize("source", ["lenet5-keras", "nested-torch"])
def test_generated_package_matches_and_keeps_names(source, tmp_path):
    if source == "lenet5-keras":
        graph = interlayer.export(examples.lenet5_keras())
    else:
        model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Sequential(nn.Conv2d(4, 4, 3, padding=1),
                              nn.BatchNorm2d(4)), nn.MaxPool2d(3, 2, 1), nn.Flatten(), nn.Linear(64, 3))
        graph = interlayer.export(_randomised(model), example_inputs=(1, 3, 8, 8))
    built = interlayer.build(graph, "torch")
    write_package(built, tmp_path / "pkg")
    generated = _import(tmp_path / "pkg" / "model.py").load()
    assert type(generated).__module__.startswith("generated_")
    assert list(generated.state_dict()) == list(built.state_dict())
    shape = (2, 1, 28, 28) if source == "lenet5-keras" else (2, 3, 8, 8)  # the sizes the Linear layers take
    x = torch.from_numpy(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    with torch.no_grad():
        assert_equivalent(generated(x).numpy(), built(x).numpy())


def test_generated_file_needs_no_interlayer(tmp_path):
    write_package(interlayer.build(interlayer.export(examples.lenet5_keras()), "torch"), tmp_path / "pkg")
    text = (tmp_path / "pkg" / "model.py").read_text()
    assert "interlayer" not in "\n".join(line for line in text.splitlines() if "import" in line)
    code = ("import sys; sys.modules['interlayer'] = None; sys.path.insert(0, sys.argv[1]); import torch, model; "
            "m = model.load(); print(tuple(m(torch.zeros(2, 1, 28, 28)).shape))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pkg")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(2, 10)"


def test_generated_model_trains(tmp_path):
    write_package(interlayer.build(interlayer.export(examples.small_cnn().eval(), example_inputs=(1, 3, 12, 12)), "torch"),
                  tmp_path / "pkg")
    model = _import(tmp_path / "pkg" / "model.py").load().train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss = model(torch.randn(4, 3, 12, 12)).square().mean()
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    optimiser.step()
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_names_cannot_inject_code(tmp_path):
    evil = 'x"] = 0; getattr(__import__("os"), "system")("touch PWNED"); ["'
    source = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name=evil),
                               keras.layers.ReLU(name="import os\nos.system('touch PWNED')")], name='Evil"""\nimport os\n"""')
    graph = interlayer.export(source)
    assert graph.nodes[0].name == evil
    write_package(interlayer.build(graph, "torch"), tmp_path / "pkg")
    text = (tmp_path / "pkg" / "model.py").read_text()
    tree = ast.parse(text)
    imports = [alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
               for alias in node.names]
    assert sorted(imports) == ["Path", "load_file", "nn", "torch"]
    assert not any(isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__" for node in ast.walk(tree))
    _import(tmp_path / "pkg" / "model.py").load()
    assert not (tmp_path / "PWNED").exists()


def test_cli_convert_keras_file_to_torch_folder(tmp_path, capsys):
    keras_model = examples.lenet5_keras()
    keras_model.save(tmp_path / "lenet.keras")
    assert main(["convert", str(tmp_path / "lenet.keras"), "--to", "torch", "-o", str(tmp_path / "out")]) == 0
    assert "verified" in capsys.readouterr().out
    generated = _import(tmp_path / "out" / "model.py").load()
    x = np.random.default_rng(0).standard_normal((2, 28, 28, 1)).astype(np.float32)
    with torch.no_grad():
        actual = generated(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    assert_equivalent(actual, keras_model(x).numpy())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lenet.keras", "out"]


@pytest.mark.parametrize("mode, shape, pads, line", [
    pytest.param("reflect", (2, 3, 6), [2, 1], "nn.ReflectionPad1d(padding=(2, 1))", id="ReflectionPad1d"),
    pytest.param("edge", (2, 3, 4, 5), [0, 2, 3, 1], "nn.ReplicationPad2d(padding=(2, 1, 0, 3))",
                 id="ReplicationPad2d"),
    pytest.param("wrap", (2, 2, 3, 4, 5), [1, 0, 2, 0, 3, 1], "nn.CircularPad3d(padding=(2, 1, 0, 3, 1, 0))",
                 id="CircularPad3d"),
])
def test_padding_modes_are_written_as_their_modules(mode, shape, pads, line, tmp_path):
    graph = single_op_graph("pad", {"pads": pads, "mode": mode}, [shape])
    write_package(interlayer.build(graph, "torch"), tmp_path / "pkg")
    assert f'self.pad = {line}' in (tmp_path / "pkg" / "model.py").read_text()
    generated = _import(tmp_path / "pkg" / "model.py").load()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        assert_equivalent(generated(torch.from_numpy(x)).numpy(), list(interlayer.run(graph, [x]).values())[0])


# every layer class the torch backend builds ----------------------------------------------------------------------

def _case(cls: str, op: str, attrs: dict, shape: tuple, dtype: str = "float32"):
    return pytest.param(op, attrs, shape, dtype, cls, id=cls)


def _ranks(stem: str, op: str, attrs) -> list:
    """The 1-D, 2-D and 3-D class of ``op``; ``attrs(rank)`` its attributes for that many spatial axes."""
    shapes = {1: (2, 3, 7), 2: (2, 3, 6, 5), 3: (2, 3, 5, 4, 4)}
    return [_case(f"{stem}{rank}d", op, attrs(rank), shapes[rank]) for rank in (1, 2, 3)]


_RECURRENT = {"input_size": 3, "hidden_size": 4}
LAYER_CASES = [
    _case("Identity", "identity", {}, (2, 5)),
    _case("Sigmoid", "sigmoid", {}, (2, 5)),
    _case("Tanh", "tanh", {}, (2, 5)),
    _case("Softsign", "softsign", {}, (2, 5)),
    _case("ReLU", "relu", {}, (2, 5)),
    _case("ReLU6", "clip", {"min": 0.0, "max": 6.0}, (2, 5)),
    _case("SiLU", "silu", {}, (2, 5)),
    _case("Hardswish", "hard_swish", {}, (2, 5)),
    _case("Mish", "mish", {}, (2, 5)),
    _case("Hardsigmoid", "hard_sigmoid", {}, (2, 5)),
    _case("SELU", "selu", {}, (2, 5)),
    _case("Hardtanh", "clip", {"min": -0.5, "max": 0.7}, (2, 5)),
    _case("LeakyReLU", "leaky_relu", {"alpha": 0.2}, (2, 5)),
    _case("ELU", "elu", {"alpha": 0.7}, (2, 5)),
    _case("GELU", "gelu", {"approximate": "tanh"}, (2, 5)),
    _case("PReLU", "prelu", {"num_parameters": 3}, (2, 3, 5)),
    _case("Softmax", "softmax", {"axis": 1}, (2, 5)),
    _case("LogSoftmax", "log_softmax", {"axis": 1}, (2, 5)),
    _case("Softplus", "softplus", {"threshold": 10.0}, (2, 5)),
    _case("Hardshrink", "shrink", {"lambd": 0.4}, (2, 5)),
    _case("Softshrink", "shrink", {"lambd": 0.4, "bias": 0.4}, (2, 5)),
    _case("Linear", "linear", {"in_features": 5, "out_features": 3}, (2, 5)),
    _case("Linear-no-bias", "linear", {"in_features": 5, "out_features": 3, "bias": False}, (2, 5)),
    *_ranks("Conv", "conv", lambda r: {"in_channels": 3, "out_channels": 4, "kernel_size": [3] * r,
                                       "pads": [1] * 2 * r, "strides": [2] * r}),
    _case("Conv2d-groups-dilated", "conv", {"in_channels": 4, "out_channels": 6, "kernel_size": [3, 2],
                                            "dilations": [2, 1], "groups": 2, "bias": False}, (2, 4, 7, 6)),
    *_ranks("ConvTranspose", "conv_transpose", lambda r: {"in_channels": 3, "out_channels": 2, "kernel_size": [3] * r,
                                                          "strides": [2] * r, "pads": [1] * 2 * r,
                                                          "output_padding": [1] * r}),
    *_ranks("BatchNorm", "batch_norm", lambda r: {"num_features": 3, "epsilon": 1e-3, "momentum": 0.01}),
    _case("LayerNorm", "layer_norm", {"axes": [2], "normalized_shape": [5]}, (2, 3, 5)),
    _case("LayerNorm-scale-only", "layer_norm", {"axes": [2], "normalized_shape": [5], "center": False},
          (2, 3, 5)),
    _case("GroupNorm", "group_norm", {"num_groups": 2, "num_channels": 4, "epsilon": 1e-3}, (2, 4, 5)),
    _case("LocalResponseNorm", "lrn", {"size": 3, "alpha": 1e-3, "beta": 0.6, "bias": 2.0}, (2, 5, 4, 4)),
    *_ranks("MaxPool", "max_pool", lambda r: {"kernel_size": [3] * r, "strides": [2] * r, "pads": [1] * 2 * r,
                                              "ceil_mode": True}),
    *_ranks("AvgPool", "avg_pool", lambda r: {"kernel_size": [2] * r, "strides": [1] * r, "pads": [1] * 2 * r,
                                              "count_include_pad": True}),
    *_ranks("ConstantPad", "pad", lambda r: {"pads": [1] * r + [2] * r, "value": 1.5}),
    *_ranks("ZeroPad", "pad", lambda r: {"pads": [2] * r + [1] * r}),
    *_ranks("ReflectionPad", "pad", lambda r: {"pads": [1] * r + [2] * r, "mode": "reflect"}),
    *_ranks("ReplicationPad", "pad", lambda r: {"pads": [1] * r + [2] * r, "mode": "edge"}),
    *_ranks("CircularPad", "pad", lambda r: {"pads": [1] * r + [2] * r, "mode": "wrap"}),
    *_ranks("AdaptiveAvgPool", "global_avg_pool", lambda r: {"keepdims": True}),
    *_ranks("AdaptiveMaxPool", "global_max_pool", lambda r: {"keepdims": True}),
    _case("Upsample", "resize", {"sizes": [8, 10], "scales": [2.0, 2.0]}, (2, 3, 4, 5)),
    _case("Flatten", "flatten", {}, (2, 3, 4)),
    _case("Dropout", "dropout", {"rate": 0.3}, (2, 5)),
    _case("Embedding", "embedding", {"num_embeddings": 11, "embedding_dim": 4, "padding_idx": 2}, (2, 6), "int64"),
    _case("LSTM", "lstm", {**_RECURRENT, "num_layers": 2, "bidirectional": True}, (2, 6, 3)),
    _case("GRU", "gru", {**_RECURRENT, "return_sequences": False}, (2, 6, 3)),
    _case("RNN", "rnn", {**_RECURRENT, "activation": "relu", "bias": False}, (2, 6, 3)),
    _case("MergedRecurrent", "gru", {**_RECURRENT, "num_layers": 2, "bidirectional": True, "merge_mode": "mul",
                                     "return_sequences": False}, (2, 6, 3)),
]


def _layer_graph(op: str, attrs: dict, shape: tuple, dtype: str):
    graph = single_op_graph(op, attrs, [shape])
    graph.inputs[0].dtype = dtype
    generator = np.random.default_rng(1)
    for node in graph.nodes:  # nothing at a default: every bias, scale and statistic random
        for name, array in node.weights.items():
            values = generator.standard_normal(array.shape) * 0.5
            node.weights[name] = (np.abs(values) + 0.5 if name == "variance" else values).astype(array.dtype)
    return graph


@pytest.mark.parametrize("op, attrs, shape, dtype, cls", LAYER_CASES)
def test_every_layer_class_is_written(op, attrs, shape, dtype, cls, tmp_path):
    graph = _layer_graph(op, attrs, shape, dtype)
    built = interlayer.build(graph, "torch")
    name = cls.split("-")[0]
    assert name in {type(m).__name__ for m in built.modules()}
    inputs = random_inputs(graph)
    assert_package_reproduces(built, inputs, tmp_path / "pkg")
    text = (tmp_path / "pkg" / "model.py").read_text()
    assert f"{name}(" in text
    assert_equivalent(predict(load_package(tmp_path / "pkg"), inputs)[0], interlayer.run(graph, inputs)[op])


def test_every_layer_class_the_backend_makes_has_a_case():
    """Each ``nn.<Class>`` the backend's converters name (and interlayer's own MergedRecurrent) has a case above."""
    source = Path(interlayer.__file__).parent / "backends" / "torch"
    named = {name for path in source.glob("*.py") if path.name not in ("package.py", "names.py", "context.py")
             for name in re.findall(r"\bnn\.([A-Z]\w*)", path.read_text())
             if isinstance(getattr(nn, name, None), type) and issubclass(getattr(nn, name), nn.Module)}
    named -= {"Module", "ModuleList"}  # a level of nesting, and MergedRecurrent's list of layers
    covered = {param.values[-1].split("-")[0] for param in LAYER_CASES}
    assert named | {"MergedRecurrent"} == covered


# names are data ------------------------------------------------------------------------------------------------

HOSTILE_NAMES = {
    "path-up": "../../etc/x", "dot-dot": "..", "self": "self", "forward": "forward", "init": "__init__",
    "load_state_dict": "load_state_dict", "training": "training", "empty": "", "space": " ",
    "whitespace": "\t\n ", "dotted": "a.b", "underscored": "a_b", "dashed": "a-b", "upper-case": "A_B",
    "keyword": "class", "digits": "123", "nested-digits": "0.1", "non-ascii": "\u00e9t\u00e9", "mangled": "__x",
    "dunder": "__x__", "nested-mangled": "a.__x", "module-dict-method": "a.values", "torch": "torch",
    "inf": "inf", "builtin": "getattr", "nn": "nn", "Path": "Path", "load": "load", "helper": "_merge",
    "control": "x\x00\x07y", "quotes": "a\"b'c\"\"\"",
}


def _named_graph(name: str) -> Graph:
    """The input, a linear layer (a module with weights), a relu (a module without) and a trainable scale (a
    tensor its holder keeps) named ``name``, ``name.act`` and ``name/scale``; the graph itself named ``name``."""
    rng = np.random.default_rng(0)
    weights = {"weight": rng.standard_normal((3, 4)).astype(np.float32),
               "bias": rng.standard_normal(3).astype(np.float32)}
    nodes = [Node(name, "linear", [name], ["linear"], {"in_features": 4, "out_features": 3}, weights),
             Node(f"{name}.act", "relu", ["linear"], ["act"], {}),
             Node(f"{name}/scale", "mul", ["act"], ["scaled"], {"constant": True, "constant_shape": [3],
                                                               "trainable": True},
                  {"other": rng.standard_normal(3).astype(np.float32)})]
    return Graph(nodes, [TensorSpec(name, ("N", 4))], [TensorSpec("scaled", ("N", 3))], name=name)


@pytest.mark.parametrize("name", list(HOSTILE_NAMES.values()), ids=list(HOSTILE_NAMES))
def test_any_name_gives_a_module_and_a_package_that_run_and_match(name, tmp_path):
    graph = _named_graph(name)
    built = interlayer.build(graph, "torch")
    inputs = random_inputs(graph)
    assert_equivalent(predict(built, inputs)[0], interlayer.run(graph, inputs)["scaled"], what="built module")
    assert_package_reproduces(built, inputs, tmp_path / "pkg")
    ast.parse((tmp_path / "pkg" / "model.py").read_text())


def test_names_alike_in_one_graph_stay_apart(tmp_path):
    """Every name above in one graph, two inputs named alike: no two layers, values or arguments merge."""
    rng = np.random.default_rng(0)
    inputs = [TensorSpec("self", ("N", 4)), TensorSpec("self_", ("N", 4))]
    nodes, value = [Node("inputs", "add", ["self", "self_"], ["v"], {})], "v"
    for index, name in enumerate(HOSTILE_NAMES.values()):
        if index % 2:
            nodes.append(Node(name, "mul", [value], [f"v{index}"], {"constant": True, "constant_shape": [4],
                                                                   "trainable": True},
                              {"other": rng.standard_normal(4).astype(np.float32)}))
        else:
            nodes.append(Node(name, "linear", [value], [f"v{index}"], {"in_features": 4, "out_features": 4},
                              {"weight": rng.standard_normal((4, 4)).astype(np.float32) / 2,
                               "bias": rng.standard_normal(4).astype(np.float32)}))
        value = f"v{index}"
    graph = Graph(nodes, inputs, [TensorSpec(value, ("N", 4))], name="self")
    built = interlayer.build(graph, "torch")
    arrays = random_inputs(graph)
    assert_equivalent(predict(built, arrays)[0], interlayer.run(graph, arrays)[value], what="built module")
    assert_package_reproduces(built, arrays, tmp_path / "pkg")


# the check runs the code that is written -------------------------------------------------------------------------

def _rewritten_return(monkeypatch, change):
    """Make the writer emit ``forward`` with its last line (the return) rewritten by ``change``."""
    original = package._forward_lines

    def forward_lines(model):
        lines, helpers, aliases = original(model)
        return [*lines[:-1], change(lines[-1])], helpers, aliases

    monkeypatch.setattr(package, "_forward_lines", forward_lines)


@pytest.mark.parametrize("change, message", [
    pytest.param(lambda line: line + ".no_such_attribute", "does not run", id="code-that-fails"),
    pytest.param(lambda line: line + " * 1.0001", "does not reproduce", id="code-that-differs"),
])
def test_a_package_whose_code_is_wrong_is_refused(change, message, monkeypatch, tmp_path):
    graph = _named_graph("layer")
    built = interlayer.build(graph, "torch")
    _rewritten_return(monkeypatch, change)
    with pytest.raises(ConversionError, match=message):
        write_package(built, tmp_path / "pkg")
    assert list(tmp_path.iterdir()) == []


def test_convert_leaves_nothing_when_the_package_is_refused(monkeypatch, tmp_path):
    interlayer.save(_named_graph("layer"), tmp_path / "model.safetensors")
    _rewritten_return(monkeypatch, lambda line: line + ".no_such_attribute")
    with pytest.raises(ConversionError, match="does not run"):
        convert_file(tmp_path / "model.safetensors", "torch", tmp_path / "out")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.safetensors"]


def test_a_module_not_built_by_interlayer_is_refused(tmp_path):
    with pytest.raises(InterlayerError, match="carries no graph"):
        write_package(nn.Sequential(nn.Linear(2, 2)), tmp_path / "pkg")
    assert list(tmp_path.iterdir()) == []


def test_the_check_leaves_only_the_package_in_its_folder(monkeypatch, tmp_path):
    """Importing model.py to check it writes no __pycache__ beside it, whatever Python's bytecode setting."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    write_package(interlayer.build(_named_graph("layer"), "torch"), tmp_path / "pkg")
    assert sorted(path.name for path in (tmp_path / "pkg").iterdir()) == ["model.py", "model.safetensors"]


def test_a_layer_named_as_a_copied_helper_keeps_both(tmp_path):
    """A merged bidirectional GRU named ``_merge``: forward has a value of that name and calls interlayer's
    ``_merge`` (copied into model.py), which it then reaches under fx's longer name."""
    graph = _layer_graph("gru", {**_RECURRENT, "bidirectional": True, "merge_mode": "sum", "return_sequences": False},
                         (2, 6, 3), "float32")
    graph.nodes[0].name = "_merge"
    built = interlayer.build(graph, "torch")
    inputs = random_inputs(graph)
    assert_package_reproduces(built, inputs, tmp_path / "pkg")
    assert "interlayer_backends_torch_recurrent__merge = _merge" in (tmp_path / "pkg" / "model.py").read_text()
