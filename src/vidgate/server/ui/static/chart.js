// A stacked bar chart as inline SVG (no library): one bar per day, one colour per series, with a
// legend and the same figures in a table for screen readers and copying.
"use strict";

const Chart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const COLOURS = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#65a30d", "#db2777"];

  function svg(tag, attrs = {}) {
    const node = document.createElementNS(NS, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    return node;
  }

  // days: ["YYYY-MM-DD", ...]; series: Map(name -> Map(day -> usd))
  function stacked(figure, title, days, series) {
    const names = [...series.keys()];
    const totals = days.map((d) => names.reduce((sum, n) => sum + (series.get(n).get(d) || 0), 0));
    const top = Math.max(...totals, 0) || 1;
    const width = 640;
    const height = 240;
    const pad = { left: 56, right: 8, top: 8, bottom: 28 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const bar = plotW / Math.max(days.length, 1);
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart-svg" });
    for (const frac of [0, 0.5, 1]) {
      const y = pad.top + plotH * (1 - frac);
      root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, stroke: "#d1d5db" }));
      const label = svg("text", { x: pad.left - 6, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "currentColor" });
      label.textContent = VG.usd(top * frac);
      root.append(label);
    }
    days.forEach((day, i) => {
      let y = pad.top + plotH;
      names.forEach((name, j) => {
        const value = series.get(name).get(day) || 0;
        if (!value) return;
        const h = (value / top) * plotH;
        y -= h;
        const rect = svg("rect", { x: pad.left + i * bar + bar * 0.15, y, width: Math.max(bar * 0.7, 1), height: h, fill: COLOURS[j % COLOURS.length] });
        const tip = svg("title");
        tip.textContent = `${day} · ${name}: $${value.toFixed(4)}`;
        rect.append(tip);
        root.append(rect);
      });
      if (days.length <= 10 || i % Math.ceil(days.length / 8) === 0) {
        const label = svg("text", { x: pad.left + i * bar + bar / 2, y: height - 8, "text-anchor": "middle", "font-size": 11, fill: "currentColor" });
        label.textContent = day.slice(5);
        root.append(label);
      }
    });
    const legend = VG.el("ul", { className: "legend" },
      ...names.map((name, j) => VG.el("li", {}, VG.el("span", { className: `swatch c${j % COLOURS.length}`, "aria-hidden": "true" }), ` ${name}`)));
    const table = VG.el("table", { className: "figures" },
      VG.el("caption", { text: `${title} (figures)` }),
      VG.el("thead", {}, VG.el("tr", {}, VG.el("th", { scope: "col", text: "Day" }), ...names.map((n) => VG.el("th", { scope: "col", text: n })))),
      VG.el("tbody", {}, ...days.filter((_, i) => totals[i] > 0).map((day) =>
        VG.el("tr", {}, VG.el("th", { scope: "row", text: day }), ...names.map((n) => VG.el("td", { text: VG.usd(series.get(n).get(day) || 0) }))))));
    const details = VG.el("details", {}, VG.el("summary", { text: "Figures" }), table);
    figure.replaceChildren(root, legend, details);
  }

  return { stacked };
})();
