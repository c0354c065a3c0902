// Analytics: stream states and checkpoints, start a pull (and follow its run), export links.
"use strict";
(() => {
  const { el, $, t, api, toast, fmtNum, fmtTime } = CG;
  const STATE_CLASS = { idle: "ok", running: "warn", failed: "bad", disabled: "bad" };

  // last_run: {run_id, state, started_at, finished_at, inserted, ...}; last_error: {code, message, at}.
  function lastRun(run) {
    if (!run) return "—";
    if (typeof run !== "object") return fmtTime(run);
    return fmtTime(run.finished_at || run.started_at) + " · " + t(run.state || "") + (run.inserted ? " · +" + fmtNum(run.inserted) : "");
  }
  function errorText(error) {
    if (!error) return "";
    return typeof error === "object" ? [error.code, error.message].filter(Boolean).join(": ") : String(error);
  }

  async function load() {
    const answer = await api("analytics/status", { method: "GET" });
    $("streams").tBodies[0].replaceChildren(
      ...Object.entries(answer.streams || {}).map(([dataset, s]) =>
        el(
          "tr",
          { dataset: { dataset } },
          el("td", { text: dataset }),
          el("td", {}, el("span", { class: "badge " + (STATE_CLASS[s.state] || ""), text: t(s.state || "—") })),
          el("td", { text: s.checkpoint || "—" }),
          el("td", { class: "last-run", text: lastRun(s.last_run) }),
          el("td", { class: "num", text: fmtNum(s.rows) }),
          el("td", { class: "muted last-error", text: errorText(s.last_error) || s.disabled_reason || "" }),
          el("td", {}, s.state === "disabled"
            ? el("button", { type: "button", class: "enable", text: t("Enable"), on: { click: () => CG.guarded(() => enable(dataset)) } })
            : null),
        ),
      ),
    );
  }

  async function enable(dataset) {
    const answer = await api("analytics/streams/" + encodeURIComponent(dataset) + "/enable");
    toast(answer.message || t("Enabled"));
    await load();
  }

  async function follow(runId) {
    for (let i = 0; i < 60; i++) {
      const run = await api("analytics/runs/" + encodeURIComponent(runId), { method: "GET" });
      const state = (run.run && run.run.state) || run.state || "";
      $("pull-status").textContent = t("Run {id}: {state}", { id: runId, state });
      if (state && state !== "running" && state !== "queued") break;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    await load();
  }

  async function pull(event) {
    event.preventDefault();
    const datasets = ["commits", "changes"].filter((d) => $("pull-" + d).checked);
    const body = { datasets };
    if ($("pull-since").value) body.since = $("pull-since").value;
    const answer = await api("analytics/pull", { body });
    toast(t("Pull started"));
    await follow(answer.run_id);
  }

  async function exportLink(event) {
    event.preventDefault();
    const body = { dataset: $("x-dataset").value, startDate: $("x-start").value, endDate: $("x-end").value };
    if ($("x-user").value.trim()) body.user = $("x-user").value.trim();
    const answer = await api("analytics/export", { body });
    $("exports").prepend(
      el("li", {}, el("a", { href: answer.url, rel: "noopener noreferrer", text: body.dataset + " " + body.startDate + " → " + body.endDate }), " ", el("span", { class: "muted", text: t("{n} rows", { n: answer.rows }) })),
    );
  }

  CG.onLang(() => CG.guarded(load));
  CG.start(async () => {
    const today = new Date().toISOString().slice(0, 10);
    $("x-end").value = today;
    $("x-start").value = new Date(Date.now() - 30 * 86400e3).toISOString().slice(0, 10);
    $("refresh").addEventListener("click", () => CG.guarded(load));
    $("pull-form").addEventListener("submit", (event) => CG.guarded(() => pull(event)));
    $("export-form").addEventListener("submit", (event) => CG.guarded(() => exportLink(event)));
    await load();
  });
})();
