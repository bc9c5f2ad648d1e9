/* cnnbook explorers in the browser: the static viewer of the website, and tracing on both faces.

   Static face: every state of an explorer was computed when the page was built and sits in its
   <script type="application/json"> (cnnbook.explorer.static.payload); moving a control shows the
   precomputed view of the new setting. The page's URL fragment follows the explorer last moved
   (#explorer=<name>&<control>=<value>...&pick=<panel>.<row>.<col>), and opening such a URL restores it.

   Both faces (the website, and the live ipywidgets face in JupyterLab, which loads this file through an
   Output widget): a view whose panels carry data-trace (cnnbook.explorer.tracing.Window, Field and
   Ratio, as JSON) can be traced. Picking a cell (click, tap, or keyboard: Tab to a grid, arrow keys, Enter) lights the cells
   it is made of (class "linked"; the picked cell "picked"; pooling's arg-max "routed"), and the line
   [data-role="equation"] (an aria-live region) adds up their displayed numbers. previous / play / next
   step through the output positions.

   window.cnnbookExplorers:
     mount(root)      -> the Viewer of one static root element (mounted once)
     viewers          -> every Viewer mounted so far, in page order
     tracers          -> every Tracer (static and live), in the order they were made
     addPlugin(fn)    -> fn(viewer) is called for every viewer, now and when mounted later
     values(wrap)     -> the numbers of a traced image panel (div.cnnbook-img), as rows
     pairs(rel, inShape, outShape) -> the [a, b, r, c, u, v] of a relation (as tracing.Window.pairs; a
                                      Field's have no tap: u = v = -1; a Ratio's [u, v] is the
                                      denominator's cell)
   A Viewer: root, data (the payload), controls, indices(), setting(), select(indices), onRender(fn),
   tracer. A Tracer: container, relations(), select(panel, row, col), clear(), step(+1 | -1), play(). */
(function () {
  "use strict";
  if (window.cnnbookExplorers) return;  // the script was included twice: one copy is enough

  var viewers = [];
  var tracers = [];
  var plugins = [];

  // ------------------------------------------------------------------------------------ numbers
  function fmt(v, decimals) {  // as cnnbook.explorer.static._format_number
    if (!isFinite(v)) return isNaN(v) ? "nan" : (v < 0 ? "-inf" : "inf");
    if (Number.isInteger(v)) return String(v);
    var s = v.toFixed(decimals);
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s === "-0" ? "0" : s;
  }

  /* A cell is a <td> of a number grid, or, on an image panel (div.cnnbook-img), a square span laid over
     the image (made when it is lit). Its value: the td's number, or the image's data-values entry. */
  function imageValues(wrap) {
    if (!wrap.cnnbookValues) {
      var ref = wrap.dataset.valuesRef, root = wrap.closest("[data-explorer]");
      var viewer = ref !== undefined && root && (root.cnnbookViewer || mount(root));
      wrap.cnnbookValues = JSON.parse((viewer ? viewer.data.images[+ref] : wrap.dataset.values) || "[]");
    }
    return wrap.cnnbookValues;
  }

  function valueOf(cell) {
    if (cell.tagName !== "TD") {
      var row = imageValues(cell.parentNode)[+cell.dataset.row] || [];
      var v = row[+cell.dataset.col];
      return v === null || v === undefined ? NaN : v;
    }
    var t = cell.textContent.trim();
    if (t === "inf") return Infinity;
    if (t === "-inf") return -Infinity;
    if (t === "nan" || t === "") return NaN;
    return parseFloat(t);
  }

  function textOf(cell, decimals) { return cell.tagName === "TD" ? cell.textContent.trim() : fmt(valueOf(cell), decimals); }

  function factor(cell, decimals) {  // a number as a factor of a product: negative ones in parentheses
    var t = textOf(cell, decimals);
    return t.charAt(0) === "-" ? "(" + t + ")" : t;
  }

  // ------------------------------------------------------------------------------------ relations
  /* A receptive field (cnnbook.explorer.tracing.Field): the input rows and columns of output cell (i, j),
     start + i*jump + offset, clipped to the input panel. */
  function fieldAxis(rel, axis, index, size) {
    var base = rel.start[axis] + index * rel.jump[axis];
    return rel.offsets[axis].map(function (a) { return base + a; }).filter(function (r) { return r >= 0 && r < size; });
  }

  /* The output indices along one axis whose field holds input index r. */
  function fieldReaders(rel, axis, r, outSize) {
    var found = [];
    for (var i = 0; i < outSize; i++) {
      var d = r - rel.start[axis] - i * rel.jump[axis];
      if (rel.offsets[axis].indexOf(d) >= 0) found.push(i);
    }
    return found;
  }

  function spans(list) {  // [0, 1, 2, 5, 7, 8] -> "0–2, 5, 7–8"
    var parts = [], k = 0;
    while (k < list.length) {
      var e = k;
      while (e + 1 < list.length && list[e + 1] === list[e] + 1) e++;
      parts.push(e > k ? list[k] + "–" + list[e] : String(list[k]));
      k = e + 1;
    }
    return parts.join(", ");
  }

  function pairs(rel, inShape, outShape) {
    var out = [], kh, kw, q = rel.q || 0;
    if (rel.kind === "ratio") return rel.cells.map(function (t) { return t.slice(); });
    if (rel.kind === "field") {
      for (var fi = 0; fi < outShape[0]; fi++) for (var fj = 0; fj < outShape[1]; fj++) {
        var rows = fieldAxis(rel, 0, fi, inShape[0]), cols = fieldAxis(rel, 1, fj, inShape[1]);
        rows.forEach(function (r) { cols.forEach(function (c) { out.push([fi, fj, r, c, -1, -1]); }); });
      }
      return out;
    }
    kh = rel.k[0]; kw = rel.k[1];
    function tap(u, v) {
      var t = rel.flip ? [kh - 1 - u, kw - 1 - v] : [u, v];
      return rel.kd ? [t[0] * rel.d[0], t[1] * rel.d[1]] : t;
    }
    var i, j, u, v, r, c, t;
    if (!rel.transposed) {
      for (i = 0; i < outShape[0]; i++) for (j = 0; j < outShape[1]; j++)
        for (u = 0; u < kh; u++) for (v = 0; v < kw; v++) {
          r = i * rel.s[0] + u * rel.d[0] - rel.p[0] + q;
          c = j * rel.s[1] + v * rel.d[1] - rel.p[1] + q;
          if (r >= 0 && r < inShape[0] && c >= 0 && c < inShape[1]) { t = tap(u, v); out.push([i, j, r, c, t[0], t[1]]); }
        }
    } else {
      for (r = 0; r < inShape[0]; r++) for (c = 0; c < inShape[1]; c++)
        for (u = 0; u < kh; u++) for (v = 0; v < kw; v++) {
          i = (r - q) * rel.s[0] + u * rel.d[0] - rel.p[0];
          j = (c - q) * rel.s[1] + v * rel.d[1] - rel.p[1];
          if (i >= 0 && i < outShape[0] && j >= 0 && j < outShape[1]) { t = tap(u, v); out.push([i, j, r, c, t[0], t[1]]); }
        }
    }
    return out;
  }

  /* The grid of panel `name`: its table.cnnbook-grid, or its div.cnnbook-img. */
  function tableOf(container, name) {
    if (!name) return null;
    var fig = container.querySelector('figure.cnnbook-panel[data-panel="' + name + '"]');
    return fig ? fig.querySelector("table.cnnbook-grid, div.cnnbook-img") : null;
  }

  function shapeOf(grid) {
    if (grid.tagName !== "TABLE") return [+grid.dataset.rows, +grid.dataset.cols];
    return [grid.rows.length, grid.rows.length ? grid.rows[0].cells.length : 0];
  }

  function cellAt(grid, r, c) {
    if (!grid) return null;
    if (grid.tagName === "TABLE") {
      var row = grid.rows[r];
      return row ? row.cells[c] || null : null;
    }
    var shape = shapeOf(grid);
    if (!(r >= 0 && r < shape[0] && c >= 0 && c < shape[1])) return null;
    var span = grid.querySelector('span[data-row="' + r + '"][data-col="' + c + '"]');
    if (!span) {
      span = el("span", {"class": "cnnbook-px", "data-row": r, "data-col": c});
      span.style.left = (100 * c / shape[1]) + "%";
      span.style.top = (100 * r / shape[0]) + "%";
      span.style.width = (100 / shape[1]) + "%";
      span.style.height = (100 / shape[0]) + "%";
      grid.appendChild(span);
    }
    return span;
  }

  // ------------------------------------------------------------------------------------ tracer
  var PLAY_DELAYS = [1600, 800, 400, 150, 40];  // ms per step for speeds 1..5

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }

  function Tracer(container) {
    this.container = container;
    this.pick = null;      // {panel, row, col}
    this.timer = null;
    this.panelsEl = null;
    this.bar = null;
    this.listeners = [];
    container.cnnbookTracer = this;
    tracers.push(this);
    var self = this;
    container.addEventListener("click", function (e) { self.onClick(e); });
    container.addEventListener("keydown", function (e) { self.onKey(e); });
    container.addEventListener("focusin", function (e) { self.onFocus(e); });
    // a click focuses before it picks: the click decides which cell (the focus must not move the layout first)
    container.addEventListener("mousedown", function () { self.pointer = true; });
    container.addEventListener("mouseup", function () { setTimeout(function () { self.pointer = false; }, 0); });
  }

  Tracer.prototype.relations = function () {
    var p = this.container.querySelector(".cnnbook-panels");
    return p && p.dataset.trace ? JSON.parse(p.dataset.trace) : [];
  };

  Tracer.prototype.tracedNames = function () {
    var names = {};
    this.relations().forEach(function (rel) { names[rel.out] = true; names[rel["in"]] = true; if (rel.den) names[rel.den] = true; });
    return names;
  };

  Tracer.prototype.makeBar = function () {
    var bar = el("div", {"class": "cnnbook-trace", role: "group", "aria-label": "trace the computation"});
    var self = this;
    var prev = el("button", {type: "button", "data-role": "prev", "aria-label": "previous output position"}, "◀ previous");
    var play = el("button", {type: "button", "data-role": "play", "aria-pressed": "false"}, "▶ play");
    var next = el("button", {type: "button", "data-role": "next", "aria-label": "next output position"}, "next ▶");
    var speedLabel = el("label", {}, "speed ");
    var speed = el("input", {type: "range", min: "1", max: "5", step: "1", value: "3", "data-role": "speed",
                             "aria-label": "play speed"});
    speedLabel.appendChild(speed);
    prev.addEventListener("click", function () { self.stop(); self.step(-1); });
    next.addEventListener("click", function () { self.stop(); self.step(1); });
    play.addEventListener("click", function () { if (self.timer) self.stop(); else self.play(); });
    speed.addEventListener("input", function () { if (self.timer) { self.stop(); self.play(); } });
    var buttons = el("div", {"class": "cnnbook-steps"});
    [prev, play, next, speedLabel].forEach(function (b) { buttons.appendChild(b); });
    bar.appendChild(buttons);
    var eq = el("p", {"data-role": "equation", "aria-live": "polite", "class": "cnnbook-equation"});
    bar.appendChild(eq);
    this.bar = bar;
    this.equation = eq;
    this.playButton = play;
    this.speed = speed;
    return bar;
  };

  Tracer.prototype.hint = function () {
    this.equation.textContent = "Pick a cell (click it, or Tab to a grid and use the arrow keys) to see what it is made of.";
  };

  /* After every render: number the cells, make the traced grids keyboard-reachable, show the bar only
     when the view can be traced, and trace the picked cell again (if the new view still has it). */
  Tracer.prototype.refresh = function () {
    var panels = this.container.querySelector(".cnnbook-panels");
    this.panelsEl = panels;
    if (!panels) return;
    var traced = this.tracedNames(), any = Object.keys(traced).length > 0;
    Array.prototype.forEach.call(panels.querySelectorAll("figure.cnnbook-panel"), function (fig) {
      var img = fig.querySelector("div.cnnbook-img");
      if (img && traced[fig.dataset.panel]) {
        img.tabIndex = 0;
        img.setAttribute("role", "grid");
        img.setAttribute("aria-label", fig.querySelector("figcaption").textContent + " (arrow keys pick a pixel)");
      }
      var table = fig.querySelector("table.cnnbook-grid");
      if (!table) return;
      var on = !!traced[fig.dataset.panel];
      if (on) {
        table.setAttribute("role", "grid");
        table.setAttribute("aria-label", fig.querySelector("figcaption").textContent);
      }
      Array.prototype.forEach.call(table.rows, function (tr, i) {
        Array.prototype.forEach.call(tr.cells, function (td, j) {
          td.dataset.row = i;
          td.dataset.col = j;
          if (on) {
            td.tabIndex = i === 0 && j === 0 ? 0 : -1;
            td.setAttribute("role", "gridcell");
          }
        });
      });
    });
    if (any && !this.bar) {
      var child = panels;
      while (child.parentNode && child.parentNode !== this.container) child = child.parentNode;
      this.container.insertBefore(this.makeBar(), child);
      this.hint();
    }
    if (this.bar) this.bar.hidden = !any;
    if (!any) { this.stop(); return; }
    var p = this.pick;
    var grid = p && tableOf(this.container, p.panel), shape = grid && shapeOf(grid);
    if (p && traced[p.panel] && grid && p.row < shape[0] && p.col < shape[1]) {
      this.select(p.panel, p.row, p.col, true);
    } else {
      this.pick = null;
      this.hint();
    }
  };

  Tracer.prototype.clear = function () {
    Array.prototype.forEach.call(this.container.querySelectorAll("td.linked, td.picked, td.routed"), function (td) {
      td.classList.remove("linked", "picked", "routed");
    });
    Array.prototype.forEach.call(this.container.querySelectorAll("span.cnnbook-px"), function (s) { s.remove(); });
  };

  Tracer.prototype.select = function (panel, row, col, quiet) {
    var container = this.container, table = tableOf(container, panel);
    if (!table) return;
    var shape = shapeOf(table);
    if (!(row >= 0 && row < shape[0] && col >= 0 && col < shape[1])) return;
    this.clear();
    if (this.panelsEl) this.panelsEl.classList.add("tracing");
    var td = cellAt(table, row, col);
    this.pick = {panel: panel, row: row, col: col};
    td.classList.add("picked");
    if (table.tagName === "TABLE") {
      Array.prototype.forEach.call(table.querySelectorAll("td[tabindex]"), function (c) { c.tabIndex = -1; });
      td.tabIndex = 0;
    }
    var lines = [];
    this.relations().forEach(function (rel) {
      var tin = tableOf(container, rel["in"]), tout = tableOf(container, rel.out), tk = tableOf(container, rel.kernel);
      if (rel.kind === "ratio") { ratioLines(rel, panel, row, col, container).forEach(function (l) { lines.push(l); }); return; }
      if (!tin || !tout || (panel !== rel.out && panel !== rel["in"])) return;
      if (rel.kind === "field") { lines.push(fieldLine(rel, panel, row, col, tin, tout, td)); return; }
      var all = pairs(rel, shapeOf(tin), shapeOf(tout)), sym = rel.sym;
      if (panel === rel.out) {
        var mine = all.filter(function (t) { return t[0] === row && t[1] === col; });
        mine.sort(function (a, b) { return rel.transposed ? (a[2] - b[2] || a[3] - b[3] || a[4] - b[4] || a[5] - b[5])
                                                         : (a[4] - b[4] || a[5] - b[5]); });
        lines.push(outputEquation(rel, mine, tin, tk, td));
      } else {
        var reads = all.filter(function (t) { return t[2] === row && t[3] === col; });
        reads.forEach(function (t) {
          var o = cellAt(tout, t[0], t[1]); if (o) o.classList.add("linked");
          var w = cellAt(tk, t[4], t[5]); if (w) w.classList.add("linked");
        });
        var names = [], seen = {};
        reads.forEach(function (t) { var key = t[0] + "," + t[1]; if (!seen[key]) { seen[key] = 1; names.push(sym[0] + "[" + t[0] + ", " + t[1] + "]"); } });
        var who = sym[1] + "[" + row + ", " + col + "]";
        if (!names.length) lines.push(who + " is read by no output" + (rel.transposed ? "" : " (the stride or the dilation skips it)"));
        else lines.push(who + (rel.transposed ? " stamps onto " : " is read by ") + names.length + " output" +
                        (names.length > 1 ? "s: " : ": ") + names.join(", "));
      }
    });
    this.equation.textContent = mergeLines(lines).join("  ·  ");
    this.listeners.forEach(function (fn) { fn(); });
  };

  /* A field's line: for an output cell, its field on the input and its value; for an input cell, the
     output cells whose field holds it ({merge, who, head, tail}: mergeLines joins the panels of equal lines). */
  function fieldLine(rel, panel, row, col, tin, tout, td) {
    var sym = rel.sym, inShape = shapeOf(tin), outShape = shapeOf(tout);
    if (panel === rel.out) {
      var rows = fieldAxis(rel, 0, row, inShape[0]), cols = fieldAxis(rel, 1, col, inShape[1]);
      rows.forEach(function (r) { cols.forEach(function (c) { cellAt(tin, r, c).classList.add("linked"); }); });
      var span = [rel.offsets[0][rel.offsets[0].length - 1] + 1, rel.offsets[1][rel.offsets[1].length - 1] + 1];
      var full = rows.length === rel.offsets[0].length && cols.length === rel.offsets[1].length;
      var holes = rel.offsets[0].length < span[0] || rel.offsets[1].length < span[1];
      var what = rows.length && cols.length
        ? sym[1] + " rows " + spans(rows) + ", columns " + spans(cols) + ": a " + span[0] + "×" + span[1] +
          " receptive field" + (holes ? " with holes" : "") + (full ? "" : ", clipped to the image") +
          (full && !holes ? "" : ", " + rows.length * cols.length + " pixels")
        : "no pixel of " + sym[1];
      return sym[0] + "[" + row + ", " + col + "] = " + rel.fn + "(" + what + ") = " + fmt(valueOf(td), rel.decimals);
    }
    var ri = fieldReaders(rel, 0, row, outShape[0]), ci = fieldReaders(rel, 1, col, outShape[1]);
    ri.forEach(function (i) { ci.forEach(function (j) { cellAt(tout, i, j).classList.add("linked"); }); });
    var who = sym[1] + "[" + row + ", " + col + "]";
    if (!ri.length || !ci.length) return {merge: who, who: sym[0], head: " is in the receptive field of no unit of ", tail: ""};
    var n = ri.length * ci.length;
    return {merge: who, who: sym[0], head: " is in the receptive field of " + n + " unit" + (n > 1 ? "s" : "") + " of ",
            tail: ": rows " + spans(ri) + ", columns " + spans(ci)};
  }

  /* A ratio's lines (cnnbook.explorer.tracing.Ratio): a picked quotient lights its numerator and its
     denominator and reads "label: a ÷ b [i, j] = 4672 / 36928 = 0.1265"; a picked numerator or
     denominator lights the quotients it enters and names them ({merge, who, head, tail}: mergeLines
     makes one line of a denominator that several ratios share). */
  function ratioLines(rel, panel, row, col, container) {
    var tout = tableOf(container, rel.out), tin = tableOf(container, rel["in"]), tden = tableOf(container, rel.den);
    if (!tout || !tin || !tden) return [];
    var sym = rel.sym, lines = [];
    rel.cells.forEach(function (t, k) {
      var label = rel.labels && rel.labels.length ? rel.labels[k] : "";
      var name = sym[1] + " ÷ " + sym[2] + " [" + t[0] + ", " + t[1] + "]";
      if (panel === rel.out && t[0] === row && t[1] === col) {
        var a = cellAt(tin, t[2], t[3]), b = cellAt(tden, t[4], t[5]);
        a.classList.add("linked");
        b.classList.add("linked");
        lines.push((label ? label + ": " : "") + name + " = " + textOf(a, rel.decimals) + " / " +
                   textOf(b, rel.decimals) + " = " + fmt(valueOf(a) / valueOf(b), rel.decimals));
      }
      var num = panel === rel["in"] && t[2] === row && t[3] === col;
      var den = panel === rel.den && t[4] === row && t[5] === col;
      if (!num && !den) return;
      cellAt(tout, t[0], t[1]).classList.add("linked");
      lines.push({merge: (num ? sym[1] : sym[2]) + " [" + row + ", " + col + "]" + (label ? " (" + label + ")" : ""),
                  who: name, tail: "",
                  head: num && den ? " is the numerator and the denominator of " : num ? " is the numerator of " : " is the denominator of "});
    });
    return lines;
  }

  function mergeLines(lines) {  // field (or ratio) lines of the same input cell with the same text: one line, naming every panel
    var out = [], at = {};
    lines.forEach(function (l) {
      if (typeof l === "string") { out.push(l); return; }
      var key = l.merge + l.head + "|" + l.tail;
      if (key in at) { out[at[key]].who.push(l.who); return; }
      at[key] = out.length;
      out.push({merge: l.merge, who: [l.who], head: l.head, tail: l.tail});
    });
    return out.map(function (l) { return typeof l === "string" ? l : l.merge + l.head + l.who.join(", ") + l.tail; });
  }

  function outputEquation(rel, mine, tin, tk, td) {
    var sym = rel.sym, head = sym[0] + "[" + td.dataset.row + ", " + td.dataset.col + "] = ";
    var values = [], terms = [], total = 0;
    mine.forEach(function (t) {
      var x = cellAt(tin, t[2], t[3]), w = cellAt(tk, t[4], t[5]);
      x.classList.add("linked");
      if (w) w.classList.add("linked");
      var xv = valueOf(x), wv = w ? valueOf(w) : 1;
      values.push({x: x, v: xv});
      terms.push(factor(x, rel.decimals) + "·" + (w ? factor(w, rel.decimals) : "1"));
      total += xv * wv;
    });
    if (rel.op === "max") {
      var best = null;
      values.forEach(function (e) { if (!isNaN(e.v) && (best === null || e.v > best.v)) best = e; });
      if (best) best.x.classList.add("routed");
      return head + "max(" + values.map(function (e) { return fmt(e.v, rel.decimals); }).join(", ") + ") = " +
             (best ? fmt(best.v, rel.decimals) : "-inf") + (best ? "  (the gradient flows back to " + sym[1] + "[" +
             best.x.dataset.row + ", " + best.x.dataset.col + "] only)" : "");
    }
    if (rel.op === "avg") {
      var n = rel.k[0] * rel.k[1], sum = 0;
      values.forEach(function (e) { sum += isNaN(e.v) ? 0 : e.v; });
      return head + "(" + values.map(function (e) { return isNaN(e.v) ? "0" : fmt(e.v, rel.decimals); }).join(" + ") +
             ")/" + n + " = " + fmt(sum / n, rel.decimals);
    }
    if (rel.bias !== null && rel.bias !== undefined) { terms.push(fmt(rel.bias, rel.decimals)); total += rel.bias; }
    return head + (terms.length ? terms.join(" + ") : "0") + " = " + fmt(total, rel.decimals);
  }

  Tracer.prototype.positions = function () {
    var rel = this.relations()[0], t = rel && tableOf(this.container, rel.out);
    if (!t) return [];
    var shape = shapeOf(t), out = [];
    for (var i = 0; i < shape[0]; i++) for (var j = 0; j < shape[1]; j++) out.push([i, j]);
    return {panel: rel.out, cells: out};
  };

  Tracer.prototype.step = function (delta) {
    var pos = this.positions();
    if (!pos.cells || !pos.cells.length) return false;
    var p = this.pick, n = pos.cells.length, at = -1;
    if (p && p.panel === pos.panel) at = p.row * shapeOf(tableOf(this.container, pos.panel))[1] + p.col;
    var to = at < 0 ? (delta > 0 ? 0 : n - 1) : at + delta;
    if (to < 0 || to >= n) return false;
    this.select(pos.panel, pos.cells[to][0], pos.cells[to][1]);
    return true;
  };

  Tracer.prototype.play = function () {
    var self = this, pos = this.positions();
    if (!pos.cells || !pos.cells.length) return;
    var p = this.pick;
    if (p && p.panel === pos.panel && p.row === pos.cells[pos.cells.length - 1][0] &&
        p.col === pos.cells[pos.cells.length - 1][1]) this.pick = null;  // at the end: start again
    this.playButton.textContent = "⏸ pause";
    this.playButton.setAttribute("aria-pressed", "true");
    var delay = PLAY_DELAYS[(+this.speed.value || 3) - 1];
    if (!this.pick || this.pick.panel !== pos.panel) this.step(1);
    this.timer = setInterval(function () { if (!self.step(1)) self.stop(); }, delay);
  };

  Tracer.prototype.stop = function () {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.playButton.textContent = "▶ play";
    this.playButton.setAttribute("aria-pressed", "false");
  };

  function tracedCell(tracer, target, e) {
    var hit = target && target.closest ? target.closest("td, div.cnnbook-img") : null;
    if (!hit || !tracer.container.contains(hit)) return null;
    var fig = hit.closest("figure.cnnbook-panel");
    if (!fig || !tracer.tracedNames()[fig.dataset.panel]) return null;
    if (hit.tagName === "TD") return {td: hit, grid: hit.closest("table"), panel: fig.dataset.panel, row: +hit.dataset.row, col: +hit.dataset.col};
    var shape = shapeOf(hit), row, col, p = tracer.pick;
    if (e && e.type === "click") {
      var box = hit.getBoundingClientRect();
      row = Math.floor((e.clientY - box.top) / box.height * shape[0]);
      col = Math.floor((e.clientX - box.left) / box.width * shape[1]);
      row = Math.min(Math.max(row, 0), shape[0] - 1);
      col = Math.min(Math.max(col, 0), shape[1] - 1);
    } else if (p && p.panel === fig.dataset.panel) { row = p.row; col = p.col; }
    else { row = 0; col = 0; }
    return {td: null, grid: hit, panel: fig.dataset.panel, row: row, col: col};
  }

  Tracer.prototype.onClick = function (e) {
    var copy = e.target.closest && e.target.closest('[data-role="copy-call"]');
    if (copy && this.container.contains(copy)) {
      var code = copy.parentNode.querySelector('[data-role="torch-call"]');
      copyText(code.textContent, copy.parentNode);
      return;
    }
    var hit = tracedCell(this, e.target, e);
    if (!hit) return;
    this.stop();
    this.select(hit.panel, hit.row, hit.col);
  };

  Tracer.prototype.onFocus = function (e) {
    if (this.pointer) return;
    var hit = tracedCell(this, e.target);
    if (!hit) return;
    var p = this.pick;
    if (p && p.panel === hit.panel && p.row === hit.row && p.col === hit.col) return;
    this.select(hit.panel, hit.row, hit.col);
  };

  var MOVES = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]};

  Tracer.prototype.onKey = function (e) {
    var hit = tracedCell(this, e.target);
    if (!hit) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.stop();
      this.select(hit.panel, hit.row, hit.col);
      return;
    }
    var move = MOVES[e.key];
    if (!move) return;
    e.preventDefault();
    var shape = shapeOf(hit.grid);
    var r = Math.min(Math.max(hit.row + move[0], 0), shape[0] - 1);
    var c = Math.min(Math.max(hit.col + move[1], 0), shape[1] - 1);
    this.stop();
    if (!hit.td) { this.select(hit.panel, r, c); return; }
    var to = cellAt(hit.grid, r, c);
    if (to && to !== hit.td) to.focus();
  };

  function copyText(text, near) {
    function done(ok) {
      var note = near.querySelector(".cnnbook-copied") || near.appendChild(el("span", {"class": "cnnbook-copied", role: "status"}));
      note.textContent = ok ? " copied" : " (select the text and copy it)";
    }
    function fallback() {
      var ta = el("textarea", {"aria-hidden": "true", style: "position:fixed;left:-9999px"});
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      document.body.removeChild(ta);
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else fallback();
  }

  // ------------------------------------------------------------------------------------ own image
  /* The reader's own image on the website (data-own-image on the root, from cnnbook.explorer.images.
     OwnImage.browser): {kind: "correlate", kernels: {value of the kernel control: 3x3 rows},
     kernel_control, operation_control, flip (the operation value that rotates the kernel by 180
     degrees), padding, panel (the output panel), max: [height, width], min}. The file is decoded by the
     browser, made grey with 0.299 R + 0.587 G + 0.114 B of values scaled to [0, 1] (as
     cnnbook.explorer.images.grey_from_bytes), scaled down when larger than max, and every view then
     shows the correlation of that image, zero-padded, computed here. */
  function OwnImage(viewer, spec) {
    this.viewer = viewer;
    this.spec = spec;
    this.grey = null;
    var self = this, root = viewer.root;
    var box = el("div", {"class": "cnnbook-own"});
    var label = el("label", {}, "your image ");
    this.input = el("input", {type: "file", accept: "image/*", "data-role": "own-image"});
    label.appendChild(this.input);
    this.bookButton = el("button", {type: "button", "data-role": "book-image"}, "the book's image");
    this.bookButton.disabled = true;
    this.message = el("span", {"data-role": "image-message", role: "status"});
    [label, this.bookButton, this.message].forEach(function (e) { box.appendChild(e); });
    var controls = root.querySelector(".cnnbook-controls");
    controls.parentNode.insertBefore(box, controls.nextSibling);
    this.input.addEventListener("change", function () { self.load(self.input.files[0]); });
    this.bookButton.addEventListener("click", function () {
      self.grey = null;
      self.bookButton.disabled = true;
      self.input.value = "";
      root.dataset.image = "book";
      viewer.render();
      self.say("Back to the book's image.", false);
    });
    viewer.onRender(function () { if (self.grey) self.apply(); });
    root.dataset.image = "book";
  }

  OwnImage.prototype.say = function (text, problem) {
    this.message.className = problem ? "cnnbook-image-problem" : "cnnbook-image-note";
    this.message.textContent = text;
  };

  OwnImage.prototype.load = function (file) {
    var self = this, spec = this.spec;
    if (!file) return;
    var name = "“" + file.name + "”";
    if (!file.size) { this.say(name + " is empty: choose an image file (PNG or JPEG, for example).", true); return; }
    if (!window.createImageBitmap) { this.say("This browser cannot read images here.", true); return; }
    createImageBitmap(file).then(function (bitmap) {
      var w = bitmap.width, h = bitmap.height, mh = spec.max[0], mw = spec.max[1];
      if (Math.min(w, h) < spec.min) {
        self.say(name + " is " + w + "×" + h + " pixels: this explorer needs at least " + spec.min + "×" + spec.min +
                 " (its largest kernel).", true);
        return;
      }
      var nw = w, nh = h, note = "Showing your image (" + w + "×" + h + " pixels, in grey).";
      if (h > mh || w > mw) {
        var f = Math.min(mh / h, mw / w);
        nh = Math.max(spec.min, Math.floor(h * f));
        nw = Math.max(spec.min, Math.floor(w * f));
        note = "Your image (" + w + "×" + h + " pixels) was scaled down to " + nw + "×" + nh +
               " to fit this explorer (at most " + mw + "×" + mh + "), and made grey.";
      }
      var canvas = el("canvas");
      canvas.width = nw;
      canvas.height = nh;
      var ctx = canvas.getContext("2d", {willReadFrequently: true});
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(bitmap, 0, 0, nw, nh);
      var rgba = ctx.getImageData(0, 0, nw, nh).data, grey = new Float64Array(nw * nh);
      for (var i = 0; i < nw * nh; i++) {
        grey[i] = rgba[4 * i] / 255 * 0.299 + rgba[4 * i + 1] / 255 * 0.587 + rgba[4 * i + 2] / 255 * 0.114;
      }
      self.grey = grey;
      self.shape = [nh, nw];
      self.bookButton.disabled = false;
      self.viewer.root.dataset.image = "own";
      self.apply();
      self.viewer.tracer.pick = null;
      self.viewer.tracer.clear();
      self.viewer.tracer.refresh();
      self.say(note, false);
    }, function () {
      self.say(name + " is not an image this browser can read: choose a PNG or JPEG file.", true);
    });
  };

  /* The correlation of the grey image with the chosen kernel (zero padding), drawn into the output panel. */
  OwnImage.prototype.compute = function () {
    var spec = this.spec, setting = this.viewer.setting(), k = spec.kernels[setting[spec.kernel_control]];
    var kh = k.length, kw = k[0].length, p = spec.padding, h = this.shape[0], w = this.shape[1];
    if (setting[spec.operation_control] === spec.flip) k = k.slice().reverse().map(function (r) { return r.slice().reverse(); });
    var oh = h + 2 * p - kh + 1, ow = w + 2 * p - kw + 1, y = new Float64Array(oh * ow), grey = this.grey;
    for (var i = 0; i < oh; i++) for (var j = 0; j < ow; j++) {
      var acc = 0;
      for (var u = 0; u < kh; u++) {
        var r = i + u - p;
        if (r < 0 || r >= h) continue;
        for (var v = 0; v < kw; v++) {
          var c = j + v - p;
          if (c >= 0 && c < w) acc += k[u][v] * grey[r * w + c];
        }
      }
      y[i * ow + j] = acc;
    }
    return {shape: [oh, ow], values: y};
  };

  /* Draw h×w values (lo..hi as black..white) into the image of panel `name`, scaled like the static face
     (cnnbook.explorer.static._panel_image); returns its div.cnnbook-img. */
  function drawGrey(root, name, values, h, w, lo, hi, alt) {
    var canvas = el("canvas");
    canvas.width = w;
    canvas.height = h;
    var ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
    for (var i = 0; i < h * w; i++) {
      var g = Math.round(Math.min(Math.max((values[i] - lo) / (hi - lo), 0), 1) * 255);
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    var fig = root.querySelector('figure.cnnbook-panel[data-panel="' + name + '"]');
    var wrap = fig.querySelector(".cnnbook-img"), picture = wrap.querySelector("img");
    var scale = Math.max(Math.max(1, Math.floor(192 / Math.max(h, w))), Math.ceil(192 / w));
    picture.src = canvas.toDataURL();
    picture.width = w * scale;
    picture.height = h * scale;
    picture.alt = alt;
    wrap.dataset.rows = h;
    wrap.dataset.cols = w;
    var dim = fig.querySelector(".cnnbook-dim");
    if (dim) dim.textContent = h + "×" + w;
    return wrap;
  }

  OwnImage.prototype.apply = function () {
    var out = this.compute(), root = this.viewer.root, y = out.values, oh = out.shape[0], ow = out.shape[1];
    this.output = out;
    var lim = 0, signed = false;
    for (var i = 0; i < y.length; i++) { lim = Math.max(lim, Math.abs(y[i])); if (y[i] < 0) signed = true; }
    lim = lim || 1;
    drawGrey(root, this.spec.panel, y, oh, ow, signed ? -lim : 0, lim, "the kernel applied to your image");
    var shape = root.querySelector('[data-role="shape"]');
    if (shape) shape.textContent = "(" + oh + ", " + ow + ")";
    var text = root.querySelector(".cnnbook-text");
    if (text) text.textContent = "your image: " + this.shape[0] + " rows × " + this.shape[1] + " columns, padding " +
                                 this.spec.padding + ", so the output is " + oh + "×" + ow;
    root.dataset.shape = JSON.stringify([oh, ow]);
    root.dataset.checksum = "";
    if (this.spec.input_panel) {  // the reader's image itself, with its values (the terms of the equation line)
      var h = this.shape[0], w = this.shape[1], grey = this.grey, rows = [];
      var wrap = drawGrey(root, this.spec.input_panel, grey, h, w, 0, 1, "your image, in grey");
      for (var r = 0; r < h; r++) rows.push(Array.prototype.slice.call(grey, r * w, (r + 1) * w));
      wrap.cnnbookValues = rows;
      wrap.removeAttribute("data-values");
      wrap.removeAttribute("data-values-ref");
    }
  };

  // ------------------------------------------------------------------------------------ static viewer
  function Viewer(root) {
    this.root = root;
    this.data = JSON.parse(root.querySelector(':scope > script[type="application/json"]').textContent);
    this.controls = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
    this.body = root.querySelector(".cnnbook-body");
    this.listeners = [];
    var self = this;
    this.controls.forEach(function (c) {
      c.addEventListener("input", function () { self.render(); self.share(); });
      c.addEventListener("change", function () { self.render(); self.share(); });
    });
    var bar = root.querySelector(".cnnbook-controls");
    var copy = el("button", {type: "button", "data-role": "copy-link"}, "copy link");
    copy.addEventListener("click", function () { self.share(true); copyText(location.href, copy.parentNode); });
    var wrap = el("span", {"class": "cnnbook-share"});
    wrap.appendChild(copy);
    bar.appendChild(wrap);
    this.tracer = new Tracer(root);
    if (root.dataset.ownImage) this.own = new OwnImage(this, JSON.parse(root.dataset.ownImage));
    this.tracer.listeners.push(function () { if (self.shared) self.share(); });
    this.onRender(function () { self.tracer.refresh(); });
  }

  Viewer.prototype.indices = function () {
    return this.controls.map(function (c) { return c.tagName === "SELECT" ? c.selectedIndex : +c.value; });
  };

  Viewer.prototype.setting = function () {
    var values = this.data.values, idx = this.indices(), setting = {};
    this.controls.forEach(function (c, k) { setting[c.dataset.control] = values[k][idx[k]]; });
    return setting;
  };

  Viewer.prototype.select = function (indices) {
    this.controls.forEach(function (c, k) {
      if (c.tagName === "SELECT") c.selectedIndex = indices[k]; else c.value = String(indices[k]);
    });
    this.render();
  };

  Viewer.prototype.onRender = function (fn) { this.listeners.push(fn); };

  Viewer.prototype.render = function () {
    var root = this.root, data = this.data, idx = this.indices();
    this.controls.forEach(function (c, k) {
      var out = root.querySelector('[data-value-of="' + c.dataset.control + '"]');
      if (out) out.textContent = data.labels[k][idx[k]];
    });
    var entry = data.entries[idx.join(",")];
    this.body.innerHTML = data.fragments[entry[0]].replace(/data-trace-ref="(\d+)"/g, function (m, k) {
      return 'data-trace="' + data.traces[+k] + '"';  // written once in the payload (static.payload)
    });
    root.dataset.shape = entry[1];
    root.dataset.checksum = entry[2];
    root.dataset.setting = JSON.stringify(this.setting());
    var self = this;
    this.listeners.forEach(function (fn) { fn(self); });
  };

  /* The URL fragment of this explorer's setting (and picked cell): written when the reader moves one
     of its controls (or picks a cell after that), restored by restore(). */
  Viewer.prototype.fragment = function () {
    var params = new URLSearchParams(), values = this.data.values, idx = this.indices();
    params.set("explorer", this.root.dataset.explorer);
    this.controls.forEach(function (c, k) { params.set(c.dataset.control, String(values[k][idx[k]])); });
    var p = this.tracer.pick;
    if (p) params.set("pick", p.panel + "." + p.row + "." + p.col);
    return "#" + params.toString();
  };

  Viewer.prototype.share = function () {
    this.shared = true;
    viewers.forEach(function (v) { if (v !== this) v.shared = false; }, this);
    if (history.replaceState) history.replaceState(null, "", this.fragment());
    else location.hash = this.fragment();
  };

  Viewer.prototype.restore = function (hash) {
    var params = new URLSearchParams((hash || "").replace(/^#/, ""));
    if (params.get("explorer") !== this.root.dataset.explorer) return false;
    var values = this.data.values, idx = this.indices();
    this.controls.forEach(function (c, k) {
      var want = params.get(c.dataset.control);
      if (want === null) return;
      var at = values[k].map(String).indexOf(want);
      if (at >= 0) idx[k] = at;
    });
    this.select(idx);
    var pick = (params.get("pick") || "").split(".");
    if (pick.length >= 3) {
      var col = +pick.pop(), row = +pick.pop();
      this.tracer.select(pick.join("."), row, col);
    }
    this.shared = true;
    this.root.scrollIntoView();
    return true;
  };

  function mount(root) {
    if (root.cnnbookViewer) return root.cnnbookViewer;
    var viewer = new Viewer(root);
    root.cnnbookViewer = viewer;
    viewers.push(viewer);
    // A browser that restores form fields (back/forward) may show other positions than the page's.
    if (JSON.stringify(viewer.setting()) !== root.dataset.setting) viewer.render();
    else viewer.tracer.refresh();
    plugins.forEach(function (fn) { fn(viewer); });
    root.dataset.ready = "1";
    return viewer;
  }

  function mountAll() {
    var roots = document.querySelectorAll("[data-explorer]");
    Array.prototype.forEach.call(roots, function (root) {
      if (root.querySelector(':scope > script[type="application/json"]')) mount(root);
    });
    restoreFromHash();
  }

  function restoreFromHash() {
    if (!location.hash) return;
    for (var k = 0; k < viewers.length; k++) if (viewers[k].restore(location.hash)) return;
  }

  // ------------------------------------------------------------------------------------ live face
  /* JupyterLab: the live widget (.cnnbook-live-explorer) re-renders its HTML output on every change;
     one observer gives each widget a Tracer and refreshes it when its panels are replaced. */
  function watchLive() {
    if (!window.MutationObserver || !document.body) return;
    function scan() {
      Array.prototype.forEach.call(document.querySelectorAll(".cnnbook-live-explorer"), function (box) {
        var t = box.cnnbookTracer || new Tracer(box);
        if (box.querySelector(".cnnbook-panels") !== t.panelsEl) t.refresh();
      });
    }
    new MutationObserver(scan).observe(document.body, {childList: true, subtree: true});
    scan();
  }

  window.cnnbookExplorers = {
    mount: mount,
    viewers: viewers,
    tracers: tracers,
    pairs: pairs,
    values: imageValues,
    addPlugin: function (fn) { plugins.push(fn); viewers.forEach(function (v) { fn(v); }); }
  };
  function start() { mountAll(); watchLive(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.addEventListener("hashchange", restoreFromHash);
})();
