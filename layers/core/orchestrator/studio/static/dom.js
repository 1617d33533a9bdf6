// DOM helpers. Everything the API returns is untrusted: it goes into the page as text nodes or
// attribute values, never as markup (no innerHTML anywhere in the Studio).

/** Build an element: props are set as properties (class, dataset and on* handlers specially). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Append children: nodes as they are, anything else as text. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** Pretty JSON (or the string itself) for a <pre>. */
export function pretty(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function ms(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Number(value).toFixed(1)} ms`;
}

export function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

/** A labelled form field. */
export function field(label, input) {
  return h("label", { class: "field" }, h("span", {}, label), input);
}

/** A section with a heading. */
export function card(title, ...children) {
  return h("section", { class: "card" }, h("h3", {}, title), ...children);
}

/** A table from rows of cells (cells are nodes or text). */
export function table(headers, rows, rowProps = () => ({})) {
  return h(
    "table",
    { class: "grid" },
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", {}, name)))),
    h("tbody", {}, rows.map((row, i) => h("tr", rowProps(row, i), row.cells.map((cell) => h("td", {}, cell))))),
  );
}

/** An error line for a failed call: the API's code and message. */
export function errorLine(error) {
  const code = error && error.code ? `${error.code}: ` : "";
  const message = error && error.message ? error.message : String(error);
  return h("p", { class: "error", role: "alert", dataset: { code: (error && error.code) || "error" } }, code + message);
}
