// Graph: the state machine definition as deployed (or as committed, locally), state by state.
import { has } from "../api.js";
import { card, errorLine, h, pretty, replace, table } from "../dom.js";
import { GraphView } from "../graph.js";

export function missing(what, operation) {
  return h(
    "p",
    { class: "notice", dataset: { missing: operation } },
    `${what} is not available on this server (${operation} is not in its /openapi.json).`,
  );
}

export async function render(root) {
  if (!(await has("GET /v1/studio/graph"))) {
    root.append(h("h2", {}, "Graph"), missing("The graph", "GET /v1/studio/graph"));
    return null;
  }
  const machine = h("select", { id: "graph-machine" }, h("option", { value: "chat" }, "chat (Express)"), h("option", { value: "runs" }, "runs (Standard)"));
  const canvas = h("div", { class: "graph-canvas", id: "graph-canvas" });
  const detail = h("div", { class: "graph-detail", id: "graph-detail" }, h("p", { class: "muted" }, "Click a state to see it."));
  const status = h("p", { class: "muted", id: "graph-status" });
  const states = h("div", { id: "graph-states" });
  root.append(
    h("div", { class: "row spread" }, h("h2", {}, "Graph"), h("label", { class: "inline" }, "State machine ", machine)),
    status,
    legend(),
    canvas,
    card("State", detail),
    h("details", { class: "card" }, h("summary", {}, "Every state as a table"), states),
  );
  let view = null;
  async function load() {
    if (view) view.destroy();
    view = new GraphView(canvas);
    try {
      const graph = await view.load(machine.value);
      status.textContent = `${graph.nodes.length} states, ${graph.edges.length} transitions, starting at “${graph.start_at}”, read from the state machine definition.`;
      view.onSelect((node) => replace(detail, describe(node, graph)));
      // The same states as text: for screen readers, search in page, and picking one without the canvas.
      const rows = graph.nodes.map((node) => ({
        node,
        cells: [
          h("button", { type: "button", class: "link", onclick: () => replace(detail, describe({ ...node, parent_name: node.parent }, graph)) }, node.id),
          node.type, node.parent || "–", node.function || "–", node.action || "–",
        ],
      }));
      replace(states, table(["state", "type", "inside", "Lambda", "action"], rows, (row) => ({ dataset: { state: row.node.id } })));
    } catch (error) {
      replace(status, errorLine(error));
    }
  }
  machine.addEventListener("change", load);
  await load();
  return () => view && view.destroy();
}

function describe(node, graph) {
  const out = graph.edges.filter((edge) => edge.source === node.id);
  return h(
    "div",
    {},
    h("h4", {}, node.id),
    h(
      "dl",
      {},
      h("dt", {}, "type"), h("dd", {}, node.type),
      h("dt", {}, "inside"), h("dd", {}, node.parent_name || "–"),
      h("dt", {}, "Lambda"), h("dd", {}, node.function || "–"),
      h("dt", {}, "action"), h("dd", {}, node.action || "–"),
      h("dt", {}, "ends the run"), h("dd", {}, node.end ? "yes" : "no"),
    ),
    node.comment ? h("p", { class: "comment" }, node.comment) : null,
    h("h5", {}, "Goes to"),
    h("ul", {}, out.map((edge) => h("li", {}, `${edge.target} (${edge.kind}${edge.label ? `: ${edge.label}` : ""})`))),
    h("details", {}, h("summary", {}, "ASL"), h("pre", {}, pretty((graph.definition.States || {})[node.id] || findInner(graph.definition, node.id)))),
  );
}

function findInner(definition, name) {
  for (const state of Object.values(definition.States || {})) {
    const inner = state.ItemProcessor || state.Iterator;
    if (inner && inner.States && inner.States[name]) return inner.States[name];
  }
  return {};
}

function legend() {
  const item = (cls, text) => h("li", {}, h("span", { class: `swatch ${cls}` }), text);
  return h(
      "ul",
      { class: "legend" },
      item("task", "Task (a node's Lambda)"),
      item("choice", "Choice"),
      item("map", "Map fan-out (⤷ its inner states)"),
      item("succeed", "Succeed"),
      item("fail", "Fail / failure path (dashed: Catch)"),
      item("on", "Path taken by a run"),
  );
}
