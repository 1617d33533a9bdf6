// Settings: the effective configuration with every secret masked (by the API, not here).
import { api, has } from "../api.js";
import { card, errorLine, h, pretty, replace, table } from "../dom.js";
import { missing } from "./graph.js";

export async function render(root) {
  root.append(h("h2", {}, "Settings"));
  if (!(await has("GET /v1/studio/settings"))) {
    root.append(missing("The effective configuration", "GET /v1/studio/settings"));
    return null;
  }
  const body = h("div", { id: "settings-body" }, h("p", { class: "muted" }, "Loading…"));
  root.append(body);
  try {
    const s = await api("/v1/studio/settings");
    const pairs = (object) => Object.entries(object || {}).map(([k, v]) => ({ cells: [h("code", {}, k), value(v)] }));
    replace(
      body,
      h(
        "div",
        { class: "figures" },
        [["provider", s.provider], ["model", s.model], ["fallback model", s.fallback_model]].map(([label, v]) =>
          h("div", { class: "figure" }, h("span", { class: "value" }, String(v ?? "–")), h("span", { class: "label" }, label)),
        ),
      ),
      h("div", { class: "split even" }, card("Tables", table(["name", "table"], pairs(s.tables))), card("State machines", table(["name", "ARN"], pairs(s.state_machines)))),
      card("Routes", routeList(s.routes)),
      card("Every setting", table(["setting", "value"], pairs(s.settings), (row) => ({ dataset: { setting: row.cells[0].textContent } }))),
    );
  } catch (error) {
    replace(body, errorLine(error));
  }
  return null;
}

function value(v) {
  if (v === null || v === undefined) return h("span", { class: "muted" }, "–");
  if (v === "••••") return h("span", { class: "masked", title: "secret: never sent to the browser" }, v);
  return typeof v === "object" ? h("code", {}, JSON.stringify(v)) : h("code", {}, String(v));
}

function routeList(routes) {
  if (Array.isArray(routes) && routes.every((route) => typeof route === "string")) {
    return h("p", { id: "settings-routes" }, routes.join(" · "));
  }
  return h("pre", { id: "settings-routes" }, pretty(routes));
}
