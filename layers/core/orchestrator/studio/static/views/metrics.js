// Metrics: GET /v1/monitoring/metrics over a chosen window, as figures and charts.
import { api } from "../api.js";
import { card, errorLine, field, h, ms, replace } from "../dom.js";

const COLORS = ["#3b6fd8", "#2f9e6e", "#d8863b", "#7b4bc4", "#c43c3c", "#c9a227", "#3ba7c4", "#888"];

export async function render(root) {
  const window_ = h("select", { id: "metrics-window" }, ["15m", "1h", "24h", "7d", "30d"].map((w) => h("option", { value: w, selected: w === "1h" }, w)));
  const user = h("input", { id: "metrics-user", placeholder: "whole tenant", size: 14 });
  const form = h("form", { class: "row", id: "metrics-form" }, field("Window", window_), field("User", user), h("button", { type: "submit" }, "Show"));
  const figures = h("div", { class: "figures", id: "metrics-figures" });
  const charts = h("div", { class: "charts", id: "metrics-charts" });
  root.append(h("h2", {}, "Metrics"), form, figures, charts);
  let drawn = [];

  async function load() {
    drawn.forEach((chart) => chart.destroy());
    drawn = [];
    try {
      const m = await api("/v1/monitoring/metrics", { query: { window: window_.value, user_id: user.value } });
      replace(
        figures,
        figure("requests", m.requests),
        figure("p50 latency", ms(m.latency_ms.p50_ms)),
        figure("p95 latency", ms(m.latency_ms.p95_ms)),
        figure("cache hit rate", `${(m.cache.hit_rate * 100).toFixed(1)} %`),
        figure("cost", `$${m.usage.cost_usd.toFixed(5)}`),
        figure("tokens in / out", `${m.usage.tokens_in} / ${m.usage.tokens_out}`),
        figure("tool calls (failed)", `${m.tools.calls} (${m.tools.failures})`),
        m.truncated ? h("p", { class: "muted" }, `Read the newest ${m.runs_read} runs of a longer window.`) : null,
      );
      const nodes = Object.keys(m.node_latency_ms);
      charts.replaceChildren();
      const specs = [
        ["Runs by status", "doughnut", m.by_status],
        ["Runs by intent", "bar", m.routing.intents],
        ["Routing method", "doughnut", m.routing.methods],
        ["Cost by model (USD)", "bar", Object.fromEntries(Object.entries(m.usage_by_model).map(([k, v]) => [k, v.cost_usd]))],
        ["Tool calls", "bar", Object.fromEntries(Object.entries(m.tools.by_tool).map(([k, v]) => [k, v.calls]))],
        ["Errors by code", "bar", m.errors_by_code],
      ];
      const latency = chartCard("Node latency p50 / p95 (ms)");
      charts.append(latency.card);
      drawn.push(
        new window.Chart(latency.canvas, {
          type: "bar",
          data: {
            labels: nodes,
            datasets: [
              { label: "p50", data: nodes.map((n) => m.node_latency_ms[n].p50_ms), backgroundColor: COLORS[0] },
              { label: "p95", data: nodes.map((n) => m.node_latency_ms[n].p95_ms), backgroundColor: COLORS[2] },
            ],
          },
          options: { animation: false, responsive: true, maintainAspectRatio: false },
        }),
      );
      for (const [title, type, values] of specs) {
        const { card: box, canvas } = chartCard(title);
        charts.append(box);
        const labels = Object.keys(values || {});
        if (!labels.length) {
          replace(canvas.parentNode, h("p", { class: "muted" }, "Nothing in this window."));
          continue;
        }
        drawn.push(
          new window.Chart(canvas, {
            type,
            data: { labels, datasets: [{ label: title, data: labels.map((l) => values[l]), backgroundColor: type === "bar" ? COLORS[0] : COLORS }] },
            options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: type !== "bar" } } },
          }),
        );
      }
      charts.dataset.charts = String(drawn.length);
    } catch (error) {
      replace(figures, errorLine(error));
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  await load();
  return () => drawn.forEach((chart) => chart.destroy());
}

function figure(label, value) {
  return h("div", { class: "figure" }, h("span", { class: "value" }, String(value)), h("span", { class: "label" }, label));
}

function chartCard(title) {
  const canvas = h("canvas", { role: "img", "aria-label": title });
  return { card: card(title, h("div", { class: "chart-box" }, canvas)), canvas };
}
