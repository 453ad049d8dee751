"""`--to torch` writes model.py + model.safetensors: plain PyTorch that runs without interlayer and trains."""
from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys

import keras
import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer import examples
from interlayer.backends.torch import write_package
from interlayer.cli import main
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
    shape = [2 if isinstance(d, str) else d for d in graph.inputs[0].shape]
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
