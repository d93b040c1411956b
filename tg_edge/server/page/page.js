// The tg-edge translator page: plain JavaScript, no library, nothing fetched from another origin.
"use strict";

// Every string the page shows, in one place (to be translated later).
const STRINGS = {
  title: "tg-edge translator",
  offline: "offline · on this machine",
  from: "From", to: "To", search: "Search languages", searchFrom: "Search source languages",
  searchTo: "Search target languages", swap: "Swap languages", recent: "Recent language pairs",
  auto: "Detect language", sourceLabel: "Text to translate", translationLabel: "Translation",
  typeHere: "Type or paste text", translate: "Translate", copy: "Copy", copied: "Copied",
  detected: (name, confidence) => `Detected: ${name} (${confidence}%)`,
  count: (n, limit) => (limit < 0 ? `${n}` : `${n} / ${limit}`),
  translating: "Translating…", done: (seconds) => `Done in ${seconds} s`,
  files: "Files", dropHere: "Drop a file here, or choose one:",
  formats: (list) => `Reads ${list}`, fields: "Fields to translate in a .jsonl file (comma-separated)",
  progress: (done, total) => `${done} / ${total} segments`, reading: "Uploading and reading…",
  download: (name) => `Download ${name}`, imageText: "Text in the image, translated:",
  flagged: (n) => `${n} flagged: hover a marked sentence for why`,
  keyAsk: "This server needs an API key:", keySave: "Use this key",
  error: (message) => `Error: ${message}`, offlineError: "the server cannot be reached",
  noSwap: "Detect the source language first (translate once), then swap",
};

const IMAGE_SUFFIXES = [".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"];
const RECENT_KEY = "tg-edge.recent-pairs";
const KEY_KEY = "tg-edge.api-key";
const DEBOUNCE_MS = 700;

const $ = (id) => document.getElementById(id);
const el = {
  source: $("source-language"), target: $("target-language"), text: $("source-text"),
  output: $("translation"), button: $("translate"), count: $("count"), detected: $("detected"),
  status: $("status"), error: $("error"), copy: $("copy"), swap: $("swap"), recent: $("recent"),
  file: $("file-input"), drop: $("drop"), fields: $("fields"),
  progress: $("progress"), progressText: $("progress-text"), download: $("download"), image: $("image"),
};
const state = { settings: null, languages: [], controller: null, timer: 0, detected: null };

function applyStrings() {
  for (const node of document.querySelectorAll("[data-s]")) node.textContent = STRINGS[node.dataset.s];
  for (const node of document.querySelectorAll("[data-s-placeholder]")) node.placeholder = STRINGS[node.dataset.sPlaceholder];
  for (const node of document.querySelectorAll("[data-s-label]")) {
    node.setAttribute("aria-label", STRINGS[node.dataset.sLabel]);
    node.title = STRINGS[node.dataset.sLabel];
  }
  document.title = STRINGS.title;
}

function showError(message) { el.error.textContent = message ? STRINGS.error(message) : ""; }

function ownName(code) {
  try { return new Intl.DisplayNames([code], { type: "language" }).of(code) || ""; } catch { return ""; }
}

function languageLabel(language) {
  const own = ownName(language.code);
  return own && own.toLowerCase() !== language.name.toLowerCase()
    ? `${language.name} · ${own} (${language.code})` : `${language.name} (${language.code})`;
}

function fillSelect(select, filter, withAuto) {
  const keep = select.value;
  const words = filter.trim().toLowerCase();
  select.replaceChildren();
  if (withAuto) select.append(new Option(STRINGS.auto, "auto"));
  for (const language of state.languages) {
    if (words && !language.label.toLowerCase().includes(words) && language.code !== keep) continue;
    select.append(new Option(language.label, language.code));
  }
  if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
}

function languageName(code) {
  const found = state.languages.find((l) => l.code === code);
  return found ? found.name : code;
}

// -- API calls -------------------------------------------------------------------------------------

function apiKey() { return sessionStorage.getItem(KEY_KEY) || ""; }

function askKey() {
  const dialog = $("key-dialog");
  if (!dialog.open) dialog.showModal();
}

async function errorOf(response) {
  let message = `HTTP ${response.status}`;
  try { message = (await response.json()).error || message; } catch { /* not JSON */ }
  if (response.status === 403 || /API key/i.test(message)) { sessionStorage.removeItem(KEY_KEY); askKey(); }
  return message;
}

// Reads a text/event-stream body, calling onEvent(name, data) for each event.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message"; let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      onEvent(name, JSON.parse(data || "{}"));
    }
  }
}

async function post(path, body, onEvent, signal) {
  const isForm = body instanceof FormData;
  if (apiKey()) { if (isForm) body.append("api_key", apiKey()); else body.api_key = apiKey(); }
  const response = await fetch(path, {
    method: "POST", signal, body: isForm ? body : JSON.stringify(body),
    headers: isForm ? {} : { "Content-Type": "application/json" },
  });
  if (!response.ok) throw new Error(await errorOf(response));
  if (onEvent) return readEvents(response, onEvent);
  return response.json();
}

// -- text ------------------------------------------------------------------------------------------

function updateCount() {
  const limit = state.settings ? state.settings.charLimit : -1;
  const n = el.text.value.length;
  el.count.textContent = STRINGS.count(n, limit);
  el.count.classList.toggle("error", limit >= 0 && n > limit);
}

function renderParts(parts) {
  el.output.replaceChildren();
  let flagged = 0;
  for (const part of parts) {
    if (!part.problem) { el.output.append(part.text); continue; }
    const mark = document.createElement("mark");
    mark.className = "flag";
    mark.dataset.finding = part.finding || "";
    mark.title = part.problem;
    mark.setAttribute("aria-label", `${part.text} (${part.problem})`);
    mark.tabIndex = 0;
    mark.textContent = part.text;
    el.output.append(mark);
    flagged += 1;
  }
  return flagged;
}

async function translate() {
  clearTimeout(state.timer);
  const text = el.text.value;
  if (state.controller) state.controller.abort();
  if (!text.trim()) { el.output.textContent = ""; el.status.textContent = ""; showError(""); return; }
  const controller = new AbortController();
  state.controller = controller;
  const source = el.source.value; const target = el.target.value;
  const started = performance.now();
  el.status.textContent = STRINGS.translating;
  el.detected.textContent = "";
  el.output.setAttribute("aria-busy", "true");
  let streamed = "";
  try {
    await post("/translate_stream", { q: text, source, target }, (name, data) => {
      if (controller.signal.aborted) return;
      if (name === "detected") {
        state.detected = data.language;
        el.detected.textContent = STRINGS.detected(languageName(data.language), data.confidence);
      } else if (name === "piece") {
        streamed += data.text;
        el.output.textContent = streamed;
      } else if (name === "done") {
        const flagged = renderParts(data.parts);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        el.status.textContent = STRINGS.done(seconds) + (flagged ? ` · ${STRINGS.flagged(flagged)}` : "");
        showError("");
        remember(source, target);
      } else if (name === "error") {
        throw new Error(data.error);
      }
    }, controller.signal);
  } catch (error) {
    if (error.name === "AbortError") return;
    el.status.textContent = "";
    showError(error.message === "Failed to fetch" ? STRINGS.offlineError : error.message);
  } finally {
    if (state.controller === controller) { state.controller = null; el.output.removeAttribute("aria-busy"); }
  }
}

function swap() {
  let source = el.source.value;
  if (source === "auto") {
    if (!state.detected) { showError(STRINGS.noSwap); return; }
    source = state.detected;
  }
  const target = el.target.value;
  const translated = el.output.textContent;
  setPair(target, source);
  el.text.value = translated; el.output.textContent = "";
  updateCount();
  if (translated.trim()) translate();
}

function setPair(source, target) {
  $("source-search").value = ""; $("target-search").value = "";  // a filtered picker may lack the language
  fillSelect(el.source, "", true); fillSelect(el.target, "", false);
  el.source.value = source; el.target.value = target;
}

// -- recent pairs ----------------------------------------------------------------------------------

function recentPairs() {
  try { return JSON.parse(localStorage.getItem(RECENT_KEY)) || []; } catch { return []; }
}

function remember(source, target) {
  const pairs = [[source, target], ...recentPairs().filter(([s, t]) => s !== source || t !== target)].slice(0, 5);
  localStorage.setItem(RECENT_KEY, JSON.stringify(pairs));
  renderRecent();
}

function renderRecent() {
  el.recent.replaceChildren();
  for (const [source, target] of recentPairs()) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${source === "auto" ? STRINGS.auto : languageName(source)} → ${languageName(target)}`;
    button.addEventListener("click", () => { setPair(source, target); translate(); });
    el.recent.append(button);
  }
}

// -- files -----------------------------------------------------------------------------------------

function suffixOf(name) { const dot = name.lastIndexOf("."); return dot < 0 ? "" : name.slice(dot).toLowerCase(); }

function translatedName(name, target) {
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? `${name}.${target}` : `${name.slice(0, dot)}.${target}${name.slice(dot)}`;
}

async function translateFile(file) {
  showError("");
  el.download.hidden = true;
  el.image.hidden = true;
  const form = new FormData();
  form.append("file", file);
  form.append("source", el.source.value);
  form.append("target", el.target.value);
  if (IMAGE_SUFFIXES.includes(suffixOf(file.name)) && state.settings.images) return translateImage(file, form);
  if (suffixOf(file.name) === ".jsonl") form.append("fields", el.fields.value);
  el.progress.hidden = false;
  el.progress.value = 0;
  el.progressText.textContent = STRINGS.reading;
  let result = "";
  try {
    await post("/translate_file_stream", form, (name, data) => {
      if (name === "progress") {
        el.progress.max = Math.max(1, data.total);
        el.progress.value = data.done;
        el.progressText.textContent = STRINGS.progress(data.done, data.total);
      } else if (name === "done") {
        el.progress.value = el.progress.max;
        result = new URL(data.translatedFileUrl, location.href).pathname;  // this origin, whatever its URL says
      } else if (name === "error") {
        throw new Error(data.error);
      }
    });
    // Fetched into a blob: the link then saves it under the name given here, not the upload's own name.
    const response = await fetch(result);
    if (!response.ok) throw new Error(await errorOf(response));
    const download = translatedName(file.name, el.target.value);
    URL.revokeObjectURL(el.download.href);
    el.download.href = URL.createObjectURL(await response.blob());
    el.download.download = download;
    el.download.textContent = STRINGS.download(download);
    el.download.hidden = false;
  } catch (error) {
    el.progress.hidden = true;
    el.progressText.textContent = "";
    showError(error.message);
  }
}

async function translateImage(file, form) {
  el.image.src = URL.createObjectURL(file);
  el.image.alt = file.name;
  el.image.hidden = false;
  el.status.textContent = STRINGS.translating;
  try {
    const reply = await post("/translate_image", form);
    el.output.textContent = reply.translatedText;
    el.status.textContent = STRINGS.imageText;
  } catch (error) {
    el.status.textContent = "";
    showError(error.message);
  }
}

// -- set-up ----------------------------------------------------------------------------------------

function translateSoon() { clearTimeout(state.timer); state.timer = setTimeout(translate, DEBOUNCE_MS); }

function wire() {
  el.text.addEventListener("input", () => { updateCount(); translateSoon(); });
  el.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); translate(); }
  });
  el.button.addEventListener("click", translate);
  el.swap.addEventListener("click", swap);
  for (const select of [el.source, el.target]) select.addEventListener("change", () => { state.detected = null; translate(); });
  $("source-search").addEventListener("input", (e) => fillSelect(el.source, e.target.value, true));
  $("target-search").addEventListener("input", (e) => fillSelect(el.target, e.target.value, false));
  el.copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(el.output.textContent);
    } catch {  // no clipboard API (a page not on localhost or https) or no permission: the old way
      getSelection().selectAllChildren(el.output);
      document.execCommand("copy");
    }
    el.status.textContent = STRINGS.copied;
  });
  el.file.addEventListener("change", () => { if (el.file.files[0]) translateFile(el.file.files[0]); });
  el.drop.addEventListener("dragover", (event) => { event.preventDefault(); el.drop.classList.add("over"); });
  el.drop.addEventListener("dragleave", () => el.drop.classList.remove("over"));
  el.drop.addEventListener("drop", (event) => {
    event.preventDefault();
    el.drop.classList.remove("over");
    if (event.dataTransfer.files[0]) translateFile(event.dataTransfer.files[0]);
  });
  $("key-form").addEventListener("submit", () => {
    sessionStorage.setItem(KEY_KEY, $("key").value.trim());
    showError("");
  });
}

async function start() {
  applyStrings();
  wire();
  try {
    const response = await fetch("/page/settings");
    state.settings = await response.json();
  } catch {
    showError(STRINGS.offlineError);
    return;
  }
  const settings = state.settings;
  $("model").textContent = settings.model;
  state.languages = settings.languages.map((l) => ({ ...l, label: languageLabel(l) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const [last] = recentPairs();
  const fallback = state.languages.some((l) => l.code === "de") ? "de" : state.languages[0].code;
  setPair(last ? last[0] : "auto", last ? last[1] : fallback);
  const accepted = settings.formats.concat(settings.images ? IMAGE_SUFFIXES : []);
  el.file.accept = accepted.join(",");
  $("formats").textContent = STRINGS.formats(accepted.join(" "));
  renderRecent();
  updateCount();
  if (settings.keyRequired && !apiKey()) askKey();
}

start();
