// Proxies: list, add, edit, delete, the general proxy, and which tokens use each.
"use strict";
(() => {
  const { el, $, t, api, ask, toast } = CG;
  let table = {};
  let general = "";

  async function load() {
    const [answer, tokens] = await Promise.all([api("proxies/get", { body: {} }), api("tokens/get", { body: {} })]);
    table = (answer.proxies && answer.proxies.proxies) || {};
    general = answer.general_proxy || (answer.proxies && answer.proxies.general) || "";
    // A token without its own proxy goes through the general one.
    const users = {};
    for (const [, alias, info] of tokens.tokens || []) {
      const name = (info.bundle && info.bundle.proxy) || general;
      (users[name] = users[name] || []).push(alias);
    }
    $("general").textContent = t("General proxy: {name}", { name: general || "—" });
    $("proxies").tBodies[0].replaceChildren(
      ...Object.entries(table).map(([name, value]) =>
        el(
          "tr",
          { dataset: { name } },
          el("td", {}, el("span", { text: name }), name === general ? el("span", { class: "badge ok", text: t("general") }) : null),
          el("td", { class: "mono", text: value }),
          el("td", { text: (users[name] || []).join(", ") || "—" }),
          el(
            "td",
            {},
            el(
              "div",
              { class: "row" },
              el("button", { type: "button", class: "edit", text: t("Edit"), on: { click: () => CG.guarded(() => edit(name)) } }),
              name === general
                ? null
                : el("button", { type: "button", class: "make-general", text: t("Make general"), on: { click: () => CG.guarded(() => makeGeneral(name)) } }),
              el("button", { type: "button", class: "danger delete", text: t("Delete"), on: { click: () => CG.guarded(() => remove(name)) } }),
            ),
          ),
        ),
      ),
    );
  }

  async function add(event) {
    event.preventDefault();
    const name = $("add-name").value.trim();
    const value = $("add-value").value.trim();
    if (name in table) throw new Error(t("A proxy named {name} exists already; use Edit", { name }));
    const answer = await api("proxies/add", { body: { proxies: { [name]: value } } });
    toast(answer.message || t("Added"));
    $("add-form").reset();
    await load();
  }

  async function edit(name) {
    const value = await ask(t("New value for {name}", { name }), { value: table[name] });
    if (value === null || value === table[name]) return;
    const answer = await api("proxies/set", { body: { proxies: { ...table, [name]: value }, general } });
    toast(answer.message || t("Saved"));
    await load();
  }

  async function makeGeneral(name) {
    const answer = await api("proxies/set-general", { body: { name } });
    toast(answer.message || t("Saved"));
    await load();
  }

  async function remove(name) {
    const sure = await ask(t("Delete the proxy {name}?", { name }), { confirm: true, danger: true, ok: "Delete" });
    if (!sure) return;
    const answer = await api("proxies/del", { body: { names: [name], expectation: "detailed" } });
    const failed = answer.failed_names || [];
    if (failed.length) toast(t("Not deleted: {names}", { names: failed.join(", ") }), true);
    else toast(answer.message || t("Deleted"));
    await load();
  }

  CG.onLang(() => CG.guarded(load));
  CG.start(async () => {
    $("add-form").addEventListener("submit", (event) => CG.guarded(() => add(event)));
    $("refresh").addEventListener("click", () => CG.guarded(load));
    await load();
  });
})();
