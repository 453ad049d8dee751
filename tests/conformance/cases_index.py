"""Conformance cases of tensors made from sizes, casts, slicing, indexing, scans, comparisons and logic, and of
sizes kept symbolic: every case whose graph has a size name besides the batch, or a size expression in an
attribute, runs at two sets of sizes (``test_backends``). Integer inputs are token ids and indices
(``typed_graph``'s ranges)."""
from __future__ import annotations

import numpy as np

from support import typed_graph

from .cases import case


def one(op, attrs, inputs, weights=None, ranges=None, seed=0):
    """A graph of one node ``op`` over ``inputs`` [(name, shape, dtype)]."""
    step = ("out", op, [name for name, _, _ in inputs], attrs) + ((weights,) if weights else ())
    return typed_graph(inputs, [step], ["out"], seed=seed, name=op, ranges=ranges)


F = "float32"
SEQ = [("x", ("N", "T", 6), F)]
IDS = [("ids", ("N", "T"), "int64")]
MAP = [("x", ("N", 3, "H", "W"), F)]

# made from sizes alone (read with an input that binds the sizes)
case("full-symbolic", lambda: typed_graph(SEQ, [
    ("ones", "full", [], {"shape": ["N", "T", 1], "value": 1.0}), ("out", "add", ["x", "ones"], {})], ["out"]))
case("full-int-static", lambda: typed_graph(SEQ, [
    ("fill", "full", [], {"shape": [2, 3], "value": 7, "dtype": "int64"}),
    ("count", "cast", ["fill"], {"dtype": F}), ("scale", "reduce_sum", ["count"], {"axes": [0, 1]}),
    ("out", "mul", ["x", "scale"], {})], ["out"]))
case("arange-length", lambda: typed_graph(SEQ, [
    ("positions", "arange", [], {"limit": "T", "dtype": F}), ("column", "reshape", ["positions"], {"shape": ["T", 1]}),
    ("out", "add", ["x", "column"], {})], ["out"]))
case("arange-start-step", lambda: typed_graph(SEQ, [
    ("positions", "arange", [], {"start": 1, "limit": "2*T + 1", "step": 2, "dtype": "int64"}),
    ("float", "cast", ["positions"], {"dtype": F}), ("column", "reshape", ["float"], {"shape": ["T", 1]}),
    ("out", "mul", ["x", "column"], {})], ["out"]))
case("constant-float-table", lambda: typed_graph(SEQ, [
    ("table", "constant", [], {"shape": [6]}), ("out", "add", ["x", "table"], {})], ["out"]))
case("constant-int-index", lambda: typed_graph(SEQ, [
    ("index", "constant", [], {"shape": [3], "dtype": "int64"}, {"value": np.array([5, 0, 2], np.int64)}),
    ("out", "gather", ["x", "index"], {"axis": 2})], ["out"]))

# casts
case("cast-float-to-int", lambda: typed_graph(SEQ, [
    ("scaled", "mul", ["x"], {"constant": True}, {"other": np.float32(3.0)}),
    ("int", "cast", ["scaled"], {"dtype": "int32"}), ("out", "cast", ["int"], {"dtype": F})], ["out"]))
case("cast-bool-to-float", lambda: typed_graph(SEQ, [
    ("positive", "greater", ["x"], {"constant": True}, {"other": np.float32(0.0)}),
    ("out", "cast", ["positive"], {"dtype": F})], ["out"]))
case("cast-int-ids-to-float", lambda: one("cast", {"dtype": F}, IDS, ranges={"ids": (0, 50)}))

# slices: static, open at a symbolic end, strided, the last step of a sequence
case("slice-static", lambda: one("slice", {"axes": [2], "starts": [1], "ends": [5]}, SEQ))
case("slice-strided", lambda: one("slice", {"axes": [2, 1], "starts": [0, 1], "ends": [6, "T"], "steps": [2, 1]},
                                  SEQ))
case("slice-last-step", lambda: one("slice", {"axes": [1], "starts": ["T - 1"], "ends": ["T"]}, SEQ))
case("slice-image-half", lambda: one("slice", {"axes": [2, 3], "starts": [0, "W//2"], "ends": ["H//2", "W"]}, MAP))

# indexing
case("gather-embedding-rows", lambda: typed_graph(IDS, [
    ("table", "constant", [], {"shape": [10, 4]}), ("out", "gather", ["table", "ids"], {"axis": 0})], ["out"],
    ranges={"ids": (-10, 10)}))
case("gather-axis-1", lambda: typed_graph([*SEQ, ("i", (3,), "int64")], [
    ("out", "gather", ["x", "i"], {"axis": 2})], ["out"], ranges={"i": (-6, 6)}))
case("gather-elements", lambda: typed_graph([*SEQ, ("i", ("N", "T", 2), "int64")], [
    ("out", "gather_elements", ["x", "i"], {"axis": 2})], ["out"], ranges={"i": (0, 6)}))
case("gather-last-token-by-argmax", lambda: typed_graph([*SEQ, ("ids", ("N", "T"), "int64")], [
    ("eos", "argmax", ["ids"], {"axis": 1, "keepdims": True}), ("column", "reshape", ["eos"], {"shape": ["N", 1, 1]}),
    ("rows", "expand", ["column"], {"shape": ["N", 1, 6]}),
    ("out", "gather_elements", ["x", "rows"], {"axis": 1})], ["out"], ranges={"ids": (0, 30)}))
case("select-two-tensors", lambda: typed_graph([*SEQ, ("y", ("N", "T", 6), F)], [
    ("mask", "less", ["x", "y"], {}), ("out", "select", ["mask", "x", "y"], {})], ["out"]))

# scans and searches
case("cumsum", lambda: one("cumsum", {"axis": 1}, SEQ))
case("cumsum-exclusive-reverse", lambda: one("cumsum", {"axis": 2, "exclusive": True, "reverse": True}, SEQ))
case("cumsum-of-a-mask-to-positions", lambda: typed_graph(IDS, [
    ("kept", "not_equal", ["ids"], {"constant": True}, {"other": np.int64(1)}),
    ("count", "cumsum", ["kept"], {"axis": 1}), ("kept_int", "cast", ["kept"], {"dtype": "int64"}),
    ("positions", "mul", ["count", "kept_int"], {}),
    ("out", "add", ["positions"], {"constant": True}, {"other": np.int64(1)})], ["out"], ranges={"ids": (0, 4)}))
case("argmax", lambda: one("argmax", {"axis": 2}, SEQ))
case("argmin-keepdims", lambda: one("argmin", {"axis": 1, "keepdims": True}, SEQ))
case("trilu-causal", lambda: typed_graph(SEQ, [
    ("ones", "full", [], {"shape": ["T", "T"], "value": 1.0}), ("lower", "trilu", ["ones"], {"upper": False}),
    ("x_t", "transpose", ["x"], {"perm": [0, 2, 1]}),
    ("scores", "matmul", ["x", "x_t"], {}), ("out", "mul", ["scores", "lower"], {})], ["out"]))
case("trilu-upper-diagonal", lambda: one("trilu", {"upper": True, "diagonal": 1}, [("x", ("N", 5, 4), F)]))
case("einsum-attention-scores", lambda: typed_graph([("q", ("N", 2, "T", 4), F), ("k", ("N", 2, "S", 4), F)], [
    ("out", "einsum", ["q", "k"], {"equation": "bhqd,bhkd->bhqk"})], ["out"]))
case("einsum-outer", lambda: typed_graph([("a", ("N", 3), F), ("b", ("N", 4), F)], [
    ("out", "einsum", ["a", "b"], {"equation": "ni,nj->nij"})], ["out"]))

# comparisons and logic, with a tensor or a constant operand
for _op in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
    case(f"{_op}-ids-constant", lambda op=_op: typed_graph(IDS, [
        ("test", op, ["ids"], {"constant": True}, {"other": np.int64(2)}),
        ("out", "cast", ["test"], {"dtype": F})], ["out"]))
    case(f"{_op}-two-floats", lambda op=_op: typed_graph([*SEQ, ("y", ("N", "T", 6), F)], [
        ("rounded", "floor", ["x"], {}), ("other", "floor", ["y"], {}),
        ("test", op, ["rounded", "other"], {}), ("out", "cast", ["test"], {"dtype": F})], ["out"]))
for _op in ("logical_and", "logical_or", "logical_xor"):
    case(f"{_op}-masks", lambda op=_op: typed_graph([("a", ("N", "T"), "bool"), ("b", ("N", "T"), "bool")], [
        ("both", op, ["a", "b"], {}), ("out", "cast", ["both"], {"dtype": F})], ["out"]))
case("logical-not-mask", lambda: typed_graph([("a", ("N", "T"), "bool")], [
    ("flipped", "logical_not", ["a"], {}), ("out", "cast", ["flipped"], {"dtype": "int64"})], ["out"]))

# integer arithmetic and new math
case("floor-div-and-mod", lambda: typed_graph(IDS, [
    ("half", "floor_div", ["ids"], {"constant": True}, {"other": np.int64(2)}),
    ("rest", "mod", ["ids"], {"constant": True}, {"other": np.int64(3)}),
    ("out", "add", ["half", "rest"], {})], ["out"], ranges={"ids": (-20, 20)}))
case("floor-div-float-constant-first", lambda: one("floor_div", {"constant": True, "constant_first": True},
                                                   SEQ, {"other": np.float32(5.0)}))
case("mod-float", lambda: one("mod", {"constant": True}, SEQ, {"other": np.float32(0.75)}))
case("sin", lambda: one("sin", {}, SEQ))
case("cos", lambda: one("cos", {}, SEQ))
case("reduce-min", lambda: one("reduce_min", {"axes": [2], "keepdims": True}, SEQ))
case("rotary-table", lambda: typed_graph(SEQ, [
    ("positions", "arange", [], {"limit": "T", "dtype": F}), ("column", "reshape", ["positions"], {"shape": ["T", 1]}),
    ("angles", "mul", ["column"], {"constant": True, "constant_shape": [3]},
     {"other": np.array([1.0, 0.1, 0.01], np.float32)}),
    ("both", "concat", ["angles", "angles"], {"axis": 1}), ("cos", "cos", ["both"], {}),
    ("sin", "sin", ["both"], {}), ("rotated", "mul", ["x", "cos"], {}), ("shifted", "mul", ["x", "sin"], {}),
    ("out", "add", ["rotated", "shifted"], {})], ["out"]))

# the batch as an ordinary axis, sizes as expressions
case("reshape-merge-batch-and-length", lambda: typed_graph(SEQ, [
    ("rows", "reshape", ["x"], {"shape": ["N*T", 6]}),
    ("scaled", "mul", ["rows"], {"constant": True, "constant_shape": [6]}),
    ("out", "reshape", ["scaled"], {"shape": ["N", "T", 6]})], ["out"]))
case("reshape-heads-into-batch", lambda: typed_graph(SEQ, [
    ("heads", "reshape", ["x"], {"shape": ["N", "T", 2, 3]}), ("moved", "transpose", ["heads"], {"perm": [0, 2, 1, 3]}),
    ("merged", "reshape", ["moved"], {"shape": ["2*N", "T", 3]}), ("soft", "softmax", ["merged"], {"axis": 0}),
    ("out", "reshape", ["soft"], {"shape": ["N", 2, "T", 3]})], ["out"]))
case("transpose-batch-to-the-middle", lambda: one("transpose", {"perm": [1, 0, 2]}, SEQ))
case("concat-along-batch", lambda: typed_graph([*SEQ, ("y", ("N", "T", 6), F)], [
    ("out", "concat", ["x", "y"], {"axis": 0})], ["out"]))
case("concat-symbolic-lengths", lambda: typed_graph([("x", ("N", "T", 6), F), ("y", ("N", "S", 6), F)], [
    ("out", "concat", ["x", "y"], {"axis": 1})], ["out"]))
case("tile-batch", lambda: one("tile", {"repeats": [2, 1, 1]}, SEQ))
case("softmax-batch-axis", lambda: one("softmax", {"axis": 0}, SEQ))
case("reduce-over-batch", lambda: one("reduce_mean", {"axes": [0, 1]}, SEQ))
case("matmul-2d", lambda: typed_graph([("a", ("N", 4), F), ("b", (4, "M"), F)], [
    ("out", "matmul", ["a", "b"], {})], ["out"]))
case("expand-symbolic", lambda: typed_graph([("x", ("N", 1, 6), F), ("y", ("N", "T", 6), F)], [
    ("grown", "expand", ["x"], {"shape": ["N", "T", 6]}), ("out", "add", ["grown", "y"], {})], ["out"]))
case("expand-new-axes", lambda: typed_graph(SEQ, [
    ("row", "constant", [], {"shape": [6]}), ("grown", "expand", ["row"], {"shape": ["N", "T", 6]}),
    ("out", "mul", ["grown", "x"], {})], ["out"]))
case("pad-last-axis", lambda: one("pad", {"pads": [1, 2], "value": 0.5}, SEQ))
case("pad-length-and-features", lambda: one("pad", {"pads": [0, 1, 2, 0]}, SEQ))
case("conv-symbolic-image", lambda: typed_graph(MAP, [
    ("conv", "conv", ["x"], {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3], "strides": [2, 2],
                             "pads": [1, 1, 1, 1]}),
    ("pool", "max_pool", ["conv"], {"kernel_size": [2, 2], "strides": [2, 2], "ceil_mode": True}),
    ("out", "relu", ["pool"], {})], ["out"]))
case("flatten-symbolic-image", lambda: one("flatten", {}, MAP))
