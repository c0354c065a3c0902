// cursor-gateway admin console: what every page shares. Navigation, English/Chinese, the admin key
// prompt, the API client, and small DOM helpers. Data is only ever inserted as text (textContent,
// never innerHTML), so a prompt or profile containing markup shows as those characters.
"use strict";
(() => {
  const KEY = "cg.adminKey";
  const KEY_UNTIL = "cg.adminKeyUntil";
  const LANG = "cg.lang";
  const REMEMBER_MS = 24 * 3600 * 1000;
  const DICT = window.CG_I18N || {};

  const FEATURES = "cg.features";
  const FEATURES_TTL_MS = 5 * 60 * 1000;
  // [href, label, page, feature the gateway must report for the link to show]
  const PAGES = [
    ["./", "Dashboard", "dashboard"],
    ["tokens", "Tokens", "tokens"],
    ["proxies", "Proxies", "proxies"],
    ["config", "Config", "config"],
    ["logs", "Logs", "logs", "logs"],
    ["stats", "Statistics", "stats", "logs"],
    ["keys", "Keys", "keys"],
    ["analytics", "Analytics", "analytics"],
    ["api", "Playground", "api"],
  ];

  // ---- language ------------------------------------------------------------------------------------
  function initialLang() {
    const chosen = localStorage.getItem(LANG);
    if (chosen === "en" || chosen === "zh-CN") return chosen;
    return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
  }
  let lang = initialLang();

  // The English text is the key: a missing translation falls back to it, never to a blank.
  function t(text, vars) {
    let out = (lang !== "en" && DICT[lang] && DICT[lang][text]) || text;
    if (vars) for (const [name, value] of Object.entries(vars)) out = out.split("{" + name + "}").join(String(value));
    return out;
  }

  function translate(root) {
    for (const node of (root || document).querySelectorAll("[data-i18n]")) {
      if (!node.dataset.i18nKey) node.dataset.i18nKey = node.dataset.i18n || node.textContent.trim();
      node.textContent = t(node.dataset.i18nKey);
    }
    for (const node of (root || document).querySelectorAll("[data-i18n-ph]")) {
      node.placeholder = t(node.dataset.i18nPh);
    }
    for (const node of (root || document).querySelectorAll("[data-i18n-title]")) {
      node.title = t(node.dataset.i18nTitle);
    }
    document.documentElement.lang = lang;
    const title = document.body.dataset.title;
    if (title) document.title = t(title) + " · cursor-gateway";
  }

  const langListeners = [];
  function setLang(value) {
    lang = value;
    localStorage.setItem(LANG, value);
    translate(document);
    for (const listener of langListeners) listener(lang);
  }

  // ---- DOM helpers ---------------------------------------------------------------------------------
  // el("td", {class: "num", text: 3}, child...): text always goes through textContent.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "class") node.className = value;
      else if (name === "on") for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name === "style") for (const [k, v] of Object.entries(value)) node.style.setProperty(k, v);
      else if (name in node && typeof value !== "string") node[name] = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const $ = (id) => document.getElementById(id);

  function toast(message, bad) {
    let box = $("toast");
    if (!box) document.body.append((box = el("div", { id: "toast", role: "status", "aria-live": "polite" })));
    const item = el("div", { class: bad ? "bad" : "", text: message });
    box.append(item);
    setTimeout(() => item.remove(), bad ? 8000 : 4000);
  }

  function download(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type: type || "application/json" }));
    const link = el("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  const numberFormat = () => new Intl.NumberFormat(lang);
  function fmtNum(value) {
    return value === null || value === undefined || value === "" ? "—" : numberFormat().format(value);
  }
  // Seconds since the epoch, milliseconds, or an ISO string.
  function fmtTime(value) {
    if (value === null || value === undefined || value === "") return "—";
    const date = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
    return isNaN(date) ? String(value) : date.toLocaleString(lang);
  }
  function fmtSeconds(value) {
    if (value === null || value === undefined) return "—";
    return Number(value).toFixed(value < 10 ? 2 : 1) + " s";
  }
  function fmtLeft(untilEpochSeconds) {
    const left = Math.max(0, Math.round(untilEpochSeconds - Date.now() / 1000));
    if (left >= 3600) return Math.floor(left / 3600) + " h " + Math.floor((left % 3600) / 60) + " min";
    if (left >= 60) return Math.floor(left / 60) + " min " + (left % 60) + " s";
    return left + " s";
  }
  function mask(value) {
    const text = String(value || "");
    return text.length <= 12 ? "•".repeat(text.length) : text.slice(0, 6) + "…" + text.slice(-4);
  }

  // ---- admin key -----------------------------------------------------------------------------------
  // Kept in sessionStorage (this tab only); "remember for 24 hours" opts in to localStorage with an expiry.
  function storedKey() {
    const session = sessionStorage.getItem(KEY);
    if (session) return session;
    const until = Number(localStorage.getItem(KEY_UNTIL) || 0);
    if (until > Date.now()) return localStorage.getItem(KEY) || "";
    localStorage.removeItem(KEY);
    localStorage.removeItem(KEY_UNTIL);
    return "";
  }
  function saveKey(value, remember) {
    sessionStorage.setItem(KEY, value);
    if (remember) {
      localStorage.setItem(KEY, value);
      localStorage.setItem(KEY_UNTIL, String(Date.now() + REMEMBER_MS));
    }
  }
  function forgetKey() {
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
    localStorage.removeItem(KEY_UNTIL);
  }

  let pendingPrompt = null;
  function promptKey(message) {
    if (pendingPrompt) return pendingPrompt;
    pendingPrompt = new Promise((resolve) => {
      const input = el("input", { id: "admin-key", type: "password", autocomplete: "off", required: true, class: "grow" });
      const remember = el("input", { id: "admin-key-remember", type: "checkbox" });
      const dialog = el(
        "dialog",
        { class: "auth", id: "auth-dialog" },
        el(
          "form",
          { method: "dialog" },
          el("h2", { "data-i18n": "", text: "Admin key" }),
          el("p", { class: "muted", "data-i18n": "", text: "Paste the AUTH_TOKEN that `make run` printed. It stays in this browser tab." }),
          message ? el("p", { class: "error", id: "auth-error", text: t(message) }) : null,
          el("div", { class: "row" }, input),
          el("label", { class: "switch" }, remember, el("span", { "data-i18n": "", text: "Remember for 24 hours on this device" })),
          el("div", { class: "row" }, el("button", { class: "primary", id: "admin-key-save", type: "submit", "data-i18n": "", text: "Continue" })),
        ),
      );
      dialog.addEventListener("cancel", (event) => event.preventDefault()); // the key is required
      dialog.querySelector("form").addEventListener("submit", (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        saveKey(value, remember.checked);
        dialog.close();
        dialog.remove();
        pendingPrompt = null;
        resolve(value);
      });
      document.body.append(dialog);
      translate(dialog);
      dialog.showModal();
      input.focus();
    });
    return pendingPrompt;
  }

  async function adminKey() {
    return storedKey() || promptKey();
  }

  // ---- API -----------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body) {
      const message = (body && (body.message || (body.error && body.error.message) || body.error)) || "HTTP " + status;
      super(typeof message === "string" ? message : JSON.stringify(message));
      this.status = status;
      this.body = body;
    }
  }

  // Relative paths ("tokens/get"): they work at / locally and at /<stage>/ behind API Gateway.
  // A 401 forgets the key, asks again and retries once per new key.
  async function api(path, options) {
    const opts = Object.assign({ method: "POST" }, options || {});
    let message = null;
    for (;;) {
      const key = storedKey() || (await promptKey(message));
      const headers = { authorization: "Bearer " + key };
      let body;
      if (opts.body !== undefined) {
        headers["content-type"] = "application/json";
        body = JSON.stringify(opts.body);
      }
      let url = path;
      if (opts.query) {
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null && v !== "") params.set(k, v);
        const text = params.toString();
        if (text) url += "?" + text;
      }
      const answer = await fetch(url, { method: opts.method, headers, body, signal: opts.signal });
      if (answer.status === 401) {
        forgetKey();
        message = "That key was not accepted (401). Paste the admin key again.";
        continue;
      }
      if (opts.raw) return answer;
      const text = await answer.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
      if (!answer.ok || (data && data.status === "error")) throw new ApiError(answer.status, data);
      return data;
    }
  }

  // Runs fn, shows its error as a toast; returns its value or undefined.
  async function guarded(fn) {
    try {
      return await fn();
    } catch (error) {
      toast(error.message || String(error), true);
      return undefined;
    }
  }

  // A small modal instead of window.prompt/confirm: translatable, styled, and testable.
  // ask("Rename", {value}) -> the text or null; ask("Delete?", {confirm: true}) -> true or null.
  function ask(title, options) {
    const opts = options || {};
    return new Promise((resolve) => {
      const input = opts.confirm ? null : el("input", { id: "ask-input", class: "grow", value: opts.value || "", placeholder: opts.placeholder || "" });
      const finish = (value) => { dialog.close(); dialog.remove(); resolve(value); };
      const dialog = el(
        "dialog",
        { class: "auth", id: "ask-dialog" },
        el(
          "form",
          { method: "dialog" },
          el("h2", { text: title }),
          opts.detail ? el("p", { class: "muted", text: opts.detail }) : null,
          input ? el("div", { class: "row" }, input) : null,
          el(
            "div",
            { class: "row" },
            el("button", { type: "submit", id: "ask-ok", class: opts.danger ? "danger" : "primary", text: t(opts.ok || "OK") }),
            el("button", { type: "button", id: "ask-cancel", text: t("Cancel"), on: { click: () => finish(null) } }),
          ),
        ),
      );
      dialog.addEventListener("cancel", () => finish(null));
      dialog.querySelector("form").addEventListener("submit", (event) => {
        event.preventDefault();
        finish(input ? input.value.trim() : true);
      });
      document.body.append(dialog);
      dialog.showModal();
      (input || dialog.querySelector("#ask-ok")).focus();
    });
  }

  // What this gateway serves beyond the core admin API. Request logs and statistics (issue 11) are a
  // separate route group: the admin /health reports them ("requests", "storage") when they are there.
  // Asking /health (cached for the tab a few minutes) avoids calling routes that would answer 404.
  let featuresPromise = null;
  function features() {
    if (featuresPromise) return featuresPromise;
    const cached = JSON.parse(sessionStorage.getItem(FEATURES) || "null");
    if (cached && cached.until > Date.now()) return (featuresPromise = Promise.resolve(cached.features));
    featuresPromise = api("health", { method: "GET" }).then(
      (health) => {
        const found = { logs: Boolean(health && (health.requests || health.storage)) };
        sessionStorage.setItem(FEATURES, JSON.stringify({ until: Date.now() + FEATURES_TTL_MS, features: found }));
        return found;
      },
      () => ({ logs: false }),
    );
    return featuresPromise;
  }

  // ---- navigation ----------------------------------------------------------------------------------
  function buildNav() {
    const current = document.body.dataset.page;
    const links = PAGES.map(([href, label, page, feature]) =>
      el("a", {
        href,
        "data-i18n": "",
        text: label,
        "aria-current": page === current ? "page" : null,
        class: feature ? "hidden" : null, // shown once the gateway reports the feature
        dataset: { nav: page, feature: feature || "" },
      }),
    );
    const select = el(
      "select",
      { id: "lang", "aria-label": "Language / 语言", on: { change: (event) => setLang(event.target.value) } },
      el("option", { value: "en", text: "English" }),
      el("option", { value: "zh-CN", text: "简体中文" }),
    );
    select.value = lang;
    const signOut = el("button", {
      id: "sign-out",
      type: "button",
      "data-i18n": "",
      text: "Change key",
      on: { click: () => { forgetKey(); location.reload(); } },
    });
    const header = el(
      "header",
      { class: "nav" },
      el("span", { class: "brand", text: "cursor-gateway" }),
      el("nav", { "aria-label": "Pages" }, links),
      el("div", { class: "tools" }, select, signOut),
    );
    document.body.prepend(header);
  }

  // A page calls CG.start(async () => {...}): nav and language first, then the key, then the page.
  // A page that needs a feature (data-needs="logs") shows its "not available" notice instead.
  function start(init) {
    const run = async () => {
      buildNav();
      translate(document);
      await adminKey();
      const found = await features();
      for (const link of document.querySelectorAll("header.nav a[data-feature]")) {
        if (link.dataset.feature) link.classList.toggle("hidden", !found[link.dataset.feature]);
      }
      const needs = document.body.dataset.needs;
      if (needs && !found[needs]) {
        const notice = $("unavailable");
        if (notice) notice.classList.remove("hidden");
        for (const node of document.querySelectorAll("[data-needs-content]")) node.classList.add("hidden");
      } else {
        await guarded(init);
      }
      document.body.dataset.ready = "true"; // the page's controls are wired and its first data is in
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
    else run();
  }

  window.CG = {
    t, el, $, api, guarded, ask, features, toast, download, translate, start, mask, promptKey, storedKey,
    fmtNum, fmtTime, fmtSeconds, fmtLeft, ApiError,
    get lang() { return lang; },
    onLang(listener) { langListeners.push(listener); },
  };
})();
