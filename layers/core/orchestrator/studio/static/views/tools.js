// Tools and agents: the registry with schemas; register, try and delete; external agents and routes.
import { api, has } from "../api.js";
import { card, errorLine, field, h, pretty, replace, table } from "../dom.js";
import { missing } from "./graph.js";

const EXAMPLE = {
  name: "weather",
  description: "Current weather for a city.",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  kind: "http",
  http: { url: "https://weather.example.com/v1/current", method: "GET" },
};

export async function render(root) {
  const list = h("div", { id: "tools-list" });
  const definition = h("textarea", { id: "tool-definition", rows: 10, spellcheck: false });
  definition.value = JSON.stringify(EXAMPLE, null, 2);
  const registered = h("div", { id: "tool-registered" });
  const register = h("form", { class: "stack", id: "tool-register" }, field("Definition (JSON)", definition), h("button", { type: "submit" }, "Register"), registered);
  const name = h("select", { id: "tool-name" });
  const args = h("textarea", { id: "tool-args", rows: 4, spellcheck: false });
  args.value = "{}";
  const result = h("div", { id: "tool-result" });
  const tryIt = h("form", { class: "stack", id: "tool-try" }, field("Tool", name), field("Arguments (JSON)", args), h("button", { type: "submit" }, "Execute"), result);
  const agents = h("div", { id: "agents" });
  root.append(
    h("h2", {}, "Tools & agents"),
    card("Registry", list),
    h("div", { class: "split even" }, card("Register a tool (admins)", register), card("Try a tool", tryIt)),
    agents,
  );

  async function load() {
    try {
      const { tools } = await api("/v1/tools/list");
      const current = name.value;
      replace(name, tools.map((tool) => h("option", { value: tool.name, selected: tool.name === current }, tool.name)));
      const rows = tools.map((tool) => ({
        tool,
        cells: [
          h("code", {}, tool.name),
          tool.kind,
          tool.description,
          h("details", {}, h("summary", {}, "schema"), h("pre", {}, pretty(tool.parameters))),
          tool.requires_approval ? "yes" : "",
          tool.kind === "builtin" ? "" : h("button", { type: "button", class: "danger", dataset: { delete: tool.name }, onclick: () => remove(tool.name) }, "Delete"),
        ],
      }));
      replace(list, table(["name", "kind", "description", "arguments", "approval", ""], rows, (row) => ({ dataset: { tool: row.tool.name } })));
      list.dataset.count = String(tools.length);
    } catch (error) {
      replace(list, errorLine(error));
    }
  }

  async function remove(tool) {
    try {
      await api(`/v1/tools/${encodeURIComponent(tool)}`, { method: "DELETE" });
      replace(registered, h("p", { class: "ok" }, `Deleted ${tool}.`));
    } catch (error) {
      replace(registered, errorLine(error));
    }
    await load();
  }

  register.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(definition.value);
    } catch (error) {
      replace(registered, errorLine({ code: "invalid_json", message: error.message }));
      return;
    }
    try {
      const tool = await api("/v1/tools/register", { method: "POST", json: body });
      replace(registered, h("p", { class: "ok" }, `Registered ${tool.name}.`));
      await load();
      name.value = tool.name;
    } catch (error) {
      replace(registered, errorLine(error));
    }
  });

  tryIt.addEventListener("submit", async (event) => {
    event.preventDefault();
    let argumentsJson;
    try {
      argumentsJson = JSON.parse(args.value || "{}");
    } catch (error) {
      replace(result, errorLine({ code: "invalid_json", message: error.message }));
      return;
    }
    replace(result, h("p", { class: "muted" }, "Running…"));
    try {
      const outcome = await api(`/v1/tools/${encodeURIComponent(name.value)}/execute`, { method: "POST", json: { arguments: argumentsJson } });
      replace(
        result,
        h("p", { class: outcome.ok ? "ok" : "error", dataset: { ok: String(outcome.ok) } }, outcome.ok ? `ok in ${Number(outcome.latency_ms).toFixed(1)} ms` : `failed: ${outcome.error}`),
        h("pre", { id: "tool-output" }, pretty(outcome.output)),
      );
    } catch (error) {
      replace(result, errorLine(error));
    }
  });

  await load();
  await loadAgents(agents);
  return null;
}

async function loadAgents(container) {
  if (!(await has("GET /v1/studio/agents"))) {
    replace(container, card("External agents and routes", missing("The agents and routes list", "GET /v1/studio/agents")));
    return;
  }
  try {
    const body = await api("/v1/studio/agents");
    const agentRows = body.agents.map((agent) => ({
      cells: [h("b", {}, agent.name), agent.protocol, h("code", {}, agent.url || "–"), (agent.intents || []).join(", "), agent.description || ""],
    }));
    const routes = body.routes.map((route) =>
      h("li", { dataset: { route: route.name } }, h("b", {}, route.name), ` — ${route.description}`, h("ul", { class: "examples" }, (route.examples || []).map((text) => h("li", {}, text)))),
    );
    replace(
      container,
      card("External agents", agentRows.length ? table(["name", "protocol", "url", "intents", "description"], agentRows) : h("p", { class: "muted" }, "None configured.")),
      card("Routes (intents) and their example utterances", h("ul", { class: "routes", id: "routes" }, routes)),
    );
  } catch (error) {
    replace(container, card("External agents and routes", errorLine(error)));
  }
}
