// Tokens: the account pool. Filters and sorting, multi-select actions, add with per-token diagnostics,
// rename, export/import. Secrets stay masked; "Reveal" fetches one token's value on demand.
"use strict";
(() => {
  const { el, $, t, api, ask, toast, fmtNum, fmtLeft } = CG;
  const STATE_CLASS = { healthy: "ok", cooling_down: "warn", half_open: "warn", disabled: "bad" };
  const STATE_LABEL = { healthy: "Healthy", cooling_down: "Cooling down", half_open: "Half-open", disabled: "Disabled" };
  let rows = [];
  let usage = {};
  let proxies = [];
  let sort = { key: "alias", dir: 1 };
  const selected = new Set();

  function stateOf(info) {
    if (info.status === "disabled") return "disabled";
    const health = info.health || {};
    if (health.state === "cooling_down" && health.cooldown_until && health.cooldown_until * 1000 <= Date.now()) return "half_open";
    return health.state || "healthy";
  }

  function toRow([, alias, info]) {
    const bundle = info.bundle || {};
    const stripe = info.stripe || {};
    const user = bundle.user || {};
    return {
      alias,
      info,
      state: stateOf(info),
      email: user.email || "",
      membership: stripe.membership_type || "",
      trial: stripe.days_remaining_on_trial ?? null,
      proxy: bundle.proxy || "",
      timezone: bundle.timezone || "",
      protocol: info.cursor_protocol || info.protocol || "",
      token: bundle.primary_token || "",
      usage: usage[alias] ?? null,
    };
  }

  async function loadUsage() {
    usage = {};
    if (!(await CG.features()).logs) return; // statistics not deployed: the column stays empty
    try {
      const list = await api("api/stats/token/by-account", { method: "GET", query: { hours: 720 } });
      usage = {};
      for (const item of list || []) usage[item.account_alias || item.account_email] = item.total_tokens;
    } catch (error) {
      if (error.status !== 404) throw error;
      usage = {}; // statistics not deployed: the column stays empty
    }
  }

  async function load() {
    const [tokens, proxyAnswer] = await Promise.all([api("tokens/get", { body: {} }), api("proxies/get", { body: {} }), loadUsage()]);
    proxies = Object.keys((proxyAnswer.proxies && proxyAnswer.proxies.proxies) || {});
    rows = (tokens.tokens || []).map(toRow);
    for (const alias of [...selected]) if (!rows.some((r) => r.alias === alias)) selected.delete(alias);
    fillFilter("f-membership", rows.map((r) => r.membership));
    fillFilter("f-proxy", rows.map((r) => r.proxy).concat(proxies));
    fillFilter("f-timezone", rows.map((r) => r.timezone));
    fillFilter("f-protocol", ["agent", "inference", "legacy"]);
    render();
  }

  function fillFilter(id, values) {
    const select = $(id);
    const current = select.value;
    const first = select.options[0];
    const unique = [...new Set(values.filter(Boolean))].sort();
    select.replaceChildren(first, ...unique.map((v) => el("option", { value: v, text: v })));
    select.value = unique.includes(current) ? current : "";
  }

  function visible() {
    const search = $("search").value.trim().toLowerCase();
    const state = $("f-state").value;
    const membership = $("f-membership").value;
    const proxy = $("f-proxy").value;
    const timezone = $("f-timezone").value;
    const protocol = $("f-protocol").value;
    const trial = $("f-trial").value === "" ? null : Number($("f-trial").value);
    const minUsage = $("f-usage").value === "" ? null : Number($("f-usage").value);
    const list = rows.filter(
      (r) =>
        (!search || r.alias.toLowerCase().includes(search) || r.email.toLowerCase().includes(search)) &&
        (!state || r.state === state) &&
        (!membership || r.membership === membership) &&
        (!proxy || r.proxy === proxy) &&
        (!timezone || r.timezone === timezone) &&
        (!protocol || r.protocol === protocol) &&
        (trial === null || (r.trial ?? -1) >= trial) &&
        (minUsage === null || (r.usage ?? 0) >= minUsage),
    );
    const key = sort.key;
    return list.sort((a, b) => {
      const x = a[key] ?? "";
      const y = b[key] ?? "";
      return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * sort.dir;
    });
  }

  function detail(row) {
    const health = row.info.health || {};
    if (row.state === "cooling_down") return t("{left} left", { left: fmtLeft(health.cooldown_until) }) + (health.reason ? " · " + health.reason : "");
    return health.reason || "";
  }

  function render() {
    const list = visible();
    const body = $("tokens").tBodies[0];
    body.replaceChildren(
      ...list.map((row) => {
        const check = el("input", {
          type: "checkbox",
          checked: selected.has(row.alias),
          "aria-label": row.alias,
          on: { change: (e) => { e.target.checked ? selected.add(row.alias) : selected.delete(row.alias); updateSelection(); } },
        });
        const tokenCell = el("td", { class: "mono", text: row.token });
        const reveal = el("button", {
          type: "button",
          class: "reveal",
          text: t("Reveal"),
          on: { click: () => CG.guarded(() => revealToken(row.alias, tokenCell)) },
        });
        const rename = el("button", { type: "button", class: "rename", text: t("Rename"), on: { click: () => CG.guarded(() => renameToken(row.alias)) } });
        return el(
          "tr",
          { dataset: { alias: row.alias }, class: selected.has(row.alias) ? "selected" : "" },
          el("td", {}, check),
          el("td", {}, el("div", { text: row.alias }), row.email ? el("div", { class: "muted", text: row.email }) : null),
          el("td", {}, el("span", { class: "badge " + STATE_CLASS[row.state], text: t(STATE_LABEL[row.state] || row.state) }), el("div", { class: "muted", text: detail(row) })),
          el("td", { text: row.membership || "—" }),
          el("td", { class: "num", text: row.trial === null ? "—" : fmtNum(row.trial) }),
          el("td", { class: "num", text: fmtNum(row.usage) }),
          el("td", { text: row.proxy || t("general") }),
          el("td", { text: row.timezone || "—" }),
          el("td", { text: row.protocol || t("config") }),
          tokenCell,
          el("td", {}, el("div", { class: "row" }, reveal, rename)),
        );
      }),
    );
    $("count").textContent = t("{shown} of {total} tokens shown", { shown: list.length, total: rows.length });
    for (const th of document.querySelectorAll("th[data-sort]")) {
      th.setAttribute("aria-sort", th.dataset.sort === sort.key ? (sort.dir > 0 ? "ascending" : "descending") : "none");
    }
    updateSelection();
  }

  function updateSelection() {
    $("selection").textContent = t("{n} selected", { n: selected.size });
    for (const button of document.querySelectorAll("#actions button")) button.disabled = selected.size === 0;
    $("select-all").checked = rows.length > 0 && selected.size === rows.length;
  }

  async function revealToken(alias, cell) {
    const answer = await api("tokens/get", { body: { reveal: true } });
    const entry = (answer.tokens || []).find(([, a]) => a === alias);
    if (!entry) return;
    cell.textContent = entry[2].bundle.primary_token;
    setTimeout(() => load(), 30000); // masked again after 30 s
  }

  async function renameToken(alias) {
    const name = await ask(t("Rename {alias}", { alias }), { value: alias });
    if (!name || name === alias) return;
    const answer = await api("tokens/alias/set", { body: { [alias]: name } });
    toast(answer.message || t("Renamed"));
    selected.delete(alias);
    await load();
  }

  function summarise(answer) {
    toast(answer.message || t("Done"));
  }

  async function act(action) {
    const aliases = [...selected];
    if (!aliases.length) return;
    let answer;
    if (action === "enable" || action === "disable") {
      answer = await api("tokens/status/set", { body: { aliases, status: action === "enable" ? "enabled" : "disabled" } });
    } else if (action === "refresh") {
      answer = await api("tokens/refresh", { body: aliases });
    } else if (action === "profile") {
      answer = await api("tokens/profile/update", { body: aliases });
    } else if (action === "proxy") {
      const name = await ask(t("Proxy for {n} tokens (empty: the general proxy)", { n: aliases.length }), {
        placeholder: proxies.join(", "),
      });
      if (name === null) return;
      answer = await api("tokens/proxy/set", { body: { aliases, proxy: name || null } });
    } else if (action === "timezone") {
      const zone = await ask(t("IANA time zone for {n} tokens (empty: the default)", { n: aliases.length }), {
        placeholder: Intl.DateTimeFormat().resolvedOptions().timeZone,
      });
      if (zone === null) return;
      answer = await api("tokens/timezone/set", { body: { aliases, timezone: zone || null } });
    } else if (action === "protocol") {
      const protocol = await ask(t("Protocol for {n} tokens: agent, inference or legacy (empty: the config's)", { n: aliases.length }));
      if (protocol === null) return;
      answer = await api("tokens/protocol/set", { body: { aliases, protocol: protocol || null } });
    } else if (action === "delete") {
      const sure = await ask(t("Delete {n} tokens?", { n: aliases.length }), { confirm: true, danger: true, ok: "Delete", detail: aliases.join(", ") });
      if (!sure) return;
      answer = await api("tokens/del", { body: { aliases, include_failed_tokens: true } });
      selected.clear();
    }
    if (answer) summarise(answer);
    await load();
  }

  // "alias=token" names a token; anything else is the token alone (the server derives an alias).
  function parseAdd(text) {
    return text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const match = /^([A-Za-z0-9_.-]{1,64})=(.+)$/.exec(line);
        return match ? { alias: match[1], token: match[2].trim() } : { token: line };
      });
  }

  async function add() {
    const tokens = parseAdd($("add-text").value);
    if (!tokens.length) return;
    const answer = await api("tokens/add", { body: { tokens, status: $("add-status").value } });
    const results = answer.results || [];
    $("add-results-wrap").classList.toggle("hidden", !results.length);
    $("add-results").tBodies[0].replaceChildren(
      ...results.map((r) =>
        el(
          "tr",
          { dataset: { outcome: r.outcome } },
          el("td", { text: r.alias || "—" }),
          el("td", {}, el("span", { class: "badge " + (r.outcome === "added" ? "ok" : "bad"), text: r.outcome })),
          el("td", { text: r.detail || "" }),
        ),
      ),
    );
    toast(answer.message || t("Done"), !results.some((r) => r.outcome === "added"));
    if (results.every((r) => r.outcome === "added")) $("add-text").value = "";
    await load();
  }

  async function exportJson() {
    const sure = await ask(t("Export with the tokens in clear text?"), { confirm: true, detail: t("The file holds every credential of the pool. Keep it safe.") });
    if (!sure) return;
    const answer = await api("tokens/get", { body: { reveal: true } });
    const pool = (answer.tokens || []).map(([, alias, info]) => [alias, info]);
    CG.download("cursor-gateway-tokens.json", JSON.stringify(pool, null, 2));
  }

  // Accepts an export of this page ([[alias, info], ...]) or /tokens/get's answer; replaces the pool.
  async function importJson(file) {
    let data = JSON.parse(await file.text());
    if (data && Array.isArray(data.tokens)) data = data.tokens.map(([, alias, info]) => [alias, info]);
    if (!Array.isArray(data)) throw new Error(t("Not a token export"));
    const sure = await ask(t("Replace the pool with {n} tokens from {file}?", { n: data.length, file: file.name }), { confirm: true, danger: true, ok: "Replace" });
    if (!sure) return;
    const answer = await api("tokens/set", { body: data });
    toast(answer.message || t("Done"));
    await load();
  }

  CG.onLang(() => render());
  CG.start(async () => {
    $("refresh").addEventListener("click", () => CG.guarded(load));
    $("show-add").addEventListener("click", () => $("add-panel").classList.toggle("hidden"));
    $("add-submit").addEventListener("click", () => CG.guarded(add));
    $("export").addEventListener("click", () => CG.guarded(exportJson));
    $("import").addEventListener("change", (e) => {
      const file = e.target.files[0];
      e.target.value = "";
      if (file) CG.guarded(() => importJson(file));
    });
    for (const id of ["search", "f-state", "f-membership", "f-proxy", "f-timezone", "f-protocol", "f-trial", "f-usage"]) {
      $(id).addEventListener("input", render);
    }
    for (const th of document.querySelectorAll("th[data-sort]")) {
      th.addEventListener("click", () => {
        sort = { key: th.dataset.sort, dir: sort.key === th.dataset.sort ? -sort.dir : 1 };
        render();
      });
    }
    $("select-all").addEventListener("change", (e) => {
      selected.clear();
      if (e.target.checked) for (const row of visible()) selected.add(row.alias);
      render();
    });
    for (const button of document.querySelectorAll("#actions button")) {
      button.addEventListener("click", () => CG.guarded(() => act(button.dataset.action)));
    }
    await load();
  });
})();
