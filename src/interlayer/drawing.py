"""The layer graph as an SVG picture, written by hand: no graphviz, no plotting library.

Layout (a small Sugiyama): each box gets the longest-path rank from the graph inputs, moved down while its row
already holds ``max_row`` boxes, so a branchy graph wraps instead of becoming one huge row. An edge spanning
several ranks passes through one narrow placeholder per rank it crosses (shared by every edge leaving the same
box), so residual branches run beside the boxes instead of through them. Barycentre sweeps order each row to
reduce crossings (the ordering with the fewest is kept); each box is then placed under the mean of its
predecessors, rows packed without overlap. Boxes show name, op, output shape and parameter count, filled by op
family (``interlayer.ir.ops.OPS[op].family``); graph inputs are white boxes, graph outputs dark tags.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax import saxutils

from .errors import InterlayerError
from .files import atomic_file
from .ir.graph import Graph

FAMILY_COLOURS = {
    "layers": "#cfe2f3", "normalization": "#d9ead3", "activation": "#fde2e4", "pool": "#fce5cd",
    "merge": "#fff2cc", "algebra": "#e2ece9", "tensor": "#eeeeee", "spatial": "#ead1dc",
    "recurrent": "#d0e0e3", "attention": "#e4d7f5",
}
CHAR = 7.3            # width of one character of the 12 px monospace font
BOX_MIN, BOX_MAX = 120, 300
HEIGHT = {"node": 66, "input": 50, "output": 26, "dummy": 66}
ROW, GAP, DUMMY_WIDTH, MARGIN = 66 + 40, 28, 10, 20


@dataclass
class Box:
    key: str
    kind: str                       # input, node, output or dummy
    lines: list[str] = field(default_factory=list)
    title: str = ""
    fill: str = "#ffffff"
    width: float = DUMMY_WIDTH
    rank: int = 0
    x: float = 0.0                  # centre
    y: float = 0.0                  # top, set when drawn

    def bottom(self) -> float:
        return self.y + HEIGHT[self.kind]


def draw_svg(graph: Graph, *, max_row: int = 4) -> str:
    """The graph as SVG text: one box per node (``<g class="node">``), per graph input (``class="input"``) and
    per graph output (``class="output"``), one ``<path class="edge">`` per data-flow edge of
    ``graph.to_networkx()``."""
    if max_row < 1:
        raise InterlayerError(f"draw_svg: max_row must be at least 1. Received: max_row={max_row}.")
    boxes, edges, output_edges = _boxes(graph)
    _rank(boxes, edges + output_edges, max_row)
    routes = _routes(boxes, edges + output_edges)
    rows = _order(boxes, routes)
    _place(boxes, rows, routes)
    return _render(graph, boxes, routes, len(edges))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot hold even escaped: C0 controls but tab, newline and carriage return; lone
surrogates; U+FFFE and U+FFFF."""


def escape(text: str) -> str:
    """``text`` as XML character data: markup escaped, characters XML cannot hold shown as U+FFFD."""
    return saxutils.escape(_NOT_XML.sub("\ufffd", text))


def quoteattr(text: str) -> str:
    """``text`` as a quoted XML attribute value, characters XML cannot hold shown as U+FFFD."""
    return saxutils.quoteattr(_NOT_XML.sub("\ufffd", text))


GRAPH_SUFFIXES = {".svg": "an SVG picture", ".html": "an HTML page to explore in a browser"}


def exists_error(path: Path) -> InterlayerError:
    return InterlayerError(f"drawing '{path}': the file exists. Pass overwrite=True (--force) to replace it.")


def check_graph_name(where: str, path: str | os.PathLike, suffixes: tuple[str, ...] = tuple(GRAPH_SUFFIXES)) -> None:
    """Refuse a drawing's name whose suffix says another format (an SVG picture named .png would open as a broken
    image): the drawing is written as what its suffix says, ``.svg`` or ``.html``."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        kinds = " or ".join(f"{suffix} ({GRAPH_SUFFIXES[suffix]})" for suffix in suffixes)
        raise InterlayerError(f"{where}: the graph is written as {kinds}. Expected a name ending in "
                              f"{' or '.join(suffixes)}. Received: '{path}'. Name the file "
                              f"{path.with_suffix(suffixes[0]).name}"
                              + (f" or {path.with_suffix(suffixes[1]).name}." if len(suffixes) > 1 else "."))


def write_graph(graph: Graph, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """The drawing its name asks for: ``.svg`` (:func:`write_svg`) or ``.html`` (``graph_view.write_html``)."""
    check_graph_name("drawing", path)
    if Path(path).suffix.lower() == ".html":
        from .graph_view import write_html

        return write_html(graph, path, overwrite=overwrite)
    return write_svg(graph, path, overwrite=overwrite)


def write_text(path: Path, text: str, overwrite: bool) -> Path:
    """``text`` into ``path`` through a temporary name; an existing file is kept unless ``overwrite``."""
    try:
        with atomic_file(path, overwrite=overwrite, exists=lambda: exists_error(path)) as temporary:
            temporary.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InterlayerError(f"drawing '{path}': cannot write the file ({exc}).") from exc
    return path


def write_svg(graph: Graph, path: str | os.PathLike, *, overwrite: bool = False, max_row: int = 4) -> Path:
    """Write ``draw_svg(graph)`` to ``path`` (a name ending in .svg) atomically; an existing file is kept unless
    ``overwrite``."""
    path = Path(path)
    check_graph_name("drawing", path, (".svg",))
    if path.exists() and not overwrite:
        raise exists_error(path)
    return write_text(path, draw_svg(graph, max_row=max_row), overwrite)


# what is drawn --------------------------------------------------------------------------------------------------


def _boxes(graph: Graph) -> tuple[dict[str, Box], list[tuple[str, str]], list[tuple[str, str]]]:
    """Boxes by key in topological order, the data-flow edges and the edges to the output tags."""
    from .ir.ops import OPS

    shapes = graph.shapes()
    boxes: dict[str, Box] = {}
    producer: dict[str, str] = {}
    for spec in graph.inputs:
        boxes[spec.name] = _box(spec.name, "input", [spec.name, "input", _shape(spec.shape)], "#ffffff")
        producer[spec.name] = spec.name
    edges: list[tuple[str, str]] = []
    for node in graph.nodes:
        params = sum(int(array.size) for array in node.weights.values())
        lines = [node.name, node.op, _shape(shapes[node.outputs[0]])
                 + (f" +{len(node.outputs) - 1} more" if len(node.outputs) > 1 else "")]
        if node.weights:
            lines.append(f"{params:,} params")
        schema = OPS.get(node.op)
        fill = FAMILY_COLOURS.get(schema.family if schema else "", "#ffffff")
        boxes[node.name] = _box(node.name, "node", lines, fill)
        producer.update((value, node.name) for value in node.outputs)
        for value in dict.fromkeys(node.inputs):
            edge = (producer.get(value, value), node.name)
            if edge not in edges:
                edges.append(edge)
    output_edges = []
    for index, spec in enumerate(graph.outputs):
        key = f"\x00output {index}"  # cannot collide with a node name from a model
        boxes[key] = _box(key, "output", [f"output {index}"], "#333333", title=f"output {index}: {spec.name}")
        output_edges.append((producer.get(spec.name, spec.name), key))
    return boxes, edges, output_edges


def _box(key: str, kind: str, lines: list[str], fill: str, title: str = "") -> Box:
    longest = max(len(line) for line in lines)
    width = min(max(longest * CHAR + 20, BOX_MIN if kind != "output" else 70), BOX_MAX)
    return Box(key, kind, lines, title or "\n".join(lines), fill, width)


def _shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


# layout -----------------------------------------------------------------------------------------------------------


def _rank(boxes: dict[str, Box], edges: list[tuple[str, str]], max_row: int) -> None:
    """Longest-path ranks from the inputs, a box moved down while its row is full."""
    preds: dict[str, list[str]] = {}
    for source, target in edges:
        preds.setdefault(target, []).append(source)
    filled: dict[int, int] = {}
    for box in boxes.values():
        rank = max((boxes[p].rank + 1 for p in preds.get(box.key, []) if p in boxes), default=0)
        while filled.get(rank, 0) >= max_row:
            rank += 1
        box.rank = rank
        filled[rank] = filled.get(rank, 0) + 1


def _routes(boxes: dict[str, Box], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Each edge as the keys it passes: its source, one placeholder per rank crossed (shared per source), its
    target. Placeholders are added to ``boxes``."""
    routes = []
    for source, target in edges:
        route = [source]
        for rank in range(boxes[source].rank + 1, boxes[target].rank):
            key = f"\x00via {source} {rank}"
            if key not in boxes:
                boxes[key] = Box(key, "dummy", rank=rank)
            route.append(key)
        routes.append(route + [target])
    return routes


def _order(boxes: dict[str, Box], routes: list[list[str]]) -> list[list[str]]:
    """Rows of keys, ordered by barycentre sweeps down and up; the ordering with the fewest crossings."""
    links = sorted({(u, v) for route in routes for u, v in zip(route, route[1:])})
    ranks = max((box.rank for box in boxes.values()), default=0) + 1
    rows: list[list[str]] = [[] for _ in range(ranks)]
    for key, box in boxes.items():
        rows[box.rank].append(key)
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for u, v in links:
        down.setdefault(u, []).append(v)
        up.setdefault(v, []).append(u)
    best, fewest = [list(row) for row in rows], _crossings(rows, links, boxes)
    for sweep in range(8):
        order = range(1, ranks) if sweep % 2 == 0 else range(ranks - 2, -1, -1)
        neighbours, step = (up, -1) if sweep % 2 == 0 else (down, 1)
        for rank in order:
            position = {key: i for i, key in enumerate(rows[rank + step])}
            current = {key: i for i, key in enumerate(rows[rank])}
            rows[rank].sort(key=lambda k: _barycentre(neighbours.get(k, []), position, current[k]))
        count = _crossings(rows, links, boxes)
        if count < fewest:
            best, fewest = [list(row) for row in rows], count
    return best


def _barycentre(neighbours: list[str], position: dict[str, int], fallback: int) -> float:
    found = [position[n] for n in neighbours if n in position]
    return sum(found) / len(found) if found else float(fallback)


def _crossings(rows: list[list[str]], links: list[tuple[str, str]], boxes: dict[str, Box]) -> int:
    position = {key: i for row in rows for i, key in enumerate(row)}
    by_rank: dict[int, list[tuple[int, int]]] = {}
    for u, v in links:
        by_rank.setdefault(boxes[u].rank, []).append((position[u], position[v]))
    count = 0
    for pairs in by_rank.values():
        pairs.sort()
        for i, (a, b) in enumerate(pairs):
            count += sum(1 for c, d in pairs[i + 1:] if c > a and d < b)
    return count


def _place(boxes: dict[str, Box], rows: list[list[str]], routes: list[list[str]]) -> None:
    """x of each box: each row packed tightly in its order (so no row is wider than its boxes), then shifted as a
    whole to sit, on average, under the predecessors of its boxes."""
    up: dict[str, list[str]] = {}
    for route in routes:
        for u, v in zip(route, route[1:]):
            up.setdefault(v, []).append(u)
    for row in rows:
        wanted, packed, right = [], [], None
        for key in row:
            box = boxes[key]
            above = [boxes[u].x for u in up.get(key, [])]
            wanted.append(sum(above) / len(above) if above else 0.0)
            x = box.width / 2 if right is None else right + _gap(boxes, key) + box.width / 2
            packed.append(x)
            right = x + box.width / 2
        shift = sum(w - p for w, p in zip(wanted, packed)) / len(row) if row else 0.0
        for key, x in zip(row, packed):
            boxes[key].x = x + shift
    left = min((box.x - box.width / 2 for box in boxes.values()), default=0.0)
    for box in boxes.values():
        box.x += MARGIN - left


def _gap(boxes: dict[str, Box], key: str) -> float:
    return GAP if boxes[key].kind != "dummy" else GAP / 2


# SVG --------------------------------------------------------------------------------------------------------------


def _render(graph: Graph, boxes: dict[str, Box], routes: list[list[str]], data_edges: int) -> str:
    legend, legend_height = _legend(_families(graph))
    for box in boxes.values():
        box.y = 40 + legend_height + box.rank * ROW
    width = max([MARGIN + box.x + box.width / 2 for box in boxes.values()] + [MARGIN * 2 + 600])
    height = max((box.bottom() for box in boxes.values()), default=40 + legend_height) + MARGIN
    params = graph.parameter_count()
    title = f"{graph.name}: {len(graph.nodes)} nodes, {params:,} parameters"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="12">',
             '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555555"/></marker></defs>',
             f'<rect width="100%" height="100%" fill="#ffffff"/>',
             f'<text class="title" x="{MARGIN}" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
             legend, '<g class="edges">']
    for index, route in enumerate(routes):
        kind = "edge" if index < data_edges else "output-edge"
        parts.append(_edge(kind, route, boxes))
    parts.append("</g>")
    parts += [_draw_box(box) for box in boxes.values() if box.kind != "dummy"]
    parts.append("</svg>\n")
    return "\n".join(parts)


def _families(graph: Graph) -> list[str]:
    from .ir.ops import OPS

    present = {OPS[node.op].family for node in graph.nodes if node.op in OPS}
    return [family for family in FAMILY_COLOURS if family in present]


def _legend(families: list[str]) -> tuple[str, float]:
    parts = ['<g class="legend">']
    for index, family in enumerate(families):
        x, y = MARGIN + (index % 5) * 120, 38 + (index // 5) * 20
        parts.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{FAMILY_COLOURS[family]}" stroke="#666666"/>'
                     f'<text x="{x + 20}" y="{y + 11}">{escape(family)}</text>')
    parts.append("</g>")
    return "".join(parts), 20 * ((len(families) + 4) // 5) + 8


def _edge(kind: str, route: list[str], boxes: dict[str, Box]) -> str:
    first = boxes[route[0]]
    points = [(first.x, first.bottom())]
    for key in route[1:-1]:  # placeholders: straight down through their row
        points += [(boxes[key].x, boxes[key].y), (boxes[key].x, boxes[key].bottom())]
    last = boxes[route[-1]]
    points.append((last.x, last.y))
    d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 == x1:
            d += f" L{x1:.1f},{y1:.1f}"
        else:
            middle = (y0 + y1) / 2
            d += f" C{x0:.1f},{middle:.1f} {x1:.1f},{middle:.1f} {x1:.1f},{y1:.1f}"
    dash = ' stroke-dasharray="4 3"' if kind == "output-edge" else ""
    return (f'<path class="{kind}" data-from={quoteattr(_label(route[0]))} data-to={quoteattr(_label(route[-1]))} '
            f'd="{d}" fill="none" stroke="#555555" stroke-width="1.2"{dash} marker-end="url(#arrow)"/>')


def _label(key: str) -> str:
    return key.replace("\x00", "")


def _draw_box(box: Box) -> str:
    left, top, height = box.x - box.width / 2, box.y, HEIGHT[box.kind]
    stroke = {"input": ' stroke="#000000" stroke-width="2"', "output": ' stroke="#000000"'}.get(
        box.kind, ' stroke="#555555"')
    colour = "#ffffff" if box.kind == "output" else "#000000"
    parts = [f'<g class="{box.kind}" data-name={quoteattr(_label(box.key))}>',
             f"<title>{escape(box.title)}</title>",
             f'<rect class="box" x="{left:.1f}" y="{top:.1f}" width="{box.width:.1f}" height="{height}" rx="5" '
             f'fill="{box.fill}"{stroke}/>']
    limit = int((box.width - 12) / CHAR)
    for index, line in enumerate(box.lines):
        text = line if len(line) <= limit else line[:limit - 1] + "\u2026"
        weight = ' font-weight="bold"' if index == 0 and box.kind != "output" else ""
        parts.append(f'<text x="{box.x:.1f}" y="{top + 17 + 15 * index:.1f}" text-anchor="middle" '
                     f'fill="{colour}"{weight}>{escape(text)}</text>')
    parts.append("</g>")
    return "".join(parts)
