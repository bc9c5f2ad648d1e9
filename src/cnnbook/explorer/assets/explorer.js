/* cnnbook explorers, static face: every state of an explorer was computed when the page was built and
   sits in its <script type="application/json"> (cnnbook.explorer.static.payload); moving a control shows
   the precomputed view of the new setting. Loaded once per page; mounts every [data-explorer] on it.

   window.cnnbookExplorers:
     mount(root)      -> the Viewer of one root element (mounted once; later calls return the same one)
     viewers          -> every Viewer mounted so far, in page order
     addPlugin(fn)    -> fn(viewer) is called for every viewer, now and when mounted later
   A Viewer: root, data (the payload), controls (the [data-control] elements), indices() (the position
   of each control), setting() (control name -> value), select(indices) (move the controls and show that
   state), onRender(fn) (fn(viewer) after every render, e.g. to attach handlers to the new cells). */
(function () {
  "use strict";
  if (window.cnnbookExplorers) return;  // the script was included twice: one copy is enough

  var viewers = [];
  var plugins = [];

  function Viewer(root) {
    this.root = root;
    this.data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
    this.controls = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
    this.body = root.querySelector(".cnnbook-body");
    this.listeners = [];
    var self = this;
    this.controls.forEach(function (c) {
      c.addEventListener("input", function () { self.render(); });
      c.addEventListener("change", function () { self.render(); });
    });
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
    this.body.innerHTML = data.fragments[entry[0]];
    root.dataset.shape = entry[1];
    root.dataset.checksum = entry[2];
    root.dataset.setting = JSON.stringify(this.setting());
    var self = this;
    this.listeners.forEach(function (fn) { fn(self); });
  };

  function mount(root) {
    if (root.cnnbookViewer) return root.cnnbookViewer;
    var viewer = new Viewer(root);
    root.cnnbookViewer = viewer;
    root.dataset.ready = "1";
    viewers.push(viewer);
    // A browser that restores form fields (back/forward) may show other positions than the page's.
    if (JSON.stringify(viewer.setting()) !== root.dataset.setting) viewer.render();
    plugins.forEach(function (fn) { fn(viewer); });
    return viewer;
  }

  function mountAll() {
    var roots = document.querySelectorAll("[data-explorer]");
    Array.prototype.forEach.call(roots, function (root) {
      if (root.querySelector('script[type="application/json"]')) mount(root);
    });
  }

  window.cnnbookExplorers = {
    mount: mount,
    viewers: viewers,
    addPlugin: function (fn) { plugins.push(fn); viewers.forEach(function (v) { fn(v); }); }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
