// Dashboard: pool health by state, today's traffic, the canary's verdict per profile, the last failures.
"use strict";
(() => {
  const { el, $, t, api, fmtNum, fmtTime, fmtLeft } = CG;
  const STATE_CLASS = { healthy: "ok", cooling_down: "warn", half_open: "warn", disabled: "bad" };
  const STATE_LABEL = { healthy: "Healthy", cooling_down: "Cooling down", half_open: "Half-open", disabled: "Disabled" };

  // An admin-disabled token is "disabled" whatever its health says; the health reason explains the rest.
  function stateOf(info) {
    if (info.status === "disabled") return "disabled";
    const health = info.health || {};
    if (health.state === "cooling_down" && health.cooldown_until && health.cooldown_until * 1000 <= Date.now()) return "half_open";
    return health.state || "healthy";
  }

  function detailOf(info, state) {
    const health = info.health || {};
    if (info.status === "disabled") return t("Disabled by an admin") + (health.reason ? " · " + health.reason : "");
    if (state === "cooling_down") return t("{left} left", { left: fmtLeft(health.cooldown_until) }) + (health.reason ? " · " + health.reason : "");
    return health.reason || "";
  }

  function card(label, value, id) {
    return el("div", { class: "card", id }, el("div", { class: "label", text: t(label) }), el("div", { class: "value", text: value }));
  }

  async function today() {
    if (!(await CG.features()).logs) return null;
    try {
      // Today = since local midnight, in the browser's time zone (the server buckets by hour).
      const midnight = new Date();
      midnight.setHours(0, 0, 0, 0);
      const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      const query = { from: midnight.toISOString(), to: new Date().toISOString(), tz };
      const summary = await api("api/stats/token/summary", { method: "GET", query });
      return {
        requests: summary.total_requests,
        errors: summary.failure_count,
        tokens: summary.total_tokens,
      };
    } catch (error) {
      if (error.status === 404) return null; // statistics routes not deployed
      throw error;
    }
  }

  async function failures() {
    if (!(await CG.features()).logs) return null;
    try {
      const answer = await api("logs/get", { body: { query: { status: "failure", limit: 10, reverse: true } } });
      return answer.logs || [];
    } catch (error) {
      if (error.status === 404) return null;
      throw error;
    }
  }

  function errorClass(entry) {
    const error = entry.error;
    const code = error && typeof error === "object" ? error.error || "" : "";
    return [entry.http_status, code].filter(Boolean).join(" ") || "—";
  }
  function errorText(error) {
    if (!error) return "";
    if (typeof error === "string") return error;
    return [error.error, error.details || error.message].filter(Boolean).join(": ");
  }

  async function render() {
    const [health, tokens, traffic, failed] = await Promise.all([
      api("health", { method: "GET" }),
      api("tokens/get", { body: {} }),
      today(),
      failures(),
    ]);
    const entries = tokens.tokens || [];
    const counts = { healthy: 0, cooling_down: 0, half_open: 0, disabled: 0 };
    const rows = entries.map(([, alias, info]) => {
      const state = stateOf(info);
      counts[state] = (counts[state] || 0) + 1;
      return el(
        "tr",
        { dataset: { alias, state } },
        el("td", { text: alias }),
        el("td", {}, el("span", { class: "badge " + (STATE_CLASS[state] || ""), text: t(STATE_LABEL[state] || state) })),
        el("td", { class: "muted", text: detailOf(info, state) }),
      );
    });
    $("pool").tBodies[0].replaceChildren(...rows);

    $("cards").replaceChildren(
      card("Tokens", fmtNum(entries.length), "card-tokens"),
      card("Healthy", fmtNum(counts.healthy), "card-healthy"),
      card("Cooling down", fmtNum(counts.cooling_down), "card-cooling"),
      card("Half-open", fmtNum(counts.half_open), "card-half-open"),
      card("Disabled", fmtNum(counts.disabled), "card-disabled"),
      card("Requests today", traffic ? fmtNum(traffic.requests) : "—", "card-requests"),
      card("Errors today", traffic ? fmtNum(traffic.errors) : "—", "card-errors"),
      card("Tokens used today", traffic ? fmtNum(traffic.tokens) : "—", "card-usage"),
    );
    const pool = health.pool || {};
    $("pool-summary").textContent = t("{usable} of {total} tokens usable now; version {version}", {
      usable: pool.usable_now ?? "—",
      total: pool.tokens ?? entries.length,
      version: health.version,
    });

    $("protocol").textContent = t("Active protocol profile: {protocol}", { protocol: health.protocol || "—" });
    const canary = Object.values(health.canary || {});
    $("canary").tBodies[0].replaceChildren(
      ...(canary.length
        ? canary.map((r) =>
            el(
              "tr",
              {},
              el("td", { text: r.profile }),
              el("td", {}, el("span", { class: "badge " + (r.ok ? "ok" : "bad"), text: t(r.ok ? "OK" : r.drift ? "Drift" : "Failing") })),
              el("td", { text: r.outcome || "" }),
              el("td", { text: r.message || "" }),
              el("td", { text: fmtTime(r.at) }),
            ),
          )
        : [el("tr", {}, el("td", { colspan: 5, class: "muted", text: t("The canary has not run yet.") }))]),
    );

    $("failures-unavailable").classList.toggle("hidden", failed !== null);
    const none = failed && !failed.length ? [el("tr", {}, el("td", { colspan: 5, class: "muted", text: t("No failures in the retained logs.") }))] : [];
    $("failures").tBodies[0].replaceChildren(
      ...none,
      ...(failed || []).map((entry) =>
        el(
          "tr",
          {},
          el("td", { text: fmtTime(entry.timestamp) }),
          el("td", { text: entry.model || "" }),
          el("td", { text: (entry.token_info && (entry.token_info.alias || entry.token_info.email)) || "" }),
          el("td", { text: errorClass(entry) }),
          el("td", { text: errorText(entry.error) }),
        ),
      ),
    );
  }

  CG.onLang(() => CG.guarded(render));
  CG.start(async () => {
    await render();
    setInterval(() => { if (!document.hidden) CG.guarded(render); }, 30000);
  });
})();
