"""`interlayer inspect --graph`: the layer graph as a hand-written SVG, laid out in ranks without overlaps."""
from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import interlayer
from interlayer.cli import main
from interlayer.drawing import BOX_MIN, FAMILY_COLOURS, draw_svg, write_svg
from interlayer.errors import InterlayerError
from interlayer.ir import Graph, Node, TensorSpec, ops
from support import random_weights

SVG = "{http://www.w3.org/2000/svg}"
ODD = 'stem<&>"conv'


def _node(name: str, op: str, inputs: list[str], attrs: dict, rng: np.random.Generator) -> Node:
    schema = ops.get(op)
    filled = schema.fill(attrs)
    return Node(name, op, inputs, [name], filled, random_weights(schema, filled, rng))


def _graph(nodes: list[Node], input_shape: tuple, outputs: list[str]) -> Graph:
    graph = Graph(nodes, [TensorSpec("x", ("N", *input_shape))], [TensorSpec(name, ()) for name in outputs])
    shapes = graph.shapes()
    for spec in graph.outputs:
        spec.shape = shapes[spec.name]
    return graph


def residual_graph() -> Graph:
    """conv -> relu -> conv, the relu added back (a residual branch), pooled into a linear head."""
    rng = np.random.default_rng(0)
    conv = {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3], "pads": [1, 1, 1, 1]}
    nodes = [_node(ODD, "conv", ["x"], conv, rng),
             _node("act", "relu", [ODD], {}, rng),
             _node("branch", "conv", ["act"], {**conv, "in_channels": 4}, rng),
             _node("sum", "add", ["act", "branch"], {}, rng),
             _node("gap", "global_avg_pool", ["sum"], {}, rng),
             _node("head", "linear", ["gap"], {"in_features": 4, "out_features": 2}, rng)]
    return _graph(nodes, (3, 8, 8), ["head", "act"])


def wide_graph(branches: int = 12) -> Graph:
    """One input fanned out to many parallel nodes, all concatenated: one huge row without a width bound."""
    rng = np.random.default_rng(0)
    nodes = [_node(f"branch_{i}", ("relu", "sigmoid", "tanh")[i % 3], ["x"], {}, rng) for i in range(branches)]
    nodes.append(_node("join", "concat", [f"branch_{i}" for i in range(branches)], {"axis": 1}, rng))
    return _graph(nodes, (4, 6, 6), ["join"])


@pytest.fixture(scope="module")
def resnet50() -> Graph:
    import keras

    return interlayer.export(keras.applications.ResNet50(weights=None))


def boxes(root) -> dict[str, tuple[str, dict]]:
    """data-name -> (class, rect attributes) of every drawn box."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") in ("node", "input", "output"):
            rect = group.find(f"{SVG}rect")
            attributes = {k: rect.get(k) for k in ("x", "y", "width", "height", "fill")}
            found[group.get("data-name")] = (group.get("class"), attributes)
    return found


def rectangles(root) -> list[tuple[str, float, float, float, float]]:
    return [(name, float(r["x"]), float(r["y"]), float(r["width"]), float(r["height"]))
            for name, (_, r) in boxes(root).items()]


def edges(root, kind: str = "edge") -> list[tuple[str, str, str]]:
    return [(p.get("data-from"), p.get("data-to"), p.get("d"))
            for p in root.iter(f"{SVG}path") if p.get("class") == kind]


def path_points(d: str, steps: int = 24) -> list[tuple[float, float]]:
    """Points along a path of M, L and C commands (the ones the drawing writes)."""
    tokens = re.findall(r"[MLC]|-?\d+(?:\.\d+)?", d)
    points, current, i = [], None, 0
    while i < len(tokens):
        numbers = [float(t) for t in tokens[i + 1:i + {"M": 3, "L": 3, "C": 7}[tokens[i]]]]
        if tokens[i] == "M":
            current = tuple(numbers)
        elif tokens[i] == "L":
            points += [(current[0] + (numbers[0] - current[0]) * k / steps,
                        current[1] + (numbers[1] - current[1]) * k / steps) for k in range(steps + 1)]
            current = tuple(numbers)
        else:
            (x1, y1, x2, y2, x3, y3), (x0, y0) = numbers, current
            for k in range(steps + 1):
                t = k / steps
                a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3
                points.append((a * x0 + b * x1 + c * x2 + e * x3, a * y0 + b * y1 + c * y2 + e * y3))
            current = (x3, y3)
        i += {"M": 3, "L": 3, "C": 7}[tokens[i]]
    return points


def assert_readable(root, max_row: int) -> None:
    """No two boxes overlap, no row holds more than ``max_row`` boxes, no edge runs through a box it does not join."""
    rects = rectangles(root)
    for (a, ax, ay, aw, ah), (b, bx, by, bw, bh) in itertools.combinations(rects, 2):
        assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, f"boxes '{a}' and '{b}' overlap"
    rows: dict[float, int] = {}
    for _, _, y, _, _ in rects:
        rows[y] = rows.get(y, 0) + 1
    assert max(rows.values()) <= max_row
    for source, target, d in edges(root) + edges(root, "output-edge"):
        points = path_points(d)
        for name, x, y, w, h in rects:
            if name in (source, target):
                continue
            inside = [p for p in points if x + 1 < p[0] < x + w - 1 and y + 1 < p[1] < y + h - 1]
            assert not inside, f"edge {source} -> {target} runs through box '{name}'"


def test_svg_is_well_formed_with_one_box_per_node_and_names_escaped():
    graph = residual_graph()
    text = draw_svg(graph)
    root = ET.fromstring(text)
    found = boxes(root)
    assert [name for name, (kind, _) in found.items() if kind == "node"] == [node.name for node in graph.nodes]
    assert [name for name, (kind, _) in found.items() if kind == "input"] == ["x"]
    assert sorted(name for name, (kind, _) in found.items() if kind == "output") == ["output 0", "output 1"]
    assert "stem&lt;&amp;&gt;" in text and ODD not in text
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert ODD in texts


def test_boxes_show_op_shape_and_parameters_coloured_by_family():
    graph = residual_graph()
    root = ET.fromstring(draw_svg(graph))
    group = next(g for g in root.iter(f"{SVG}g") if g.get("data-name") == "branch")
    lines = [t.text for t in group.iter(f"{SVG}text")]
    assert lines == ["branch", "conv", "(N, 4, 8, 8)", "148 params"]  # 4*4*3*3 + 4
    assert [t.text for t in next(g for g in root.iter(f"{SVG}g") if g.get("data-name") == "act").iter(f"{SVG}text")] \
        == ["act", "relu", "(N, 4, 8, 8)"]
    fills = {name: rect["fill"] for name, (_, rect) in boxes(root).items()}
    assert fills["branch"] == FAMILY_COLOURS["layers"]
    assert fills["act"] == FAMILY_COLOURS["activation"]
    assert fills["gap"] == FAMILY_COLOURS["pool"]
    assert len({fills["branch"], fills["act"], fills["gap"], fills["sum"]}) == 4


def test_edges_are_the_data_flow_edges():
    graph = residual_graph()
    root = ET.fromstring(draw_svg(graph))
    drawn = [(source, target) for source, target, _ in edges(root)]
    assert len(drawn) == graph.to_networkx().number_of_edges()
    assert set(drawn) == set(graph.to_networkx().edges)
    assert {(s, t) for s, t, _ in edges(root, "output-edge")} == {("head", "output 0"), ("act", "output 1")}


def test_residual_branch_routes_around_boxes():
    assert_readable(ET.fromstring(draw_svg(residual_graph())), max_row=4)


def test_ordering_removes_an_avoidable_crossing():
    """a, b side by side; c reads b and d reads a, listed c first: drawn in list order their edges would cross."""
    rng = np.random.default_rng(0)
    nodes = [_node("a", "relu", ["x"], {}, rng), _node("b", "sigmoid", ["x"], {}, rng),
             _node("c", "tanh", ["b"], {}, rng), _node("d", "silu", ["a"], {}, rng),
             _node("join", "add", ["c", "d"], {}, rng)]
    root = ET.fromstring(draw_svg(_graph(nodes, (4,), ["join"])))
    x = {name: float(rect["x"]) for name, (_, rect) in boxes(root).items()}
    assert (x["a"] < x["b"]) == (x["d"] < x["c"])


def test_branchy_graph_wraps_into_rows_of_bounded_width():
    root = ET.fromstring(draw_svg(wide_graph(12), max_row=4))
    assert_readable(root, max_row=4)
    assert float(root.get("width")) < 12 * BOX_MIN  # one row of the 12 branches could not be narrower


def test_resnet50_is_readable(resnet50):
    assert 170 <= len(resnet50.nodes) <= 190
    root = ET.fromstring(draw_svg(resnet50))
    assert sum(1 for kind, _ in boxes(root).values() if kind == "node") == len(resnet50.nodes)
    assert len(edges(root)) == resnet50.to_networkx().number_of_edges()
    assert_readable(root, max_row=4)
    assert float(root.get("width")) <= 1000


def test_write_svg_never_overwrites_unless_asked(tmp_path):
    path = tmp_path / "graph.svg"
    path.write_text("old")
    with pytest.raises(InterlayerError, match="exists. Pass overwrite=True"):
        write_svg(residual_graph(), path)
    assert path.read_text() == "old"
    write_svg(residual_graph(), path, overwrite=True)
    ET.parse(path)
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]  # no temporary file left behind


@pytest.mark.parametrize("name", ["graph.png", "graph.html", "graph"], ids=["png", "html", "no-suffix"])
def test_write_svg_wants_an_svg_name(tmp_path, name):
    with pytest.raises(InterlayerError, match=rf"Expected a name ending in \.svg\. Received: '.*{name}'"):
        write_svg(residual_graph(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, kind", [("graph.svg", "svg"), ("graph.html", "html"), ("GRAPH.SVG", "svg")],
                         ids=["svg", "html", "upper-case"])
def test_write_graph_writes_what_the_name_says(tmp_path, name, kind):
    from interlayer.drawing import write_graph

    text = write_graph(residual_graph(), tmp_path / name).read_text()
    assert text.startswith("<svg" if kind == "svg" else "<!DOCTYPE html>")


@pytest.mark.parametrize("name", ["g.png", "g.pdf", "g"], ids=["png", "pdf", "no-suffix"])
def test_inspect_refuses_a_graph_name_of_another_format(capsys, tmp_path, name):
    archive = interlayer.save(residual_graph(), tmp_path / "model.safetensors")
    assert main(["inspect", str(archive), "--graph", str(tmp_path / name)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Expected a name ending in .svg or .html" in err
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_max_row_below_one_is_refused():
    with pytest.raises(InterlayerError, match="max_row must be at least 1. Received: max_row=0"):
        draw_svg(residual_graph(), max_row=0)


def test_cli_inspect_writes_the_graph_and_refuses_to_overwrite(tmp_path, capsys):
    archive = interlayer.save(residual_graph(), tmp_path / "model.safetensors")
    picture = tmp_path / "graph.svg"
    assert main(["inspect", str(archive), "--graph", str(picture)]) == 0
    assert f"wrote {picture}" in capsys.readouterr().out
    assert sum(1 for kind, _ in boxes(ET.parse(picture).getroot()).values() if kind == "node") == 6
    picture.write_text("old")
    assert main(["inspect", str(archive), "--graph", str(picture)]) == 2
    assert "the file exists. Pass --force to replace it." in capsys.readouterr().err  # the flag, not overwrite=
    assert picture.read_text() == "old"
    assert main(["inspect", str(archive), "--graph", str(picture), "--force"]) == 0
    ET.parse(picture)


HOSTILE = {"nul": "a\x00b", "controls": "\x01\x08\x0b\x0c\x1f", "markup": "<&>\"'", "cdata-end": "]]>",
           "lone-surrogate": "x\ud800y", "non-characters": "\ufffe\uffff", "line-breaks": "x\ny\rz\t",
           "empty": "", "non-ascii": "\u00e9t\u00e9 \u2603"}


def test_svg_is_valid_xml_for_any_name(tmp_path):
    """Names are data: XML 1.0 forbids most control characters even escaped, so they are drawn as U+FFFD."""
    nodes, value = [], "in\x07put"
    for index, name in enumerate(HOSTILE.values()):
        nodes.append(Node(name, "relu", [value], [f"v{index}\x0b"]))
        value = f"v{index}\x0b"
    graph = Graph(nodes, [TensorSpec("in\x07put", ("N\x02", 4))], [TensorSpec(value, ("N\x02", 4))], name="g\x03<")
    path = write_svg(graph, tmp_path / "graph.svg")
    root = ET.parse(path).getroot()
    names = [name for name, (kind, _) in boxes(root).items() if kind == "node"]
    assert names == ["ab", "\ufffd" * 5, "<&>\"'", "]]>", "x\ufffdy", "\ufffd\ufffd", "x\ny\rz\t", "",
                     "\u00e9t\u00e9 \u2603"]
    assert boxes(root)["in\ufffdput"][0] == "input"
