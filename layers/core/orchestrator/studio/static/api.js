// Calls to the orchestrator API: the key the user entered once, JSON errors, streamed events.

const KEY = "orchestrator-studio.api-key";
// The page is served at <base>/studio, so the API is at <base>/ (a stage prefix stays in front).
const BASE = new URL(".", window.location.href);

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export function apiKey() {
  return window.localStorage.getItem(KEY);
}

export function setApiKey(key) {
  if (key) window.localStorage.setItem(KEY, key);
  else window.localStorage.removeItem(KEY);
  window.dispatchEvent(new CustomEvent("studio:key-changed"));
}

export function url(path, query = {}) {
  const target = new URL(path.replace(/^\//, ""), BASE);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(name, String(value));
  }
  return target;
}

function headers(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = (body && body.error) || {};
  const failed = new ApiError(
    response.status,
    error.code || `http_${response.status}`,
    error.message || response.statusText || `HTTP ${response.status}`,
    body,
  );
  if (response.status === 401) {
    window.dispatchEvent(new CustomEvent("studio:unauthorized", { detail: failed }));
  }
  return failed;
}

/** Call the API: JSON in and out; throws ApiError with the API's code and message. */
export async function api(path, { method = "GET", query, json, form, signal } = {}) {
  const init = { method, headers: headers(), signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  const response = await fetch(url(path, query), init);
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** Server-sent events over fetch (EventSource cannot POST or send a header): calls onEvent(kind, data). */
export async function stream(path, { method = "GET", json, signal, onEvent }) {
  const init = { method, headers: headers({ Accept: "text/event-stream" }), signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  const response = await fetch(url(path), init);
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      dispatch(block, onEvent);
    }
  }
  if (buffer.trim()) dispatch(buffer, onEvent);
}

function dispatch(block, onEvent) {
  let kind = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // a keep-alive comment
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "event") kind = value;
    else if (name === "data") data.push(value);
  }
  if (!data.length) return;
  const text = data.join("\n");
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  onEvent(kind, parsed);
}

let routes = null;

/** "METHOD /path" of every API operation, from /openapi.json (public in the app, like /docs). */
export async function operations() {
  if (routes) return routes;
  // The key goes along: behind an API Gateway JWT authorizer this document needs it too.
  const response = await fetch(url("openapi.json"), { headers: headers() });
  if (!response.ok) return new Set(); // asked again next time (a key may come)
  const schema = await response.json();
  routes = new Set();
  for (const [path, ops] of Object.entries(schema.paths || {})) {
    for (const method of Object.keys(ops)) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

/** Whether this server has an operation; the views say so when one is missing. */
export async function has(operation) {
  return (await operations()).has(operation);
}
