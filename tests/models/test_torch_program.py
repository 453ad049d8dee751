"""``--to torch -o model.pt2``: a verified ``torch.export`` program, written atomically, that ``torch.export.load``
runs at any batch size; ``-o DIR`` keeps writing the readable package."""
from __future__ import annotations

import numpy as np
import pytest
import safetensors.torch
import torch

import interlayer
from interlayer import examples
from interlayer.backends.torch.export import write_program
from interlayer.cli import main
from interlayer.conversion import convert_file
from interlayer.errors import InterlayerError
from interlayer.execute import predict
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies
from torch_models import UNet, randomise

SMALL_CNN = ["interlayer.examples:small_cnn", "--input-shape", "1,3,12,12"]


@pytest.fixture(scope="module")
def small_cnn(tmp_path_factory):
    model = randomise(examples.small_cnn(), seed=4)
    path = tmp_path_factory.mktemp("weights") / "small_cnn.safetensors"
    safetensors.torch.save_file(model.state_dict(), str(path))
    return model, path


def _leftovers(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if "partial" in p.name]


def _run_program(path, x: np.ndarray) -> list[np.ndarray]:
    program = torch.export.load(path)
    with torch.no_grad():
        result = program.module()(torch.from_numpy(x))
    return [t.numpy() for t in (result if isinstance(result, (tuple, list)) else [result])]


def test_cli_writes_a_program_that_torch_export_loads(capsys, tmp_path, small_cnn):
    model, weights = small_cnn
    code = main(["convert", *SMALL_CNN, "--weights", str(weights), "--to", "torch", "-o", str(tmp_path / "m.pt2")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "verified: the built model against the reference interpreter, max relative error" in out
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt2"]
    rng = np.random.default_rng(5)
    for batch in (1, 3):  # the batch dimension is dynamic
        x = rng.standard_normal((batch, 3, 12, 12)).astype(np.float32)
        assert_equivalent(_run_program(tmp_path / "m.pt2", x)[0], predict(model, [x])[0], what=f"batch {batch}")


def test_cli_keeps_an_existing_program_without_force(capsys, tmp_path, small_cnn):
    _, weights = small_cnn
    args = ["convert", *SMALL_CNN, "--weights", str(weights), "--to", "torch", "-o", str(tmp_path / "m.pt2")]
    assert main(args) == 0
    before = (tmp_path / "m.pt2").read_bytes()
    assert main(args) == 2
    assert "exists" in capsys.readouterr().err
    assert (tmp_path / "m.pt2").read_bytes() == before
    assert main([*args, "--force"]) == 0
    assert _leftovers(tmp_path) == []


def test_a_folder_output_is_still_the_readable_package(tmp_path, small_cnn):
    _, weights = small_cnn
    assert main(["convert", *SMALL_CNN, "--weights", str(weights), "--to", "torch", "-o", str(tmp_path / "pkg")]) == 0
    assert sorted(p.name for p in (tmp_path / "pkg").iterdir()) == ["model.py", "model.safetensors"]


def test_a_traced_model_with_skips_and_resizing_becomes_a_program(tmp_path):
    source = randomise(UNet())
    result = convert_file(source, "torch", tmp_path / "unet.pt2", example_inputs=(1, 3, 32, 32))
    assert result.checks[0].passed
    rng = np.random.default_rng(6)
    x, other = (rng.standard_normal((2, 3, 32, 32)).astype(np.float32) for _ in range(2))
    expected = predict(source, [x])[0]
    assert_varies(expected, predict(source, [other])[0])
    assert_equivalent(_run_program(tmp_path / "unet.pt2", x)[0], expected)
    assert_package_reproduces(result.model, [x], tmp_path / "package")


def test_write_program_refuses_another_suffix(tmp_path):
    model = interlayer.build(interlayer.export(examples.small_cnn(), example_inputs=(1, 3, 12, 12)), "torch")
    with pytest.raises(InterlayerError, match=r"written as a \.pt2 file"):
        write_program(model, tmp_path / "m.pt", [np.zeros((2, 3, 12, 12), np.float32)])
    assert list(tmp_path.iterdir()) == []
