"""The command line: conversions, inspection, running archives, and clear errors for bad input."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch

import interlayer
from interlayer import examples
from interlayer.cli import main
from support import assert_equivalent, assert_reproduces

ROOT = Path(__file__).resolve().parent.parent
LENET = ["interlayer.examples:lenet5", "--input-shape", "1,1,28,28"]


@pytest.fixture(scope="module")
def lenet_weights(tmp_path_factory):
    torch.manual_seed(0)
    model = examples.lenet5()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_()
    folder = tmp_path_factory.mktemp("weights")
    safetensors.torch.save_file(model.state_dict(), str(folder / "lenet.safetensors"))
    torch.save(model.state_dict(), folder / "lenet.pt")
    return model, folder


def _cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("weights_file", ["lenet.safetensors", "lenet.pt"])
def test_convert_factory_with_weights_to_archive(capsys, tmp_path, lenet_weights, weights_file):
    model, folder = lenet_weights
    code, out, err = _cli(capsys, "convert", *LENET, "--weights", folder / weights_file, "--to", "archive",
                          "-o", tmp_path / "lenet.safetensors")
    assert code == 0, err
    graph = interlayer.load(tmp_path / "lenet.safetensors")
    assert graph.source["framework"] == "torch"
    for name, tensor in model.state_dict().items():
        assert np.array_equal(dict(graph.tensors())[graph.source["name_map"][name]], tensor.numpy())


def test_convert_archive_to_keras_verifies_and_writes_a_loadable_file(capsys, tmp_path, lenet_weights):
    _, folder = lenet_weights
    assert _cli(capsys, "convert", *LENET, "--weights", folder / "lenet.safetensors", "--to", "archive",
                "-o", tmp_path / "a.safetensors")[0] == 0
    code, out, err = _cli(capsys, "convert", tmp_path / "a.safetensors", "--to", "keras", "-o", tmp_path / "m.keras")
    assert code == 0, err
    assert "verified: the built model against the reference interpreter, max relative error" in out
    import keras

    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    graph = interlayer.load(tmp_path / "a.safetensors")
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    assert_reproduces([reloaded(x.transpose(0, 2, 3, 1)).numpy()], graph, [x])
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


@pytest.mark.parametrize("suffix", [".keras", ".h5"], ids=["keras-v3-file", "legacy-h5-file"])
def test_convert_keras_file_to_archive(capsys, tmp_path, suffix):
    model = examples.lenet5_keras()
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.3 for w in model.get_weights()])
    model.save(tmp_path / f"lenet{suffix}")
    code, out, err = _cli(capsys, "convert", tmp_path / f"lenet{suffix}", "--to", "archive", "-o", tmp_path / "l.safetensors")
    assert code == 0, err
    graph = interlayer.load(tmp_path / "l.safetensors")
    assert graph.source["framework"] == "keras"
    x = rng.standard_normal((2, 28, 28, 1)).astype(np.float32)
    assert_equivalent(interlayer.run(graph, x.transpose(0, 3, 1, 2))[graph.outputs[0].name], model(x).numpy())


def test_existing_output_is_kept_without_force(capsys, tmp_path):
    output = tmp_path / "lenet.safetensors"
    output.write_bytes(b"keep me")
    code, _, err = _cli(capsys, "convert", *LENET, "--to", "archive", "-o", output)
    assert code == 2 and "exists" in err and "--force" in err
    assert output.read_bytes() == b"keep me"
    assert _cli(capsys, "convert", *LENET, "--to", "archive", "-o", output, "--force")[0] == 0
    interlayer.load(output)


@pytest.mark.parametrize("target, name", [("archive", "model"), ("archive", "model.st"), ("keras", "model.h5"),
                                          ("onnx", "model")])
def test_output_named_for_another_kind_is_refused_before_work(capsys, tmp_path, target, name):
    code, _, err = _cli(capsys, "convert", *LENET, "--to", target, "-o", tmp_path / name)
    assert code == 2 and f"Received: '{tmp_path / name}'" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("make_source, message", [
    (lambda d: d / "absent.keras", "no such file"),
    (lambda d: _write(d / "text.keras", b"just some text"), "not a Keras model file"),
    (lambda d: _write(d / "model.onnx2", b"x"), "not a model file interlayer reads"),
    (lambda d: _write(d / "bad.safetensors", b"\x00" * 64), "not a safetensors file"),
    (lambda d: "no_such_module_here:factory", "cannot import module"),
    (lambda d: "cli_factories:absent", "has no function 'absent'"),
], ids=["missing-file", "text-as-keras", "unknown-suffix", "garbage-archive", "bad-module", "bad-function"])
def test_bad_sources_are_one_line_errors(capsys, tmp_path, make_source, message):
    code, out, err = _cli(capsys, "convert", make_source(tmp_path), "--to", "archive", "-o", tmp_path / "o.safetensors")
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o.safetensors").exists()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_corrupted_archive_is_refused(capsys, tmp_path):
    assert _cli(capsys, "convert", *LENET, "--to", "archive", "-o", tmp_path / "a.safetensors")[0] == 0
    data = bytearray((tmp_path / "a.safetensors").read_bytes())
    data[-3] ^= 0x55
    (tmp_path / "a.safetensors").write_bytes(bytes(data))
    code, _, err = _cli(capsys, "convert", tmp_path / "a.safetensors", "--to", "keras", "-o", tmp_path / "m.keras")
    assert code == 2 and "checksum" in err
    assert not (tmp_path / "m.keras").exists()


def test_weights_that_do_not_fit_are_named(capsys, tmp_path):
    state = examples.lenet5().state_dict()
    state["0.weight"] = torch.zeros(7, 1, 5, 5)
    del state["9.bias"]
    safetensors.torch.save_file(state, str(tmp_path / "w.safetensors"))
    code, _, err = _cli(capsys, "convert", *LENET, "--weights", tmp_path / "w.safetensors", "--to", "archive",
                        "-o", tmp_path / "o.safetensors")
    assert code == 2 and "0.weight" in err and "9.bias" in err


def test_pickled_objects_are_never_loaded(capsys, tmp_path):
    torch.save({"0.weight": torch.zeros(1), "trap": Path("x")}, tmp_path / "w.pt")
    code, _, err = _cli(capsys, "convert", *LENET, "--weights", tmp_path / "w.pt", "--to", "archive",
                        "-o", tmp_path / "o.safetensors")
    assert code == 2 and "weights_only=True" in err


def test_every_unsupported_layer_is_named_at_once(capsys, tmp_path):
    code, _, err = _cli(capsys, "convert", "cli_factories:two_unsupported", "--input-shape", "1,1,4,4", "--to", "archive",
                        "-o", tmp_path / "o.safetensors")
    assert code == 2
    assert "'0'" in err and "'1'" in err and "interlayer.register" in err


def test_a_factory_that_returns_no_model(capsys, tmp_path):
    code, _, err = _cli(capsys, "convert", "cli_factories:not_a_model", "--to", "archive", "-o", tmp_path / "o.safetensors")
    assert code == 2 and "not a model" in err


def test_inspect_summarises(capsys):
    code, out, _ = _cli(capsys, "inspect", *LENET)
    assert code == 0
    assert "total parameters: 61,706" in out
    assert "(N, 6, 28, 28)" in out and "source: torch" in out  # the flatten before Linear(120) fixes H and W


def test_run_an_archive_on_npy_and_write_npz(capsys, tmp_path):
    assert _cli(capsys, "convert", *LENET, "--to", "archive", "-o", tmp_path / "a.safetensors")[0] == 0
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code, out, err = _cli(capsys, "run", tmp_path / "a.safetensors", "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npz")
    assert code == 0, err
    assert "shape [3, 10]" in out
    graph = interlayer.load(tmp_path / "a.safetensors")
    with np.load(tmp_path / "y.npz", allow_pickle=False) as saved:
        np.testing.assert_array_equal(saved[graph.outputs[0].name], interlayer.run(graph, x)[graph.outputs[0].name])


def test_import_interlayer_loads_no_framework():
    heavy = ('torch', 'tensorflow', 'keras', 'onnx', 'networkx', 'ml_dtypes')
    code = f"import sys, interlayer; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_console_script_reports_errors_without_traceback(tmp_path):
    script = Path(sys.executable).parent / "interlayer"
    result = subprocess.run([str(script), "inspect", str(tmp_path / "absent.keras")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


def test_generated_docs_are_current():
    from interlayer import docs

    assert docs.main(["--check", str(ROOT)]) == 0, "run `make docs` to regenerate docs/ir.md and README.md tables"


def test_convert_to_onnx_and_back_from_the_onnx_file(capsys, tmp_path):
    """`--to onnx` writes a checked .onnx file; an .onnx file is a source like any other."""
    import onnx

    torch.manual_seed(1)
    model = examples.lenet5().eval()  # PyTorch's own initialisation: biases are random too
    safetensors.torch.save_file(model.state_dict(), str(tmp_path / "weights.safetensors"))
    code, out, err = _cli(capsys, "convert", *LENET, "--weights", tmp_path / "weights.safetensors", "--to", "onnx",
                          "-o", tmp_path / "lenet.onnx")
    assert code == 0, err
    assert "verified: the built model against the reference interpreter" in out
    onnx.checker.check_model(str(tmp_path / "lenet.onnx"), full_check=True)
    code, out, err = _cli(capsys, "convert", tmp_path / "lenet.onnx", "--to", "torch", "-o", tmp_path / "back")
    assert code == 0, err
    x = np.random.default_rng(3).standard_normal((2, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    assert interlayer.verify(tmp_path / "lenet.onnx", tmp_path / "back", [x]).passed
    from interlayer.execute import predict
    from interlayer.verify import open_model

    assert_equivalent(predict(open_model(tmp_path / "back"), [x])[0], expected)


# outputs named for another format ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dense_keras(tmp_path_factory) -> Path:
    """A small Keras model file, made on the spot."""
    import keras

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("keras") / "dense.keras"
    keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)]).save(path)
    return path


def _existing_keras_file(folder: Path) -> Path:
    path = folder / "model.keras"
    path.write_bytes(b"a Keras file to keep")
    return path


def _existing_folder(folder: Path) -> Path:
    (folder / "work").mkdir()
    (folder / "work" / "notes.txt").write_text("mine")
    (folder / "work" / "model.py").write_text("# mine too")
    return folder / "work"


def _existing_file_without_suffix(folder: Path) -> Path:
    (folder / "model").write_text("a file, not a package")
    return folder / "model"


def _folder_named_keras(folder: Path) -> Path:
    (folder / "m.keras").mkdir()
    (folder / "m.keras" / "data.txt").write_text("keep")
    return folder / "m.keras"


@pytest.mark.parametrize("target, make_output, message", [
    ("torch", _existing_keras_file, "Received: '{output}', the name of a Keras model file"),
    ("torch", lambda d: d / "model.pt", "Received: '{output}', the name of a pickled PyTorch file"),
    ("torch", lambda d: d / "model.onnx", "Expected a folder name without a suffix, or a name ending in .pt2"),
    ("torch", _existing_folder, "is a folder that holds notes.txt"),
    ("torch", _existing_file_without_suffix, "is a file, and a torch package is a folder"),
    ("keras", _folder_named_keras, "is a folder that holds data.txt"),
    ("onnx", lambda d: d / "model.keras", "Received: '{output}', the name of a Keras model file"),
], ids=["torch-over-a-keras-file", "torch-as-pt", "torch-as-onnx", "torch-over-a-folder-of-other-files",
        "torch-over-a-file", "keras-over-a-folder", "onnx-as-keras"])
def test_an_output_of_another_format_is_refused_even_with_force(capsys, tmp_path, dense_keras, target, make_output,
                                                                message):
    folder = tmp_path / "out"
    folder.mkdir()
    output = make_output(folder)
    before = sorted((str(p), p.read_bytes() if p.is_file() else None) for p in folder.rglob("*"))
    code, out, err = _cli(capsys, "convert", dense_keras, "--to", target, "-o", output, "--force")
    assert code == 2 and message.format(output=output) in err and "Traceback" not in err
    assert sorted((str(p), p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")) == before


@pytest.mark.parametrize("name", ["package", "program.pt2", "kept"], ids=["folder", "pt2", "existing-package"])
def test_a_torch_output_is_a_folder_or_a_pt2_program(tmp_path, name):
    from interlayer.conversion import _check_output

    if name == "kept":  # a package interlayer wrote, imported since
        (tmp_path / name / "__pycache__").mkdir(parents=True)
        (tmp_path / name / "model.py").write_text("")
        (tmp_path / name / "model.safetensors").write_bytes(b"")
    _check_output("torch", tmp_path / name, [])


def test_inspect_refuses_a_graph_named_for_another_format_before_work(capsys, tmp_path, dense_keras):
    code, out, err = _cli(capsys, "inspect", dense_keras, "--graph", tmp_path / "g.png")
    assert code == 2 and out == ""  # refused before the model was read
    assert (f"inspect: the graph is written as .svg (an SVG picture) or .html (an HTML page to explore in a browser). "
            f"Expected a name ending in .svg or .html. Received: '{tmp_path / 'g.png'}'. Name the file g.svg or "
            f"g.html.") in err
    assert list(tmp_path.iterdir()) == []


# factories of the current folder ---------------------------------------------------------------------------------

FACTORY = '''
def small():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, name="head")])
'''


@pytest.fixture
def package_here(tmp_path, monkeypatch):
    """A package ``cwd_models`` in a fresh folder, the current folder, which is not on the import path (as for the
    installed ``interlayer`` script, whose own folder is)."""
    (tmp_path / "cwd_models").mkdir()
    (tmp_path / "cwd_models" / "__init__.py").write_text("")
    (tmp_path / "cwd_models" / "nets.py").write_text(FACTORY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    yield tmp_path
    for name in [name for name in sys.modules if name.split(".")[0] == "cwd_models"]:
        del sys.modules[name]


def test_a_factory_in_the_current_folder_is_found_without_pythonpath(capsys, package_here):
    code, out, err = _cli(capsys, "inspect", "cwd_models.nets:small")
    assert code == 0, err
    assert "head" in out and "source: keras" in out


def test_a_factory_elsewhere_says_where_it_was_looked_for(capsys, package_here, monkeypatch, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    code, _, err = _cli(capsys, "inspect", "cwd_models.nets:small")
    assert code == 2 and "cannot import module 'cwd_models.nets' (No module named 'cwd_models')" in err
    assert f"Expected a module under the current folder '{elsewhere}' or an installed one" in err


# running what is not an archive -----------------------------------------------------------------------------------

def test_run_on_a_keras_file_says_to_convert_it_first(capsys, tmp_path, dense_keras):
    np.save(tmp_path / "x.npy", np.zeros((1, 8), np.float32))
    code, _, err = _cli(capsys, "run", dense_keras, "--input", tmp_path / "x.npy")
    assert code == 2
    assert f"archive '{dense_keras}': a Keras model file, not an interlayer archive." in err
    assert f"interlayer convert {dense_keras} --to archive -o {dense_keras.with_suffix('.safetensors')}" in err
    assert "header of" not in err and "truncated" not in err
