"""Mutants of small valid archives: bytes flipped, files cut short, header and graph JSON edited.

Shared by the fuzz test (``tests/ir/test_archive_fuzz.py``, a few hundred mutants) and the benchmark
(``benchmarks/fuzz_archives.py``, ten thousand). The rule both check, with :func:`attempt`: every mutant either
loads and runs with the reference interpreter, or raises one of interlayer's own errors
(:class:`interlayer.errors.InterlayerError`); anything else is a failure.

A mutant is a pure function of its kind and seed (:func:`mutant`): a failure is replayed from its id alone.
The size limit is lowered while mutants run (:data:`FUZZ_MAX_TENSOR_BYTES`), so that a mutant asking for a huge
tensor is refused at a size a test can afford to reach.
"""
from __future__ import annotations

import copy
import json
import random
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import ml_dtypes
import numpy as np

import interlayer
from interlayer.conversion import random_inputs
from interlayer.errors import InterlayerError

FUZZ_MAX_TENSOR_BYTES = 64 * 2 ** 20
"""``INTERLAYER_MAX_TENSOR_BYTES`` while mutants run."""

BASES = (
    "conv-pool-bn-global", "conv-tile-conv", "linear-reshape-transpose-conv", "lstm-bidirectional",
    "gru-initial-state", "sdpa-additive-mask", "pad2d-reflect-conv", "conv_transpose2d-stride-pads-output-padding",
    "reshape-symbolic-length", "tile-symbolic-length-repeated", "unet-up-conv-resize-conv", "conv-split-convs-stack",
    "expand-middle", "where-broadcast-mask", "max_pool2d-ceil", "avg_pool1d-pads-asymmetric-stride2-ceil-include",
    "lrn-size5-onnx", "matmul-4d-constant-batched", "math-abs-add-log", "concat-channels",
)
"""Conformance cases whose archives are mutated, plus ``golden-bf16`` and ``golden-f16`` (other dtypes)."""


def base_archives() -> dict[str, bytes]:
    """The bytes of each base archive, by name."""
    from conformance.cases import CASES

    graphs = {name: CASES[name]() for name in BASES}
    for name, dtype in (("golden-bf16", ml_dtypes.bfloat16), ("golden-f16", np.float16)):
        graph = CASES["conv-pool-bn-global"]()
        for node in graph.nodes:
            node.weights = {key: value.astype(dtype) for key, value in node.weights.items()}
        graphs[name] = graph
    archives = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, graph in graphs.items():
            archives[name] = interlayer.save(graph, Path(folder) / f"{name}.safetensors").read_bytes()
    return archives


# the safetensors layout ------------------------------------------------------------------------------------


def split(data: bytes) -> tuple[dict, bytes]:
    """The header (parsed) and the data section of a valid archive."""
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def join(header: Any, body: bytes) -> bytes:
    """A safetensors file of ``header`` (any JSON value) over ``body``, the header length right."""
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + body


def _graph(header: dict) -> dict:
    return json.loads(header["__metadata__"]["interlayer.graph"])


def _with_graph(header: dict, graph: Any) -> dict:
    header["__metadata__"]["interlayer.graph"] = json.dumps(graph, separators=(",", ":"))
    return header


# values of the wrong kind ----------------------------------------------------------------------------------

ODD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, 1, -1, 3, 2 ** 31, 2 ** 63, 2 ** 64 + 1, 10 ** 30, -10 ** 12, 1.5, -0.0, 1e300,
    float("nan"), float("inf"), "", "x", "N", "?", "F32", "float32", "1", [], [1], [-1], [0, 0], ["a"], [1.5],
    [None], [[1]], [2 ** 62, 2 ** 62], {}, {"a": 1}, {"shape": [1]},
)
"""JSON values to put where another is expected."""

HUGE_INTS = (0, -1, -7, 2, 17, 10 ** 4, 10 ** 6, 10 ** 9, 2 ** 31, 2 ** 40, 2 ** 62, 2 ** 63, 2 ** 64, 10 ** 25)


def _odd(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(ODD_VALUES))


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (the root excluded): keys of objects, indices of lists."""
    found = []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return found
    for key, item in items:
        found.append(prefix + (key,))
        found += _paths(item, prefix + (key,))
    return found


def _parent(value: Any, path: tuple) -> Any:
    for key in path[:-1]:
        value = value[key]
    return value


def _int_paths(value: Any) -> list[tuple]:
    return [path for path in _paths(value) if isinstance(_parent(value, path)[path[-1]], int)
            and not isinstance(_parent(value, path)[path[-1]], bool)]


# mutation kinds: (rng, archive bytes) -> (mutant bytes, what was done) -------------------------------------


def flip_header_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    (length,) = struct.unpack("<Q", data[:8])
    return _flip(rng, data, 0, 8 + length)


def flip_data_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    (length,) = struct.unpack("<Q", data[:8])
    return _flip(rng, data, 8 + length, len(data))


def _flip(rng: random.Random, data: bytes, begin: int, end: int) -> tuple[bytes, str]:
    mutated = bytearray(data)
    places = sorted(rng.randrange(begin, end) for _ in range(rng.randint(1, 4)))
    for place in places:
        mutated[place] ^= 1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256)
    return bytes(mutated), f"bytes changed at {places}"


def truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    cut = rng.choice([rng.randrange(len(data)), rng.randrange(8), len(data) - rng.randint(1, 16)])
    return data[:cut], f"cut to {cut} of {len(data)} bytes"


def append_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    extra = bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 8, 64])))
    return data + extra, f"{len(extra)} bytes appended"


def header_length(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    (length,) = struct.unpack("<Q", data[:8])
    new = rng.choice([0, 1, length - 8, length + 8, length - 1, 2 ** 63, 2 ** 64 - 1, len(data) - 8, len(data)])
    new = max(0, min(new, 2 ** 64 - 1))
    return struct.pack("<Q", new) + data[8:], f"header length {length} -> {new}"


def header_entry_type(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A tensor entry's dtype, shape or data_offsets, or an element of them, of the wrong kind."""
    header, body = split(data)
    name = rng.choice([key for key in header if key != "__metadata__"])
    field = rng.choice(["dtype", "shape", "data_offsets"])
    value = _odd(rng)
    target = header[name][field]
    if isinstance(target, list) and target and rng.random() < 0.5:
        index = rng.randrange(len(target))
        target[index] = value
        what = f"{name}.{field}[{index}] = {value!r}"
    else:
        header[name][field] = value
        what = f"{name}.{field} = {value!r}"
    return join(header, body), what


def header_drop(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A key of the header, of a tensor entry or of the metadata removed."""
    header, body = split(data)
    choices = [(key,) for key in header] + [(name, field) for name in header if name != "__metadata__"
                                            for field in header[name]]
    choices += [("__metadata__", key) for key in header["__metadata__"]]
    path = rng.choice(choices)
    del _parent(header, path)[path[-1]]
    return join(header, body), f"removed {'.'.join(path)}"


def header_offsets(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Offsets of the right type but the wrong place: overlapping, swapped, shifted, past the end, gaps."""
    header, body = split(data)
    names = [key for key in header if key != "__metadata__"]
    name = rng.choice(names)
    begin, end = header[name]["data_offsets"]
    how = rng.choice(["overlap", "swap", "shift", "reverse", "past-end", "grow"])
    if how == "overlap" and len(names) > 1:
        other = rng.choice([n for n in names if n != name])
        header[name]["data_offsets"] = list(header[other]["data_offsets"])
        header[name]["shape"] = list(header[other]["shape"])
        header[name]["dtype"] = header[other]["dtype"]
    elif how == "swap" and len(names) > 1:
        other = rng.choice([n for n in names if n != name])
        header[name]["data_offsets"], header[other]["data_offsets"] = (header[other]["data_offsets"],
                                                                      header[name]["data_offsets"])
    elif how == "shift":
        delta = rng.choice([-8, -4, -1, 1, 4, 8])
        header[name]["data_offsets"] = [begin + delta, end + delta]
    elif how == "reverse":
        header[name]["data_offsets"] = [end, begin]
    elif how == "past-end":
        header[name]["data_offsets"] = [len(body), len(body) + end - begin]
    else:
        header[name]["data_offsets"] = [begin, end + rng.choice([1, 4, len(body)])]
    return join(header, body), f"{name}.data_offsets {how}: {header[name]['data_offsets']}"


def header_shape(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A tensor's shape changed with types kept: reordered, huge (the product may overflow int64), zero."""
    header, body = split(data)
    name = rng.choice([key for key in header if key != "__metadata__"])
    shape = header[name]["shape"]
    how = rng.choice(["reverse", "huge", "zero", "overflow", "extra-axis", "drop-axis"])
    if how == "reverse":
        shape = shape[::-1]
    elif how == "huge" and shape:
        shape[rng.randrange(len(shape))] = rng.choice(HUGE_INTS)
    elif how == "zero" and shape:
        shape[rng.randrange(len(shape))] = 0
    elif how == "overflow":
        shape = [2 ** 32, 2 ** 32, 2 ** 3] + shape
    elif how == "extra-axis":
        shape = shape + [1]
    else:
        shape = shape[1:]
    header[name]["shape"] = shape
    return join(header, body), f"{name}.shape {how}: {shape}"


def metadata_type(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A metadata value that is not a string, or the metadata itself not an object."""
    header, body = split(data)
    if rng.random() < 0.2:
        header["__metadata__"] = rng.choice([list(header["__metadata__"].items()), None, "x", 1])
        return join(header, body), f"__metadata__ = {type(header['__metadata__']).__name__}"
    key = rng.choice(sorted(header["__metadata__"]))
    value = _odd(rng)
    if key in ("interlayer.format",):
        value = rng.choice([1, 1.0, "01", " 1", "1.0", "-1", "", "0", value])
    header["__metadata__"][key] = value
    return join(header, body), f"__metadata__[{key!r}] = {value!r}"


def source_edit(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A provenance entry that is not the JSON it should be."""
    header, body = split(data)
    key = rng.choice(["source.framework", "source.name_map", "source.output_names", "source.layer_outputs"])
    value = rng.choice(["{", "[1,", "null", "5", '"x"', "[1, 2]", '{"a": [}', "\ud800", "NaN", "1" * 5000])
    header["__metadata__"][key] = value
    return join(header, body), f"__metadata__[{key!r}] = {value[:20]!r}"


def graph_text(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """The graph JSON itself damaged: cut, not JSON, deeply nested, or another JSON value."""
    header, body = split(data)
    text = header["__metadata__"]["interlayer.graph"]
    how = rng.choice(["cut", "garbage", "nested", "list", "number", "null"])
    new = {"cut": text[:rng.randrange(len(text))], "garbage": "\x00not json", "nested": "[" * 100_000 + "]" * 100_000,
           "list": "[]", "number": "1", "null": "null"}[how]
    header["__metadata__"]["interlayer.graph"] = new
    return join(header, body), f"graph JSON {how}"


def graph_type(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Any field of the graph JSON (a node, its name, inputs, attrs, a spec's shape...) of the wrong kind."""
    header, body = split(data)
    graph = _graph(header)
    path = rng.choice(_paths(graph))
    value = _odd(rng)
    _parent(graph, path)[path[-1]] = value
    return join(_with_graph(header, graph), body), f"graph{_show(path)} = {value!r}"


def graph_drop(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Anything of the graph JSON removed: a node, a weight name, an input, a spec, a key."""
    header, body = split(data)
    graph = _graph(header)
    path = rng.choice(_paths(graph))
    del _parent(graph, path)[path[-1]]
    return join(_with_graph(header, graph), body), f"removed graph{_show(path)}"


def graph_duplicate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A node, an input or output spec, or a name duplicated."""
    header, body = split(data)
    graph = _graph(header)
    nodes = graph["nodes"]
    how = rng.choice(["node", "node-name", "output-value", "input-spec", "weight-name"])
    if how == "node":
        index = rng.randrange(len(nodes))
        nodes.insert(rng.randrange(len(nodes) + 1), copy.deepcopy(nodes[index]))
    elif how == "node-name" and len(nodes) > 1:
        a, b = rng.sample(range(len(nodes)), 2)
        nodes[a]["name"] = nodes[b]["name"]
    elif how == "output-value" and len(nodes) > 1:
        a, b = rng.sample(range(len(nodes)), 2)
        nodes[a]["outputs"] = list(nodes[b]["outputs"])
    elif how == "input-spec":
        graph["inputs"].append(copy.deepcopy(graph["inputs"][0]))
    else:
        with_weights = [node for node in nodes if node["weights"]] or nodes
        node = rng.choice(with_weights)
        node["weights"] = node["weights"] + node["weights"][:1]
    return join(_with_graph(header, graph), body), f"duplicated {how}"


def graph_sizes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """An int of the graph (a pad, a repeat, a shape, a kernel size, an axis) made huge, zero or negative."""
    header, body = split(data)
    graph = _graph(header)
    path = rng.choice(_int_paths(graph) or [("format_version",)])
    value = rng.choice(HUGE_INTS)
    _parent(graph, path)[path[-1]] = value
    return join(_with_graph(header, graph), body), f"graph{_show(path)} = {value}"


def graph_attrs(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """One to three attributes of a node removed, or replaced by values of another kind or size."""
    header, body = split(data)
    graph = _graph(header)
    node = rng.choice([node for node in graph["nodes"] if node["attrs"]] or graph["nodes"])
    done = []
    for _ in range(rng.randint(1, 3)):
        if not node["attrs"]:
            break
        key = rng.choice(sorted(node["attrs"]))
        how = rng.choice(["drop", "odd", "huge", "huge-list"])
        if how == "drop":
            del node["attrs"][key]
        else:
            old = node["attrs"][key]
            length = len(old) if isinstance(old, list) and old else 2
            node["attrs"][key] = {"odd": lambda: _odd(rng), "huge": lambda: rng.choice(HUGE_INTS),
                                  "huge-list": lambda: [rng.choice(HUGE_INTS) for _ in range(length)]}[how]()
        done.append(f"{key} {how}")
    return join(_with_graph(header, graph), body), f"node {node['name']!r} attrs: {', '.join(done)}"


def graph_rewire(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A node reading another value, or an op swapped for another."""
    header, body = split(data)
    graph = _graph(header)
    node = rng.choice(graph["nodes"])
    values = [spec["name"] for spec in graph["inputs"]] + [v for n in graph["nodes"] for v in n["outputs"]]
    if rng.random() < 0.5 and node["inputs"]:
        index = rng.randrange(len(node["inputs"]))
        node["inputs"][index] = rng.choice(values + ["nowhere"])
        what = f"node {node['name']!r} input {index} <- {node['inputs'][index]!r}"
    else:
        from interlayer.ir import ops

        node["op"] = rng.choice(sorted(ops.OPS) + ["no_such_op"])
        what = f"node {node['name']!r} op -> {node['op']!r}"
    return join(_with_graph(header, graph), body), what


def tensor_rename(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A tensor of the header renamed, or a stray one added (the graph no longer matches the file); half of them
    with the checksum recomputed."""
    header, body = split(data)
    names = [key for key in header if key != "__metadata__"]
    name = rng.choice(names)
    how = rng.choice(["rename", "stray"])
    if how == "rename":
        header[f"{name}x"] = header.pop(name)
    else:
        header["stray.weight"] = {"dtype": "U8", "shape": [0], "data_offsets": [len(body), len(body)]}
    if rng.random() < 0.5:
        return _resign(header, body), f"tensor {name!r} {how}, checksum recomputed"
    return join(header, body), f"tensor {name!r} {how}"


_NUMPY = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": ml_dtypes.bfloat16, "I64": np.int64,
          "I32": np.int32, "I16": np.int16, "I8": np.int8, "U64": np.uint64, "U32": np.uint32, "U16": np.uint16,
          "U8": np.uint8, "BOOL": np.bool_}
_SAME_SIZE = {"F32": ["I32", "U32"], "F16": ["BF16", "I16", "U16"], "BF16": ["F16", "I16"], "F64": ["I64", "U64"]}


def _resign(header: dict, body: bytes) -> bytes:
    """The file of ``header`` over ``body`` with the checksum of its tensors as they now are: a change of the data
    then reaches the graph's checks instead of stopping at the checksum."""
    from interlayer.ir.archive import checksum

    tensors = {}
    for name, entry in header.items():
        if name != "__metadata__":
            begin, end = entry["data_offsets"]
            tensors[name] = np.frombuffer(body[begin:end], dtype=_NUMPY[entry["dtype"]]).reshape(entry["shape"])
    header["__metadata__"]["interlayer.checksum"] = checksum(tensors)
    return join(header, body)


def resigned_data(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Weights changed (NaN, inf, huge, random bits), the checksum recomputed."""
    header, body = split(data)
    mutated = bytearray(body)
    name = rng.choice([key for key in header if key != "__metadata__"])
    begin, end = header[name]["data_offsets"]
    fill = rng.choice([b"\xff", b"\x7f", b"\x00", bytes([rng.randrange(256)])])
    for place in range(begin, end) if rng.random() < 0.3 else [rng.randrange(begin, end) for _ in range(4)]:
        mutated[place] = fill[0] if rng.random() < 0.7 else rng.randrange(256)
    return _resign(header, bytes(mutated)), f"tensor {name!r} bytes changed, checksum recomputed"


def resigned_dtype(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A tensor's dtype changed to another of the same item size, the checksum recomputed."""
    header, body = split(data)
    name = rng.choice([key for key in header if key != "__metadata__"])
    dtype = header[name]["dtype"]
    header[name]["dtype"] = rng.choice(_SAME_SIZE.get(dtype, [dtype]))
    return _resign(header, body), f"tensor {name!r} dtype {dtype} -> {header[name]['dtype']}, checksum recomputed"


def resigned_shape(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A tensor's shape changed, its element count kept, the checksum recomputed."""
    header, body = split(data)
    name = rng.choice([key for key in header if key != "__metadata__"])
    shape = header[name]["shape"]
    count = int(np.prod(shape))
    header[name]["shape"] = rng.choice([shape[::-1], [count], shape + [1], [1] + shape, [count, 1]])
    return _resign(header, body), f"tensor {name!r} shape {shape} -> {header[name]['shape']}, checksum recomputed"


def _show(path: tuple) -> str:
    return "".join(f"[{key!r}]" for key in path)


KINDS: dict[str, Callable[[random.Random, bytes], tuple[bytes, str]]] = {
    "flip-header-bytes": flip_header_bytes,
    "flip-data-bytes": flip_data_bytes,
    "truncate": truncate,
    "append-bytes": append_bytes,
    "header-length": header_length,
    "header-entry-type": header_entry_type,
    "header-drop": header_drop,
    "header-offsets": header_offsets,
    "header-shape": header_shape,
    "metadata-type": metadata_type,
    "source-edit": source_edit,
    "graph-text": graph_text,
    "graph-type": graph_type,
    "graph-drop": graph_drop,
    "graph-duplicate": graph_duplicate,
    "graph-sizes": graph_sizes,
    "graph-attrs": graph_attrs,
    "graph-rewire": graph_rewire,
    "tensor-rename": tensor_rename,
    "resigned-data": resigned_data,
    "resigned-dtype": resigned_dtype,
    "resigned-shape": resigned_shape,
}


NEED_TENSORS = {"flip-data-bytes", "header-entry-type", "header-offsets", "header-shape", "tensor-rename",
                "resigned-data", "resigned-dtype", "resigned-shape"}
"""Kinds that change a tensor: they mutate bases that have one."""


def _has_tensors(data: bytes) -> bool:
    return any(key != "__metadata__" for key in split(data)[0])


@dataclass
class Mutant:
    kind: str
    seed: int
    base: str
    what: str
    data: bytes

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.seed}"

    def describe(self) -> str:
        return f"{self.id} (base {self.base}): {self.what}"


def mutant(kind: str, seed: int, bases: dict[str, bytes]) -> Mutant:
    """The mutant ``seed`` of ``kind``: a base archive picked and mutated, both from the seed."""
    rng = random.Random(f"{kind}/{seed}")
    names = sorted(name for name, data in bases.items() if kind not in NEED_TENSORS or _has_tensors(data))
    base = rng.choice(names)
    data, what = KINDS[kind](rng, bases[base])
    return Mutant(kind, seed, base, what, data)


def attempt(item: Mutant, folder: Path) -> str:
    """Load the mutant and run it on seeded inputs; the outcome as text. Raises whatever is not interlayer's own
    error."""
    path = folder / f"{item.id}.safetensors"
    path.write_bytes(item.data)
    try:
        try:
            graph = interlayer.load(path)
        except InterlayerError as exc:
            return f"refused at load: {type(exc).__name__}"
        try:
            interlayer.run(graph, random_inputs(graph))
        except InterlayerError as exc:
            return f"refused at run: {type(exc).__name__}"
        return "loaded and ran"
    finally:
        path.unlink()


def one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0][:300] if text.strip() else type(exc).__name__


__all__ = ["BASES", "FUZZ_MAX_TENSOR_BYTES", "KINDS", "Mutant", "attempt", "base_archives", "mutant", "one_line"]
