// Config: one control per setting (choices as selects, switches as toggles, lists as editable rows), each
// with its default, environment and stored value; save with the version check; history, diff, rollback.
"use strict";
(() => {
  const { el, $, t, api, ask, toast } = CG;
  const LABELS = {
    cursor_protocol: "Protocol profile",
    thinking_output: "Thinking output",
    client_identity: "Client identity",
    vision_ability: "Images",
    token_selection: "Token selection",
    enable_slow_pool: "Slow pool",
    enable_long_context: "Long context",
    include_web_references: "Web references",
    enable_dynamic_key: "Dynamic sk- keys",
    usage_check_models: "Usage-check models",
    share_token: "Share token",
    model_aliases: "Model aliases",
  };
  let described = null;
  let version = 0;
  let readers = {}; // field -> () => the form's value, shaped for POST /config

  const show = (value) => (value === undefined ? t("not set") : typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value));

  function meta(name, entry) {
    return el(
      "div",
      { class: "meta", id: "meta-" + name },
      t("default") + ": " + show(entry.default) + " · " + t("environment") + " (" + entry.environment_name + "): " + show(entry.environment) + " · " + t("stored") + ": " + show(entry.stored),
    );
  }

  function choiceControl(name, entry) {
    const select = el("select", { id: "f-" + name, name }, entry.choices.map((c) => el("option", { value: c, text: c })));
    select.value = entry.effective;
    readers[name] = () => select.value;
    return select;
  }

  function switchControl(name, entry) {
    const box = el("input", { type: "checkbox", id: "f-" + name, name, role: "switch", checked: Boolean(entry.effective) });
    readers[name] = () => box.checked;
    return el("label", { class: "switch" }, box, el("span", { text: t("on") }));
  }

  function textControl(name, entry) {
    // The share token comes back masked: an untouched box means "unchanged".
    const input = el("input", { id: "f-" + name, name, class: "grow", autocomplete: "off", placeholder: entry.effective || "" });
    readers[name] = () => (input.value === "" ? entry.effective : input.value);
    return input;
  }

  function usageControl(name, entry) {
    const type = el("select", { id: "f-" + name + "-type" }, entry.choices.map((c) => el("option", { value: c, text: c })));
    const content = el("input", { id: "f-" + name + "-content", class: "grow", placeholder: "model-a,model-b" });
    type.value = entry.effective.type;
    content.value = entry.effective.content || "";
    readers[name] = () => ({ type: type.value, content: type.value === "list" ? content.value : "" });
    return el("div", { class: "row" }, type, content);
  }

  function aliasRow(client, target) {
    const model = typeof target === "string" ? target : (target && target.model) || "";
    const params = target && target.parameters ? Object.entries(target.parameters).map(([k, v]) => k + "=" + v).join(",") : "";
    const row = el(
      "div",
      { class: "row alias-row" },
      el("input", { class: "alias-client", value: client, placeholder: t("client model id") }),
      el("input", { class: "alias-model", value: model, placeholder: t("Cursor model id") }),
      el("label", { class: "switch" }, el("input", { type: "checkbox", class: "alias-max", checked: Boolean(target && target.max_mode) }), el("span", { text: "max" })),
      el("input", { class: "alias-params", value: params, placeholder: "effort=high" }),
      el("button", { type: "button", class: "alias-remove", text: "✕", "aria-label": t("Remove"), on: { click: () => row.remove() } }),
    );
    return row;
  }

  function aliasesControl(name, entry) {
    const rows = el("div", { class: "list-rows", id: "f-" + name }, Object.entries(entry.effective || {}).map(([k, v]) => aliasRow(k, v)));
    const add = el("button", { type: "button", id: "alias-add", text: t("Add alias"), on: { click: () => rows.append(aliasRow("", "")) } });
    readers[name] = () => {
      const value = {};
      for (const row of rows.querySelectorAll(".alias-row")) {
        const client = row.querySelector(".alias-client").value.trim();
        const model = row.querySelector(".alias-model").value.trim();
        if (!client || !model) continue;
        const parameters = {};
        for (const pair of row.querySelector(".alias-params").value.split(",")) {
          const [k, ...rest] = pair.split("=");
          if (k.trim() && rest.length) parameters[k.trim()] = rest.join("=").trim();
        }
        value[client] = { model, max_mode: row.querySelector(".alias-max").checked, parameters };
      }
      // Aliases merge one by one on the server: a removed one is sent as null.
      for (const old of Object.keys(entry.effective || {})) if (!(old in value)) value[old] = null;
      return value;
    };
    return el("div", {}, rows, add);
  }

  function identityControl(name, entry) {
    const inputs = [];
    const grid = el(
      "div",
      { id: "f-" + name },
      entry.profiles.map((profile) =>
        el(
          "details",
          {},
          el("summary", { text: profile }),
          Object.entries(entry.identity_fields).map(([field, type]) => {
            const current = (entry.effective[profile] || {})[field];
            const input =
              type === "bool"
                ? el("select", {}, ["", "true", "false"].map((v) => el("option", { value: v, text: v || t("(default)") })))
                : el("input", { class: "grow", placeholder: t("(default)") });
            input.value = current === undefined ? "" : String(current);
            inputs.push({ profile, field, type, input, current });
            return el("div", { class: "row" }, el("span", { class: "narrow mono", text: field }), input);
          }),
        ),
      ),
    );
    readers[name] = () => {
      const value = {};
      for (const { profile, field, type, input } of inputs) {
        const raw = input.value.trim();
        (value[profile] = value[profile] || {})[field] = raw === "" ? null : type === "bool" ? raw === "true" : raw;
      }
      return value;
    };
    return grid;
  }

  const CONTROLS = { choice: choiceControl, switch: switchControl, text: textControl, usage_check: usageControl, map: aliasesControl, identity: identityControl };

  function render() {
    readers = {};
    const rows = [];
    for (const [name, entry] of Object.entries(described.fields)) {
      const control = CONTROLS[entry.kind](name, entry);
      const useEnv = el("button", {
        type: "button",
        class: "use-env",
        text: t("Use environment"),
        title: t("Forget the stored value"),
        disabled: entry.stored === undefined,
        on: { click: () => CG.guarded(() => update({ [name]: null })) },
      });
      rows.push(
        el("label", { for: "f-" + name, class: "field" }, el("strong", { text: t(LABELS[name] || name) }), el("span", { class: "mono", text: name })),
        el("div", { class: "row", dataset: { field: name } }, control, useEnv),
        meta(name, entry),
      );
    }
    $("fields").replaceChildren(...rows);
    $("version").textContent = t("Version {n}", { n: version });
  }

  async function load() {
    described = await api("config", { body: { action: "describe" } });
    version = described.version;
    render();
    await loadHistory();
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  async function save(event) {
    event.preventDefault();
    const changes = {};
    for (const [name, read] of Object.entries(readers)) {
      const value = read();
      const effective = described.fields[name].effective;
      if (name === "client_identity") {
        // Send only the identity fields that changed (null clears one).
        const diff = {};
        for (const [profile, fields] of Object.entries(value)) {
          for (const [field, v] of Object.entries(fields)) {
            const before = (effective[profile] || {})[field];
            if ((v === null ? undefined : v) !== before) (diff[profile] = diff[profile] || {})[field] = v;
          }
        }
        if (Object.keys(diff).length) changes[name] = diff;
      } else if (name === "model_aliases") {
        const diff = {};
        for (const [k, v] of Object.entries(value)) if (!same(v, effective[k])) diff[k] = v;
        if (Object.keys(diff).length) changes[name] = diff;
      } else if (!same(value, effective)) {
        changes[name] = value;
      }
    }
    if (!Object.keys(changes).length) {
      toast(t("Nothing changed"));
      return;
    }
    await update(changes);
  }

  async function update(changes) {
    try {
      const answer = await api("config", { body: { action: "update", expected_version: version, ...changes } });
      toast(answer.message);
    } catch (error) {
      if (error.status === 409) toast(t("Someone else changed the config (now newer than version {n}); reloaded.", { n: version }), true);
      else throw error;
    }
    await load();
  }

  function diffLines(before, after) {
    const lines = [];
    for (const key of [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])].sort()) {
      const a = before ? before[key] : undefined;
      const b = after ? after[key] : undefined;
      if (same(a, b)) continue;
      if (a !== undefined) lines.push(["diff-del", "- " + key + ": " + JSON.stringify(a)]);
      if (b !== undefined) lines.push(["diff-add", "+ " + key + ": " + JSON.stringify(b)]);
    }
    return lines;
  }

  async function loadHistory() {
    const answer = await api("config", { body: { action: "history" } });
    const versions = answer.versions || [];
    $("history").tBodies[0].replaceChildren(
      ...versions.map((entry, index) => {
        const previous = versions[index + 1];
        const keys = Object.keys(entry.stored);
        return el(
          "tr",
          { dataset: { version: entry.version } },
          el("td", { text: entry.version }),
          el("td", { class: "mono", text: keys.join(", ") || t("(defaults)") }),
          el(
            "td",
            {},
            el(
              "div",
              { class: "row" },
              el("button", {
                type: "button",
                class: "show-diff",
                text: t("Diff"),
                on: {
                  click: () => {
                    const lines = diffLines(previous ? previous.stored : {}, entry.stored);
                    const pre = $("diff");
                    pre.classList.remove("hidden");
                    const title = t("Version {a} → {b}", { a: previous ? previous.version : 0, b: entry.version });
                    pre.replaceChildren(
                      el("div", { text: title }),
                      ...(lines.length ? lines.map(([cls, text]) => el("div", { class: cls, text })) : [el("div", { text: t("(no change)") })]),
                    );
                  },
                },
              }),
              entry.version === version
                ? el("span", { class: "badge ok", text: t("current") })
                : el("button", { type: "button", class: "rollback", text: t("Roll back to this"), on: { click: () => CG.guarded(() => rollback(entry.version)) } }),
            ),
          ),
        );
      }),
    );
  }

  async function rollback(target) {
    const sure = await ask(t("Restore version {n} as a new version?", { n: target }), { confirm: true });
    if (!sure) return;
    const answer = await api("config", { body: { action: "rollback", version: target, expected_version: version } });
    toast(answer.message);
    await load();
  }

  async function reset() {
    const sure = await ask(t("Reset every field to its environment default?"), { confirm: true, danger: true, ok: "Reset" });
    if (!sure) return;
    const answer = await api("config", { body: { action: "reset", expected_version: version } });
    toast(answer.message);
    await load();
  }

  CG.onLang(() => described && render());
  CG.start(async () => {
    $("config-form").addEventListener("submit", (event) => CG.guarded(() => save(event)));
    $("reload").addEventListener("click", () => CG.guarded(load));
    $("reset").addEventListener("click", () => CG.guarded(reset));
    await load();
  });
})();
