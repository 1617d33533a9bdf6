// Playground: one streamed chat turn as a chosen user and session, and the path it took.
import { api, has, stream } from "../api.js";
import { card, errorLine, field, h, pretty, replace } from "../dom.js";
import { GraphView } from "../graph.js";

const SAVED = "orchestrator-studio.playground";

export async function render(root) {
  const saved = JSON.parse(window.localStorage.getItem(SAVED) || "{}");
  const user = h("input", { id: "pg-user", value: saved.user || "studio-user", required: true, pattern: "[A-Za-z0-9_.:@\\-]+" });
  const session = h("input", { id: "pg-session", value: saved.session || "", placeholder: "new session" });
  const prompt = h("textarea", { id: "pg-prompt", rows: 4, required: true, placeholder: "Ask something…" });
  const noCache = h("input", { id: "pg-no-cache", type: "checkbox" });
  const send = h("button", { id: "pg-send", type: "submit" }, "Send");
  const stop = h("button", { id: "pg-stop", type: "button", disabled: true }, "Stop");
  const form = h(
    "form",
    { class: "stack", id: "pg-form" },
    h("div", { class: "row" }, field("User", user), field("Session", session)),
    field("Prompt", prompt),
    h("div", { class: "row" }, send, stop, h("label", { class: "inline" }, noCache, " skip the cache")),
  );
  const state = h("p", { id: "pg-state", class: "muted" }, "Idle.");
  const intent = h("div", { id: "pg-intent" }, "–");
  const plan = h("ol", { id: "pg-plan" });
  const toolCalls = h("ul", { id: "pg-tools" });
  const citations = h("ol", { id: "pg-citations" });
  const answer = h("div", { id: "pg-answer", class: "answer" });
  const events = h("ol", { id: "pg-events", class: "events" });
  const canvas = h("div", { class: "graph-canvas small", id: "pg-graph" });
  const path = h("p", { id: "pg-path", class: "muted" }, "The path lights up when the run ends.");

  root.append(
    h("h2", {}, "Playground"),
    h(
      "div",
      { class: "split playground-split" },
      h(
        "div",
        { class: "stack" },
        form,
        state,
        card("Answer", answer),
        card("Intent", intent),
        card("Plan", plan),
        card("Tool calls", toolCalls),
        card("Citations", citations),
        h("details", {}, h("summary", {}, "Events"), events),
      ),
      h("aside", { class: "stack" }, card("Path taken", canvas, path)),
    ),
  );

  const graph = new GraphView(canvas);
  if (await has("GET /v1/studio/graph")) {
    graph.load("chat").catch((error) => replace(path, errorLine(error)));
  } else {
    replace(path, "The graph endpoint (GET /v1/studio/graph) is not on this server.");
  }

  let controller = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    window.localStorage.setItem(SAVED, JSON.stringify({ user: user.value, session: session.value }));
    for (const node of [plan, toolCalls, citations, answer, events]) node.replaceChildren();
    replace(intent, "–");
    replace(path, "Running…");
    delete root.dataset.runId;
    controller = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    state.textContent = "Streaming…";
    const body = { prompt: prompt.value, user_id: user.value, stream: true };
    if (session.value) body.session_id = session.value;
    if (noCache.checked) body.metadata = { no_cache: true };
    let runId = null;
    let finished = null;
    try {
      await stream("/v1/chat", {
        method: "POST",
        json: body,
        signal: controller.signal,
        onEvent: (kind, data) => {
          events.append(h("li", {}, h("b", {}, kind), " ", h("code", {}, clip(pretty(data), 300))));
          if (kind === "run") {
            runId = data.run_id;
            if (!session.value && data.session_id) session.value = data.session_id;
          } else if (kind === "intent") showIntent(intent, data);
          else if (kind === "plan") replace(plan, (data.steps || []).map((step) => h("li", {}, `${step.id} · ${step.node}: ${step.description}`)));
          else if (kind === "tool_call") toolCalls.append(h("li", {}, h("code", {}, data.name), ` ${clip(pretty(data.arguments), 200)}`));
          else if (kind === "tool_result") toolCalls.append(h("li", { class: data.ok ? "ok" : "bad" }, `→ ${data.name}: ${data.ok ? clip(pretty(data.output), 300) : data.error}`));
          else if (kind === "citations") showCitations(citations, data.citations || []);
          else if (kind === "token") answer.append(document.createTextNode(data.text || ""));
          else if (kind === "done") finished = data;
          else if (kind === "error") replace(state, errorLine(data.error || data));
        },
      });
      if (finished) {
        replace(answer, finished.response || "");
        if (finished.intent) showIntent(intent, finished.intent);
        if (finished.citations && finished.citations.length) showCitations(citations, finished.citations);
        const cached = finished.cached ? ` (cached: ${finished.cached})` : "";
        state.textContent = `Done: run ${finished.run_id}${cached}, ${finished.provider || "?"} / ${finished.model || "?"}.`;
        runId = finished.run_id;
        for (const [list, text] of [[plan, "No plan: one step."], [toolCalls, "No tool calls."], [citations, "No citations."]]) {
          if (!list.children.length) list.append(h("li", { class: "muted none" }, text));
        }
      }
      if (runId) await lightUp(runId, user.value, graph, path, root);
    } catch (error) {
      if (error.name !== "AbortError") replace(state, errorLine(error));
      else state.textContent = "Stopped.";
    } finally {
      send.disabled = false;
      stop.disabled = true;
      controller = null;
    }
  });
  stop.addEventListener("click", () => controller && controller.abort());
  return () => {
    if (controller) controller.abort();
    graph.destroy();
  };
}

async function lightUp(runId, userId, graph, path, root) {
  const run = await api(`/v1/runs/${encodeURIComponent(runId)}`, { query: { user_id: userId } });
  root.dataset.runId = runId;
  const trace = run.trace || [];
  const steps = graph.highlight(trace, run.status);
  replace(
    path,
    trace.length ? `${steps.join(" → ")}` : "This server's run record has no trace to light up the path with.",
    " ",
    h("a", { href: `#runs/${encodeURIComponent(runId)}`, id: "pg-timeline" }, "Open the run's timeline"),
  );
  path.dataset.steps = String(steps.length);
}

function showIntent(node, intent) {
  const confidence = typeof intent.confidence === "number" ? intent.confidence.toFixed(2) : "?";
  replace(node, h("b", {}, intent.name), ` · confidence ${confidence} · method ${intent.method}`);
  const alternatives = Object.entries(intent.alternatives || {});
  if (alternatives.length) {
    node.append(h("div", { class: "muted" }, "runners-up: ", alternatives.map(([name, score]) => `${name} ${Number(score).toFixed(2)}`).join(", ")));
  }
}

function showCitations(node, citations) {
  replace(
    node,
    citations.map((c) =>
      h("li", {}, h("b", {}, c.title || c.doc_id), ` #${c.chunk_id ?? "?"} · score ${Number(c.score || 0).toFixed(3)}`, h("div", { class: "snippet" }, c.snippet || "")),
    ),
  );
}

export function clip(text, limit) {
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}
