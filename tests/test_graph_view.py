"""`interlayer inspect --graph graph.html`: the layer graph as one self-contained HTML page, tested in a real
headless Chromium: it draws, folds blocks by name prefix, searches, shows a node's details, pans and zooms, and
stays quick on a graph of ResNet-50's size.

The browser tests need ``chromium`` on PATH (Debian: ``apt-get install chromium``; ``.ci/run`` installs it) and
are skipped, saying so, without it. Each loads the page with ``--dump-dom``; the page marks its state on
``<body>`` (``data-ready``, ``data-units``, ``data-selected``...), and a test that acts on the page appends a
script that clicks, types, scrolls and drags with real DOM events and writes what it saw into the page."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import interlayer
from interlayer.cli import main
from interlayer.errors import InterlayerError
from interlayer.graph_view import render_html, write_html
from interlayer.graph_view.blocks import find_blocks
from interlayer.ir import ops
from interlayer.ir.builder import GraphBuilder
from support import random_weights

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome")
                 if (found := shutil.which(name))), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: the HTML graph view is tested in "
                                    "a real headless browser (apt-get install chromium)")
HOSTILE = '</script><script>document.title="pwned"</script>&amp;<!--'


def resnet_like(stages: int = 4, blocks: int = 10, channels: int = 8, seed: int = 0, stem: str = "conv1"):
    """A ResNet-shaped graph of 3 + 7 * stages * blocks + 2 nodes (285 by default, ResNet-50 has 177 layers):
    ``layer<s>.<b>.conv1 -> bn1 -> relu -> conv2 -> bn2 -> add (+ the block's input) -> relu_1``."""
    rng = np.random.default_rng(seed)
    builder = GraphBuilder("synthetic_resnet", "test", "0")

    def add(op, inputs, attrs, name):
        schema = ops.get(op)
        filled = schema.fill(attrs)
        return builder.add(op, inputs, filled, random_weights(schema, filled, rng), name=name)

    conv = {"in_channels": channels, "out_channels": channels, "kernel_size": [3, 3], "pads": [1, 1, 1, 1]}
    x = add("conv", [builder.input("x", ("N", 3, 16, 16))], {**conv, "in_channels": 3}, stem)
    x = add("relu", [add("batch_norm", [x], {"num_features": channels}, "bn1")], {}, "relu")
    for stage in range(1, stages + 1):
        for block in range(blocks):
            prefix = f"layer{stage}.{block}"
            y = add("conv", [x], conv, f"{prefix}.conv1")
            y = add("relu", [add("batch_norm", [y], {"num_features": channels}, f"{prefix}.bn1")], {}, f"{prefix}.relu")
            y = add("batch_norm", [add("conv", [y], conv, f"{prefix}.conv2")], {"num_features": channels},
                    f"{prefix}.bn2")
            x = add("relu", [add("add", [y, x], {}, f"{prefix}.add")], {}, f"{prefix}.relu_1")
    builder.output(add("linear", [add("global_avg_pool", [x], {}, "avgpool")],
                       {"in_features": channels, "out_features": 10}, "fc"))
    return builder.finish()


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("view") / "resnet.html"
    return write_html(resnet_like(), path)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("view") / "small.html"
    return write_html(resnet_like(stages=2, blocks=2, stem=HOSTILE), path)


# blocks: nodes grouped by name prefix ------------------------------------------------------------------------

def _chain(count: int) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(count - 1)]


def test_module_paths_nest_into_blocks():
    names = ["conv1", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.add", "layer1.1.conv1", "layer1.1.add", "fc"]
    blocks, innermost = find_blocks(names, _chain(len(names)) + [(0, 3)])
    assert [(b.name, b.members, blocks[b.parent].name if b.parent != -1 else None) for b in blocks] == [
        ("layer1", [1, 2, 3, 4, 5], None), ("layer1.0", [1, 2, 3], "layer1"), ("layer1.1", [4, 5], "layer1")]
    assert [blocks[i].name if i != -1 else None for i in innermost] == [
        None, "layer1.0", "layer1.0", "layer1.0", "layer1.1", "layer1.1", None]


def test_keras_names_nest_at_underscores():
    names = ["conv1_conv", "conv1_bn", "conv2_block1_1_conv", "conv2_block1_1_bn", "conv2_block1_2_conv",
             "conv2_block1_add", "conv2_block2_1_conv", "conv2_block2_add", "predictions"]
    blocks, _ = find_blocks(names, _chain(len(names)))
    assert {b.name: (b.depth, len(b.members)) for b in blocks} == {
        "conv1": (0, 2), "conv2": (0, 6), "conv2_block1": (1, 4), "conv2_block1_1": (2, 2), "conv2_block2": (1, 2)}


def test_names_that_only_look_alike_are_not_folded_into_a_box_that_feeds_itself():
    names = ["conv2d", "re_lu", "conv2d_1", "re_lu_1", "dense"]  # a Sequential model's automatic names
    assert find_blocks(names, _chain(len(names))) == ([], [-1] * 5)


def test_prefixes_holding_the_same_nodes_make_one_block_named_by_the_longest():
    names = ["stem", "head_dense_a", "head_dense_b", "out"]
    [block], _ = find_blocks(names, _chain(len(names)))
    assert (block.name, block.members) == ("head_dense", [1, 2])


# the page: self-contained, safe for any name -------------------------------------------------------------------

def test_the_page_fetches_nothing(big):
    text = big.read_text()
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert re.findall(r"https?://[^\s\"'<>]+", text) == ["http://www.w3.org/2000/svg"] * text.count(
        "http://www.w3.org/2000/svg")  # the SVG namespace names, never loads
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(\s*['\"]?(https?:|//)", text)


def test_a_hostile_name_stays_data(small):
    text = small.read_text()
    assert HOSTILE not in text and text.count("</script>") == 2
    data = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', text, re.S).group(1)
    assert json.loads(data)["items"][1]["name"] == HOSTILE


def test_write_html_keeps_an_existing_file_and_wants_an_html_name(tmp_path):
    graph = resnet_like(stages=1, blocks=1)
    path = tmp_path / "graph.html"
    path.write_text("old")
    with pytest.raises(InterlayerError, match="exists"):
        write_html(graph, path)
    assert path.read_text() == "old"
    write_html(graph, path, overwrite=True)
    assert path.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(InterlayerError, match=r"Expected a name ending in \.html\. Received: '.*graph\.htm'"):
        write_html(graph, tmp_path / "graph.htm")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.html"]


def test_inspect_writes_the_html_view(capsys, tmp_path):
    archive = interlayer.save(resnet_like(stages=1, blocks=2), tmp_path / "model.safetensors")
    page = tmp_path / "graph.html"
    assert main(["inspect", str(archive), "--graph", str(page)]) == 0
    assert f"wrote {page}" in capsys.readouterr().out
    assert page.read_text() == render_html(interlayer.load(archive))


def test_rendering_a_graph_of_resnet_size_is_quick():
    import time

    graph = resnet_like()
    start = time.perf_counter()
    render_html(graph)
    assert time.perf_counter() - start < 2.0


# in a browser ----------------------------------------------------------------------------------------------------

def _browse(page: Path, tmp_path: Path, fragment: str = "") -> tuple[dict, str]:
    """Load ``page`` in headless Chromium: the ``<body>`` data attributes, and the DOM as text."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
               f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900", "--dump-dom",
               page.as_uri() + fragment]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Uncaught" not in done.stderr, done.stderr[-3000:]
    body = re.search(r"<body([^>]*)>", done.stdout).group(1)
    marks = {key: html.unescape(value) for key, value in re.findall(r'data-([\w-]+)="([^"]*)"', body)}
    return marks, done.stdout


def _acting(page: Path, tmp_path: Path, script: str) -> Path:
    """A copy of ``page`` with ``script`` run after the view's own, its result JSON in ``<pre id="result">``."""
    text = page.read_text().replace("</body>", f"<script>\n(function () {{ var out = {{}};\n{script}\n"
                                    f"var pre = document.createElement('pre'); pre.id = 'result';\n"
                                    f"pre.textContent = JSON.stringify(out); document.body.appendChild(pre); }})();\n"
                                    f"</script>\n</body>")
    copy = tmp_path / f"acting-{page.name}"
    copy.write_text(text)
    return copy


def _result(dom: str) -> dict:
    return json.loads(html.unescape(re.search(r'<pre id="result">(.*?)</pre>', dom, re.S).group(1)))


@needs_chromium
def test_the_page_draws_with_its_blocks_folded_to_a_screenful(big, tmp_path):
    marks, dom = _browse(big, tmp_path)
    assert marks["ready"] == "1" and marks["items"] == "287" and marks["blocks"] == "44"
    assert marks["units"] == "47"  # 285 nodes, shown as the stem, 40 folded residual blocks and the head
    shown = re.findall(r'<g class="box (\w+)[^"]*"[^>]*data-name="([^"]*)"', dom)
    assert ("block", "layer2.3") in shown and ("node", "fc") in shown and ("input", "x") in shown
    assert not any(name.startswith("layer2.3.") for _, name in shown)


@needs_chromium
def test_a_link_to_a_node_unfolds_its_blocks_and_shows_its_details(big, tmp_path):
    marks, dom = _browse(big, tmp_path, "#node=layer3.4.conv2")
    assert marks["selected"] == "layer3.4.conv2"
    details = html.unescape(re.search(r'<section id="details">(.*?)</section>', dom, re.S).group(1))
    cells = re.findall(r"<td>(.*?)</td>", details)
    assert "conv (layers)" in details and ">layer3</button>" in details and ">layer3.4</button>" in details
    assert ["kernel_size", "[3,3]"] == cells[cells.index("kernel_size"):cells.index("kernel_size") + 2]
    assert ["layer3.4.relu", "(N, 8, 16, 16)", "float32"] == cells[cells.index("layer3.4.relu"):][:3]  # input
    assert ["weight", "(8, 8, 3, 3)", "float32", "576"] == cells[cells.index("weight"):][:4]
    assert 'class="box node selected"' in dom


@needs_chromium
def test_a_search_finds_layers_by_name(big, tmp_path):
    marks, dom = _browse(big, tmp_path, "#q=LAYER4.7.c")
    assert marks["matches"] == "2"  # case-insensitive: layer4.7.conv1 and layer4.7.conv2
    results = re.search(r'<section id="results">(.*?)</section>', dom, re.S).group(1)
    assert re.findall(r'data-item="\d+">([^<]*)<', results) == ["layer4.7.conv1", "layer4.7.conv2"]
    assert re.search(r'class="box block match"[^>]*data-name="layer4.7"', dom)  # their folded block is marked


@needs_chromium
def test_every_block_unfolded_lays_out_300_boxes_quickly(big, tmp_path):
    marks, dom = _browse(big, tmp_path, "#blocks=open")
    assert marks["units"] == "287"
    assert int(marks["layout-ms"]) < 1500, marks  # typically ~50 ms
    assert dom.count('<g class="frame"') >= 40  # each unfolded residual block framed


@needs_chromium
def test_clicks_typing_wheel_and_drag_act_on_the_view(small, tmp_path):
    script = r"""
    var body = document.body.dataset, canvas = document.getElementById("canvas");
    out.title = document.title;
    function box(name) { return document.querySelector('g.box[data-name="' + name + '"] rect.frame'); }
    function click(target, type) { target.dispatchEvent(new MouseEvent(type || "click", {bubbles: true})); }
    window.interlayerView.openAll(false);
    out.folded = +body.units;
    click(box("layer1"));
    out.unfolded = +body.units;
    out.inner = !!box("layer1.0");
    click(document.querySelector('#tree button[data-block]'));
    out.refolded = +body.units;
    window.interlayerView.openAll(true);
    click(box("layer2.1.bn1"));
    out.selected = body.selected;
    out.details = document.getElementById("details").textContent;
    click(box("layer2.1.bn1"), "dblclick");
    out.after_fold = !!box("layer2.1.bn1") + "/" + !!document.querySelector('g.box.block[data-name="layer2.1"]');
    var search = document.getElementById("search");
    search.value = "relu_1";
    search.dispatchEvent(new Event("input"));
    out.matches = +body.matches;
    search.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"}));
    out.found = body.selected;
    var before = document.getElementById("viewport").getAttribute("transform");
    canvas.dispatchEvent(new WheelEvent("wheel", {deltaY: -200, ctrlKey: true, clientX: 200, clientY: 200,
                                                  bubbles: true, cancelable: true}));
    out.zoomed = document.getElementById("viewport").getAttribute("transform") !== before;
    out.scale = +body.scale;
    var view = window.interlayerView.view, x = view.x, y = view.y;
    canvas.dispatchEvent(new PointerEvent("pointerdown", {clientX: 100, clientY: 100, button: 0, bubbles: true}));
    window.dispatchEvent(new PointerEvent("pointermove", {clientX: 160, clientY: 40, bubbles: true}));
    window.dispatchEvent(new PointerEvent("pointerup", {clientX: 160, clientY: 40, bubbles: true}));
    out.panned = [view.x - x, view.y - y];
    """
    marks, dom = _browse(_acting(small, tmp_path, script), tmp_path)
    out = _result(dom)
    assert out["title"] == "synthetic_resnet \u2014 interlayer"  # the name that closes </script> stayed data
    assert out["folded"] == 9  # x, the stem's 3 layers (one named to break the page), layer1, layer2, the head's
    assert out["unfolded"] == 10 and out["inner"] and out["refolded"] == 9  # 2, the output
    assert out["selected"] == "layer2.1.bn1"
    assert "batch_norm (layers)" in out["details"] and "num_features8" in out["details"]
    assert out["after_fold"] == "false/true"  # a double-click folded the layer's block
    assert out["matches"] == 4 and out["found"] == "layer1.0.relu_1"
    assert out["zoomed"] and out["scale"] > 1.0
    assert out["panned"] == [60, -60]
