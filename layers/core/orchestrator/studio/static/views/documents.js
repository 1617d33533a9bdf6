// Documents: upload, list and delete a user's documents; try a retrieval query.
import { api, has } from "../api.js";
import { card, errorLine, field, h, ms, replace, table, when } from "../dom.js";
import { missing } from "./graph.js";

export async function render(root) {
  const user = h("input", { id: "doc-user", value: window.localStorage.getItem("orchestrator-studio.doc-user") || "studio-user", required: true });
  const file = h("input", { id: "doc-file", type: "file", accept: ".txt,.md,.html,.htm,.pdf,text/plain,text/markdown,text/html,application/pdf", required: true });
  const title = h("input", { id: "doc-title", placeholder: "from the file" });
  const uploaded = h("div", { id: "doc-uploaded" });
  const upload = h("form", { class: "row", id: "doc-upload" }, field("File", file), field("Title", title), h("button", { type: "submit" }, "Upload"));
  const list = h("div", { id: "doc-list" });
  const query = h("input", { id: "doc-query", required: true, size: 50, placeholder: "What do my documents say about…" });
  const k = h("input", { id: "doc-k", type: "number", min: 1, max: 20, value: "5" });
  const passages = h("div", { id: "doc-passages" });
  const search = h("form", { class: "row", id: "doc-search" }, field("Query", query), field("k", k), h("button", { type: "submit" }, "Search"));
  root.append(
    h("h2", {}, "Documents"),
    h("div", { class: "row" }, field("Owner (user)", user)),
    card("Upload", upload, uploaded),
    card("Stored documents", list),
    card("Try retrieval", search, passages),
  );

  async function load() {
    window.localStorage.setItem("orchestrator-studio.doc-user", user.value);
    try {
      const page = await api("/v1/documents", { query: { user_id: user.value, limit: 100 } });
      const docs = page.items;
      const rows = docs.map((doc) => ({
        doc,
        cells: [
          h("b", {}, doc.title), h("code", {}, doc.doc_id), doc.source || "–", doc.content_type || "–",
          String(doc.chunks), when(doc.created_at),
          h("button", { type: "button", class: "danger", onclick: () => remove(doc.doc_id) }, "Delete"),
        ],
      }));
      replace(list, rows.length ? table(["title", "id", "source", "type", "chunks", "stored", ""], rows, (row) => ({ dataset: { doc: row.doc.doc_id } })) : h("p", { class: "muted" }, "No documents."));
      list.dataset.count = String(rows.length);
    } catch (error) {
      replace(list, errorLine(error));
    }
  }

  async function remove(docId) {
    try {
      await api(`/v1/documents/${encodeURIComponent(docId)}`, { method: "DELETE", query: { user_id: user.value } });
      replace(uploaded, h("p", { class: "ok" }, `Deleted ${docId}.`));
    } catch (error) {
      replace(uploaded, errorLine(error));
    }
    await load();
  }

  user.addEventListener("change", load);
  upload.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    const form = new FormData();
    form.append("file", file.files[0]);
    form.append("user_id", user.value);
    if (title.value) form.append("title", title.value);
    try {
      const stored = await api("/v1/documents/upload", { method: "POST", form });
      replace(uploaded, h("p", { class: "ok", id: "doc-stored" }, `Stored “${stored.title}” as ${stored.doc_id} (${stored.chunks} chunks).`));
      upload.reset();
      await load();
    } catch (error) {
      replace(uploaded, errorLine(error));
    }
  });

  search.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!(await has("POST /v1/documents/search"))) {
      replace(passages, missing("Retrieval search", "POST /v1/documents/search"));
      return;
    }
    try {
      const found = await api("/v1/documents/search", { method: "POST", json: { query: query.value, k: Number(k.value) || 5, user_id: user.value } });
      replace(
        passages,
        h("p", { class: "muted" }, `${found.passages.length} passages in ${ms(found.latency_ms)}.`),
        h(
          "ol",
          { class: "passages", id: "passage-list" },
          found.passages.map((p) =>
            h("li", { dataset: { doc: p.doc_id } }, h("b", {}, p.title || p.doc_id), ` #${p.chunk_id} · score ${Number(p.score).toFixed(3)}`, h("div", { class: "snippet" }, p.snippet || ""), h("details", {}, h("summary", {}, "full passage"), h("pre", {}, p.text || ""))),
          ),
        ),
      );
    } catch (error) {
      replace(passages, errorLine(error));
    }
  });

  await load();
  return null;
}
