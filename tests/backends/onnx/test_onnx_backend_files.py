"""write_model: one .onnx file written atomically, never over an existing one unless asked; weights as one external
data file beside it above a threshold (protobuf's 2 GB limit, made tiny here); models above the limit built,
checked and run through their path form; and ``interlayer convert --to onnx``'s Python form."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest

import interlayer
from conformance.cases_algebra import graph_of
from interlayer.backends.onnx import files, predict, write_model
from interlayer.conversion import convert_file
from interlayer.errors import InterlayerError
from support import assert_equivalent, random_inputs


@pytest.fixture(scope="module")
def graph():
    return graph_of({"x": (2, 3, 8, 8)}, [
        ("conv", "conv", ["x"], {"in_channels": 3, "out_channels": 16, "kernel_size": [3, 3], "pads": [1, 1, 1, 1]}),
        ("act", "gelu", ["conv"], {}),
        ("pool", "global_avg_pool", ["act"], {}),
        ("head", "linear", ["pool"], {"in_features": 16, "out_features": 64}),
        ("scale", "mul", ["head"], {"constant": True, "constant_shape": []})], ["scale"])


@pytest.fixture(scope="module")
def model(graph):
    return interlayer.build(graph, "onnx")


def _listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def _same_outputs(graph, loaded) -> None:
    inputs = random_inputs(graph)
    expected = interlayer.run(graph, inputs)["scale"]
    assert_equivalent(predict(loaded, inputs)[0], expected, what="reloaded model")


def test_one_file_is_written_and_reads_back(graph, model, tmp_path):
    path = write_model(model, tmp_path / "model.onnx")
    assert _listing(tmp_path) == ["model.onnx"]
    loaded = onnx.load(path)
    assert loaded.SerializeToString() == model.SerializeToString()
    _same_outputs(graph, loaded)


def test_an_existing_file_is_kept_unless_overwrite(model, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"someone else's model")
    with pytest.raises(InterlayerError, match="the file exists. Pass overwrite=True"):
        write_model(model, path)
    assert path.read_bytes() == b"someone else's model"
    assert _listing(tmp_path) == ["model.onnx"]
    write_model(model, path, overwrite=True)
    assert onnx.load(path).SerializeToString() == model.SerializeToString()
    assert _listing(tmp_path) == ["model.onnx"]


def test_a_missing_folder_is_refused(model, tmp_path):
    with pytest.raises(InterlayerError, match="does not exist"):
        write_model(model, tmp_path / "missing" / "model.onnx")


def test_a_model_the_checker_refuses_leaves_nothing(model, tmp_path):
    broken = onnx.ModelProto()
    broken.CopyFrom(model)
    broken.graph.node[0].input[0] = "nowhere"
    with pytest.raises(InterlayerError, match="does not pass onnx.checker; nothing was written"):
        write_model(broken, tmp_path / "model.onnx")
    assert _listing(tmp_path) == []


def test_weights_go_to_one_external_file_above_the_threshold(graph, model, tmp_path):
    path = write_model(model, tmp_path / "model.onnx", external_threshold=1000)
    assert _listing(tmp_path) == ["model.onnx", "model.onnx.data"]
    assert path.stat().st_size < 4000 < (tmp_path / "model.onnx.data").stat().st_size
    outline = onnx.load(path, load_external_data=False)
    external = {t.name: {e.key: e.value for e in t.external_data} for t in outline.graph.initializer
                if t.data_location == onnx.TensorProto.EXTERNAL}
    assert set(external) == {"conv.weight", "head.weight"}  # tensors under 1 KB stay inside the model
    assert {entry["location"] for entry in external.values()} == {"model.onnx.data"}
    onnx.checker.check_model(str(path), full_check=True)
    loaded = onnx.load(path)
    for tensor in loaded.graph.initializer:
        node, weight = tensor.name.rsplit(".", 1)
        np.testing.assert_array_equal(onnx.numpy_helper.to_array(tensor), graph.node(node).weights[weight])
    _same_outputs(graph, loaded)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = random_inputs(graph)
    assert_equivalent(session.run(None, {"x": inputs[0]})[0], interlayer.run(graph, inputs)["scale"])


def test_an_external_data_file_in_the_way_is_kept_unless_overwrite(model, tmp_path):
    (tmp_path / "model.onnx.data").write_bytes(b"old weights")
    with pytest.raises(InterlayerError, match="external data file .* exists"):
        write_model(model, tmp_path / "model.onnx", external_threshold=1000)
    assert _listing(tmp_path) == ["model.onnx.data"]
    write_model(model, tmp_path / "model.onnx", external_threshold=1000, overwrite=True)
    assert (tmp_path / "model.onnx.data").read_bytes() != b"old weights"


def test_overwriting_an_external_model_with_an_inline_one_removes_its_data(model, tmp_path):
    write_model(model, tmp_path / "model.onnx", external_threshold=1000)
    write_model(model, tmp_path / "model.onnx", overwrite=True)
    assert _listing(tmp_path) == ["model.onnx"]


def test_a_model_above_the_protobuf_limit_is_built_checked_and_run_through_files(graph, tmp_path, monkeypatch):
    checked = []
    real_check = onnx.checker.check_model
    monkeypatch.setattr(onnx.checker, "check_model",
                        lambda model, **options: (checked.append(type(model)), real_check(model, **options))[1])
    monkeypatch.setattr(files, "PROTOBUF_LIMIT", 4096)
    model = interlayer.build(graph, "onnx")
    assert checked == []  # too big for the in-memory check: write_model checks the file instead
    _same_outputs(graph, model)  # predict writes it with external data and runs it from there
    path = write_model(model, tmp_path / "big.onnx")
    assert _listing(tmp_path) == ["big.onnx", "big.onnx.data"]
    assert checked[-1] is str
    _same_outputs(graph, onnx.load(path))


def test_serialized_size_bounds_the_real_size(model):
    assert len(model.SerializeToString()) <= files.serialized_size(model) <= len(model.SerializeToString()) + 1000


def test_convert_file_writes_a_verified_onnx_model(graph, tmp_path):
    result = convert_file(graph, "onnx", tmp_path / "converted.onnx")
    assert result.checks[0].passed, result.checks[0].line()
    assert _listing(tmp_path) == ["converted.onnx"]
    _same_outputs(graph, onnx.load(tmp_path / "converted.onnx"))
