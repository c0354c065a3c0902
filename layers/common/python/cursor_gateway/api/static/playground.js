// API playground: pick a model from /v1/models, chat with the answer shown as it streams (thinking apart),
// and the same request as curl, openai-python and anthropic-python.
"use strict";
(() => {
  const { el, $, t, api, toast } = CG;
  const history = [];
  let controller = null;
  let snippetKind = "curl";
  const base = () => new URL(".", location.href).href.replace(/\/$/, "");

  async function loadModels() {
    const answer = await api("v1/models", { method: "GET" });
    const ids = (answer.data || []).map((m) => m.id).sort();
    $("model").replaceChildren(...ids.map((id) => el("option", { value: id, text: id })));
    updateSnippet();
  }

  function messages() {
    const system = $("system").value.trim();
    return (system ? [{ role: "system", content: system }] : []).concat(history);
  }

  function bubble(role) {
    const thinking = el("div", { class: "thinking hidden" });
    const text = el("div", { class: "text" });
    const node = el("div", { class: "msg " + role, dataset: { role } }, thinking, text);
    $("chat").append(node);
    return { node, thinking, text };
  }

  // SSE over fetch: "data: {...}" lines, "[DONE]" at the end; comments (": keep-alive") are skipped.
  async function readStream(response, onChunk) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, cut).trim();
        buffer = buffer.slice(cut + 1);
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        onChunk(JSON.parse(data));
      }
    }
  }

  async function send(event) {
    event.preventDefault();
    const prompt = $("prompt").value.trim();
    if (!prompt) return;
    history.push({ role: "user", content: prompt });
    bubble("user").text.textContent = prompt;
    $("prompt").value = "";
    const answer = bubble("assistant");
    const stream = $("stream").value === "true";
    const body = { model: $("model").value, messages: messages(), stream };
    updateSnippet();
    controller = new AbortController();
    $("send").disabled = true;
    $("stop").disabled = false;
    $("chat-status").textContent = t("waiting for the first token…");
    const started = performance.now();
    let first = null;
    let text = "";
    try {
      const response = await api("v1/chat/completions", { body, raw: true, signal: controller.signal });
      if (!response.ok) {
        const error = await response.json().catch(() => ({}));
        throw new Error((error.error && error.error.message) || "HTTP " + response.status);
      }
      if (stream) {
        await readStream(response, (chunk) => {
          if (chunk.error) throw new Error(chunk.error.message || JSON.stringify(chunk.error));
          const delta = (chunk.choices && chunk.choices[0] && chunk.choices[0].delta) || {};
          if (first === null && (delta.content || delta.reasoning_content)) {
            first = performance.now() - started;
            $("chat-status").textContent = t("first token after {ms} ms", { ms: Math.round(first) });
          }
          if (delta.reasoning_content) {
            answer.thinking.classList.remove("hidden");
            answer.thinking.textContent += delta.reasoning_content;
          }
          if (delta.content) {
            text += delta.content;
            answer.text.textContent = text;
          }
        });
      } else {
        const data = await response.json();
        const message = (data.choices && data.choices[0] && data.choices[0].message) || {};
        if (message.reasoning_content) {
          answer.thinking.classList.remove("hidden");
          answer.thinking.textContent = message.reasoning_content;
        }
        text = message.content || "";
        answer.text.textContent = text;
      }
      history.push({ role: "assistant", content: text });
      $("chat-status").textContent = t("done in {ms} ms", { ms: Math.round(performance.now() - started) });
    } catch (error) {
      answer.node.classList.add("error");
      answer.text.textContent = error.name === "AbortError" ? text + " [" + t("stopped") + "]" : error.message;
      $("chat-status").textContent = "";
      if (error.name !== "AbortError") toast(error.message, true);
      if (text) history.push({ role: "assistant", content: text });
    } finally {
      controller = null;
      $("send").disabled = false;
      $("stop").disabled = true;
    }
  }

  function snippetFor(kind) {
    const model = $("model").value || "MODEL";
    const msgs = messages().length ? messages() : [{ role: "user", content: $("prompt").value.trim() || "Hello" }];
    const stream = $("stream").value === "true";
    if (kind === "curl") {
      const body = JSON.stringify({ model, messages: msgs, stream });
      return [
        "curl " + base() + "/v1/chat/completions \\",
        '  -H "Authorization: Bearer $CURSOR_GATEWAY_KEY" \\',
        '  -H "Content-Type: application/json" \\',
        "  -d '" + body.replace(/'/g, "'\\''") + "'",
      ].join("\n");
    }
    if (kind === "openai") {
      return [
        "import os",
        "from openai import OpenAI",
        "",
        'client = OpenAI(base_url="' + base() + '/v1", api_key=os.environ["CURSOR_GATEWAY_KEY"])',
        stream ? "stream = client.chat.completions.create(" : "answer = client.chat.completions.create(",
        "    model=" + JSON.stringify(model) + ",",
        "    messages=" + JSON.stringify(msgs) + ",",
        stream ? "    stream=True,\n)\nfor chunk in stream:\n    print(chunk.choices[0].delta.content or \"\", end=\"\", flush=True)" : ")\nprint(answer.choices[0].message.content)",
      ].join("\n");
    }
    const system = msgs.filter((m) => m.role === "system").map((m) => m.content).join("\n");
    const rest = msgs.filter((m) => m.role !== "system");
    return [
      "import os",
      "import anthropic",
      "",
      'client = anthropic.Anthropic(base_url="' + base() + '", api_key=os.environ["CURSOR_GATEWAY_KEY"])',
      stream ? "with client.messages.stream(" : "answer = client.messages.create(",
      "    model=" + JSON.stringify(model) + ",",
      "    max_tokens=1024,",
      system ? "    system=" + JSON.stringify(system) + "," : null,
      "    messages=" + JSON.stringify(rest) + ",",
      stream ? ") as stream:\n    for text in stream.text_stream:\n        print(text, end=\"\", flush=True)" : ")\nprint(answer.content[0].text)",
    ]
      .filter((line) => line !== null)
      .join("\n");
  }

  function updateSnippet() {
    $("snippet").textContent = snippetFor(snippetKind);
  }

  CG.onLang(() => updateSnippet());
  CG.start(async () => {
    $("send-form").addEventListener("submit", (event) => send(event));
    $("stop").addEventListener("click", () => controller && controller.abort());
    $("clear").addEventListener("click", () => {
      history.length = 0;
      $("chat").replaceChildren();
      updateSnippet();
    });
    for (const id of ["model", "stream", "system", "prompt"]) $(id).addEventListener("input", updateSnippet);
    for (const tab of document.querySelectorAll("#snippet-tabs button")) {
      tab.addEventListener("click", () => {
        snippetKind = tab.dataset.snippet;
        for (const other of document.querySelectorAll("#snippet-tabs button")) other.setAttribute("aria-selected", String(other === tab));
        updateSnippet();
      });
    }
    await loadModels();
  });
})();
