"""The HTML view's program: plain JavaScript (ES2017, no library), inlined into the page.

It reads the graph's JSON (``data.py``), folds blocks into single boxes, lays out what is visible
(``layout.py``) and draws it as SVG; folding or unfolding a block lays the graph out again. It pans and zooms,
searches, and shows what a click selects.

What the page marks on ``<body>`` for tests and tools: ``data-ready`` once drawn, ``data-units`` (boxes shown),
``data-layout-ms`` (the last layout and drawing), ``data-selected``, ``data-matches``. The address's fragment
opens the view on something: ``#node=NAME`` (unfolds its blocks, selects and centres it), ``#q=TEXT`` (a
search), ``#blocks=open`` or ``#blocks=closed``.
"""

SCRIPT = r"""
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var CHAR = 7.3, BOX_MIN = 120, BOX_MAX = 300, LIMIT = 60, HEIGHT = interlayerLayout.HEIGHT;
  var DATA = JSON.parse(document.getElementById("graph-data").textContent);
  var items = DATA.items, blocks = DATA.blocks;
  var canvas = document.getElementById("canvas"), viewport = document.getElementById("viewport");
  var edgeLayer = document.getElementById("edges"), boxLayer = document.getElementById("boxes");
  var frameLayer = document.getElementById("frames");
  var search = document.getElementById("search"), results = document.getElementById("results");
  var details = document.getElementById("details"), tree = document.getElementById("tree");
  var expanded = new Set(), selected = null, matches = [], view = {scale: 1, x: 20, y: 20};
  var units = {}, order = [], links = [], unitOf = [], bounds = {width: 0, height: 0}, drag = null;

  function chain(block) {
    var out = [];
    while (block !== -1) { out.push(block); block = blocks[block].parent; }
    return out;
  }
  var ancestors = items.map(function (item) { return chain(item.block); });

  // what is visible --------------------------------------------------------------------------------------------
  function unitKey(i) {
    var key = "n" + i, up = ancestors[i];
    for (var k = 0; k < up.length; k++) if (!expanded.has(up[k])) key = "b" + up[k];  // the outermost folded
    return key;
  }

  function countUnits() {
    var seen = new Set();
    for (var i = 0; i < items.length; i++) seen.add(unitKey(i));
    return seen.size;
  }

  function autoExpand() {  // unfold level after level while the view stays small
    var deepest = blocks.reduce(function (m, b) { return Math.max(m, b.depth); }, -1);
    for (var depth = 0; depth <= deepest; depth++) {
      var level = [];
      blocks.forEach(function (b, i) { if (b.depth === depth) level.push(i); });
      level.forEach(function (i) { expanded.add(i); });
      if (countUnits() > LIMIT) { level.forEach(function (i) { expanded.delete(i); }); return; }
    }
  }

  function fmt(n) { return n.toLocaleString("en-US"); }

  function makeUnit(key, i) {
    var lines, kind, title;
    if (key.charAt(0) === "b") {
      var b = blocks[+key.slice(1)];
      kind = "block";
      lines = [b.name, "\u25b8 " + b.size + " layers"];
      if (b.params) lines.push(fmt(b.params) + " params");
      title = b.name + ": a block of " + b.size + " layers (click to unfold)";
    } else {
      var item = items[i];
      kind = item.kind;
      lines = item.kind === "output" ? [item.label] : [item.label, item.op, item.shape];
      if (item.params) lines.push(fmt(item.params) + " params");
      title = item.kind === "output" ? item.label + ": " + item.name : lines.join("\n");
    }
    var longest = lines.reduce(function (m, l) { return Math.max(m, l.length); }, 0);
    var width = Math.min(Math.max(longest * CHAR + 20, kind === "output" ? 70 : BOX_MIN), BOX_MAX);
    return {key: key, kind: kind, first: i, lines: lines, title: title, width: width, rank: 0, x: 0, y: 0,
            up: [], down: []};
  }

  function buildUnits() {
    units = {}; order = []; links = [];
    for (var i = 0; i < items.length; i++) {
      var key = unitKey(i);
      unitOf[i] = key;
      if (!units[key]) { units[key] = makeUnit(key, i); order.push(key); }
    }
    var seen = {};
    DATA.edges.forEach(function (edge) {
      var a = unitOf[edge[0]], b = unitOf[edge[1]], id = a + ">" + b;
      if (a === b) return;
      if (seen[id]) { seen[id].values = seen[id].values.concat(edge[2]); return; }
      seen[id] = {from: a, to: b, values: edge[2].slice()};
      links.push(seen[id]);
      units[a].down.push(b); units[b].up.push(a);
    });
  }

  // drawing ----------------------------------------------------------------------------------------------------
  function el(name, attrs, parent) {
    var node = document.createElementNS(SVGNS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function bottomOf(u) { return u.y + HEIGHT[u.kind]; }

  function drawLink(link, all) {
    var first = all[link.path[0]], last = all[link.path[link.path.length - 1]];
    var points = [[first.x, bottomOf(first)]];
    link.path.slice(1, -1).forEach(function (k) { points.push([all[k].x, all[k].y], [all[k].x, bottomOf(all[k])]); });
    points.push([last.x, last.y]);
    var d = "M" + points[0][0].toFixed(1) + "," + points[0][1].toFixed(1);
    for (var i = 1; i < points.length; i++) {
      var p = points[i - 1], q = points[i], mid = (p[1] + q[1]) / 2;
      d += p[0] === q[0] ? " L" + q[0].toFixed(1) + "," + q[1].toFixed(1)
        : " C" + p[0].toFixed(1) + "," + mid.toFixed(1) + " " + q[0].toFixed(1) + "," + mid.toFixed(1) + " "
          + q[0].toFixed(1) + "," + q[1].toFixed(1);
    }
    var path = el("path", {"class": "edge" + (last.kind === "output" ? " to-output" : ""), d: d,
                           "marker-end": "url(#arrow)"}, edgeLayer);
    path.dataset.from = link.from; path.dataset.to = link.to;
    el("title", {}, path).textContent = link.values.join(", ");
  }

  function fill(u) {
    if (u.kind === "block") return "#f4f1ea";
    if (u.kind === "output") return "#333333";
    if (u.kind === "input") return "#ffffff";
    return DATA.colours[items[u.first].family] || "#ffffff";
  }

  function drawUnit(u) {
    var h = HEIGHT[u.kind], left = u.x - u.width / 2;
    var g = el("g", {"class": "box " + u.kind, transform: "translate(" + left.toFixed(1) + "," + u.y.toFixed(1) + ")"},
               boxLayer);
    g.dataset.key = u.key;
    g.dataset.name = u.kind === "block" ? blocks[+u.key.slice(1)].name : items[u.first].name;
    el("title", {}, g).textContent = u.title;
    if (u.kind === "block") el("rect", {"class": "shadow", x: 4, y: 4, width: u.width, height: h, rx: 5}, g);
    el("rect", {"class": "frame", width: u.width, height: h, rx: 5, fill: fill(u)}, g);
    var limit = Math.floor((u.width - 12) / CHAR);
    u.lines.forEach(function (line, i) {
      var text = line.length <= limit ? line : line.slice(0, limit - 1) + "\u2026";
      var t = el("text", {x: u.width / 2, y: 17 + 15 * i, "class": i === 0 ? "name" : ""}, g);
      t.textContent = text;
    });
    u.element = g;
  }

  function chainOf(u) {  // the blocks around a shown box, innermost first
    if (u.kind === "block") return chain(blocks[+u.key.slice(1)].parent);
    return ancestors[u.first];
  }

  function drawFrames() {  // a frame around each unfolded block, where it encloses no other box
    var box = {}, inner = {}, labels = {};
    order.forEach(function (k) {
      var u = units[k], rect = [u.x - u.width / 2, u.y, u.x + u.width / 2, u.y + HEIGHT[u.kind]];
      chainOf(u).forEach(function (b, level) {
        var r = box[b];
        box[b] = r ? [Math.min(r[0], rect[0]), Math.min(r[1], rect[1]), Math.max(r[2], rect[2]),
                      Math.max(r[3], rect[3])] : rect.slice();
        inner[b] = Math.max(inner[b] || 0, level);
      });
    });
    Object.keys(box).sort(function (a, b) { return blocks[a].depth - blocks[b].depth; }).forEach(function (b) {
      var r = box[b], level = inner[b] || 0, px = 6 + 6 * level, py = 4 + 5 * level;
      var rect = [r[0] - px, r[1] - py, r[2] + px, r[3] + py];
      var clash = order.some(function (k) {
        var u = units[k];
        if (chainOf(u).indexOf(+b) !== -1) return false;
        return u.x + u.width / 2 > rect[0] && u.x - u.width / 2 < rect[2] && u.y + HEIGHT[u.kind] > rect[1]
          && u.y < rect[3];
      });
      if (clash) return;
      var g = el("g", {"class": "frame"}, frameLayer);
      g.dataset.block = b;
      el("rect", {x: rect[0], y: rect[1], width: rect[2] - rect[0], height: rect[3] - rect[1], rx: 8}, g);
      var top = r[1].toFixed(1), label = labels[top];  // frames starting at one box share one label
      if (!label) {
        label = labels[top] = el("text", {x: rect[0] + 4, y: rect[1] - 3}, g);
        label.textContent = "\u25be ";
      } else label.appendChild(document.createTextNode(" \u203a "));
      var name = el("tspan", {}, label);
      name.textContent = blocks[b].name;
      name.dataset.block = b;
      el("title", {}, name).textContent = "fold " + blocks[b].name;
    });
  }

  function layout() {
    var start = performance.now();
    buildUnits();
    var laid = interlayerLayout.lay(units, order, links), all = laid.all;
    bounds = laid.bounds;
    edgeLayer.textContent = ""; boxLayer.textContent = ""; frameLayer.textContent = "";
    drawFrames();
    links.forEach(function (link) { drawLink(link, all); });
    order.forEach(function (k) { drawUnit(units[k]); });
    mark();
    drawTree();
    var body = document.body.dataset;
    body.units = order.length; body.items = items.length; body.blocks = blocks.length;
    body.expanded = expanded.size;
    body.layoutMs = Math.round(performance.now() - start);
    body.ready = "1";
  }

  // view: pan and zoom -------------------------------------------------------------------------------------------
  function apply() {
    viewport.setAttribute("transform", "translate(" + view.x.toFixed(1) + "," + view.y.toFixed(1) + ") scale("
                          + view.scale.toFixed(4) + ")");
    document.body.dataset.scale = view.scale.toFixed(4);
  }

  function zoomAt(px, py, factor) {
    var scale = Math.min(Math.max(view.scale * factor, 0.03), 4);
    factor = scale / view.scale;
    view.x = px - (px - view.x) * factor; view.y = py - (py - view.y) * factor; view.scale = scale;
    apply();
  }

  function size() { var r = canvas.getBoundingClientRect(); return {w: r.width || 800, h: r.height || 600}; }

  function fit(all) {  // the whole graph; never larger than life
    var s = size();
    view.scale = Math.min(1, (s.w - 20) / bounds.width, all ? (s.h - 20) / bounds.height : Infinity);
    view.x = (s.w - bounds.width * view.scale) / 2;
    view.y = all ? (s.h - bounds.height * view.scale) / 2 : 10;
    apply();
  }

  function centre(key) {
    var u = units[key], s = size();
    if (!u) return;
    view.scale = Math.max(view.scale, 0.8);
    view.x = s.w / 2 - u.x * view.scale;
    view.y = s.h / 2 - (u.y + HEIGHT[u.kind] / 2) * view.scale;
    apply();
  }

  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = canvas.getBoundingClientRect();
    if (e.ctrlKey || e.metaKey) zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-e.deltaY * 0.002));
    else { view.x -= e.shiftKey ? e.deltaY : e.deltaX; view.y -= e.shiftKey ? 0 : e.deltaY; apply(); }
  }, {passive: false});
  canvas.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) return;
    drag = {x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moved: false};
  });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) { view.x = drag.vx + dx; view.y = drag.vy + dy; apply(); canvas.classList.add("panning"); }
  });
  window.addEventListener("pointerup", function () {
    setTimeout(function () { drag = null; }, 0);
    canvas.classList.remove("panning");
  });

  // blocks: fold and unfold --------------------------------------------------------------------------------------
  function setOpen(block, open) {
    if (open) expanded.add(block); else expanded.delete(block);
    var keep = selected;
    layout();
    if (keep && !units[keep]) keep = open ? null : "b" + block;
    select(keep && units[keep] ? keep : null, false);
  }

  function openAll(open) {
    expanded = new Set(open ? blocks.map(function (b, i) { return i; }) : []);
    layout(); select(selected && units[selected] ? selected : null, false); fit(false);
  }

  function drawTree() {
    tree.textContent = "";
    var lists = {"-1": tree};
    blocks.forEach(function (b, i) {  // parents come first
      var li = document.createElement("li"), button = document.createElement("button");
      var open = expanded.has(i);
      button.className = "toggle";
      button.textContent = (open ? "\u25be " : "\u25b8 ") + b.name;
      button.title = (open ? "fold " : "unfold ") + b.name + " (" + b.size + " layers)";
      button.dataset.block = i;
      li.appendChild(button);
      var count = document.createElement("span");
      count.className = "count"; count.textContent = " " + b.size;
      li.appendChild(count);
      var ul = document.createElement("ul");
      li.appendChild(ul);
      lists[i] = ul;
      (lists[b.parent] || tree).appendChild(li);
    });
    document.getElementById("outline").hidden = !blocks.length;
  }

  frameLayer.addEventListener("click", function (e) {
    var name = e.target.closest("tspan[data-block]");
    if (name && !(drag && drag.moved)) setOpen(+name.dataset.block, false);
  });

  tree.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-block]");
    if (button) setOpen(+button.dataset.block, !expanded.has(+button.dataset.block));
  });

  // selection and details ----------------------------------------------------------------------------------------
  boxLayer.addEventListener("click", function (e) {
    if (drag && drag.moved) return;
    var g = e.target.closest("g.box");
    if (!g) return;
    var key = g.dataset.key;
    if (key.charAt(0) === "b") { setOpen(+key.slice(1), true); return; }
    select(key, false);
  });
  boxLayer.addEventListener("dblclick", function (e) {
    var g = e.target.closest("g.box");
    if (g && g.dataset.key.charAt(0) === "n") {
      var block = items[+g.dataset.key.slice(1)].block;
      if (block !== -1) setOpen(block, false);
    }
  });

  function select(key, move) {
    selected = key;
    Object.keys(units).forEach(function (k) {
      if (units[k].element) units[k].element.classList.toggle("selected", k === key);
    });
    document.body.dataset.selected = key ? units[key].element.dataset.name : "";
    showDetails(key);
    if (key && move) centre(key);
  }

  function h(tag, text, parent, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    if (parent) parent.appendChild(node);
    return node;
  }

  function table(title, head, rows, parent) {
    if (!rows.length) return;
    h("h3", title, parent);
    var t = h("table", null, parent), tr = h("tr", null, t);
    head.forEach(function (c) { h("th", c, tr); });
    rows.forEach(function (row) {
      var r = h("tr", null, t);
      row.forEach(function (c) { h("td", c, r); });
    });
  }

  function crumbs(i, parent) {
    var up = ancestors[i].slice().reverse();
    if (!up.length) return;
    var p = h("p", "in ", parent, "crumbs");
    up.forEach(function (b, k) {
      var button = h("button", blocks[b].name, p, "link");
      button.title = "fold " + blocks[b].name;
      button.addEventListener("click", function () { setOpen(b, false); select("b" + b, true); });
      if (k + 1 < up.length) p.appendChild(document.createTextNode(" \u203a "));
    });
  }

  function showDetails(key) {
    details.textContent = "";
    if (!key) { h("p", "Click a layer for its details; click a block to unfold it.", details, "hint"); return; }
    if (key.charAt(0) === "b") return blockDetails(+key.slice(1));
    var item = items[+key.slice(1)];
    h("h2", item.name, details);
    h("p", item.kind === "node" ? item.op + (item.family ? " (" + item.family + ")" : "") : item.label, details, "op");
    if (item.kind !== "node") { table("value", ["shape", "dtype"], [[item.shape, item.dtype]], details); return; }
    crumbs(+key.slice(1), details);
    table("attributes", ["name", "value"], Object.keys(item.attrs).map(function (k) {
      return [k, JSON.stringify(item.attrs[k])];
    }), details);
    table("inputs", ["value", "shape", "dtype"], item.inputs, details);
    table("outputs", ["value", "shape", "dtype"], item.outputs, details);
    table("weights (" + fmt(item.params) + " parameters)", ["name", "shape", "dtype", "size"],
          item.weights.map(function (w) { return [w[0], w[1], w[2], fmt(w[3])]; }), details);
  }

  function blockDetails(b) {
    var block = blocks[b], ops = {}, names = [];
    items.forEach(function (item, i) {
      if (ancestors[i].indexOf(b) !== -1) { ops[item.op] = (ops[item.op] || 0) + 1; names.push(i); }
    });
    h("h2", block.name, details);
    h("p", "block of " + block.size + " layers, " + fmt(block.params) + " parameters", details, "op");
    var button = h("button", expanded.has(b) ? "fold" : "unfold", details);
    button.addEventListener("click", function () { setOpen(b, !expanded.has(b)); });
    table("ops", ["op", "layers"], Object.keys(ops).map(function (k) { return [k, String(ops[k])]; }), details);
    h("h3", "layers", details);
    var list = h("ul", null, details, "layers");
    names.slice(0, 200).forEach(function (i) {
      var li = h("li", null, list), link = h("button", items[i].name, li, "link");
      link.addEventListener("click", function () { reveal(i); });
    });
  }

  function reveal(i) {
    var closed = ancestors[i].filter(function (b) { return !expanded.has(b); });
    closed.forEach(function (b) { expanded.add(b); });
    if (closed.length) layout();
    select(unitOf[i], true);
  }

  // search -------------------------------------------------------------------------------------------------------
  function mark() {
    var hits = {};
    matches.forEach(function (i) { hits[unitOf[i]] = true; });
    Object.keys(units).forEach(function (k) {
      if (units[k].element) units[k].element.classList.toggle("match", !!hits[k]);
    });
  }

  function find(text) {
    var q = text.trim().toLowerCase();
    matches = [];
    if (q) items.forEach(function (item, i) { if (item.name.toLowerCase().indexOf(q) !== -1) matches.push(i); });
    results.textContent = "";
    document.body.dataset.matches = matches.length;
    mark();
    if (!q) return;
    h("p", matches.length ? matches.length + " layer" + (matches.length === 1 ? "" : "s") + " match"
      + (matches.length === 1 ? "es" : "") : "no layer name contains \u201c" + text.trim() + "\u201d", results, "hint");
    var list = h("ul", null, results, "layers");
    matches.slice(0, 100).forEach(function (i) {
      var li = h("li", null, list), link = h("button", items[i].name, li, "link");
      link.dataset.item = i;
      h("span", " " + items[i].op, li, "muted");
      link.addEventListener("click", function () { reveal(i); });
    });
  }

  search.addEventListener("input", function () { find(search.value); });
  search.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && matches.length) reveal(matches[0]);
    if (e.key === "Escape") { search.value = ""; find(""); }
  });
  window.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== search) { e.preventDefault(); search.focus(); }
  });
  document.getElementById("fit").addEventListener("click", function () { fit(true); });
  document.getElementById("zoom-in").addEventListener("click", function () {
    var s = size(); zoomAt(s.w / 2, s.h / 2, 1.25);
  });
  document.getElementById("zoom-out").addEventListener("click", function () {
    var s = size(); zoomAt(s.w / 2, s.h / 2, 0.8);
  });
  document.getElementById("open-all").addEventListener("click", function () { openAll(true); });
  document.getElementById("close-all").addEventListener("click", function () { openAll(false); });

  // start --------------------------------------------------------------------------------------------------------
  function legend() {
    var box = document.getElementById("legend");
    Object.keys(DATA.colours).forEach(function (family) {
      var span = h("span", null, box, "family"), swatch = h("i", null, span);
      swatch.style.background = DATA.colours[family];
      span.appendChild(document.createTextNode(family));
    });
  }

  function start() {
    document.title = DATA.title + " \u2014 interlayer";
    document.getElementById("title").textContent = DATA.title;
    document.getElementById("summary").textContent = fmt(DATA.nodes) + " nodes, " + fmt(DATA.params)
      + " parameters" + (DATA.source ? ", from " + DATA.source : "") + (blocks.length ? ", " + blocks.length
      + " blocks" : "");
    legend();
    var hash = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var at = part.indexOf("=");
      if (at > 0) hash[part.slice(0, at)] = decodeURIComponent(part.slice(at + 1));
    });
    if (hash.blocks === "open") expanded = new Set(blocks.map(function (b, i) { return i; }));
    else if (hash.blocks !== "closed") autoExpand();
    layout();
    fit(false);
    select(null, false);
    if (hash.q) { search.value = hash.q; find(hash.q); }
    if (hash.node) {
      var found = items.findIndex(function (item) { return item.name === hash.node; });
      if (found !== -1) reveal(found);
    }
  }

  window.interlayerView = {reveal: reveal, find: find, open: setOpen, openAll: openAll, select: select, fit: fit,
                           zoomAt: zoomAt, view: view, units: function () { return units; }};
  start();
})();
"""
