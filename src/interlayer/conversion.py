"""File-to-file conversion with an equivalence check: what ``interlayer convert`` does, as a Python API."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConversionError, InterlayerError
from .files import partial_name, sweep_stale
from .ir.graph import Graph
from .tolerance import RTOL

TARGETS = ("archive", "keras", "torch", "onnx")


@dataclass
class Check:
    """How closely a built model reproduces the graph on seeded random inputs (or, for the source, how closely
    the captured graph reproduces the source model), at the example's sizes and at other sizes the graph keeps
    generic: the largest relative error against the float64 reference, and the error allowed for it
    (``interlayer.tolerance``: ``rtol``, or more where float32 rounding of this graph, ``float32_error``, is
    larger). ``sizes`` lists each set of sizes checked, with its error."""

    relative_error: float
    rtol: float = RTOL
    batch: int = 2
    what: str = "the built model against the reference interpreter"
    float32_error: float = 0.0
    sizes: list[tuple[dict, float]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.relative_error <= self.rtol

    def line(self) -> str:
        verdict = "verified" if self.passed else "NOT equivalent"
        measured = "" if self.rtol <= RTOL else f": float32 rounding of this graph is {self.float32_error:.1e}"
        where = f"; {self.batch} seeded random inputs"
        if self.sizes:
            shown = "; ".join(", ".join(f"{k}={v}" for k, v in chosen.items()) or "fixed sizes"
                              for chosen, _ in self.sizes)
            where = f"; seeded random inputs at {len(self.sizes)} size(s): {shown}"
        return (f"{verdict}: {self.what}, max relative error {self.relative_error:.2e} "
                f"(allowed {self.rtol:.1e}{measured}{where})")


@dataclass
class Result:
    graph: Graph
    path: Path
    model: Any = None
    checks: list[Check] = field(default_factory=list)
    swept: list[str] = field(default_factory=list)
    """temporaries of interrupted runs removed from the output's folder (``files.sweep_stale``)"""


def random_inputs(graph: Graph, batch: int = 2, seed: int = 0, length: int = 8,
                  sizes: dict[str, int] | None = None) -> list[np.ndarray]:
    """Seeded inputs shaped from the graph: its sizes as ``sizes`` gives them, or chosen near ``batch`` for the
    batch ``N`` and ``length`` for every other size name, within the graph's ranges and guards
    (``ir/bindings.py``). Floats are standard normal, booleans (masks) mostly True, integers (token ids) small."""
    from .ir import bindings, dims

    rng = np.random.default_rng(seed)
    if sizes is None:
        wanted = bindings.defaults(graph, batch, length)
        sizes = bindings.choose(graph, wanted)
        if sizes is None:
            raise InterlayerError(f"graph '{graph.name}': no input sizes near {wanted} keep its guards "
                                  f"{graph.guards}. Expected a model that runs at some size; pass inputs yourself.")
    arrays = []
    for spec in graph.inputs:
        shape = [dims.evaluate(d, sizes) for d in spec.shape]
        dtype = np.dtype(spec.dtype) if spec.dtype != "bfloat16" else np.dtype(np.float32)
        if dtype == np.bool_:
            arrays.append(rng.random(shape) < 0.8)
        elif dtype.kind in "iu":
            arrays.append(rng.integers(0, _id_bound(graph), shape).astype(dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(spec.dtype))
    return arrays


def _bound(graph: Graph) -> list[str]:
    from .ir.check import bound_names

    return list(bound_names(graph))


def _id_bound(graph: Graph) -> int:
    """Token ids valid for every embedding table of the graph (2 when it has none)."""
    sizes = [node.attrs["num_embeddings"] for node in graph.nodes if node.op == "embedding"]
    return min(sizes, default=2)


def check(graph: Graph, model: Any, rtol: float = RTOL, *, source: bool = False, others: int = 2) -> Check:
    """Compare ``model`` (built from ``graph``, or with ``source`` the model ``graph`` was captured from) with the
    float64 reference interpreter on seeded random inputs at the default sizes (batch 2, other sizes 8) and at
    up to ``others`` other sizes the graph keeps generic (``ir/bindings.py``), each output held to its
    ``interlayer.tolerance`` bound; the check reports the output nearest its bound (or furthest past it)."""
    from .execute import predict
    from .ir import bindings
    from .tolerance import Bound, bounds, relative_error

    what = "the captured graph against the source model" if source else Check.what
    base = bindings.choose(graph, bindings.defaults(graph))
    if base is None:
        raise InterlayerError(f"convert: no input sizes near the defaults keep the guards of graph '{graph.name}' "
                              f"{graph.guards}. Expected a model that runs at some size.")
    worst, checked, batch = (-1.0, 0.0, Bound(rtol, 0.0)), [], 0
    for index, chosen in enumerate([base, *bindings.alternatives(graph, base, others)]):
        inputs = random_inputs(graph, seed=index, sizes=chosen)
        batch = batch or (len(inputs[0]) if inputs and np.ndim(inputs[0]) else 0)
        exact, allowed = bounds(graph, inputs, rtol)
        actual = predict(model, inputs, graph=graph)
        if len(actual) != len(graph.outputs):
            return Check(float("inf"), rtol, len(inputs[0]) if inputs else 0, what, sizes=[(chosen, float("inf"))])
        here = 0.0
        for spec, value in zip(graph.outputs, actual):
            error, bound = relative_error(value, exact[spec.name]), allowed[spec.name]
            here = max(here, error)
            worst = max(worst, (error / bound.allowed, error, bound), key=lambda item: item[0])
        checked.append((chosen, here))
    _, error, bound = worst
    return Check(error, bound.allowed, batch, what, bound.float32_error, checked)


def convert_file(source: Any, to: str, output: str | os.PathLike, *, example_inputs: Any = None,
                 weights: str | os.PathLike | None = None, overwrite: bool = False, verify: bool = True,
                 **options: Any) -> Result:
    """Convert ``source`` (a path, a factory spec or a live model) to ``to`` and write ``output``.

    The output is written only after the built model has been checked against the reference interpreter;
    a conversion that fails the check leaves no output and raises :class:`ConversionError`.
    """
    from .api import build, export
    from .ir import archive
    from .sources import default_examples, load_model, open_source

    if to not in TARGETS:
        raise InterlayerError(f"convert: unknown target. Expected one of {TARGETS}. Received: to={to!r}.")
    output = Path(output)
    _check_output(to, output, [source, weights])
    if output.exists() and not overwrite:
        raise InterlayerError(f"convert: the output '{output}' exists. Pass --force (overwrite=True) to replace it.")
    swept = sweep_stale(output.parent)
    live = source
    if isinstance(source, (str, os.PathLike)):
        live = None if _is_archive(source) else load_model(source, weights)
        graph = open_source(source, weights=weights) if live is None else export(
            live, example_inputs=default_examples(source, live, example_inputs))
    else:
        graph = export(source, example_inputs=example_inputs)
    result = Result(graph, output, swept=swept)
    if verify and live is not None:  # the source's own run, against the graph captured from it
        result.checks.append(check(graph, live, source=True))
        if not result.checks[-1].passed:
            raise _failed(f"convert: the captured graph does not reproduce the source; nothing was written. "
                          f"{result.checks[-1].line()}", result.checks[-1])
    if to == "archive":
        result.path = archive.save(graph, output, overwrite=overwrite)
        return result
    model = build(graph, to, **options)
    result.model = model
    if verify:
        result.checks.append(check(graph, model))
        if not result.checks[-1].passed:
            raise _failed(f"convert: the {to} model does not reproduce the source; nothing was written. "
                          f"{result.checks[-1].line()}", result.checks[-1])
    _write_model(model, to, output, overwrite, graph)
    return result


_SUFFIXES = {"archive": ".safetensors", "keras": ".keras", "onnx": ".onnx"}
_FORMATS = {".safetensors": "a safetensors file", ".keras": "a Keras model file", ".h5": "a Keras HDF5 file",
            ".hdf5": "a Keras HDF5 file", ".onnx": "an ONNX model file", ".pt": "a pickled PyTorch file (torch.save)",
            ".pth": "a pickled PyTorch file (torch.save)", ".bin": "a PyTorch weights file", ".npz": "numpy arrays",
            ".json": "a JSON file", ".py": "a Python module", ".zip": "a zip archive", ".tflite": "a TFLite model"}
"""What a suffix tells a reader the file is: an output named so but holding something else is refused."""
_PACKAGE_FILES = {"model.py", "model.safetensors", "__pycache__"}
"""What a PyTorch package folder written by interlayer holds (``__pycache__`` once it has been imported)."""


def _check_output(to: str, output: Path, sources: list[Any]) -> None:
    """Refuse, before any work, an output name that interlayer could not open again as what it holds (or whose
    suffix says another format), an existing output of another kind (a file where a package folder goes, a
    folder that is not an interlayer package), an output in a folder this user cannot write to, and an output
    that is one of the ``sources`` (``--force`` or not)."""
    from .ir.archive import INDEX_SUFFIX
    from .outputs import check_output

    wanted = _SUFFIXES.get(to)
    if wanted is not None and output.suffix != wanted:
        raise InterlayerError(f"convert: {'an' if to in ('archive', 'onnx') else 'a'} {to} output is a "
                              f"{wanted} file. Expected a name ending in {wanted}. "
                              f"Received: '{output}'{_meaning(output)}.")
    if to == "torch" and output.suffix not in ("", ".pt2"):
        raise InterlayerError(f"convert: a torch output is a package folder (model.py + model.safetensors) or a "
                              f"torch.export program. Expected a folder name without a suffix, or a name ending in "
                              f".pt2. Received: '{output}'{_meaning(output)}. Name it "
                              f"'{output.with_suffix('')}' for a package, '{output.with_suffix('.pt2')}' for a "
                              f"program.")
    index = [output.with_name(output.name + INDEX_SUFFIX)] if to == "archive" else []  # written when sharded
    check_output("convert", output, sources, also=index)
    _check_replaceable(to, output)


def _meaning(output: Path) -> str:
    meaning = _FORMATS.get(output.suffix.lower())
    return f", the name of {meaning}" if meaning else ""


def _check_replaceable(to: str, output: Path) -> None:
    """An existing output is replaced (``--force``) only by one of its kind: a file by a file, an interlayer
    package folder (or an empty folder) by a package folder; never a folder of other files."""
    package = to == "torch" and output.suffix != ".pt2"
    if not (output.exists() or output.is_symlink()):
        return
    if package and not output.is_dir():
        raise InterlayerError(f"convert: the output '{output}' is a file, and a torch package is a folder. Expected "
                              f"a new folder name, or an interlayer package folder to replace. Received: -o {output}. "
                              f"Choose another name; interlayer never replaces a file by a folder.")
    if output.is_dir() and not output.is_symlink():
        others = sorted(item.name for item in output.iterdir() if item.name not in _PACKAGE_FILES)
        if not package or others or (not (output / "model.py").is_file() and any(output.iterdir())):
            what = (f"holds {', '.join(others[:5])}{', ...' if len(others) > 5 else ''}" if others
                    else "is not an interlayer package")
            raise InterlayerError(f"convert: the output '{output}' is a folder that {what}. Expected a new name, or "
                                  f"{'an interlayer package folder' if package else 'a file'} to replace. Received: "
                                  f"-o {output}. Choose another name; interlayer never replaces a folder of other "
                                  f"files.")


def _failed(message: str, check: Check) -> ConversionError:
    """The error of a failed check, carrying the check (``exc.check``) for reports."""
    error = ConversionError(message)
    error.check = check
    return error


def _is_archive(spec: str | os.PathLike) -> bool:
    from .ir.archive import is_archive_path
    from .sources import is_factory

    return not is_factory(spec) and is_archive_path(spec)


def _write_model(model: Any, to: str, output: Path, overwrite: bool, graph: Graph) -> None:
    """Write through a temporary name in the destination folder, moved into place when complete.

    A PyTorch target is a readable package folder (``model.py`` + ``model.safetensors``), or a ``torch.export``
    program when the output ends in ``.pt2`` (exported on seeded inputs with a dynamic batch, and verified). An
    ONNX target is one ``.onnx`` file, with its weights as external data beside it above protobuf's 2 GB limit.
    """
    if to == "torch" and output.suffix == ".pt2":
        from .backends.torch.export import write_program

        write_program(model, output, random_inputs(graph), overwrite=overwrite)
        return
    if to == "onnx":
        from .backends.onnx import write_model

        write_model(model, output, overwrite=overwrite)
        return
    temporary = partial_name(output)
    try:
        if to == "keras":
            model.save(temporary)
            from .frontends.keras.files import write_layouts

            write_layouts(temporary, model._interlayer_perms)
        else:
            from .backends.torch import write_package

            write_package(model, temporary)
        if output.exists() and overwrite:
            shutil.rmtree(output) if output.is_dir() else output.unlink()
        os.rename(temporary, output)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary)
        else:
            temporary.unlink(missing_ok=True)
