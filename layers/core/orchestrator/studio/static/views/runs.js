// Runs: the list with filters, one run's timeline, and an asynchronous run watched live.
import { api, has, stream } from "../api.js";
import { card, errorLine, field, h, ms, pretty, replace, table, when } from "../dom.js";
import { missing } from "./graph.js";

const STATUSES = ["", "RUNNING", "SUCCEEDED", "FAILED", "WAITING_FOR_APPROVAL", "REJECTED", "TIMED_OUT", "ABORTED"];

export async function render(root, runId) {
  const status = h("select", { id: "runs-status" }, STATUSES.map((s) => h("option", { value: s }, s || "any status")));
  const intent = h("input", { id: "runs-intent", placeholder: "any intent", size: 12 });
  const user = h("input", { id: "runs-user", placeholder: "any user", size: 14 });
  const window_ = h("select", { id: "runs-window" }, ["1h", "24h", "7d", "30d"].map((w) => h("option", { value: w, selected: w === "24h" }, w)));
  const filters = h(
    "form",
    { class: "row", id: "runs-filters" },
    field("Status", status), field("Intent", intent), field("User", user), field("Window", window_),
    h("button", { type: "submit" }, "Filter"),
  );
  const list = h("div", { id: "runs-list" });
  const timeline = h("div", { id: "run-timeline" });
  root.append(h("h2", {}, "Runs"), asyncRunForm(timeline), card("Recent runs", filters, list), timeline);

  async function load() {
    if (!(await has("GET /v1/runs"))) {
      replace(list, missing("The list of runs", "GET /v1/runs"));
      return;
    }
    replace(list, h("p", { class: "muted" }, "Loading…"));
    try {
      const page = await api("/v1/runs", {
        query: { status: status.value, intent: intent.value, user_id: user.value, window: window_.value, limit: 50 },
      });
      const rows = page.runs.map((run) => ({
        run,
        cells: [
          h("a", { href: `#runs/${encodeURIComponent(run.run_id)}`, class: "run-link", dataset: { user: run.user_id } }, run.run_id),
          h("span", { class: `status s-${run.status}` }, run.status),
          run.intent || "–", run.user_id, when(run.started_at), ms(run.latency_ms),
          `$${Number(run.cost_usd || 0).toFixed(5)}`, String(run.cached || "–"), run.error || "",
        ],
      }));
      replace(
        list,
        rows.length ? table(["run", "status", "intent", "user", "started", "latency", "cost", "cached", "error"], rows) : h("p", { class: "muted" }, "No runs in this window."),
        page.truncated ? h("p", { class: "muted" }, "More runs match: narrow the filters.") : null,
      );
      list.dataset.count = String(rows.length);
    } catch (error) {
      replace(list, errorLine(error));
    }
  }
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  await load();
  if (runId) await showRun(timeline, runId);
  return null;
}

/** One run's status and its trace as a timeline. */
export async function showRun(container, runId, userId) {
  replace(container, card(`Run ${runId}`, h("p", { class: "muted" }, "Loading…")));
  let run;
  try {
    const link = document.querySelector(`a.run-link[href="#runs/${CSS.escape(encodeURIComponent(runId))}"]`);
    run = await api(`/v1/runs/${encodeURIComponent(runId)}`, { query: { user_id: userId || (link && link.dataset.user) } });
  } catch (error) {
    replace(container, card(`Run ${runId}`, errorLine(error)));
    return null;
  }
  const trace = run.trace || [];
  const summary = h(
    "dl",
    { class: "summary" },
    h("dt", {}, "status"), h("dd", { id: "run-status" }, run.status),
    h("dt", {}, "user / session"), h("dd", {}, `${run.user_id || "–"} / ${run.session_id || "–"}`),
    h("dt", {}, "intent"), h("dd", {}, run.intent ? `${run.intent.name} (${run.intent.method}, ${Number(run.intent.confidence).toFixed(2)})` : "–"),
    h("dt", {}, "started / finished"), h("dd", {}, `${when(run.started_at)} / ${when(run.finished_at)}`),
  );
  const answer = run.response && run.response.text ? h("div", { class: "answer" }, run.response.text) : null;
  const errors = (run.errors || []).map((e) => h("p", { class: "error" }, `${e.code || "error"}: ${e.message || pretty(e)}`));
  replace(
    container,
    card(`Run ${runId}`, summary, answer, errors, trace.length ? timelineOf(trace) : h("p", { class: "muted", id: "no-trace" }, "This run has no trace (yet).")),
  );
  container.dataset.spans = String(trace.length);
  return run;
}

function timelineOf(trace) {
  const starts = trace.map((span) => new Date(span.started_at).getTime());
  const t0 = Math.min(...starts);
  const t1 = Math.max(...trace.map((span, i) => starts[i] + (span.duration_ms || 0)));
  const total = Math.max(t1 - t0, 1);
  const rows = trace.map((span, i) => {
    const bar = h("div", { class: `bar${span.error ? " failed" : ""}`, title: `${ms(span.duration_ms)}` });
    bar.style.left = `${((starts[i] - t0) / total) * 100}%`;
    bar.style.width = `${Math.max(((span.duration_ms || 0) / total) * 100, 0.6)}%`;
    return h(
      "li",
      { class: "span", dataset: { node: span.node, action: span.action } },
      h(
        "div",
        { class: "span-head" },
        h("span", { class: "span-name" }, `${span.node} · ${span.action}`, span.step_id ? ` · step ${span.step_id}` : ""),
        h("div", { class: "track" }, bar),
        h("span", { class: "span-time" }, `+${ms(starts[i] - t0)} · ${ms(span.duration_ms)}`, span.retries ? ` · ${span.retries} retries` : ""),
      ),
      h(
        "details",
        {},
        h("summary", {}, span.error ? `error ${span.error.code}` : "input, output, decision"),
        span.error ? h("p", { class: "error" }, `${span.error.code}: ${span.error.message}`) : null,
        h("div", { class: "io" },
          h("div", {}, h("h5", {}, "input"), h("pre", {}, span.input || "")),
          h("div", {}, h("h5", {}, "output"), h("pre", {}, span.output || "")),
          span.decision ? h("div", {}, h("h5", {}, "decision"), h("pre", {}, pretty(span.decision))) : null,
        ),
        h("p", { class: "muted" }, `Lambda ${span.function || "–"} · retries ${span.retries || 0} · started ${when(span.started_at)}`),
      ),
    );
  });
  return h("ol", { class: "timeline", id: "timeline" }, rows);
}

function asyncRunForm(timeline) {
  const user = h("input", { id: "ar-user", value: "studio-user", required: true });
  const prompt = h("input", { id: "ar-prompt", required: true, size: 50, placeholder: "A prompt to run in the background" });
  const log = h("ol", { id: "ar-events", class: "events" });
  const state = h("p", { id: "ar-state", class: "muted" });
  const form = h("form", { class: "row", id: "ar-form" }, field("User", user), field("Prompt", prompt), h("button", { type: "submit" }, "Start run"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    log.replaceChildren();
    try {
      const accepted = await api("/v1/runs", { method: "POST", json: { prompt: prompt.value, user_id: user.value } });
      state.textContent = `Run ${accepted.run_id}: ${accepted.status}; watching…`;
      if (await has("GET /v1/runs/{run_id}/events")) {
        await stream(`/v1/runs/${encodeURIComponent(accepted.run_id)}/events`, {
          onEvent: (kind, data) => log.append(h("li", {}, h("b", {}, kind), " ", h("code", {}, pretty(data).slice(0, 300)))),
        });
      } else {
        log.append(h("li", { class: "notice" }, "Live events (GET /v1/runs/{run_id}/events) are not on this server; showing the final state."));
        await poll(accepted.run_id, user.value);
      }
      const run = await showRun(timeline, accepted.run_id, user.value);
      state.textContent = `Run ${accepted.run_id}: ${run ? run.status : "?"}.`;
    } catch (error) {
      replace(state, errorLine(error));
    }
  });
  return card("Asynchronous run (live)", form, state, log);
}

async function poll(runId, userId) {
  for (let i = 0; i < 120; i += 1) {
    const run = await api(`/v1/runs/${encodeURIComponent(runId)}`, { query: { user_id: userId } });
    if (run.status !== "RUNNING") return run;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}
