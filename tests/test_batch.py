"""Batch conversion (``interlayer convert MODELS... -o OUTDIR``, ``interlayer.batch.convert_many``): statuses,
reports, exit codes, --fail-fast, --resume, manifests, clean-up after failures and interruptions, worker processes
and a dask cluster.

The factories at the bottom are for manifests (``test_batch:<name>``); worker processes import this module to call
them, so it imports no framework at the top."""
from __future__ import annotations

import hashlib
import io
import json
import logging
import multiprocessing
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import interlayer
from interlayer.batch import ProgressPrinter, convert_many, is_batch
from interlayer.batch.plan import Job, assign_outputs, safe_name
from interlayer.batch.progress import Progress
from interlayer.batch.report import Entry
from interlayer.cli import main
from interlayer.errors import InterlayerError

GOOD = {"dense": "converted", "conv": "converted", "cnn": "converted", "lenet": "converted"}
EXPECTED = {**GOOD, "broken": "failed", "lambda_layer": "failed", "weights_only": "skipped"}


# --- the models -------------------------------------------------------------------------------------------------

def _dense(seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(6, activation="relu"), keras.layers.Dense(3)])


def _conv():
    import keras

    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.Flatten(), keras.layers.Dense(2)])


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """Four good models (two .keras files, one in a subfolder; two archives from PyTorch), a broken file, a Keras
    model with a Lambda layer (which interlayer cannot convert) and a safetensors file of weights only."""
    import keras
    import safetensors.torch
    import torch

    from interlayer import examples

    folder = tmp_path_factory.mktemp("models")
    (folder / "sub").mkdir()
    _dense().save(folder / "dense.keras")
    _conv().save(folder / "sub" / "conv.keras")
    torch.manual_seed(0)
    interlayer.save(interlayer.export(examples.small_cnn().eval(), example_inputs=(1, 3, 12, 12)),
                    folder / "cnn.safetensors")
    lenet = examples.lenet5().eval()
    interlayer.save(interlayer.export(lenet, example_inputs=(1, 1, 28, 28)), folder / "lenet.safetensors")
    (folder / "broken.keras").write_bytes(b"not a model at all")
    keras.Sequential([keras.Input((8,)), keras.layers.Lambda(lambda x: x * 2)]).save(folder / "lambda_layer.keras")
    safetensors.torch.save_file(lenet.state_dict(), str(folder / "weights_only.safetensors"))
    return folder


@pytest.fixture(scope="module")
def archives(models, tmp_path_factory) -> Path:
    """A folder of the two archives and a damaged one: reading them needs no framework, so worker processes that
    convert them to ONNX import only onnx (quick to start)."""
    folder = tmp_path_factory.mktemp("archives")
    for name in ("cnn.safetensors", "lenet.safetensors"):
        shutil.copy(models / name, folder / name)
    data = bytearray((models / "cnn.safetensors").read_bytes())
    data[-3] ^= 0x55
    (folder / "damaged.safetensors").write_bytes(bytes(data))
    return folder


def _cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _report(outdir: Path) -> dict:
    return json.loads((outdir / "report.json").read_text())


def _statuses(outdir: Path) -> dict:
    return {model["name"]: model["status"] for model in _report(outdir)["models"]}


def _partials(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".partial" in p.name)


# --- a folder, three targets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("to, made", [
    ("archive", lambda out, name: (out / f"{name}.safetensors").is_file()),
    ("keras", lambda out, name: (out / f"{name}.keras").is_file()),
    ("torch", lambda out, name: (out / name / "model.py").is_file() and (out / name / "model.safetensors").is_file()),
], ids=["to-archive", "to-keras", "to-torch"])
def test_a_folder_converts_every_model_and_reports_each(capsys, tmp_path, models, to, made):
    code, out, err = _cli(capsys, "convert", models, "--to", to, "-o", tmp_path / "out")
    assert code == 1, err  # two models failed
    assert _statuses(tmp_path / "out") == EXPECTED
    assert all(made(tmp_path / "out", name) for name in GOOD)
    listed = {p.name for p in (tmp_path / "out").iterdir()}
    assert listed == {n + ("" if to == "torch" else {"archive": ".safetensors", "keras": ".keras"}[to]) for n in GOOD} \
        | {"report.json", "report.md", ".interlayer-batch.json"}
    assert "4 converted, 2 failed, 1 skipped in" in out
    assert _partials(tmp_path / "out") == []


def test_converted_archives_reproduce_their_sources(tmp_path, models):
    import keras

    report = convert_many([models / "dense.keras", models / "cnn.safetensors"], "archive", tmp_path)
    assert [e.status for e in report.entries] == ["converted", "converted"]
    x = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    graph = interlayer.load(tmp_path / "dense.safetensors")
    expected = keras.saving.load_model(models / "dense.keras")(x).numpy()
    np.testing.assert_allclose(interlayer.run(graph, x)[graph.outputs[0].name], expected, rtol=1e-5, atol=1e-6)
    assert interlayer.load(tmp_path / "cnn.safetensors").source == interlayer.load(models / "cnn.safetensors").source


def test_report_json_has_statuses_errors_figures_times_sizes_and_checksums(tmp_path, models):
    convert_many([models], "keras", tmp_path)
    report = _report(tmp_path)
    assert report["counts"] == {"converted": 4, "failed": 2, "skipped": 1, "interrupted": 0, "total": 7}
    assert report["summary"].startswith("4 converted, 2 failed, 1 skipped in ")
    entries = {model["name"]: model for model in report["models"]}
    dense = entries["dense"]
    assert dense["verdict"] == "verified" and 0 <= dense["max_relative_error"] <= 1e-5
    assert dense["seconds"] > 0 and dense["finished_at"] >= dense["seconds"]
    assert dense["bytes_in"] == (models / "dense.keras").stat().st_size
    assert dense["bytes_out"] == (tmp_path / "dense.keras").stat().st_size
    assert dense["sha256"] == hashlib.sha256((models / "dense.keras").read_bytes()).hexdigest()
    assert entries["broken"]["error_class"] == "SourceError" and "not a Keras model file" in entries["broken"]["error"]
    assert entries["lambda_layer"]["error_class"] == "SourceError" and "Lambda" in entries["lambda_layer"]["error"]
    assert entries["broken"]["bytes_out"] is None and entries["broken"]["verdict"] is None
    assert "weights only" in entries["weights_only"]["reason"]
    sources = [model["source"] for model in report["models"]]
    assert sources[:2] == [str(models / "broken.keras"), str(models / "cnn.safetensors")]


def test_report_md_is_readable(tmp_path, models):
    convert_many([models / "dense.keras", models / "broken.keras"], "archive", tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "**1 converted, 1 failed, 0 skipped in " in text
    assert "| `dense` | converted | " in text and "| verified |" in text
    assert "| `broken` | failed | " in text
    assert "## broken: SourceError" in text and f"Source: `{models / 'broken.keras'}`" in text


def test_exit_status_is_zero_when_every_model_converts(capsys, tmp_path, models):
    code, out, err = _cli(capsys, "convert", models / "dense.keras", models / "cnn.safetensors", "--to", "archive",
                          "-o", tmp_path / "out")
    assert code == 0, err
    assert "[1/2] converted  dense -> " in out and "[2/2] converted  cnn -> " in out
    assert "2 converted, 0 failed, 0 skipped in " in out


def test_a_glob_is_a_batch_and_an_empty_glob_an_error(capsys, tmp_path, models):
    code, _, err = _cli(capsys, "convert", f"{models}/**/*.keras", "--to", "archive", "-o", tmp_path / "out")
    assert code == 1, err
    assert _statuses(tmp_path / "out") == {"broken": "failed", "dense": "converted", "lambda_layer": "failed",
                                           "conv": "converted"}
    code, _, err = _cli(capsys, "convert", f"{models}/*.nothing", "--to", "archive", "-o", tmp_path / "none")
    assert code == 2 and "matches no model file" in err


def test_an_output_folder_inside_the_source_folder_is_not_read_as_sources(tmp_path, archives):
    shutil.copy(archives / "cnn.safetensors", tmp_path / "cnn.safetensors")
    assert [e.status for e in convert_many([tmp_path], "archive", tmp_path / "out").entries] == ["converted"]
    again = convert_many([tmp_path], "archive", tmp_path / "out", resume=True)
    assert [(e.name, e.status) for e in again.entries] == [("cnn", "skipped")]

def test_a_sharded_archive_is_one_model_read_through_its_index(tmp_path, archives):
    from interlayer.ir import archive

    folder = tmp_path / "sharded"
    folder.mkdir()
    archive.save(interlayer.load(archives / "cnn.safetensors"), folder / "cnn.safetensors", max_shard_size=4000)
    files = sorted(folder.iterdir())
    assert len(files) > 2  # the index and its shards
    report = convert_many([folder], "onnx", tmp_path / "out")
    assert [(e.name, e.status) for e in report.entries] == [("cnn", "converted")]
    assert report.entries[0].bytes_in == sum(f.stat().st_size for f in files)

@pytest.mark.parametrize("sources, manifest, batch", [
    (["dense.keras"], None, False), (["interlayer.examples:lenet5"], None, False), (["absent.keras"], None, False),
    (["dense.keras", "cnn.safetensors"], None, True), (["sub"], None, True), (["*.keras"], None, True),
    ([], "manifest.jsonl", True),
], ids=["file", "factory", "missing-file", "two-files", "folder", "glob", "manifest"])
def test_what_makes_a_batch(models, monkeypatch, sources, manifest, batch):
    monkeypatch.chdir(models)
    assert is_batch(sources, manifest) is batch

def test_a_single_source_is_still_one_conversion(capsys, tmp_path, models):
    code, out, err = _cli(capsys, "convert", models / "dense.keras", "--to", "archive",
                          "-o", tmp_path / "d.safetensors")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.safetensors"]
    assert out.startswith(f"{models / 'dense.keras'} -> {tmp_path / 'd.safetensors'} (archive): ")
    code, _, err = _cli(capsys, "convert", models / "dense.keras", "--to", "archive", "-o", tmp_path / "e.safetensors",
                        "--resume")
    assert code == 2 and "--resume applies to batches only" in err



def test_a_model_refused_by_its_check_reports_the_figures(tmp_path, monkeypatch):
    from interlayer import conversion
    from interlayer.batch.worker import convert_one

    def refuse(*args, **kwargs):
        raise interlayer.errors.ConversionError(f"convert: the keras model does not reproduce the source; nothing was "
                                                f"written. {conversion.Check(0.25).line()}")

    monkeypatch.setattr(conversion, "convert_file", refuse)
    outcome = convert_one(Job("m", str(tmp_path / "m.keras"), "m.keras", "keras", str(tmp_path / "out.keras")))
    assert (outcome.status, outcome.error_class, outcome.verdict) == ("failed", "ConversionError", "NOT equivalent")
    assert outcome.max_relative_error == 0.25 and outcome.checks[0]["rtol"] == 1e-5

# --- failures, resume, clean-up ---------------------------------------------------------------------------------

def test_fail_fast_stops_at_the_first_failure(capsys, tmp_path, models):
    code, out, _ = _cli(capsys, "convert", models / "broken.keras", models / "dense.keras", models / "cnn.safetensors",
                        "--to", "archive", "-o", tmp_path, "--fail-fast")
    assert code == 1
    entries = {model["name"]: model for model in _report(tmp_path)["models"]}
    assert [entries[n]["status"] for n in ("broken", "dense", "cnn")] == ["failed", "skipped", "skipped"]
    assert entries["dense"]["reason"] == "not started (--fail-fast: 'broken' failed)"
    assert not (tmp_path / "dense.safetensors").exists() and not (tmp_path / "cnn.safetensors").exists()
    assert "0 converted, 1 failed, 2 skipped" in out


def test_resume_skips_what_is_up_to_date_and_reconverts_a_changed_source(tmp_path, models):
    sources = tmp_path / "models"
    shutil.copytree(models, sources)
    outdir = tmp_path / "out"
    first = convert_many([sources], "archive", outdir)
    assert {e.name: e.status for e in first.entries} == EXPECTED
    ledger = json.loads((outdir / ".interlayer-batch.json").read_text())
    assert ledger["outputs"]["dense.safetensors"]["sha256"] == first.entries[2].sha256

    again = convert_many([sources], "archive", outdir, resume=True)
    assert {e.name: e.status for e in again.entries} == {**{n: "skipped" for n in GOOD}, "broken": "failed",
                                                         "lambda_layer": "failed", "weights_only": "skipped"}
    assert "up to date" in again.entries[2].reason and again.entries[2].max_relative_error is not None

    os.utime(sources / "cnn.safetensors")  # a new mtime, the same bytes: still up to date
    before = (outdir / "dense.safetensors").read_bytes()
    _dense(seed=7).save(sources / "dense.keras")  # new weights
    third = convert_many([sources], "archive", outdir, resume=True)
    assert {e.name: e.status for e in third.entries if e.name in GOOD} == {**{n: "skipped" for n in GOOD},
                                                                           "dense": "converted"}
    assert (outdir / "dense.safetensors").read_bytes() != before
    assert third.entries[2].sha256 == hashlib.sha256((sources / "dense.keras").read_bytes()).hexdigest()


def test_an_existing_output_refuses_the_batch_without_resume_or_force(tmp_path, models):
    (tmp_path / "dense.safetensors").write_bytes(b"keep me")
    with pytest.raises(InterlayerError, match=r"batch: 1 of the 2 outputs exist in .*: dense\.safetensors\. "
                                              r"Expected .* Pass --resume \(resume=True\)"):
        convert_many([models / "dense.keras", models / "sub" / "conv.keras"], "archive", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dense.safetensors"]  # nothing converted, no report
    assert (tmp_path / "dense.safetensors").read_bytes() == b"keep me"
    assert convert_many([models / "dense.keras"], "archive", tmp_path, overwrite=True).entries[0].status == "converted"
    interlayer.load(tmp_path / "dense.safetensors")


def _folder_state(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_rerunning_a_finished_batch_is_refused_and_keeps_its_report(capsys, tmp_path, models):
    sources, outdir = [models / "dense.keras", models / "sub" / "conv.keras"], tmp_path / "out"
    assert _cli(capsys, "convert", *sources, "--to", "archive", "-o", outdir)[0] == 0
    finished = _folder_state(outdir)
    assert {"report.json", "report.md", "dense.safetensors", "conv.safetensors"} <= set(finished)

    code, out, err = _cli(capsys, "convert", *sources, "--to", "archive", "-o", outdir)
    assert code == 2 and out == ""
    assert (f"batch: 2 of the 2 outputs exist in '{outdir}': dense.safetensors, conv.safetensors (an earlier "
            f"batch's; its report is kept).") in err
    assert "Pass --resume to keep the outputs made from the same sources and convert the rest, or --force to " \
           "convert every model again; nothing was written." in err
    assert "FAILED" not in err and "resume=True" not in err
    assert _folder_state(outdir) == finished

    assert _cli(capsys, "convert", *sources, "--to", "archive", "-o", outdir, "--resume")[0] == 0
    assert set(_statuses(outdir).values()) == {"skipped"}
    assert _cli(capsys, "convert", *sources, "--to", "archive", "-o", outdir, "--force")[0] == 0
    assert set(_statuses(outdir).values()) == {"converted"}


def test_temporaries_are_removed_and_none_are_left_by_failures(tmp_path, models):
    (tmp_path / ".dense.keras.999.partial.keras").write_bytes(b"left by a killed run")
    (tmp_path / ".cnn.onnx.abc.partial").mkdir()
    report = convert_many([models], "keras", tmp_path)
    assert len(report.failed) == 2
    assert _partials(tmp_path) == []


def test_an_interruption_marks_unfinished_models_and_leaves_no_partial_files(capsys, tmp_path, models, monkeypatch):
    outdir = tmp_path / "out"
    monkeypatch.setenv("INTERLAYER_TEST_OUTDIR", str(outdir))
    manifest = _manifest(tmp_path, {"path": str(models / "dense.keras")}, {"path": "test_batch:interrupt"},
                         {"path": str(models / "cnn.safetensors")})
    code, _, err = _cli(capsys, "convert", "--manifest", manifest, "--to", "archive", "-o", outdir)
    assert code == 130 and "interrupted" in err
    entries = {model["name"]: model for model in _report(outdir)["models"]}
    assert [entries[n]["status"] for n in ("dense", "interrupt", "cnn")] == ["converted", "interrupted", "interrupted"]
    assert entries["cnn"]["reason"] == "the batch was interrupted before this model finished"
    assert _partials(outdir) == [] and not (outdir / ".interlayer-batch.lock").exists()


# --- manifests and names ----------------------------------------------------------------------------------------

def _manifest(folder: Path, *lines: dict) -> Path:
    path = folder / "manifest.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    return path


def test_a_manifest_gives_shapes_weights_targets_and_names(capsys, tmp_path, models):
    import safetensors.torch
    import torch

    from interlayer import examples

    torch.manual_seed(3)
    lenet = examples.lenet5()
    safetensors.torch.save_file(lenet.state_dict(), str(tmp_path / "lenet.safetensors"))
    manifest = _manifest(
        tmp_path,
        {"path": "interlayer.examples:lenet5", "input_shape": [1, 1, 28, 28], "weights": "lenet.safetensors"},
        {"path": "test_batch:two_inputs", "input_shapes": [[1, 5], [1, 3]], "name": "pair"},
        {"path": "test_batch:two_inputs", "inputs": ["x:float32[rows=3,5]", "y:float32[rows,3]"], "name": "specs"},
        {"path": "cli_factories:two_unsupported", "input_shape": [1, 1, 4, 4]},
        {"path": str(models / "dense.keras"), "to": "keras", "name": "pair"},
    )
    code, out, err = _cli(capsys, "convert", "--manifest", manifest, "--to", "archive", "-o", tmp_path / "out")
    assert code == 1, err
    entries = {model["name"]: model for model in _report(tmp_path / "out")["models"]}
    assert {n: e["status"] for n, e in entries.items()} == {"lenet": "converted", "pair": "converted",
                                                            "specs": "converted", "two_unsupported": "failed",
                                                            "pair-2": "converted"}
    assert entries["two_unsupported"]["error_class"] == "UnsupportedLayerError"
    assert entries["lenet"]["sha256"] == hashlib.sha256((tmp_path / "lenet.safetensors").read_bytes()).hexdigest()
    assert (entries["lenet"]["source"], entries["lenet"]["origin"]) == ("interlayer.examples:lenet5", f"{manifest}:1")
    assert entries["pair-2"]["source"] == str(models / "dense.keras")
    graph = interlayer.load(tmp_path / "out" / "lenet.safetensors")
    state = dict(graph.tensors())
    assert np.array_equal(state[graph.source["name_map"]["0.weight"]], lenet.state_dict()["0.weight"].numpy())
    pair = interlayer.load(tmp_path / "out" / "pair.safetensors")
    assert [list(spec.shape[1:]) for spec in pair.inputs] == [[5], [3]]
    specs = interlayer.load(tmp_path / "out" / "specs.safetensors")
    assert [spec.shape for spec in specs.inputs] == [("rows", 5), ("rows", 3)]
    assert (tmp_path / "out" / "pair-2.keras").is_file()


@pytest.mark.parametrize("line, message", [
    ("{not json", "manifest.jsonl:1: not valid JSON"),
    ('{"model": "a.keras"}', 'expected an object with a "path"'),
    ('{"path": "a.keras", "shape": [1]}', "unknown key(s) ['shape']"),
    ('{"path": "a.keras", "input_shape": [1, -3]}', '"input_shape" holds a shape as a list of positive integers'),
    ('{"path": "a.keras", "to": "caffe"}', "unknown target"),
    ('{"path": "a.keras", "inputs": ["x:complex[N]"]}', "input spec 'x:complex[N]': unknown dtype"),
    ('{"path": "a.keras", "inputs": ["[1]"], "input_shape": [1]}', "input_shape and inputs together"),
], ids=["bad-json", "no-path", "unknown-key", "bad-shape", "bad-target", "bad-spec", "specs-and-shape"])
def test_a_bad_manifest_line_is_a_one_line_error(capsys, tmp_path, line, message):
    (tmp_path / "manifest.jsonl").write_text(line + "\n")
    code, _, err = _cli(capsys, "convert", "--manifest", tmp_path / "manifest.jsonl", "--to", "archive",
                        "-o", tmp_path / "out")
    assert code == 2 and message in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, safe", [
    ("resnet 50", "resnet_50"), ("../../etc/passwd", "etc_passwd"), ("model.v2", "model_v2"), ("", "model"),
    ("report", "report_"), ("CON", "CON_"), ("ÿ" * 3, "model"),
], ids=["space", "traversal", "dot", "empty", "report", "device-name", "non-ascii"])
def test_output_names_are_safe(name, safe):
    assert safe_name(name) == safe


def test_output_names_are_unique_case_insensitively(tmp_path):
    jobs = [Job(name, name, name, "keras") for name in ("Net", "net", "net", "net-2")]
    assign_outputs(jobs, tmp_path)
    assert [Path(job.output).name for job in jobs] == ["Net.keras", "net-2.keras", "net-3.keras", "net-2-2.keras"]


# --- progress ---------------------------------------------------------------------------------------------------

def _entry(status: str, **values) -> Entry:
    return Entry("m1", "m1.keras", "keras", "/o/m1.keras", status, **values)


def test_progress_on_a_terminal_redraws_one_line_and_keeps_failures():
    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=True, width=120)
    printer(Progress(0, 10, ["m1", "m2", "m3"], 1.0, None))
    printer(Progress(3, 10, ["m4"], 65.0, 150.0, _entry("failed", error_class="SourceError", error="bad\nmore")))
    printer.close()
    text = stream.getvalue()
    assert text.count("\r\x1b[K") >= 2 and text.endswith("\n")
    assert "0/10 0:01 elapsed | m1, m2 +1" in text
    assert "FAILED     m1 (m1.keras): SourceError: bad\n" in text
    assert "[######--------------] 3/10 1:05 elapsed, ~2:30 left | m4" in text


def test_progress_elsewhere_is_one_line_per_model():
    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=False)
    printer(Progress(0, 12, ["m1"], 0.0, None))
    printer(Progress(1, 12, [], 2.0, 22.0, _entry("converted", seconds=1.5, verdict="verified",
                                                     max_relative_error=3e-7)))
    printer(Progress(2, 12, [], 2.0, 22.0, _entry("skipped", reason="up to date")))
    assert stream.getvalue().splitlines() == [
        "[ 1/12] converted  m1 -> /o/m1.keras (1.5 s, verified, max relative error 3.00e-07)",
        "[ 2/12] skipped    m1: up to date"]


# --- worker processes and a dask cluster -------------------------------------------------------------------------

def _comparable(report) -> list[tuple]:
    return [(e.name, e.status, e.error_class, e.max_relative_error, e.bytes_out) for e in report.entries]


def test_two_worker_processes_give_what_one_process_gives(tmp_path, archives):
    one = convert_many([archives], "onnx", tmp_path / "one", jobs=1)
    two = convert_many([archives], "onnx", tmp_path / "two", jobs=2)
    assert _comparable(two) == _comparable(one)
    assert [(e.name, e.status) for e in two.entries] == [("cnn", "converted"), ("damaged", "failed"),
                                                         ("lenet", "converted")]
    assert "checksum" in two.entries[1].error
    for name in ("cnn.onnx", "lenet.onnx"):
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
    workers = {e.worker for e in two.entries}
    assert f"pid {os.getpid()}" not in workers and 1 <= len(workers) <= 2
    assert two.executor == "2 local worker processes"


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR, scheduler_kwargs={"dashboard_address": ":0"}) as running:
        yield running


def test_a_dask_cluster_gives_what_one_process_gives(tmp_path, archives, cluster):
    one = convert_many([archives], "onnx", tmp_path / "one")
    remote = convert_many([archives], "onnx", tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address)
    assert _comparable(remote) == _comparable(one)
    assert remote.executor.startswith(f"the dask cluster at {cluster.scheduler_address} of 2 worker(s)")
    assert f"pid {os.getpid()}" not in {e.worker for e in remote.entries}


def test_a_scheduler_needs_the_dask_executor(tmp_path, archives):
    with pytest.raises(interlayer.errors.InterlayerError, match="--executor dask"):
        convert_many([archives], "onnx", tmp_path, scheduler="tcp://127.0.0.1:8786")


@pytest.mark.slow
def test_keras_models_on_two_workers_and_on_a_local_dask_cluster(capsys, tmp_path, models):
    code, _, err = _cli(capsys, "convert", models, "--to", "keras", "-o", tmp_path / "one")
    assert code == 1, err
    code, _, err = _cli(capsys, "convert", models, "--to", "keras", "-o", tmp_path / "two", "--jobs", "2")
    assert code == 1, err
    code, _, err = _cli(capsys, "convert", models, "--to", "keras", "-o", tmp_path / "dask", "--jobs", "2",
                        "--executor", "dask")
    assert code == 1, err
    expected = [{key: m[key] for key in ("name", "status", "error_class", "max_relative_error")}
                for m in _report(tmp_path / "one")["models"]]
    for outdir in ("two", "dask"):
        got = [{key: m[key] for key in ("name", "status", "error_class", "max_relative_error")}
               for m in _report(tmp_path / outdir)["models"]]
        assert got == expected, outdir
        assert _partials(tmp_path / outdir) == []


@pytest.mark.slow
def test_a_model_that_kills_its_worker_fails_alone(tmp_path, archives, monkeypatch):
    outdir = tmp_path / "out"
    monkeypatch.setenv("INTERLAYER_TEST_OUTDIR", str(outdir))
    manifest = _manifest(tmp_path, {"path": str(archives / "cnn.safetensors")}, {"path": "test_batch:crash"},
                         {"path": str(archives / "lenet.safetensors")})
    report = convert_many([], "onnx", outdir, manifest=manifest, jobs=2)
    statuses = {e.name: e.status for e in report.entries}
    assert statuses == {"cnn": "converted", "crash": "failed", "lenet": "converted"}, \
        {e.name: e.error for e in report.entries}
    assert report.entries[1].error_class == "BrokenProcessPool" and "twice" in report.entries[1].error
    assert _partials(outdir) == []


# --- factories for the manifests above (imported by worker processes as test_batch:<name>) ----------------------

def two_inputs():
    """A module of two inputs: (N, 5) and (N, 3)."""
    from torch import nn

    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(5, 4), nn.Linear(3, 4)

        def forward(self, x, y):
            return self.a(x) + self.b(y)

    return TwoInputs()


def _leave_partial(name: str) -> None:
    """What a writer killed mid-write leaves in the output folder."""
    outdir = Path(os.environ["INTERLAYER_TEST_OUTDIR"])
    (outdir / f".{name}.safetensors.{os.getpid()}.partial").write_bytes(b"half")


def interrupt():
    """Ctrl-C in the middle of a conversion."""
    _leave_partial("interrupt")
    raise KeyboardInterrupt


def crash():
    """A worker process that dies (a segfault in a framework, the out-of-memory killer)."""
    if multiprocessing.parent_process() is None:
        raise RuntimeError("test_batch:crash only runs in a worker process")
    _leave_partial("crash")
    os._exit(7)


def test_a_job_submitted_to_a_pool_broken_meanwhile_is_lost_not_raised():
    """A worker may die between the driver's wait and its next submit: that job is lost with the pool (and tried
    again in a fresh one), not an exception out of the batch."""
    from concurrent.futures import wait

    from interlayer.batch.run import PoolRunner, WorkerLost

    runner = PoolRunner(1, ())
    try:
        wait([runner._pool.submit(os._exit, 1)])  # a worker dies: the pool is broken
        future = runner.submit(Job("m", "m.keras", "m.keras", "keras"))
        with pytest.raises(WorkerLost):
            runner.result(future)
    finally:
        runner.kill()
