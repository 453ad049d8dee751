"""Bad input through the command line: every case ends in interlayer's own error (exit 2, one line naming the
problem, never "internal error") and leaves no output or temporary behind."""
from __future__ import annotations

import json
import os
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from interlayer.cli import main
from interlayer.ir import archive
from ir.archive_mutants import join, split

GOLDEN = Path(__file__).resolve().parent / "golden" / "archive_v1.safetensors"
"""conv_0 (conv, pads 1) -> batch_norm_1 -> relu_2 -> flatten_3 -> linear_4, over an input x of (N, 1, 4, 4)"""


def _cli(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def _refused(capsys, folder: Path, *args) -> str:
    """Run the command; it must exit 2 with one line of interlayer's own error and write nothing into ``folder``."""
    before = set(folder.iterdir())
    code, err = _cli(capsys, *args)
    assert code == 2, err
    assert err.startswith("interlayer: error: ") and "internal error" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert set(folder.iterdir()) == before, sorted(p.name for p in set(folder.iterdir()) - before)
    return err


@pytest.fixture
def golden(tmp_path) -> Path:
    path = tmp_path / "g.safetensors"
    shutil.copy(GOLDEN, path)
    return path


@pytest.fixture
def x_npy(tmp_path) -> Path:
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32))
    return path


# archives of the wrong types -------------------------------------------------------------------------------


def _entry(name: str, field: str, value):
    def change(header: dict) -> None:
        header[name][field] = value
    return change


def _metadata(key: str, value):
    def change(header: dict) -> None:
        header["__metadata__"][key] = value
    return change


def _graph(change_graph):
    def change(header: dict) -> None:
        graph = json.loads(header["__metadata__"]["interlayer.graph"])
        change_graph(graph)
        header["__metadata__"]["interlayer.graph"] = json.dumps(graph)
    return change


def _set(path: tuple, value):
    def change(graph: dict) -> None:
        target = graph
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _metadata_as_list(header: dict) -> None:
    header["__metadata__"] = list(header["__metadata__"].items())


def _overlap(header: dict) -> None:
    header["conv_0.bias"]["data_offsets"] = list(header["conv_0.weight"]["data_offsets"][:1]) * 2
    header["conv_0.bias"]["data_offsets"][1] += 8


ARCHIVES = {
    "offsets-as-strings": (_entry("conv_0.bias", "data_offsets", ["0", "8"]), "'data_offsets' has the wrong type"),
    "offsets-as-floats": (_entry("conv_0.bias", "data_offsets", [0.0, 8.0]), "'data_offsets' has the wrong type"),
    "offsets-of-one-number": (_entry("conv_0.bias", "data_offsets", [0]), "a list of 2 integers >= 0"),
    "shape-with-a-string": (_entry("conv_0.bias", "shape", ["2"]), "'shape' has the wrong type"),
    "shape-with-a-float": (_entry("conv_0.bias", "shape", [2.0]), "'shape' has the wrong type"),
    "shape-negative": (_entry("conv_0.bias", "shape", [-2]), "'shape' has the wrong type"),
    "shape-product-overflows-int64": (_entry("conv_0.bias", "shape", [2 ** 32, 2 ** 32, 2 ** 3]),
                                      "tensor 'conv_0.bias' has the wrong size"),
    "unknown-dtype": (_entry("conv_0.bias", "dtype", "F128"), "unknown dtype"),
    "format-as-int": (_metadata("interlayer.format", 1), "'__metadata__' has the wrong type"),
    "metadata-as-list": (_metadata_as_list, "'__metadata__' has the wrong type"),
    "graph-not-json": (_metadata("interlayer.graph", "{nodes"), "'interlayer.graph' is not valid JSON"),
    "graph-nested-too-deep": (_metadata("interlayer.graph", "[" * 100_000 + "]" * 100_000),
                              "'interlayer.graph' is not valid JSON"),
    "name-map-not-json": (_metadata("source.name_map", "{"), "'source.name_map' is not valid JSON"),
    "name-map-a-list": (_metadata("source.name_map", "[1]"), "'name_map' has the wrong type"),
    "node-as-list": (_graph(_set(("nodes", 0), ["conv_0", "conv"])), "node 0 is not a JSON object"),
    "spec-as-string": (_graph(_set(("outputs", 0), "linear_4")), "graph output 0 is not a JSON object"),
    "node-name-not-a-string": (_graph(_set(("nodes", 0, "name"), 5)), "'name' has the wrong type"),
    "node-inputs-not-strings": (_graph(_set(("nodes", 1, "inputs"), [0])), "'inputs' has the wrong type"),
    "node-attrs-a-list": (_graph(_set(("nodes", 0, "attrs"), [])), "'attrs' has the wrong type"),
    "nodes-a-string": (_graph(_set(("nodes",), "conv_0")), "'nodes' has the wrong type"),
    "input-dtype-unknown": (_graph(_set(("inputs", 0, "dtype"), "float128")), "unknown dtype"),
    "input-shape-with-a-float": (_graph(_set(("inputs", 0, "shape", 2), 4.0)), "'shape' has the wrong type"),
    "format-version-a-string": (_graph(_set(("format_version",), "1")), "'format_version' has the wrong type"),
    "overlapping-tensors": (_overlap, "overlaps tensor"),
}


@pytest.mark.parametrize("case", sorted(ARCHIVES))
def test_a_malformed_archive_is_refused_by_name(capsys, tmp_path, golden, x_npy, case):
    change, message = ARCHIVES[case]
    header, body = split(golden.read_bytes())
    change(header)
    golden.write_bytes(join(header, body))
    err = _refused(capsys, tmp_path, "run", golden, "--input", x_npy, "-o", tmp_path / "y.npz")
    assert message in err


def _renamed(tensors: dict) -> dict:
    tensors["conv_0.biasx"] = tensors.pop("conv_0.bias")
    return tensors


def _stray(tensors: dict) -> dict:
    return {**tensors, "stray.weight": np.zeros(3, np.float32)}


@pytest.mark.parametrize("change, message", [
    (_renamed, "node 'conv_0' (conv): weight 'bias' is missing. Expected the file to hold tensor 'conv_0.bias'"),
    (_stray, "the file holds 1 tensor(s) that no node of the graph names, e.g. ['stray.weight']"),
], ids=["weight-the-graph-names-is-missing", "tensor-no-node-names"])
def test_graph_and_tensors_must_match(capsys, tmp_path, golden, x_npy, change, message):
    """Rewritten with a checksum of the new tensors, so that only the mismatch is wrong."""
    header, tensors = archive.read_safetensors(golden)
    tensors = change(dict(tensors))
    metadata = {**header["__metadata__"], "interlayer.checksum": archive.checksum(tensors)}
    path = tmp_path / "changed.safetensors"
    archive.write_safetensors(path, tensors, metadata)
    assert message in _refused(capsys, tmp_path, "run", path, "--input", x_npy)


def test_trailing_bytes_after_the_last_tensor_are_refused(capsys, tmp_path, golden, x_npy):
    golden.write_bytes(golden.read_bytes() + b"\0" * 8)
    assert "8 bytes after its last tensor" in _refused(capsys, tmp_path, "run", golden, "--input", x_npy)


def test_a_duplicated_header_key_is_refused(capsys, tmp_path, golden, x_npy):
    data = golden.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    text = data[8:8 + length].decode().rstrip()
    entry = text[text.index('"conv_0.bias"'):text.index("}", text.index('"conv_0.bias"')) + 1]
    doubled = text[:-1] + "," + entry + "}"
    doubled += " " * (-len(doubled) % 8)
    golden.write_bytes(struct.pack("<Q", len(doubled)) + doubled.encode() + data[8 + length:])
    assert "a key is given twice" in _refused(capsys, tmp_path, "run", golden, "--input", x_npy)


def _first_shard(index: dict, value) -> None:
    index["weight_map"][sorted(index["weight_map"])[0]] = value


SHARD_INDEXES = {
    "not-json": (lambda index: "{weight_map", "not a readable shard index"),
    "a-list": (lambda index: [index], "the shard index is not a JSON object"),
    "metadata-a-list": (lambda index: {**index, "metadata": list(index["metadata"])}, "'metadata' has the wrong type"),
    "format-as-int": (lambda index: {**index, "metadata": {**index["metadata"], "interlayer.format": 1}},
                      "'metadata' has the wrong type"),
    "weight-map-missing": (lambda index: {"metadata": index["metadata"]}, "'weight_map' is missing"),
    "shard-name-a-number": (lambda index: _first_shard(index, 3) or index, "'weight_map' has the wrong type"),
    "shard-name-empty": (lambda index: _first_shard(index, "") or index, "shard names must be files beside the index"),
    "shard-name-outside": (lambda index: _first_shard(index, "../x.safetensors") or index,
                           "shard names must be files beside the index"),
}


@pytest.mark.parametrize("case", sorted(SHARD_INDEXES))
def test_a_malformed_shard_index_is_refused_by_name(capsys, tmp_path, x_npy, case):
    change, message = SHARD_INDEXES[case]
    index = archive.save(archive.load(GOLDEN), tmp_path / "sharded.safetensors", max_shard_size=64)
    body = change(json.loads(index.read_text()))
    index.write_text(body if isinstance(body, str) else json.dumps(body))
    assert message in _refused(capsys, tmp_path, "run", tmp_path / "sharded.safetensors", "--input", x_npy)


# sizes that would allocate without bound -------------------------------------------------------------------

def _one_op(folder: Path, op: str, attrs: dict, shape: tuple, path: tuple, value) -> tuple[Path, Path]:
    """An archive of one ``op`` node over an input of ``shape`` (batch first), saved valid and then edited to hold
    ``value`` at ``path`` of its graph JSON; and an input for it."""
    import interlayer
    from support import single_op_graph

    archive_path = interlayer.save(single_op_graph(op, attrs, [shape]), folder / f"{op}.safetensors")
    header, body = split(archive_path.read_bytes())
    _graph(_set(path, value))(header)
    archive_path.write_bytes(join(header, body))
    np.save(folder / "x.npy", np.zeros(shape, np.float32))
    return archive_path, folder / "x.npy"


CONV = {"in_channels": 3, "out_channels": 4, "kernel_size": [3]}
SAMPLE = "(one sample: each symbolic size counted as 1): a tensor of shape"
SIZES = {  # op, its attributes, input shape; the graph JSON path changed, its new value; the refusal
    "pad-huge-pads": ("pad", {"pads": [1, 1]}, (2, 3, 4), ("nodes", 0, "attrs", "pads"), [10 ** 9, 10 ** 9],
                      f"value 'pad' {SAMPLE} ['N', 3, 2000000004] would take 44.7 GiB"),
    "pad-huge-pads-cropped-back": ("pad", {"pads": [1, 1]}, (2, 3, 4), ("nodes", 0, "attrs", "pads"),
                                   [10 ** 9, -10 ** 9],
                                   "reference: node 'pad' (pad): a tensor of shape [2, 3, 1000000004] would take"),
    "conv-huge-pads": ("conv", CONV, (2, 3, 8), ("nodes", 0, "attrs", "pads"), [10 ** 9, 10 ** 9],
                       f"value 'conv' {SAMPLE} ['N', 4, 2000000006] would take"),
    "conv-huge-pads-and-strides": ("conv", {**CONV, "strides": [10 ** 9]}, (2, 3, 8),
                                   ("nodes", 0, "attrs", "pads"), [10 ** 9, 10 ** 9],
                                   "reference: node 'conv' (conv): a tensor of shape [2, 3, 3000000008] would take"),
    "conv-window-past-the-input": ("conv", CONV, (2, 3, 8), ("nodes", 0, "attrs", "dilations"), [10 ** 9],
                                   "the window is larger than the padded input"),
    "tile-huge-repeats": ("tile", {"repeats": [1, 1, 1]}, (2, 3, 4), ("nodes", 0, "attrs", "repeats"),
                          [1, 10 ** 6, 10 ** 6], f"value 'tile' {SAMPLE} ['N', 3000000, 4000000] would take 87.3 TiB"),
    "huge-input-shape": ("tile", {"repeats": [1, 1, 1]}, (2, 3, 4), ("inputs", 0, "shape", 2), 10 ** 10,
                         f"value 'x0' {SAMPLE} ['N', 3, 10000000000] would take"),
    "reshape-huge-dims": ("reshape", {"shape": ["N", 12]}, (2, 3, 4), ("nodes", 0, "attrs", "shape"),
                          [10 ** 9, 10 ** 9], f"value 'reshape' {SAMPLE} [1000000000, 1000000000] would take"),
}


@pytest.mark.parametrize("case", sorted(SIZES))
def test_a_graph_asking_for_a_huge_tensor_is_refused_before_allocating(capsys, tmp_path, case):
    op, attrs, shape, path, value, message = SIZES[case]
    archive_path, x = _one_op(tmp_path, op, attrs, shape, path, value)
    assert message in _refused(capsys, tmp_path, "run", archive_path, "--input", x)


def test_the_limit_applies_to_a_run_with_its_own_sizes(capsys, tmp_path, monkeypatch):
    """Each value fits on one sample; this run's batch does not. The limit is lowered through the environment."""
    archive_path, _ = _one_op(tmp_path, "tile", {"repeats": [1, 1, 1]}, (2, 3, 4), ("nodes", 0, "attrs", "repeats"),
                              [1, 4, 4])
    np.save(tmp_path / "x.npy", np.zeros((64, 3, 4), np.float32))
    monkeypatch.setenv("INTERLAYER_MAX_TENSOR_BYTES", str(64 * 1024))
    err = _refused(capsys, tmp_path, "run", archive_path, "--input", tmp_path / "x.npy")
    assert "reference: node 'tile' (tile): a tensor of shape [64, 12, 16] would take 96 KiB" in err
    assert "INTERLAYER_MAX_TENSOR_BYTES" in err


def test_a_limit_that_is_not_a_number_is_refused(capsys, tmp_path, golden, x_npy, monkeypatch):
    monkeypatch.setenv("INTERLAYER_MAX_TENSOR_BYTES", "8G")
    assert "INTERLAYER_MAX_TENSOR_BYTES is not a size" in _refused(capsys, tmp_path, "run", golden, "--input", x_npy)


@pytest.mark.parametrize("shape", ["1,3,100000,100000", "1,-3,28,28"], ids=["huge", "negative"])
def test_input_shape_is_refused_before_a_tensor_is_made(capsys, tmp_path, shape):
    err = _refused(capsys, tmp_path, "convert", "interlayer.examples:lenet5", "--input-shape", shape, "--to",
                   "archive", "-o", tmp_path / "lenet.safetensors")
    assert "torch frontend" in err and ("would take 112 GiB" in err or "negative size" in err)


# Keras files, inputs and non-archives ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory) -> Path:
    """g.keras (the golden archive built as Keras, with interlayer.json) and l.h5 (a Keras LeNet-5)."""
    from interlayer import examples
    from interlayer.conversion import convert_file

    folder = tmp_path_factory.mktemp("keras")
    convert_file(GOLDEN, "keras", folder / "g.keras", verify=False)
    examples.lenet5_keras().save(folder / "l.h5")
    return folder


def _with_member(source: Path, target: Path, member: str, text: str) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, text if name == member else old.read(name))
    return target


KERAS = {
    "layouts-not-json": ("g.keras", lambda p, t: _with_member(p, t, "interlayer.json", "{perms"),
                         "its interlayer.json cannot be read"),
    "layouts-a-list": ("g.keras", lambda p, t: _with_member(p, t, "interlayer.json", "[1]"),
                       "'perms' is not an object"),
    "layouts-wrong-count": ("g.keras", lambda p, t: _with_member(
        p, t, "interlayer.json", '{"perms": {"inputs": [], "outputs": [null]}}'), "'inputs' does not fit the model"),
    "layouts-not-a-permutation": ("g.keras", lambda p, t: _with_member(
        p, t, "interlayer.json", '{"perms": {"inputs": [[0, 9, 2, 1]], "outputs": [null]}}'), "is not a layout"),
    "metadata-not-json": ("g.keras", lambda p, t: _with_member(p, t, "metadata.json", "{"),
                          "its metadata.json cannot be read"),
    "truncated-keras": ("g.keras", lambda p, t: t.write_bytes(p.read_bytes()[:p.stat().st_size // 2]),
                        "a damaged .keras file"),
    "truncated-h5": ("l.h5", lambda p, t: t.write_bytes(p.read_bytes()[:p.stat().st_size // 2]),
                     "not a readable HDF5 file"),
}


@pytest.mark.parametrize("case", sorted(KERAS))
def test_a_damaged_keras_file_is_refused_by_name(capsys, tmp_path, keras_files, case):
    name, damage, message = KERAS[case]
    source = tmp_path / name
    damage(keras_files / name, source)
    err = _refused(capsys, tmp_path, "convert", source, "--to", "archive", "-o", tmp_path / "out.safetensors")
    assert message in err


def _pickled_npy(path: Path) -> Path:
    np.save(path.with_suffix(".npy"), np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return path.with_suffix(".npy")


def _pickled_npz(path: Path) -> Path:
    np.savez(path.with_suffix(".npz"), x=np.array([{"a": 1}], dtype=object))
    return path.with_suffix(".npz")


def _huge_npy(path: Path) -> Path:
    """A 100-byte .npy whose header claims a (10**6, 10**6) float64 array."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    path = path.with_suffix(".npy")
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 16)
    return path


def _truncated_npy(path: Path) -> Path:
    path = path.with_suffix(".npy")
    np.save(path, np.zeros((2, 1, 4, 4), np.float32))
    path.write_bytes(path.read_bytes()[:-10])
    return path


INPUTS = {
    "missing": (lambda p: p.with_suffix(".npy"), "no such file"),
    "pickled-npy": (_pickled_npy, "interlayer never unpickles"),
    "pickled-npz": (_pickled_npz, "array 'x' holds Python objects"),
    "header-claims-huge-array": (_huge_npy, "would take"),
    "truncated-npy": (_truncated_npy, "is truncated"),
    "not-numpy": (lambda p: (p.with_suffix(".npy").write_text("hello"), p.with_suffix(".npy"))[1],
                  "not a readable .npy/.npz file"),
}


@pytest.mark.parametrize("command", ["run", "verify"])
@pytest.mark.parametrize("case", sorted(INPUTS))
def test_a_bad_input_file_is_refused(capsys, tmp_path, golden, command, case):
    make, message = INPUTS[case]
    inputs = tmp_path / "inputs" / "in"
    inputs.parent.mkdir()
    path = make(inputs)
    arguments = [golden] if command == "run" else [golden, golden]
    assert message in _refused(capsys, tmp_path, command, *arguments, "--input", path)


NOT_ARCHIVES = {
    "keras-file": ("g.keras", "a Keras model file, not an interlayer archive"),
    "h5-file": ("l.h5", "a Keras model file (HDF5), not an interlayer archive"),
    "onnx-file": ("m.onnx", "an ONNX model file, not an interlayer archive"),
    "text-file": ("notes.safetensors", "not a safetensors file"),
    "folder": ("folder", "a folder, not an archive"),
}


@pytest.mark.parametrize("case", sorted(NOT_ARCHIVES))
def test_run_names_what_a_non_archive_is(capsys, tmp_path, keras_files, x_npy, case):
    name, message = NOT_ARCHIVES[case]
    path = tmp_path / name
    if name in ("g.keras", "l.h5"):
        shutil.copy(keras_files / name, path)
    elif name == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"\x08\x07\x12\x0cpytorch" if name.endswith(".onnx") else b"some notes, not a model\n")
    err = _refused(capsys, tmp_path, "run", path, "--input", x_npy)
    assert message in err
    if name.endswith((".keras", ".h5")):
        assert f"interlayer convert {path} --to archive -o {path.with_suffix('.safetensors')}" in err


# outputs: unwritable folders, and sources never replaced ---------------------------------------------------


@pytest.fixture
def read_only(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into any folder: permission bits cannot refuse it")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize("command", ["convert", "run"])
def test_an_output_folder_that_cannot_be_written_is_refused(capsys, tmp_path, golden, x_npy, read_only, command):
    if command == "convert":
        args = ["convert", golden, "--to", "archive", "-o", read_only / "copy.safetensors"]
    else:
        args = ["run", golden, "--input", x_npy, "-o", read_only / "y.npz"]
    assert "permission denied" in _refused(capsys, read_only, *args)


@pytest.mark.parametrize("command", ["convert", "run", "batch"])
def test_an_output_folder_denied_by_the_system_is_refused(capsys, tmp_path, golden, x_npy, monkeypatch, command):
    """What the test above checks, with ``os.access`` saying no: the check runs for root too (as root, a write
    is refused by a read-only file system, which ``os.access`` reports)."""
    denied = tmp_path / "denied"
    denied.mkdir()
    allowed = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: Path(path) != denied and allowed(path, mode, **kw))
    args = {"convert": ["convert", golden, "--to", "archive", "-o", denied / "copy.safetensors"],
            "run": ["run", golden, "--input", x_npy, "-o", denied / "y.npz"],
            "batch": ["convert", golden, golden, "--to", "archive", "-o", denied / "batch"]}[command]
    assert f"cannot write into the folder '{denied}': permission denied" in _refused(capsys, denied, *args)


def test_an_output_in_a_missing_folder_is_refused(capsys, tmp_path, golden):
    err = _refused(capsys, tmp_path, "convert", golden, "--to", "archive", "-o", tmp_path / "absent" / "c.safetensors")
    assert "does not exist" in err


def _same_file(folder: Path, golden: Path) -> list:
    return ["convert", golden, "--to", "archive", "-o", golden, "--force"]


def _same_file_other_spelling(folder: Path, golden: Path) -> list:
    return ["convert", folder / "." / golden.name, "--to", "archive", "-o", golden, "--force", "--no-verify"]


def _symbolic_link(folder: Path, golden: Path) -> list:
    (folder / "link.safetensors").symlink_to(golden)
    return ["convert", folder / "link.safetensors", "--to", "archive", "-o", golden, "--force"]


def _hard_link(folder: Path, golden: Path) -> list:
    os.link(golden, folder / "hard.safetensors")
    return ["convert", golden, "--to", "archive", "-o", folder / "hard.safetensors", "--force"]


def _package_folder_holding_the_source(folder: Path, golden: Path) -> list:
    package = folder / "package"
    package.mkdir()
    shutil.copy(golden, package / "model.safetensors")
    return ["convert", package / "model.safetensors", "--to", "torch", "-o", package, "--force"]


def _run_output_is_its_input(folder: Path, golden: Path) -> list:
    np.savez(folder / "in.npz", x=np.zeros((2, 1, 4, 4), np.float32))
    return ["run", golden, "--input", folder / "in.npz", "-o", folder / "in.npz", "--force"]


def _transfer_output_is_its_destination(folder: Path, golden: Path) -> list:
    (folder / "d.keras").write_bytes(b"stands for a Keras model")
    return ["transfer", golden, "--into", folder / "d.keras", "-o", folder / "d.keras", "--force"]


def _transfer_output_is_its_source(folder: Path, golden: Path) -> list:
    (folder / "s.keras").write_bytes(b"stands for a Keras model")
    return ["transfer", folder / "s.keras", "--into", "interlayer.examples:lenet5", "-o", folder / "s.keras", "--force"]


SOURCES = {
    "same-path": _same_file,
    "same-path-spelled-otherwise": _same_file_other_spelling,
    "symbolic-link": _symbolic_link,
    "hard-link": _hard_link,
    "package-folder-holding-the-source": _package_folder_holding_the_source,
    "run-output-is-its-input": _run_output_is_its_input,
    "transfer-output-is-its-destination": _transfer_output_is_its_destination,
    "transfer-output-is-its-source": _transfer_output_is_its_source,
}


@pytest.mark.parametrize("case", sorted(SOURCES))
def test_force_never_replaces_a_source(capsys, tmp_path, golden, case):
    arguments = SOURCES[case](tmp_path, golden)
    kept = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    err = _refused(capsys, tmp_path, *arguments)
    assert "a source is never replaced, even with --force" in err
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == kept


def test_a_batch_never_replaces_a_source(capsys, tmp_path, golden):
    """A batch into the sources' own folder: the archive that would replace its source fails, alone."""
    kept = golden.read_bytes()
    code, err = _cli(capsys, "convert", golden, tmp_path / "absent.safetensors", "--to", "archive", "-o", tmp_path,
                     "--force")
    report = json.loads((tmp_path / "report.json").read_text())
    failed = [entry for entry in report["models"] if entry["status"] == "failed"]
    assert code == 1 and golden.read_bytes() == kept
    assert any("a source is never replaced" in (entry.get("error") or "") for entry in failed), failed
