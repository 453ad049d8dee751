"""The layer graph as one HTML page to explore in a browser (``interlayer inspect MODEL --graph graph.html``).

Where the SVG drawing (``drawing.py``) is a picture, this is a view: pan (drag, wheel) and zoom (ctrl + wheel,
buttons), blocks folded into single boxes (nodes grouped by the prefixes of their names, ``blocks.py``), a search
by layer name, and a node's op, attributes, input and output shapes and weights on click. One self-contained
file: the graph as JSON (``data.py``), the style and the program (``page.py``, ``script.py``) inline, nothing
fetched; it opens from disk in any current browser.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..ir.graph import Graph


def render_html(graph: Graph) -> str:
    """The page's text."""
    from .data import graph_data
    from .page import page

    return page(graph_data(graph))


def write_html(graph: Graph, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write :func:`render_html` to ``path`` (a name ending in .html) atomically; an existing file is kept unless
    ``overwrite``."""
    from ..drawing import check_graph_name, exists_error, write_text

    path = Path(path)
    check_graph_name("drawing", path, (".html",))
    if path.exists() and not overwrite:
        raise exists_error(path)
    return write_text(path, render_html(graph), overwrite)
