// The HTML report's own style and script, inlined into the page. The script is plain ES2020 run by
// the browser (not compiled with the project): it draws the Vega specs compiled in Node, and keeps
// the view state (metric, hidden variants) in the URL hash.

export const PAGE_STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:76rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.2rem .5rem;vertical-align:top}
th{background:#f4f4f4;text-align:left}.num{text-align:right;font-variant-numeric:tabular-nums}
.import .import{margin-left:1.2rem}details.import>summary{cursor:pointer}
table.sortable th{cursor:pointer}table.sortable th[aria-sort=ascending]::after{content:" ▲"}table.sortable th[aria-sort=descending]::after{content:" ▼"}
figure.chart{display:inline-block;margin:0 1rem 1rem 0;vertical-align:top}figcaption{color:#555;font-size:12px;max-width:40rem}
#controls{position:sticky;top:0;background:#fff;padding:.4rem 0;border-bottom:1px solid #ddd;z-index:1}
#controls fieldset{display:inline;border:0;margin:0;padding:0 0 0 1rem}#controls legend{display:inline;float:left;padding-right:.5rem}
#tooltip{position:absolute;background:#fff;border:1px solid #888;padding:.3rem .5rem;font-size:12px;pointer-events:none;box-shadow:0 1px 4px #0003;z-index:2}
.incomplete{background:#fff3cd;padding:.5rem;border:1px solid #e0c36b}code{font-size:12px;word-break:break-all}
footer{color:#777;font-size:12px;margin-top:2rem}
.role-legend-label text,.role-legend-symbol path{pointer-events:auto;cursor:pointer}
`;

export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('memcompare-data').textContent);
  var state = { metric: 'pss', hidden: new Set() };
  var views = {};
  var tip = document.getElementById('tooltip');
  // For the browser test and the curious: the state, the views, and a promise of the last drawing.
  var api = { data: data, state: state, views: views, ready: null };
  window.memcompare = api;

  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    var m = p.get('metric');
    if (m && Object.prototype.hasOwnProperty.call(data.metrics, m)) state.metric = m;
    state.hidden = new Set((p.get('hide') || '').split(',').filter(function (v) { return data.variants.indexOf(v) >= 0; }));
  }
  function writeHash() {
    var p = new URLSearchParams();
    p.set('metric', state.metric);
    if (state.hidden.size > 0) p.set('hide', Array.from(state.hidden).join(','));
    history.replaceState(null, '', '#' + p.toString());
  }
  function tooltip(handler, event, item, value) {
    if (value === null || value === undefined || value === '') { tip.hidden = true; return; }
    tip.textContent = '';
    if (typeof value === 'object') {
      Object.keys(value).forEach(function (k) {
        var line = document.createElement('div');
        line.textContent = k + ': ' + value[k];
        tip.appendChild(line);
      });
    } else tip.textContent = String(value);
    tip.style.left = (event.pageX + 12) + 'px';
    tip.style.top = (event.pageY + 12) + 'px';
    tip.hidden = false;
  }
  // A hidden variant's rows leave every dataset that has a variant column; the chart is drawn again.
  function withoutHidden(spec) {
    var s = JSON.parse(JSON.stringify(spec));
    (s.data || []).forEach(function (d) {
      if (Array.isArray(d.values)) d.values = d.values.filter(function (r) { return !(r && typeof r === 'object' && state.hidden.has(r.variant)); });
    });
    return s;
  }
  // Vega-Lite's legends take no pointer events; a click on an entry should hide its variant.
  function clickableLegends(node) {
    (node.legends || []).forEach(function (l) {
      l.encode = l.encode || {};
      ['symbols', 'labels'].forEach(function (part) {
        l.encode[part] = l.encode[part] || {};
        l.encode[part].interactive = true;
        l.encode[part].update = Object.assign({ cursor: { value: 'pointer' } }, l.encode[part].update || {});
      });
    });
    (node.marks || []).forEach(clickableLegends);
    return node;
  }
  function draw(key) {
    var chart = data.charts[key];
    var spec = chart.specs[key === 'processes' ? state.metric : 'default'];
    var el = document.querySelector('[data-chart="' + key + '"] .view');
    if (views[key]) views[key].finalize();
    el.textContent = '';
    var view = new vega.View(vega.parse(clickableLegends(withoutHidden(spec))), { renderer: 'svg', container: el, hover: true });
    view.tooltip(tooltip);
    // A click on a legend entry hides that variant (the checkboxes bring it back).
    view.addEventListener('click', function (event, item) {
      var d = item && item.datum;
      if (d && item.mark && /legend/.test(item.mark.role || '') && data.variants.indexOf(d.value) >= 0) toggle(d.value, false);
    });
    views[key] = view;
    return view.runAsync();
  }
  function drawAll() { return Promise.all(Object.keys(data.charts).map(draw)); }
  function toggle(variant, shown) {
    if (shown) state.hidden.delete(variant); else state.hidden.add(variant);
    syncControls();
    writeHash();
    api.ready = drawAll();
    return api.ready;
  }
  function syncControls() {
    document.getElementById('metric').value = state.metric;
    document.querySelectorAll('#variants input').forEach(function (box) { box.checked = !state.hidden.has(box.value); });
  }
  function sortable(table) {
    table.querySelectorAll('th').forEach(function (th, i) {
      function sort() {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        table.querySelectorAll('th').forEach(function (o) { o.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.from(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[i], y = b.cells[i];
          var vx = x.dataset.value !== undefined ? Number(x.dataset.value) : x.textContent;
          var vy = y.dataset.value !== undefined ? Number(y.dataset.value) : y.textContent;
          var c = typeof vx === 'number' ? vx - vy : String(vx).localeCompare(String(vy));
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
    });
  }

  readHash();
  var controls = document.getElementById('controls');
  controls.hidden = false;
  controls.addEventListener('submit', function (e) { e.preventDefault(); });
  syncControls();
  document.getElementById('metric').addEventListener('change', function (e) {
    state.metric = e.target.value;
    writeHash();
    api.ready = draw('processes');
  });
  document.querySelectorAll('#variants input').forEach(function (box) {
    box.addEventListener('change', function () { toggle(box.value, box.checked); });
  });
  document.querySelectorAll('table.sortable').forEach(sortable);
  api.ready = drawAll();
})();
`;
