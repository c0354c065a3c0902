// Keys: build a gateway key with its settings (shown once), list them (never the secret), revoke.
"use strict";
(() => {
  const { el, $, t, api, ask, toast, fmtTime } = CG;
  let keys = [];

  async function loadChoices() {
    const [tokens, proxies] = await Promise.all([api("tokens/get", { body: {} }), api("proxies/get", { body: {} })]);
    const aliasSelect = $("k-alias");
    aliasSelect.replaceChildren(aliasSelect.options[0], ...(tokens.tokens || []).map(([, alias]) => el("option", { value: alias, text: alias })));
    const proxySelect = $("k-proxy");
    const names = Object.keys((proxies.proxies && proxies.proxies.proxies) || {});
    proxySelect.replaceChildren(proxySelect.options[0], ...names.map((name) => el("option", { value: name, text: name })));
  }

  async function load() {
    const answer = await api("keys", { method: "GET" });
    keys = answer.keys || [];
    render();
  }

  function render() {
    const showRevoked = $("show-revoked").checked;
    $("keys").tBodies[0].replaceChildren(
      ...keys
        .filter((k) => showRevoked || !k.revoked)
        .map((k) =>
          el(
            "tr",
            { dataset: { id: k.id } },
            el("td", { text: k.name || "—" }),
            el("td", { class: "mono", text: k.id }),
            el("td", { text: k.token_alias || t("whole pool") }),
            el("td", { class: "mono", text: Object.entries(k.settings || {}).map(([a, b]) => a + "=" + (typeof b === "object" ? JSON.stringify(b) : b)).join(" ") || "—" }),
            el("td", { text: fmtTime(k.created_at) }),
            el("td", { text: fmtTime(k.last_used_at) }),
            el("td", {}, el("span", { class: "badge " + (k.revoked ? "bad" : "ok"), text: t(k.revoked ? "revoked" : "active") })),
            el("td", {}, k.revoked ? null : el("button", { type: "button", class: "danger revoke", text: t("Revoke"), on: { click: () => CG.guarded(() => revoke(k)) } })),
          ),
        ),
    );
  }

  function bool(id) {
    const value = $(id).value;
    return value === "" ? undefined : value === "true";
  }

  async function build(event) {
    event.preventDefault();
    const body = {
      name: $("k-name").value.trim() || undefined,
      alias: $("k-alias").value || undefined,
      token: $("k-token").value.trim() || undefined,
      proxy_name: $("k-proxy").value || undefined,
      timezone: $("k-timezone").value.trim() || undefined,
      cursor_protocol: $("k-protocol").value || undefined,
      vision_ability: $("k-vision").value || undefined,
      enable_slow_pool: bool("k-slow"),
      include_web_references: bool("k-web"),
    };
    if ($("k-usage").value) body.usage_check_models = { type: $("k-usage").value, content: $("k-usage-list").value.trim() };
    const answer = await api("build-key", { body });
    if (answer.error) throw new Error(answer.error);
    $("built").classList.remove("hidden");
    $("built-key").textContent = answer.keys[0];
    $("k-token").value = "";
    toast(t("Key built"));
    await load();
  }

  async function revoke(key) {
    const sure = await ask(t("Revoke the key {name}?", { name: key.name || key.id }), { confirm: true, danger: true, ok: "Revoke", detail: t("Clients using it get 401 at once.") });
    if (!sure) return;
    const answer = await api("keys/revoke", { body: { ids: [key.id] } });
    toast(answer.message || t("Revoked"));
    await load();
  }

  CG.onLang(() => render());
  CG.start(async () => {
    $("build-form").addEventListener("submit", (event) => CG.guarded(() => build(event)));
    $("refresh").addEventListener("click", () => CG.guarded(load));
    $("show-revoked").addEventListener("change", render);
    $("copy-key").addEventListener("click", () =>
      navigator.clipboard.writeText($("built-key").textContent).then(() => toast(t("Copied")), () => toast(t("Select the key and copy it"), true)),
    );
    await Promise.all([loadChoices(), load()]);
  });
})();
