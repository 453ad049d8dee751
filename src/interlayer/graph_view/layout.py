"""The HTML view's layout, in JavaScript (ES2017, no library): the SVG drawing's method (``drawing.py``) on the
boxes the view shows.

``interlayerLayout.lay(units, order, links)`` takes the boxes (``units`` by key, each with ``up``/``down`` keys,
``width``, ``kind`` and ``first``, the index of its first item, which orders them) and the links between them;
it gives every box a longest-path rank (a row holds at most ``MAX_ROW`` boxes, more are moved down), routes each
link through one placeholder per rank it crosses (shared by the links of one source), orders every row by
barycentre sweeps keeping the order with the fewest crossings, and places each row packed and centred under its
predecessors. Folded blocks can make a cycle (two blocks feeding each other through different layers); the
topological order breaks it at the earliest box.
"""

LAYOUT = r"""
var interlayerLayout = (function () {
  "use strict";
  var GAP = 28, DUMMY = 10, ROW = 112, MAX_ROW = 6;
  var HEIGHT = {input: 50, node: 68, block: 68, output: 28, dummy: 68};

  function topological(units, order) {  // Kahn's order, earliest item first; a cycle of folded blocks is broken there
    var indegree = {}, done = {}, out = [], ready = [];
    order.forEach(function (k) { indegree[k] = units[k].up.length; if (!indegree[k]) ready.push(k); });
    while (out.length < order.length) {
      if (!ready.length) {
        var rest = order.filter(function (k) { return !done[k]; });
        ready.push(rest[0]);
      }
      var best = 0;
      for (var r = 1; r < ready.length; r++) if (units[ready[r]].first < units[ready[best]].first) best = r;
      var key = ready.splice(best, 1)[0];
      if (done[key]) continue;
      done[key] = true; out.push(key);
      units[key].down.forEach(function (d) { if (!done[d] && --indegree[d] === 0) ready.push(d); });
    }
    return out;
  }

  function rank(units, sorted) {
    var filled = {}, placed = {};
    sorted.forEach(function (key) {
      var u = units[key], r = 0;
      u.up.forEach(function (p) { if (placed[p]) r = Math.max(r, units[p].rank + 1); });
      while ((filled[r] || 0) >= MAX_ROW) r++;
      u.rank = r; filled[r] = (filled[r] || 0) + 1; placed[key] = true;
    });
  }

  function route(units, links) {  // each link through one placeholder per rank it crosses, shared per source
    var all = Object.assign({}, units);
    links.forEach(function (link) {
      var a = units[link.from], b = units[link.to], path = [link.from];
      for (var r = a.rank + 1; r < b.rank; r++) {
        var id = "d" + link.from + "@" + r;
        if (!all[id]) all[id] = {key: id, kind: "dummy", width: DUMMY, rank: r, x: 0, y: 0, first: a.first};
        path.push(id);
      }
      link.path = path.concat([link.to]);
    });
    return all;
  }

  function crossings(rows, pairs, all) {
    var pos = {}, byRank = {}, count = 0;
    rows.forEach(function (row) { row.forEach(function (k, i) { pos[k] = i; }); });
    pairs.forEach(function (p) {
      var r = all[p[0]].rank;
      (byRank[r] = byRank[r] || []).push([pos[p[0]], pos[p[1]]]);
    });
    Object.keys(byRank).forEach(function (r) {
      var list = byRank[r];
      for (var i = 0; i < list.length; i++)
        for (var j = i + 1; j < list.length; j++)
          if ((list[i][0] - list[j][0]) * (list[i][1] - list[j][1]) < 0) count++;
    });
    return count;
  }

  function arrange(all, links) {  // rows ordered by barycentre sweeps; the order with the fewest crossings is kept
    var ranks = 0, up = {}, down = {}, pairs = [], seen = {};
    Object.keys(all).forEach(function (k) { ranks = Math.max(ranks, all[k].rank + 1); });
    var rows = [];
    for (var r = 0; r < ranks; r++) rows.push([]);
    Object.keys(all).sort(function (a, b) { return all[a].first - all[b].first; })
      .forEach(function (k) { rows[all[k].rank].push(k); });
    links.forEach(function (link) {
      for (var i = 0; i + 1 < link.path.length; i++) {
        var u = link.path[i], v = link.path[i + 1], id = u + ">" + v;
        if (seen[id] || all[v].rank <= all[u].rank) continue;
        seen[id] = true; pairs.push([u, v]);
        (down[u] = down[u] || []).push(v); (up[v] = up[v] || []).push(u);
      }
    });
    var best = rows.map(function (row) { return row.slice(); }), fewest = crossings(rows, pairs, all);
    for (var sweep = 0; sweep < 8 && fewest > 0; sweep++) {
      var downward = sweep % 2 === 0, near = downward ? up : down, step = downward ? -1 : 1;
      for (var k = 1; k < ranks; k++) {
        var r2 = downward ? k : ranks - 1 - k, other = rows[r2 + step];
        if (!other) continue;
        var pos = {}, cur = {};
        other.forEach(function (key, i) { pos[key] = i; });
        rows[r2].forEach(function (key, i) { cur[key] = i; });
        var centre = {};
        rows[r2].forEach(function (key) {
          var found = (near[key] || []).filter(function (n) { return n in pos; }).map(function (n) { return pos[n]; });
          centre[key] = found.length ? found.reduce(function (a, b) { return a + b; }, 0) / found.length : cur[key];
        });
        rows[r2].sort(function (a, b) { return centre[a] - centre[b] || cur[a] - cur[b]; });
      }
      var count = crossings(rows, pairs, all);
      if (count < fewest) { fewest = count; best = rows.map(function (row) { return row.slice(); }); }
    }
    return {rows: best, up: up};
  }

  function place(all, rows, up) {  // each row packed, then shifted to sit under its predecessors
    var left = Infinity, right = -Infinity, bottom = 0;
    rows.forEach(function (row, r) {
      var packed = [], wanted = [], edge = null;
      row.forEach(function (key) {
        var u = all[key], above = (up[key] || []).map(function (p) { return all[p].x; });
        wanted.push(above.length ? above.reduce(function (a, b) { return a + b; }, 0) / above.length : 0);
        var gap = u.kind === "dummy" ? GAP / 2 : GAP;
        var x = edge === null ? u.width / 2 : edge + gap + u.width / 2;
        packed.push(x); edge = x + u.width / 2;
      });
      var shift = 0;
      for (var i = 0; i < row.length; i++) shift += (wanted[i] - packed[i]) / row.length;
      row.forEach(function (key, i) {
        var u = all[key];
        u.x = packed[i] + shift; u.y = 20 + r * ROW;
        left = Math.min(left, u.x - u.width / 2); right = Math.max(right, u.x + u.width / 2);
        bottom = Math.max(bottom, u.y + HEIGHT[u.kind]);
      });
    });
    if (left === Infinity) left = right = 0;
    Object.keys(all).forEach(function (k) { all[k].x += 20 - left; });
    return {width: right - left + 40, height: bottom + 20};
  }

  function lay(units, order, links) {  // sets each unit's rank, x and y and each link's path
    rank(units, topological(units, order));
    var all = route(units, links), arranged = arrange(all, links);
    return {all: all, bounds: place(all, arranged.rows, arranged.up)};
  }

  return {lay: lay, HEIGHT: HEIGHT};
})();
"""
