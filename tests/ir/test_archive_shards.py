"""Sharded archives: above a size, shards plus a model.safetensors.index.json (Hugging Face's convention), read
back transparently, every shard a plain safetensors file, written all or nothing; and memory-mapped reading."""
from __future__ import annotations

import json

import numpy as np
import pytest
import safetensors.numpy

import interlayer
from interlayer.errors import ArchiveError
from interlayer.ir import archive
from support import chain_graph


def wide_graph():
    """Six linear layers of 4 KB weights each: two per shard of at most 9000 bytes."""
    return chain_graph([("linear", {"in_features": 32, "out_features": 32})] * 6, (1, 32), seed=3, name="wide")


def _same_tensors(a, b):
    left, right = dict(a.tensors()), dict(b.tensors())
    assert left.keys() == right.keys()
    for name in left:
        assert left[name].tobytes() == right[name].tobytes(), name


def test_a_large_archive_is_sharded_and_loads_transparently(tmp_path):
    graph = wide_graph()
    index = archive.save(graph, tmp_path / "model.safetensors", max_shard_size=9000)
    assert index.name == "model.safetensors.index.json"
    shards = sorted(path.name for path in tmp_path.glob("model-*.safetensors"))
    assert shards == [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    assert not (tmp_path / "model.safetensors").exists()
    body = json.loads(index.read_text())
    assert set(body["weight_map"].values()) == set(shards)
    assert body["metadata"]["format"] == "interlayer"
    for shard in shards:  # each shard is a plain safetensors file
        assert safetensors.numpy.load_file(str(tmp_path / shard))
    for path in (tmp_path / "model.safetensors", index):
        loaded = interlayer.load(path)
        assert loaded.to_json() == graph.to_json()
        _same_tensors(loaded, graph)


def test_a_small_archive_stays_one_file(tmp_path):
    path = archive.save(wide_graph(), tmp_path / "model.safetensors", max_shard_size=10 ** 9)
    assert path.name == "model.safetensors" and not list(tmp_path.glob("*.json"))


def test_a_damaged_shard_is_refused(tmp_path):
    archive.save(wide_graph(), tmp_path / "model.safetensors", max_shard_size=9000)
    shard = tmp_path / "model-00002-of-00003.safetensors"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="does not match its checksum"):
        interlayer.load(tmp_path / "model.safetensors")


def test_a_missing_shard_or_a_moved_tensor_is_named(tmp_path):
    index = archive.save(wide_graph(), tmp_path / "model.safetensors", max_shard_size=9000)
    body = json.loads(index.read_text())
    name = next(iter(body["weight_map"]))
    body["weight_map"][name] = "model-00003-of-00003.safetensors"
    index.write_text(json.dumps(body))
    with pytest.raises(ArchiveError, match="does not hold the tensors the index lists"):
        interlayer.load(index)
    (tmp_path / "model-00001-of-00003.safetensors").unlink()
    with pytest.raises(ArchiveError, match="no such file"):
        interlayer.load(index)


def test_shards_are_not_overwritten_and_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    archive.save(wide_graph(), tmp_path / "model.safetensors", max_shard_size=9000)
    with pytest.raises(ArchiveError, match="exists"):
        archive.save(wide_graph(), tmp_path / "model.safetensors", max_shard_size=9000)
    other = tmp_path / "other"
    other.mkdir()
    calls = []
    original = archive.write_safetensors

    def fail_on_third(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(path, *args, **kwargs)

    monkeypatch.setattr(archive, "write_safetensors", fail_on_third)
    with pytest.raises(OSError, match="disk full"):
        archive.save(wide_graph(), other / "model.safetensors", max_shard_size=9000)
    assert list(other.iterdir()) == []


def test_loaded_weights_are_read_only_views_of_the_file(tmp_path):
    path = archive.save(wide_graph(), tmp_path / "model.safetensors")
    weight = interlayer.load(path).nodes[0].weights["weight"]
    assert not weight.flags.writeable and not weight.flags.owndata
    with pytest.raises(ValueError, match="read-only"):
        weight[0, 0] = 1.0


def test_building_from_a_path_verifies_the_checksum_alongside(tmp_path):
    """build(path) checks the archive while it builds, and a damaged one raises before a model is returned."""
    graph = wide_graph()
    path = archive.save(graph, tmp_path / "model.safetensors")
    model = interlayer.build(path, "torch")
    x = np.random.default_rng(0).standard_normal((2, 32)).astype(np.float32)
    from interlayer.execute import predict

    np.testing.assert_allclose(predict(model, [x])[0], list(interlayer.run(graph, [x]).values())[0], rtol=1e-5,
                               atol=1e-6)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="does not match its checksum"):
        interlayer.build(path, "torch")
