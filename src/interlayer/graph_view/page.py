"""The HTML page around the view: its layout and style, the graph's JSON and the program, in one file that
fetches nothing (no network, no CDN, no server: it opens from disk)."""
from __future__ import annotations

import json
from typing import Any

from .layout import LAYOUT
from .script import SCRIPT

STYLE = """
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 13px/1.4 system-ui, sans-serif; color: #222; }
body { display: grid; grid-template-rows: auto 1fr auto; }
header { display: flex; gap: 10px; align-items: center; padding: 6px 10px; border-bottom: 1px solid #ccc;
         background: #fafafa; flex-wrap: wrap; }
header h1 { font-size: 15px; margin: 0; }
#summary { color: #555; }
#search { flex: 1 1 220px; max-width: 360px; padding: 4px 8px; font: inherit; }
button { font: inherit; cursor: pointer; }
main { display: grid; grid-template-columns: 1fr 400px; min-height: 0; }
#canvas { width: 100%; height: 100%; display: block; background: #fff; cursor: grab; touch-action: none;
          user-select: none; }
#canvas.panning { cursor: grabbing; }
aside { border-left: 1px solid #ccc; overflow: auto; padding: 8px 10px; background: #fcfcfc; }
aside h2 { font-size: 14px; margin: 4px 0; word-break: break-all; }
aside h3 { font-size: 12px; margin: 10px 0 2px; color: #555; text-transform: uppercase; letter-spacing: .04em; }
aside table { border-collapse: collapse; width: 100%; font: 12px monospace; }
aside td, aside th { border-bottom: 1px solid #eee; padding: 2px 4px; text-align: left; vertical-align: top;
                     overflow-wrap: anywhere; }
.hint, .muted { color: #777; }
.op { font-family: monospace; }
button.link { border: 0; background: none; padding: 0; color: #1a5fb4; text-align: left; word-break: break-all; }
ul.layers, #tree, #tree ul { list-style: none; margin: 0; padding-left: 12px; }
#tree { padding-left: 0; }
#tree button.toggle { border: 0; background: none; padding: 1px 0; font-family: monospace; text-align: left; }
#tree .count { color: #999; font-size: 11px; }
footer { padding: 4px 10px; border-top: 1px solid #ccc; background: #fafafa; }
.family { margin-right: 14px; white-space: nowrap; }
.family i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; border: 1px solid #666;
            vertical-align: -2px; }
g.box { cursor: pointer; }
g.box text { font: 12px monospace; text-anchor: middle; fill: #000; pointer-events: none; }
g.box text.name { font-weight: bold; }
g.box .frame { stroke: #555; stroke-width: 1; }
g.input .frame { stroke: #000; stroke-width: 2; }
g.output text { fill: #fff; }
g.block .frame, g.block .shadow { stroke: #8a7f66; fill: #f4f1ea; }
g.block .frame { stroke-width: 1.5; }
g.box.match .frame { stroke: #e5a50a; stroke-width: 4; }
g.box.selected .frame { stroke: #1a5fb4; stroke-width: 4; }
g.frame rect { fill: #f7f7fb; stroke: #b8b8cc; stroke-dasharray: 5 3; pointer-events: none; }
g.frame text { font: 10px monospace; fill: #667; cursor: pointer; }
path.edge { fill: none; stroke: #555; stroke-width: 1.2; }
path.edge.to-output { stroke-dasharray: 4 3; }
"""

BODY = """<header>
<h1 id="title"></h1><span id="summary"></span>
<input id="search" type="search" placeholder="search layers by name (/)" autocomplete="off" spellcheck="false">
<button id="fit" title="show the whole graph">fit</button>
<button id="zoom-in" title="zoom in (or ctrl + wheel)">+</button>
<button id="zoom-out" title="zoom out (or ctrl + wheel)">&#8722;</button>
<button id="open-all" title="unfold every block">unfold all</button>
<button id="close-all" title="fold every block">fold all</button>
</header>
<main>
<svg id="canvas" xmlns="http://www.w3.org/2000/svg">
<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto">
<path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>
<g id="viewport"><g id="frames"></g><g id="edges"></g><g id="boxes"></g></g>
</svg>
<aside>
<section id="results"></section>
<section id="details"></section>
<section id="outline"><h3>blocks</h3><ul id="tree"></ul></section>
</aside>
</main>
<footer id="legend"><noscript>This view needs JavaScript: allow scripts for local files.</noscript>
<span class="muted">drag to pan, wheel to scroll, ctrl + wheel to zoom; click a block to unfold it, double-click a
layer to fold its block</span> </footer>"""


def page(data: dict[str, Any]) -> str:
    """The whole page. The JSON sits in a ``<script type="application/json">`` with ``<``, ``>`` and ``&``
    escaped, so no name in a graph can end the element or be read as markup."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
            f"style-src 'unsafe-inline'; img-src data:\">\n"
            f"<title>interlayer graph</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{BODY}\n"
            f'<script type="application/json" id="graph-data">{text}</script>\n'
            f"<script>{LAYOUT}{SCRIPT}</script>\n</body>\n</html>\n")
