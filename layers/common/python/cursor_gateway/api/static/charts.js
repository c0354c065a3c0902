// Stacked bar charts drawn as SVG (no chart library, nothing to fetch or license). Labels and tooltips
// are text nodes, so series names from the server (model ids, account emails) can never become markup.
"use strict";
(() => {
  const NS = "http://www.w3.org/2000/svg";
  const COLOURS = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6", "--c7", "--c8"];
  const MAX_SERIES = 7; // the rest are summed as "other" so the legend stays readable

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function colour(index) {
    return "var(" + COLOURS[index % COLOURS.length] + ")";
  }

  function short(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(1) + "G";
    if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (n >= 1e3) return (n / 1e3).toFixed(1) + "k";
    return String(Math.round(n));
  }

  // A round step (1, 2 or 5 x 10^k) so the four grid lines read as whole, distinct numbers.
  function niceStep(rough) {
    const magnitude = Math.pow(10, Math.floor(Math.log10(Math.max(rough, 1))));
    for (const factor of [1, 2, 5, 10]) if (factor * magnitude >= rough) return factor * magnitude;
    return 10 * magnitude;
  }

  // Keep the biggest series, fold the others into one. Each keeps the colour of its place in the
  // caller's list, so "Output" is the same colour whether or not "Cached input" has data.
  function topSeries(series, otherLabel) {
    const ranked = series
      .map((s, index) => ({ ...s, colour: s.colour ?? index, sum: s.values.reduce((a, b) => a + b, 0) }))
      .filter((s) => s.sum > 0)
      .sort((a, b) => b.sum - a.sum);
    if (ranked.length <= MAX_SERIES + 1) return ranked;
    const kept = ranked.slice(0, MAX_SERIES);
    const rest = ranked.slice(MAX_SERIES);
    kept.push({ name: otherLabel, colour: MAX_SERIES, values: rest[0].values.map((_, i) => rest.reduce((a, s) => a + s.values[i], 0)) });
    return kept;
  }

  // container: an element; labels: period names; series: [{name, values: number per label}].
  function stackedBars(container, labels, series, options) {
    const opts = options || {};
    const width = 720;
    const height = opts.height || 220;
    const pad = { left: 46, right: 8, top: 10, bottom: 34 };
    const shown = topSeries(series, opts.otherLabel || "other");
    const totals = labels.map((_, i) => shown.reduce((a, s) => a + (s.values[i] || 0), 0));
    const max = 4 * niceStep(Math.max(1, ...totals) / 4);
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const step = plotW / Math.max(1, labels.length);
    const barW = Math.max(1, step * 0.75);
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": opts.title || "" });
    for (let g = 0; g <= 4; g++) {
      const y = pad.top + plotH - (plotH * g) / 4;
      root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "grid" }));
      root.append(svg("text", { x: pad.left - 4, y: y + 3, "text-anchor": "end", class: "axis" }, short((max * g) / 4)));
    }
    const every = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach((label, i) => {
      const x = pad.left + i * step + (step - barW) / 2;
      let y = pad.top + plotH;
      shown.forEach((s) => {
        const value = s.values[i] || 0;
        if (!value) return;
        const h = (value / max) * plotH;
        y -= h;
        const rect = svg("rect", { x, y, width: barW, height: Math.max(h, 0.5) });
        rect.style.setProperty("fill", colour(s.colour)); // CSS variables work in style, not in presentation attributes
        rect.append(svg("title", {}, `${label} · ${s.name}: ${value.toLocaleString()}`));
        root.append(rect);
      });
      if (i % every === 0) {
        root.append(svg("text", { x: x + barW / 2, y: height - pad.bottom + 14, "text-anchor": "middle", class: "axis" }, String(label).slice(opts.labelFrom || 0)));
      }
    });
    const legend = document.createElement("div");
    legend.className = "legend";
    shown.forEach((s) => {
      const item = document.createElement("span");
      item.style.setProperty("--swatch", colour(s.colour));
      item.textContent = s.name;
      legend.append(item);
    });
    container.replaceChildren(root, legend);
    if (!shown.length) {
      const empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = opts.emptyText || "No data in this range.";
      container.append(empty);
    }
  }

  window.CGCharts = { stackedBars };
})();
