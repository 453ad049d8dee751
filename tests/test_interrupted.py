"""A conversion killed outright leaves its temporary behind; the next run into that folder removes it and says so,
and never touches the temporary of a run that is still going."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from interlayer.cli import main
from interlayer.files import partial_name, stale_partials, sweep_stale

LENET = ["interlayer.examples:lenet5", "--input-shape", "1,1,28,28"]

KILLED_WRITERS = {
    # a file written through atomic_file (archives, drawings, transferred weights)
    "archive-file": """
        from interlayer.files import atomic_file
        with atomic_file(folder / "a.safetensors", overwrite=False, exists=lambda: None) as temporary:
            temporary.write_bytes(b"half an archive")
            os.kill(os.getpid(), signal.SIGKILL)
    """,
    # a PyTorch package folder, killed while its weights are written
    "torch-package": """
        import interlayer
        from interlayer import conversion, examples
        import safetensors.torch
        def killed(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        safetensors.torch.save_file = killed
        conversion.convert_file(examples.lenet5(), "torch", folder / "pkg", example_inputs=(1, 1, 28, 28))
    """,
}


def _killed(folder, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a child process that kills itself with SIGKILL; its pid."""
    script = f"import os, signal\nfrom pathlib import Path\nfolder = Path({str(folder)!r})\n" + textwrap.dedent(code)
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert process.returncode == -signal.SIGKILL, process.stderr
    return process


@pytest.mark.parametrize("writer", sorted(KILLED_WRITERS))
def test_the_next_conversion_removes_what_a_killed_one_left(capsys, tmp_path, writer):
    _killed(tmp_path, KILLED_WRITERS[writer])
    left = stale_partials(tmp_path)
    assert len(left) == 1 and ".partial" in left[0].name
    assert main(["convert", *LENET, "--to", "archive", "-o", str(tmp_path / "lenet.safetensors")]) == 0
    out = capsys.readouterr().out
    assert f"removed 1 partial output(s) of interrupted runs from {tmp_path}: {left[0].name}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lenet.safetensors"]


def test_a_running_process_keeps_its_temporary(tmp_path):
    mine = partial_name(tmp_path / "model.keras")
    mine.write_text("being written")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        theirs = tmp_path / f".other.{sleeper.pid}.partial.onnx"
        theirs.write_text("being written")
        gone = tmp_path / f".old.{_dead_pid()}.partial"
        gone.mkdir()
        (gone / "model.py").write_text("")
        assert sweep_stale(tmp_path) == [gone.name]
        assert mine.exists() and theirs.exists() and not gone.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_names_that_only_look_partial_are_kept(tmp_path):
    for name in ("model.partial", ".partial", ".notes.txt", "x.123.partial.keras", ".model.12ab.partial"):
        (tmp_path / name).write_text("")
    assert stale_partials(tmp_path) == []
    assert os.listdir(tmp_path)
