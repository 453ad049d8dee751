"""The single-file archive: round trips, dtypes, plain safetensors, golden file, damage, atomic writes."""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
import safetensors.numpy

import interlayer
from conformance.cases import CASES
from interlayer.errors import ArchiveError
from interlayer.ir import archive
from support import chain_graph

GOLDEN_V1 = Path(__file__).resolve().parent.parent / "golden" / "archive_v1.safetensors"
GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "archive_v2.safetensors"


def golden_graph():
    """The tiny model stored in the golden archives of format versions 1 and 2."""
    graph = chain_graph([
        ("conv", {"in_channels": 1, "out_channels": 2, "kernel_size": [3, 3], "pads": [1, 1, 1, 1]}),
        ("batch_norm", {"num_features": 2, "epsilon": 1e-3}),
        ("relu", {}),
        ("flatten", {}),
        ("linear", {"in_features": 2 * 4 * 4, "out_features": 3}),
    ], (1, 1, 4, 4), seed=7, name="golden")
    graph.source = {"framework": "torch", "version": "2.13.0",
                    "name_map": {"0.weight": "conv_0.weight", "0.bias": "conv_0.bias"}}
    return graph


def _same_graphs(a, b):
    assert a.to_json() == b.to_json()
    tensors_a, tensors_b = dict(a.tensors()), dict(b.tensors())
    assert tensors_a.keys() == tensors_b.keys()
    for name, array in tensors_a.items():
        assert array.dtype == tensors_b[name].dtype and array.shape == tensors_b[name].shape
        assert array.tobytes() == tensors_b[name].tobytes()


@pytest.mark.parametrize("case", sorted(CASES))
def test_save_load_round_trip_is_bit_exact(case, tmp_path):
    graph = CASES[case]()
    path = interlayer.save(graph, tmp_path / "model.safetensors")
    _same_graphs(interlayer.load(path), graph)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
def test_float_dtypes_survive_exactly(dtype, tmp_path):
    graph = golden_graph()
    cast = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
    for node in graph.nodes:
        node.weights = {k: v.astype(cast) for k, v in node.weights.items()}
    _same_graphs(interlayer.load(interlayer.save(graph, tmp_path / "m.safetensors")), graph)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64", "uint16", "uint32", "bool"])
def test_integer_tensors_survive_exactly(dtype, tmp_path):
    values = np.arange(-3, 9).reshape(3, 4) if dtype[0] == "i" else np.arange(12).reshape(3, 4)
    tensors = {"t": values.astype(dtype)}
    path = tmp_path / "t.safetensors"
    archive.write_safetensors(path, tensors, {"k": "v"})
    header, read = archive.read_safetensors(path)
    assert read["t"].dtype == np.dtype(dtype) and np.array_equal(read["t"], tensors["t"])
    assert header["__metadata__"] == {"k": "v"}


def test_plain_safetensors_reads_the_weights_and_metadata(tmp_path):
    graph = golden_graph()
    path = interlayer.save(graph, tmp_path / "m.safetensors")
    plain = safetensors.numpy.load_file(str(path))
    assert set(plain) == {name for name, _ in graph.tensors()}
    for name, array in graph.tensors():
        assert np.array_equal(plain[name], array)
    with safetensors.safe_open(str(path), framework="numpy") as handle:
        metadata = handle.metadata()
    assert metadata["format"] == "interlayer" and metadata["interlayer.format"] == "2"
    assert metadata["source.framework"] == "torch" and metadata["source.version"] == "2.13.0"
    assert json.loads(metadata["source.name_map"]) == graph.source["name_map"]
    assert json.loads(metadata["interlayer.graph"])["nodes"][0]["name"] == "conv_0"
    assert metadata["interlayer.checksum"].startswith("sha256:")


def test_golden_archive_of_format_1_still_loads():
    _same_graphs(interlayer.load(GOLDEN_V1), golden_graph())


def test_golden_archive_of_format_2_loads():
    if os.environ.get("INTERLAYER_REGENERATE_GOLDEN"):
        GOLDEN.unlink(missing_ok=True)
        interlayer.save(golden_graph(), GOLDEN)
    _same_graphs(interlayer.load(GOLDEN), golden_graph())


def test_a_format_1_graph_gives_every_axis_to_reshape_and_expand():
    """Format 1 kept the batch "N" on axis 0 and wrote the sizes after it; format 2 writes every axis."""
    graph = chain_graph([("reshape", {"shape": ["N", "T", 4, 3]}), ("expand", {"shape": ["N", "T", 4, 3]})],
                        ("N", "T", 12))
    data = graph.to_json()
    data["format_version"] = 1
    for node in data["nodes"]:
        node["attrs"]["shape"] = node["attrs"]["shape"][1:]
    data["outputs"][0]["shape"] = ["N", "?", 4, 3]
    upgraded = interlayer.Graph.from_json(data, dict(graph.tensors()))
    assert [node.attrs["shape"] for node in upgraded.nodes] == [["N", "T", 4, 3], ["N", "T", 4, 3]]
    assert upgraded.outputs[0].shape == ("N", "T", 4, 3)
    interlayer.ir.check.validate(upgraded)


def test_saving_the_golden_graph_reproduces_the_golden_file(tmp_path):
    """A change of the format shows here: same tensors, same metadata (the writer's version aside)."""
    path = interlayer.save(golden_graph(), tmp_path / "again.safetensors")
    golden_header, golden_tensors = archive.read_safetensors(GOLDEN)
    header, tensors = archive.read_safetensors(path)
    for meta in (golden_header["__metadata__"], header["__metadata__"]):
        meta.pop("interlayer.version")
    assert header == golden_header
    assert all(tensors[name].tobytes() == golden_tensors[name].tobytes() for name in golden_tensors)


def _damaged(tmp_path, change) -> Path:
    path = interlayer.save(golden_graph(), tmp_path / "m.safetensors")
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(change(data)))
    return path


def _flip_last_byte(data):
    data[-1] ^= 0xFF
    return data


@pytest.mark.parametrize("change, message", [
    (_flip_last_byte, "does not match its checksum"),
    (lambda d: d[: len(d) - 10], "truncated or damaged"),
    (lambda d: d[:100], "truncated"),
    (lambda d: d[:4], "too short"),
    (lambda d: b"not a model at all, just some text in a file", "not a safetensors file"),
], ids=["flipped-byte", "truncated-data", "truncated-header", "four-bytes", "text-file"])
def test_damaged_archives_are_refused(tmp_path, change, message):
    with pytest.raises(ArchiveError, match=message):
        interlayer.load(_damaged(tmp_path, change))


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "new.safetensors"
    header, tensors = archive.read_safetensors(interlayer.save(golden_graph(), tmp_path / "m.safetensors"))
    metadata = {**header["__metadata__"], "interlayer.format": "3"}
    archive.write_safetensors(path, tensors, metadata)
    with pytest.raises(ArchiveError, match="newer than this interlayer reads"):
        interlayer.load(path)


def test_a_plain_safetensors_file_is_not_an_archive(tmp_path):
    path = tmp_path / "weights.safetensors"
    safetensors.numpy.save_file({"w": np.zeros(3, np.float32)}, str(path))
    with pytest.raises(ArchiveError, match="not an interlayer archive"):
        interlayer.load(path)


@pytest.mark.parametrize("source", [
    {}, {"framework": "torch", "version": "2.13.0", "name_map": {}},
    {"framework": "keras", "version": "3.15.1", "name_map": {"d/kernel": "d.weight"}, "output_names": ["logits"]},
], ids=["no-provenance", "empty-name-map", "name-map-and-output-names"])
def test_provenance_round_trips_exactly(tmp_path, source):
    graph = golden_graph()
    graph.source = source
    assert interlayer.load(interlayer.save(graph, tmp_path / "m.safetensors")).source == source


def test_missing_file(tmp_path):
    with pytest.raises(ArchiveError, match="no such file"):
        interlayer.load(tmp_path / "absent.safetensors")


def test_existing_output_is_kept_unless_overwrite(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"precious")
    with pytest.raises(ArchiveError, match="exists"):
        interlayer.save(golden_graph(), path)
    assert path.read_bytes() == b"precious"
    interlayer.save(golden_graph(), path, overwrite=True)
    _same_graphs(interlayer.load(path), golden_graph())


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(archive.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        interlayer.save(golden_graph(), tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_an_invalid_graph_is_not_saved(tmp_path):
    graph = golden_graph()
    del graph.nodes[0].weights["bias"]
    with pytest.raises(interlayer.errors.ValidationError, match="weight 'bias'"):
        interlayer.save(graph, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_header_length_is_little_endian_u64(tmp_path):
    path = interlayer.save(golden_graph(), tmp_path / "m.safetensors")
    (length,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert json.loads(path.read_bytes()[8:8 + length])["__metadata__"]["format"] == "interlayer"
