// planner's pages: the few things a server-rendered page cannot do alone.
"use strict";

// ---- the run page: follow the solve until it ends, then show the plan ----
(function progress() {
  const box = document.getElementById("progress");
  if (!box || box.dataset.final === "yes") return;
  const id = box.dataset.run;
  const fmt = (x, d) => (x === null || x === undefined) ? "—" : Number(x).toLocaleString("en", {minimumFractionDigits: d, maximumFractionDigits: d});
  async function poll() {
    try {
      const r = await fetch(`/runs/${id}/status`, {headers: {"Accept": "application/json"}, credentials: "same-origin"});
      if (!r.ok) throw new Error(String(r.status));
      const s = await r.json();
      if (s.final) { window.location.reload(); return; }
      document.getElementById("status-words").textContent = s.words;
      const badge = document.getElementById("status-badge");
      badge.textContent = s.status; badge.className = "badge " + s.status;
      const p = s.progress;
      if (p) {
        document.getElementById("progress-line").textContent =
          `best plan ${fmt(p.incumbent, 2)}, bound ${fmt(p.bound, 2)}, gap ${fmt((p.gap || 0) * 100, 2)} %, ${fmt(p.elapsed, 0)} s`;
        const bar = document.getElementById("progress-bar");
        if (p.gap !== null && p.gap !== undefined) bar.value = Math.max(0, Math.min(1, 1 - p.gap));
      }
    } catch (e) { /* a missed poll is retried */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 700);
})();

// ---- the run page: charts (plotly.js, loaded with defer) ----
window.addEventListener("DOMContentLoaded", function charts() {
  const spec = document.getElementById("figures");
  if (!spec || !window.Plotly) return;
  const figures = JSON.parse(spec.textContent);
  const config = {responsive: true, displaylogo: false};
  const draw = (id, fig) => { if (document.getElementById(id) && fig) Plotly.newPlot(id, fig.data, fig.layout, config); };
  draw("chart-orders", figures.orders);
  draw("chart-service", figures.service);
  draw("chart-profit", figures.profit);
  draw("chart-frontier", figures.frontier);
  const inv = figures.inventory, pick = document.getElementById("product");
  if (!inv || !pick) return;
  inv.products.forEach(p => { const o = document.createElement("option"); o.value = o.textContent = p; pick.appendChild(o); });
  if (inv.total_products > inv.products.length) {
    document.getElementById("product-note").textContent =
      `the ${inv.products.length.toLocaleString("en")} products with the most safety stock, of ${inv.total_products.toLocaleString("en")}; every product is in the downloads`;
  }
  function show() {
    const s = inv.series[pick.value];
    if (!s) return;
    Plotly.react("chart-inventory", [
      {type: "scatter", mode: "lines+markers", name: "on hand", x: inv.periods, y: s.on_hand, line: {color: "#1f5fa8"},
       hovertemplate: "%{x}: %{y:,.0f} units on hand<extra></extra>"},
      {type: "scatter", mode: "lines", name: "safety stock", x: inv.periods, y: s.safety_stock, line: {color: "#d9822b", dash: "dash"},
       hovertemplate: "%{x}: %{y:,.0f} units of safety stock<extra></extra>"},
    ], Object.assign({}, inv.layout, {title: {text: `Inventory against safety stock: ${pick.value}`, font: {size: 15}}}), config);
  }
  pick.addEventListener("change", show);
  show();
});

// ---- the new-run form: refuse files too large before sending them ----
(function sizes() {
  const input = document.getElementById("files");
  if (!input) return;
  const LIMIT = 20 * 1024 * 1024;
  const box = document.getElementById("files-size");
  const form = document.getElementById("new-run");
  function check() {
    const total = Array.from(input.files).reduce((n, f) => n + f.size, 0);
    const bad = Array.from(input.files).filter(f => !/\.(xlsx|csv|json)$/i.test(f.name));
    let msg = "";
    if (total > LIMIT) msg = `These files are ${(total / 1048576).toLocaleString("en", {maximumFractionDigits: 1})} MB together; one run may upload at most 20 MB.`;
    else if (bad.length) msg = `${bad.map(f => f.name).join(", ")}: not a workbook (.xlsx), CSV or JSON file.`;
    box.textContent = msg; box.hidden = !msg;
    return !msg;
  }
  input.addEventListener("change", check);
  form.addEventListener("submit", e => { if (!check()) { e.preventDefault(); input.focus(); } });
})();

// ---- the runs list: compare needs exactly two ----
(function compare() {
  const button = document.getElementById("compare");
  if (!button) return;
  const boxes = () => Array.from(document.querySelectorAll("input[name=pick]"));
  const update = () => { button.disabled = boxes().filter(b => b.checked).length !== 2; };
  boxes().forEach(b => b.addEventListener("change", update));
  update();
})();
