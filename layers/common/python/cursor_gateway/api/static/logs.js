// Logs: every filter of POST /logs/get, a table (status, model, account, key, TTFT, total time, usage),
// a detail view that loads the bodies (GET /logs/{id}) only when opened, auto-refresh every 60 s that
// pauses while a detail is open, cursor paging and CSV export (POST /logs/export).
"use strict";
(() => {
  const { el, $, t, api, toast, fmtNum, fmtTime, fmtSeconds } = CG;
  const TEXT = ["user_id", "email", "membership_type", "status", "model", "error", "api_key_id", "account", "endpoint", "upstream_model"];
  const LISTS = ["include_models", "exclude_models"];
  const BOOLS = ["stream", "has_error", "has_chain", "has_usage"];
  const NUMBERS = ["min_total_time", "max_total_time", "min_ttft", "max_ttft", "min_tokens", "max_tokens", "http_status"];
  const STATUS_CLASS = { success: "ok", failure: "bad", pending: "warn" };
  let cursors = [null]; // cursors[i] opens page i
  let page = 0;
  let nextCursor = null;
  let entries = [];
  let detailTab = "prompt";
  let detailEntry = null;

  function localInput(date) {
    return new Date(date.getTime() - date.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
  }

  function query() {
    const q = { reverse: true, limit: Number($("q-limit").value) };
    for (const name of TEXT) if ($("q-" + name).value.trim()) q[name] = $("q-" + name).value.trim();
    for (const name of LISTS) {
      const list = $("q-" + name).value.split(",").map((s) => s.trim()).filter(Boolean);
      if (list.length) q[name] = list;
    }
    for (const name of BOOLS) if ($("q-" + name).value) q[name] = $("q-" + name).value === "true";
    for (const name of NUMBERS) if ($("q-" + name).value !== "") q[name] = Number($("q-" + name).value);
    for (const name of ["from_date", "to_date"]) if ($("q-" + name).value) q[name] = new Date($("q-" + name).value).toISOString();
    return q;
  }

  function errorText(error) {
    if (!error) return "";
    if (typeof error === "string") return error;
    return [error.error, error.details || error.message].filter(Boolean).join(": ");
  }

  function card(label, value) {
    return el("div", { class: "card" }, el("div", { class: "label", text: t(label) }), el("div", { class: "value", text: value }));
  }

  async function load() {
    const q = query();
    if (cursors[page]) q.cursor = cursors[page];
    const answer = await api("logs/get", { body: { query: q } });
    entries = answer.logs || [];
    nextCursor = answer.next_cursor || null;
    $("cards").replaceChildren(
      card("Matching", (answer.total_is_capped ? "≥ " : "") + fmtNum(answer.total)),
      card("Succeeded (page)", fmtNum(entries.filter((e) => e.status === "success").length)),
      card("Failed (page)", fmtNum(entries.filter((e) => e.status === "failure").length)),
      answer.active !== undefined ? card("In flight", fmtNum(answer.active)) : null,
      answer.error !== undefined ? card("Errors today", fmtNum(answer.error)) : null,
      card("Updated", answer.timestamp ? new Date(answer.timestamp).toLocaleTimeString(CG.lang) : "—"),
    );
    render();
  }

  function render() {
    $("logs").tBodies[0].replaceChildren(
      ...entries.map((e) => {
        const usage = e.usage || {};
        const account = e.token_info || {};
        const key = e.api_key || {};
        return el(
          "tr",
          { class: "clickable", tabindex: 0, dataset: { id: e.id }, on: { click: () => CG.guarded(() => openDetail(e.id)), keydown: (ev) => ev.key === "Enter" && CG.guarded(() => openDetail(e.id)) } },
          el("td", { text: fmtTime(e.timestamp) }),
          el("td", {}, el("span", { class: "badge " + (STATUS_CLASS[e.status] || ""), text: t(e.status) + (e.http_status ? " " + e.http_status : "") })),
          el("td", { text: e.model + (e.upstream_model && e.upstream_model !== e.model ? " → " + e.upstream_model : "") }),
          el("td", { text: account.alias || account.email || "" }),
          el("td", { text: key.name || key.id || "" }),
          el("td", { class: "num", text: fmtSeconds(e.timing && e.timing.first) }),
          el("td", { class: "num", text: fmtSeconds(e.timing && e.timing.total) }),
          el("td", { class: "num", text: fmtNum(usage.input) }),
          el("td", { class: "num", text: fmtNum(usage.output) }),
          el("td", { class: "num", text: fmtNum(usage.cache_read) }),
          el("td", { class: "muted", text: errorText(e.error) }),
        );
      }),
    );
    $("prev").disabled = page === 0;
    $("next").disabled = !nextCursor;
    $("page-info").textContent = t("Page {n}", { n: page + 1 });
  }

  async function openDetail(id) {
    const dialog = $("detail");
    $("detail-title").textContent = id;
    $("detail-fields").replaceChildren();
    $("detail-body").replaceChildren(el("p", { class: "muted", text: t("Loading…") }));
    if (!dialog.open) dialog.showModal();
    const answer = await api("logs/" + encodeURIComponent(id), { method: "GET" });
    detailEntry = answer.log || answer;
    const e = detailEntry;
    const usage = e.usage || {};
    const fields = [
      ["Time", fmtTime(e.timestamp)],
      ["Status", e.status + (e.http_status ? " " + e.http_status : "")],
      ["Endpoint", e.endpoint],
      ["Model", e.model + (e.upstream_model ? " → " + e.upstream_model : "")],
      ["Account", [e.token_info && e.token_info.alias, e.token_info && e.token_info.email].filter(Boolean).join(" · ")],
      ["Key", e.api_key && (e.api_key.name || e.api_key.id)],
      ["Protocol", e.protocol],
      ["Stream", e.stream ? t("yes") : t("no")],
      ["Attempts", e.attempts],
      ["TTFT", fmtSeconds(e.timing && e.timing.first)],
      ["Total time", fmtSeconds(e.timing && e.timing.total)],
      ["Usage", `in ${fmtNum(usage.input)} · out ${fmtNum(usage.output)} · cached ${fmtNum(usage.cache_read)} · ${usage.source || ""}`],
      ["Client", e.client && [e.client.ip, e.client.user_agent].filter(Boolean).join(" · ")],
      ["Error", errorText(e.error)],
    ];
    $("detail-fields").replaceChildren(
      ...fields.filter(([, v]) => v !== undefined && v !== null && v !== "").flatMap(([k, v]) => [el("dt", { text: t(k) }), el("dd", { text: v })]),
    );
    showTab();
  }

  function contentText(content) {
    if (typeof content === "string") return content;
    if (Array.isArray(content)) return content.map((part) => (typeof part === "string" ? part : part.text !== undefined ? part.text : JSON.stringify(part))).join("\n");
    return JSON.stringify(content, null, 2);
  }

  function showTab() {
    for (const b of document.querySelectorAll("#detail-tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === detailTab));
    if (!detailEntry) return;
    const chain = detailEntry.chain || {};
    const body = $("detail-body");
    const none = (label) => el("p", { class: "muted", text: t(label) });
    if (detailTab === "prompt") {
      const prompt = chain.prompt;
      const reply = Array.isArray(chain.delays) ? chain.delays[0] : null; // [answer text, [[chars, s], ...]]
      if (Array.isArray(prompt)) {
        body.replaceChildren(
          ...prompt.map((m) =>
            el("div", { class: "msg " + (m.role === "user" ? "user" : ""), dataset: { role: m.role || "" } }, el("strong", { text: m.role || "" }), el("div", { class: "prompt-text", text: contentText(m.content) })),
          ),
          reply ? el("div", { class: "msg", dataset: { role: "answer" } }, el("strong", { text: t("answer") }), el("div", { class: "answer-text", text: reply })) : null,
        );
      } else if (prompt) {
        body.replaceChildren(el("pre", { class: "prompt-text", text: contentText(prompt) }));
      } else {
        body.replaceChildren(none(chain.has_prompt ? "The body has expired." : "No messages were stored."));
      }
    } else if (detailTab === "think") {
      body.replaceChildren(chain.think ? el("pre", { text: chain.think }) : none("No thinking."));
    } else if (detailTab === "delays") {
      const chunks = Array.isArray(chain.delays) && Array.isArray(chain.delays[1]) ? chain.delays[1] : null;
      if (!chunks) {
        body.replaceChildren(none("No timing data."));
      } else {
        let elapsed = 0;
        let chars = 0;
        const rows = chunks.map(([count, delay], index) => {
          elapsed += delay;
          chars += count;
          return el(
            "tr",
            {},
            el("td", { class: "num", text: index + 1 }),
            el("td", { class: "num", text: count }),
            el("td", { class: "num", text: delay.toFixed(3) }),
            el("td", { class: "num", text: elapsed.toFixed(3) }),
            el("td", { class: "num", text: elapsed > 0 ? Math.round(chars / elapsed) : "—" }),
          );
        });
        const head = el("tr", {}, ...["#", "Characters", "Delay (s)", "Elapsed (s)", "Chars/s"].map((h) => el("th", { class: "num", text: t(h) })));
        body.replaceChildren(el("div", { class: "table-wrap" }, el("table", { id: "delays" }, el("thead", {}, head), el("tbody", {}, rows))));
      }
    } else {
      body.replaceChildren(el("pre", { text: JSON.stringify(detailEntry, null, 2) }));
    }
  }

  async function exportCsv() {
    const q = query();
    delete q.limit;
    const response = await api("logs/export", { body: { query: q, format: "csv" }, raw: true });
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      throw new Error(error.message || "HTTP " + response.status);
    }
    CG.download("cursor-gateway-logs.csv", await response.text(), "text/csv");
    toast(t("Exported"));
  }

  function restart() {
    cursors = [null];
    page = 0;
    return load();
  }

  CG.onLang(() => render());
  CG.start(async () => {
    $("q-from_date").value = localInput(new Date(Date.now() - 24 * 3600e3));
    for (const button of document.querySelectorAll("button[data-quick]")) {
      button.addEventListener("click", () => {
        $("q-from_date").value = localInput(new Date(Date.now() - Number(button.dataset.quick) * 3600e3));
        $("q-to_date").value = "";
        CG.guarded(restart);
      });
    }
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      CG.guarded(restart);
    });
    $("reset-filters").addEventListener("click", () => {
      $("filters").reset();
      $("q-from_date").value = localInput(new Date(Date.now() - 24 * 3600e3));
      CG.guarded(restart);
    });
    $("refresh").addEventListener("click", () => CG.guarded(load));
    $("export").addEventListener("click", () => CG.guarded(exportCsv));
    $("next").addEventListener("click", () => {
      if (!nextCursor) return;
      cursors[page + 1] = nextCursor;
      page += 1;
      CG.guarded(load);
    });
    $("prev").addEventListener("click", () => {
      if (page === 0) return;
      page -= 1;
      CG.guarded(load);
    });
    $("detail-close").addEventListener("click", () => $("detail").close());
    $("detail").addEventListener("close", () => { detailEntry = null; });
    for (const b of document.querySelectorAll("#detail-tabs button")) {
      b.addEventListener("click", () => { detailTab = b.dataset.tab; showTab(); });
    }
    // Auto-refresh: only the first page, never while a detail is open or the tab is hidden.
    setInterval(() => {
      if ($("auto").checked && !$("detail").open && !document.hidden && page === 0) CG.guarded(load);
    }, 60000);
    await load();
  });
})();
