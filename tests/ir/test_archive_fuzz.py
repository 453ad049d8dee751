"""Fuzzed archives: every mutant of a small valid archive (bytes flipped, files cut short, header and graph JSON
edited; ``archive_mutants.py``) loads and runs with the reference interpreter, or raises interlayer's own error.

A few hundred seeded mutants here, twenty per kind; ``benchmarks/fuzz_archives.py`` runs ten thousand.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from ir.archive_mutants import FUZZ_MAX_TENSOR_BYTES, KINDS, attempt, base_archives, mutant, one_line

SEEDS = range(20)


@pytest.fixture(scope="module")
def bases():
    return base_archives()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_mutant_loads_and_runs_or_raises_interlayers_own_error(bases, tmp_path, monkeypatch, kind, seed):
    monkeypatch.setenv("INTERLAYER_MAX_TENSOR_BYTES", str(FUZZ_MAX_TENSOR_BYTES))
    item = mutant(kind, seed, bases)
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # a mutated graph may well compute log(-1)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            outcome = attempt(item, tmp_path)
        except Exception as exc:  # the point: anything but interlayer's own error fails
            pytest.fail(f"{item.describe()} raised {one_line(exc)}, not interlayer's own error")
    assert outcome.startswith(("loaded and ran", "refused at load: ", "refused at run: ")), item.describe()
