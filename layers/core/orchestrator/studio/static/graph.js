// The state machine as a graph (cytoscape + dagre), from GET /v1/studio/graph: the ASL itself.
import { api } from "./api.js";

let registered = false;

const STYLE = [
  {
    selector: "node",
    style: {
      label: "data(label)",
      "text-wrap": "wrap",
      "text-max-width": 240,
      "text-valign": "center",
      "font-size": 11,
      shape: "round-rectangle",
      // As wide as the longest label line (canvas text has no auto size).
      width: (node) => Math.max(56, Math.max(...node.data("label").split("\n").map((line) => line.length)) * 6.4 + 14),
      height: 36,
      padding: 4,
      "background-color": "#e8effc",
      "border-width": 1,
      "border-color": "#3b6fd8",
      color: "#1d2a44",
    },
  },
  { selector: "node[type = 'Choice']", style: { shape: "diamond", height: 56, "background-color": "#fdf3d7", "border-color": "#c9a227" } },
  { selector: "node[type = 'Map'], node[type = 'Parallel']", style: { "background-color": "#efe6fb", "border-color": "#7b4bc4", "border-style": "double", "border-width": 4 } },
  { selector: "node[type = 'Succeed']", style: { shape: "ellipse", "background-color": "#dcf3e6", "border-color": "#2f9e6e" } },
  { selector: "node[type = 'Fail']", style: { shape: "ellipse", "background-color": "#fbe1e1", "border-color": "#c43c3c" } },
  { selector: "node[type = 'Pass'], node[type = 'Wait']", style: { "background-color": "#f0f0f0", "border-color": "#888" } },
  { selector: "node[?parent_name]", style: { "border-style": "dashed", "background-color": "#f6f1fd" } },
  {
    selector: "edge",
    style: {
      width: 1.2,
      "curve-style": "bezier",
      "target-arrow-shape": "triangle",
      "line-color": "#9aa3b5",
      "target-arrow-color": "#9aa3b5",
      label: "data(label)",
      "font-size": 9,
      "min-zoomed-font-size": 7,
      color: "#555",
      "text-background-color": "#fff",
      "text-background-opacity": 0.8,
      "text-background-padding": 1,
    },
  },
  { selector: "edge[kind = 'catch']", style: { "line-style": "dashed", "line-color": "#e3a0a0", "target-arrow-color": "#e3a0a0", opacity: 0.55, label: "" } },
  { selector: "edge[kind = 'start']", style: { "line-style": "dotted", "line-color": "#7b4bc4", "target-arrow-color": "#7b4bc4" } },
  { selector: "node.on", style: { "border-width": 4, "border-color": "#f08c00", "background-color": "#fff0d6" } },
  { selector: "edge.on", style: { width: 3.5, "line-color": "#f08c00", "target-arrow-color": "#f08c00", "z-index": 10 } },
  { selector: "node:selected", style: { "overlay-color": "#3b6fd8", "overlay-opacity": 0.15 } },
];

/** The graph of one state machine in a container; highlight() lights up a run's path. */
export class GraphView {
  constructor(container) {
    this.container = container;
    this.cy = null;
    this.graph = null;
    this.path = [];
    this.listeners = [];
  }

  async load(machine = "chat") {
    this.graph = await api("/v1/studio/graph", { query: { machine } });
    if (!registered && window.cytoscapeDagre) {
      window.cytoscape.use(window.cytoscapeDagre);
      registered = true;
    }
    const elements = [];
    for (const node of this.graph.nodes) {
      const detail = node.action || (node.type === "Task" ? node.function : node.type) || node.type;
      const label = node.parent ? `⤷ ${node.id}\n(${detail})` : `${node.id}\n(${detail})`;
      elements.push({ group: "nodes", data: { ...node, id: node.id, label, parent: undefined, parent_name: node.parent } });
    }
    this.graph.edges.forEach((edge, i) => {
      elements.push({
        group: "edges",
        data: { id: `e${i}`, source: edge.source, target: edge.target, kind: edge.kind, label: edge.label || "" },
      });
    });
    this.cy = window.cytoscape({
      container: this.container,
      elements,
      style: STYLE,
      layout: { name: "preset" },
      wheelSensitivity: 0.2,
      minZoom: 0.2,
      maxZoom: 2.5,
    });
    this.arrange();
    this.container.dataset.nodes = String(this.graph.nodes.length);
    this.container.dataset.states = this.graph.nodes.map((node) => node.id).join("|");
    this.cy.on("tap", "node", (event) => this.listeners.forEach((listener) => listener(event.target.data())));
    return this.graph;
  }

  /** Lay the graph out top-down or left-right, whichever the container shows larger. */
  arrange() {
    const layout = (rankDir) => ({
      name: registered ? "dagre" : "breadthfirst",
      rankDir,
      nodeSep: 14,
      rankSep: 40,
      directed: true,
      // The failure path joins every Task: it should not pull the main flow apart.
      edgeWeight: (edge) => (edge.data("kind") === "catch" ? 0.05 : 1),
    });
    let best = null;
    for (const rankDir of ["TB", "LR"]) {
      this.cy.layout(layout(rankDir)).run();
      this.cy.fit(undefined, 12);
      if (!best || this.cy.zoom() > best.zoom) best = { rankDir, zoom: this.cy.zoom() };
    }
    if (best.rankDir !== "LR") {
      this.cy.layout(layout(best.rankDir)).run();
      this.cy.fit(undefined, 12);
    }
  }

  onSelect(listener) {
    this.listeners.push(listener);
  }

  /** Light up the states a run went through: its spans' states in time order, joined through the
   *  Choice, Map and other Lambda-less states between them (a shortest hop, as the run took). */
  highlight(trace, status) {
    if (!this.cy || !this.graph) return [];
    const spans = [...(trace || [])].sort((a, b) => String(a.started_at).localeCompare(String(b.started_at)));
    const stops = [];
    for (const span of spans) {
      const id = this.stateOf(span);
      if (id && stops[stops.length - 1] !== id) stops.push(id);
    }
    const on = new Set();
    const edges = new Set();
    const walk = (from, isGoal) => {
      const hops = this.hops(from, isGoal);
      if (!hops) return false;
      for (const hop of hops) {
        on.add(hop.via);
        on.add(hop.to);
        edges.add(`${hop.via}\u0000${hop.to}`);
      }
      return true;
    };
    if (stops.length) {
      on.add(this.graph.start_at);
      walk(this.graph.start_at, (id) => id === stops[0]);
      stops.forEach((id, i) => {
        on.add(id);
        if (i + 1 < stops.length) walk(id, (next) => next === stops[i + 1]);
      });
      const failed = status === "FAILED" || status === "TIMED_OUT" || status === "ABORTED";
      const ending = failed ? "Fail" : "Succeed";
      walk(stops[stops.length - 1], (id) => this.node(id).type === ending);
    }
    this.cy.elements().removeClass("on");
    for (const id of on) this.cy.getElementById(id).addClass("on");
    this.cy.edges().forEach((edge) => {
      if (edges.has(`${edge.data("source")}\u0000${edge.data("target")}`)) edge.addClass("on");
    });
    this.path = this.graph.nodes.map((node) => node.id).filter((id) => on.has(id));
    this.container.dataset.highlighted = this.path.join("|");
    return this.path;
  }

  node(id) {
    return this.graph.nodes.find((node) => node.id === id) || {};
  }

  /** The Task state a span ran in: same Lambda and action; a plan step's inside the Map. */
  stateOf(span) {
    const candidates = this.graph.nodes.filter(
      (node) => node.action && node.action === span.action && (!span.function || span.function === node.function),
    );
    const inner = candidates.filter((node) => Boolean(node.parent) === Boolean(span.step_id));
    return (inner[0] || candidates[0] || {}).id;
  }

  /** Hops from a state to the first state that isGoal, through states that run no Lambda. */
  hops(from, isGoal) {
    const seen = new Set([from]);
    const queue = [[from, []]];
    while (queue.length) {
      const [id, path] = queue.shift();
      for (const hop of this.next(id)) {
        if (seen.has(hop.to)) continue;
        seen.add(hop.to);
        const walked = [...path, hop];
        if (isGoal(hop.to)) return walked;
        if (this.node(hop.to).type !== "Task") queue.push([hop.to, walked]);
      }
    }
    return null;
  }

  /** Where a state goes: its own transitions; a fan-out's last inner state returns to the fan-out's. */
  next(id) {
    const own = this.graph.edges.filter((edge) => edge.source === id).map((edge) => ({ via: id, to: edge.target }));
    const node = this.node(id);
    if (!own.length && node.parent) return this.next(node.parent);
    return own;
  }

  resize() {
    if (this.cy) {
      this.cy.resize();
      this.cy.fit(undefined, 20);
    }
  }

  destroy() {
    if (this.cy) this.cy.destroy();
    this.cy = null;
  }
}
