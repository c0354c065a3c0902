// Statistics: ranges (24 h, 7 d, 30 d, custom) in a chosen time zone; stacked token trends by model,
// account and key; cached vs uncached input; requests; breakdown tables. Reads /api/stats/token/*,
// which are pre-aggregated on the server (no log scans).
"use strict";
(() => {
  const { el, $, t, api, fmtNum } = CG;
  const BASE = "api/stats/token/";
  const KEY_SERIES = 7;
  let range = "24h";
  let dim = "model";
  let tableDim = "model";
  let tables = {};

  function params() {
    const tz = $("tz").value.trim() || "UTC";
    if (range === "custom" && $("from").value && $("to").value) {
      const from = new Date($("from").value);
      const to = new Date($("to").value);
      const hours = Math.max(1, Math.ceil((to - from) / 3600e3));
      const hourly = hours <= 48;
      const bounds = { from: from.toISOString(), to: to.toISOString(), tz };
      return {
        granularity: hourly ? "hourly" : "daily",
        span: { ...(hourly ? { hours } : { days: Math.ceil(hours / 24) }), ...bounds },
        window: { hours, ...bounds },
      };
    }
    const spans = { "24h": ["hourly", { hours: 24 }, 24], "7d": ["daily", { days: 7 }, 168], "30d": ["daily", { days: 30 }, 720] };
    const [granularity, span, hours] = spans[range] || spans["24h"];
    // Series routes take their own span (hours or days); summaries and breakdowns take hours.
    return { granularity, span: { ...span, tz }, window: { hours, tz } };
  }

  const get = (path, query) => api(BASE + path, { method: "GET", query });

  function card(label, value) {
    return el("div", { class: "card" }, el("div", { class: "label", text: t(label) }), el("div", { class: "value", text: value }));
  }

  async function keyTrend(p, keys) {
    const top = keys.slice(0, KEY_SERIES);
    const series = await Promise.all(
      top.map((k) => get(p.granularity, { ...p.span, api_key_id: k.api_key_id })),
    );
    return top.map((k, i) => ({ name: k.api_key_name || k.api_key_id || t("(no key)"), values: series[i].map((row) => row.total_tokens) }));
  }

  async function render() {
    const p = params();
    const q = p.span;
    const [summary, series, byModel, byAccount, byKey] = await Promise.all([
      get("summary", p.window),
      get(p.granularity, q),
      get("by-model", p.window),
      get("by-account", p.window),
      get("by-key", p.window),
    ]);
    tables = { model: byModel, account: byAccount, key: byKey };
    const win = summary.window || {};
    $("window").textContent = win.from ? t("From {from} to {to}", { from: win.from, to: win.to }) : "";
    $("cards").replaceChildren(
      card("Total tokens", fmtNum(summary.total_tokens)),
      card("Input", fmtNum(summary.total_input_tokens)),
      card("Output", fmtNum(summary.total_output_tokens)),
      card("Cached input", fmtNum(summary.total_cached_tokens)),
      card("Requests", fmtNum(summary.total_requests)),
      card("Failures", fmtNum(summary.failure_count)),
      card("Accounts", fmtNum(summary.unique_accounts)),
      card("Models", fmtNum(summary.unique_models)),
    );
    const labels = series.map((row) => row.period);
    const labelFrom = p.granularity === "hourly" ? 11 : 5; // "YYYY-MM-DD HH:00" -> "HH:00", "YYYY-MM-DD" -> "MM-DD"
    const chartOptions = { labelFrom, otherLabel: t("other"), emptyText: t("No data in this range.") };

    let trend;
    if (dim === "key") {
      trend = await keyTrend(p, byKey);
    } else {
      const rows = await get((dim === "model" ? "model-trend/" : "account-trend/") + p.granularity, q);
      const field = dim === "model" ? "model_data" : "account_data";
      const names = [...new Set(rows.flatMap((row) => Object.keys(row[field] || {})))];
      trend = names.map((name) => ({ name, values: rows.map((row) => (row[field] || {})[name] || 0) }));
    }
    CGCharts.stackedBars($("trend-chart"), labels, trend, { ...chartOptions, title: t("Tokens over time") });
    CGCharts.stackedBars(
      $("cache-chart"),
      labels,
      [
        { name: t("Cached input"), values: series.map((r) => r.total_cached_tokens) },
        { name: t("Uncached input"), values: series.map((r) => Math.max(0, r.total_input_tokens - r.total_cached_tokens)) },
        { name: t("Output"), values: series.map((r) => r.total_output_tokens) },
      ],
      chartOptions,
    );
    CGCharts.stackedBars(
      $("requests-chart"),
      labels,
      [
        { name: t("Succeeded"), values: series.map((r) => r.success_count ?? r.request_count) },
        { name: t("Failed"), values: series.map((r) => r.failure_count || 0) },
      ],
      chartOptions,
    );
    renderTable();
  }

  function renderTable() {
    const rows = tables[tableDim] || [];
    const total = rows.reduce((a, r) => a + (r.total_tokens || 0), 0);
    const nameOf = (r) => (tableDim === "model" ? r.model : tableDim === "account" ? r.account_email || r.account_alias : r.api_key_name || r.api_key_id || t("(no key)"));
    $("breakdown-name").textContent = t({ model: "Model", account: "Account", key: "Key" }[tableDim]);
    $("breakdown").tBodies[0].replaceChildren(
      ...rows.map((r) =>
        el(
          "tr",
          { dataset: { name: nameOf(r) } },
          el("td", { text: nameOf(r) }),
          el("td", { class: "num", text: fmtNum(r.request_count) }),
          el("td", { class: "num", text: fmtNum(r.total_input_tokens) }),
          el("td", { class: "num", text: fmtNum(r.total_output_tokens) }),
          el("td", { class: "num", text: fmtNum(r.total_cached_tokens) }),
          el("td", { class: "num", text: fmtNum(r.total_tokens) }),
          el("td", { class: "num", text: total ? ((100 * r.total_tokens) / total).toFixed(1) + " %" : "—" }),
        ),
      ),
    );
  }

  function select(groupId, attr, value) {
    for (const button of document.querySelectorAll("#" + groupId + " button[data-" + attr + "]")) {
      button.setAttribute("aria-selected", String(button.dataset[attr] === value));
    }
  }

  CG.onLang(() => CG.guarded(render));
  CG.start(async () => {
    $("tz").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    $("to").value = new Date(Date.now() - new Date().getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
    $("from").value = new Date(Date.now() - 3 * 86400e3 - new Date().getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
    for (const button of document.querySelectorAll("#ranges button[data-range]")) {
      button.addEventListener("click", () => {
        range = button.dataset.range;
        select("ranges", "range", range);
        $("custom").classList.toggle("hidden", range !== "custom");
        if (range !== "custom") CG.guarded(render);
      });
    }
    $("apply-custom").addEventListener("click", () => CG.guarded(render));
    $("refresh").addEventListener("click", () => CG.guarded(render));
    $("tz").addEventListener("change", () => CG.guarded(render));
    for (const button of document.querySelectorAll("#trend-tabs button")) {
      button.addEventListener("click", () => {
        dim = button.dataset.dim;
        select("trend-tabs", "dim", dim);
        CG.guarded(render);
      });
    }
    for (const button of document.querySelectorAll("#table-tabs button")) {
      button.addEventListener("click", () => {
        tableDim = button.dataset.table;
        select("table-tabs", "table", tableDim);
        renderTable();
      });
    }
    select("ranges", "range", range);
    await render();
  });
})();
