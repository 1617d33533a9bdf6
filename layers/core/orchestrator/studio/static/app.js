// The Studio shell: navigation between views, the API key prompt, the health pill.
import { apiKey, setApiKey, url } from "./api.js";
import { replace, h } from "./dom.js";
import * as documents from "./views/documents.js";
import * as graph from "./views/graph.js";
import * as metrics from "./views/metrics.js";
import * as playground from "./views/playground.js";
import * as runs from "./views/runs.js";
import * as settings from "./views/settings.js";
import * as tools from "./views/tools.js";

const VIEWS = { graph, playground, runs, tools, documents, metrics, settings };
const main = document.getElementById("view");
const dialog = document.getElementById("key-dialog");
let cleanup = null;

function route() {
  const [name, ...rest] = window.location.hash.replace(/^#/, "").split("/");
  return { name: VIEWS[name] ? name : "graph", arg: rest.length ? decodeURIComponent(rest.join("/")) : null };
}

async function show() {
  const { name, arg } = route();
  if (cleanup) cleanup();
  cleanup = null;
  for (const link of document.querySelectorAll(".sidebar a")) {
    link.classList.toggle("active", link.dataset.view === name);
  }
  const root = h("div", { class: `view view-${name}`, id: `view-${name}` });
  replace(main, root);
  document.body.dataset.view = name;
  try {
    cleanup = (await VIEWS[name].render(root, arg)) || null;
  } catch (error) {
    // A view that throws leaves its message, not a blank page.
    root.append(h("p", { class: "error", role: "alert" }, String(error && error.message ? error.message : error)));
  }
  root.dataset.ready = "true";
}

function signedIn() {
  const has = Boolean(apiKey());
  document.getElementById("sign-out").hidden = !has;
  document.getElementById("sign-in").hidden = has;
  document.getElementById("who").textContent = has ? "key set" : "";
}

function askForKey(reason) {
  document.getElementById("key-reason").textContent = reason || "";
  document.getElementById("key-input").value = "";
  if (!dialog.open) dialog.showModal();
}

async function health() {
  const pill = document.getElementById("health");
  try {
    const response = await fetch(url("health"));
    const body = await response.json();
    pill.textContent = `${body.status || response.status} · auth ${body.auth || "?"}`;
    pill.dataset.status = body.status || "unknown";
  } catch {
    pill.textContent = "unreachable";
    pill.dataset.status = "down";
  }
}

window.addEventListener("studio:unauthorized", (event) => {
  const reason = apiKey() ? `That key was refused: ${event.detail.message}` : event.detail.message;
  askForKey(reason);
});
window.addEventListener("studio:key-changed", signedIn);
window.addEventListener("hashchange", show);
document.getElementById("sign-in").addEventListener("click", () => askForKey(""));
document.getElementById("sign-out").addEventListener("click", () => {
  setApiKey(null);
  show();
});
document.getElementById("key-cancel").addEventListener("click", () => dialog.close());
document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = document.getElementById("key-input").value.trim();
  if (!key) return;
  setApiKey(key);
  dialog.close();
  show();
});

signedIn();
health();
show();
