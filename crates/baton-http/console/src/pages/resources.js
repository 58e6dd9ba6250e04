// Tools, memory stores, knowledge bases (add text, try a search) and API keys (admin).
import { useState } from "preact/hooks";
import { del, get, listAll, post } from "../api.js";
import { html, useLoad, Loading, Page, Field, Form, Action, JsonBlock, ErrorNote, json, parseJson, fmtTime, enc } from "../ui.js";

/** A list with a "create from JSON" form prefilled with an example body. */
function Resource({ title, path, example, columns, extra }) {
  const state = useLoad(() => listAll(path));
  const [body, setBody] = useState(json(example));
  const [open, setOpen] = useState(null);
  const create = async () => {
    await post(path, parseJson(body, "The body"));
    state.reload();
  };
  return html`<${Page} title=${title}>
    <${Loading} state=${state}>${(items) => (items.length === 0 ? html`<p class="muted">None yet.</p>` : html`<div class="table-wrap"><table>
      <thead><tr>${columns.map(([label]) => html`<th scope="col">${label}</th>`)}${extra && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
      <tbody>${items.map((it) => html`<tr>${columns.map(([, cell]) => html`<td>${cell(it)}</td>`)}
        ${extra && html`<td><button type="button" onClick=${() => setOpen(open === it._id ? null : it._id)}>${open === it._id ? "Close" : "Open"}</button></td>`}</tr>
        ${extra && open === it._id && html`<tr><td colspan=${columns.length + 1}>${extra(it)}</td></tr>`}`)}</tbody></table></div>`)}<//>
    <details class="panel"><summary>Create ${title.toLowerCase().replace(/s$/, "")} from JSON</summary>
      <${Form} onSubmit=${create} submit="Create" label=${`Create ${title}`}>
        <${Field} label="Body (JSON)"><textarea class="code" rows="10" value=${body} onInput=${(e) => setBody(e.target.value)} /><//>
      <//>
    </details>
  <//>`;
}

export const Tools = () => html`<${Resource} title="Tools" path="/v2/tools"
  example=${{ key: "weather", path: "Default", type: "function", description: "Current weather for a city", function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }}
  columns=${[["Key", (t) => t.key], ["Type", (t) => t.type], ["Description", (t) => t.description], ["Approval", (t) => (t.requires_approval ? "required" : "")], ["Updated", (t) => fmtTime(t.updated)]]} />`;

export const MemoryStores = () => html`<${Resource} title="Memory stores" path="/v2/memory-stores"
  example=${{ key: "customers", description: "What customers told us", embedding_config: { model: "openai/text-embedding-3-small" } }}
  columns=${[["Key", (m) => m.key], ["Description", (m) => m.description], ["Embedding", (m) => m.embedding_config && m.embedding_config.model], ["Created", (m) => fmtTime(m.created)]]}
  extra=${(m) => html`<${Memories} store=${m.key} />`} />`;

function Memories({ store }) {
  const state = useLoad(() => get(`/v2/memory-stores/${enc(store)}/memories?limit=50`), [store]);
  return html`<${Loading} state=${state}>${(page) => ((page.data || []).length === 0 ? html`<p class="muted">No memories yet.</p>` : html`<ul>${page.data.map((m) => html`<li><code>${m.entity_id || m._id}</code> <small class="muted">${fmtTime(m.updated || m.created)}</small></li>`)}</ul>`)}<//>`;
}

export const Knowledge = () => html`<${Resource} title="Knowledge bases" path="/v2/knowledge"
  example=${{ key: "handbook", path: "Default", description: "The staff handbook", embedding_model: "openai/text-embedding-3-small" }}
  columns=${[["Key", (k) => k.key], ["Description", (k) => k.description], ["Embedding", (k) => k.embedding_model], ["Created", (k) => fmtTime(k.created)]]}
  extra=${(k) => html`<${KnowledgeTools} kb=${k._id} />`} />`;

function KnowledgeTools({ kb }) {
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [added, setAdded] = useState(null);
  const [query, setQuery] = useState("");
  const [matches, setMatches] = useState(null);
  const add = async () => {
    const ds = await post(`/v2/knowledge/${enc(kb)}/datasources`, { display_name: name || "Pasted text", text });
    setAdded(`Added “${ds.display_name}”.`);
    setText("");
  };
  const search = async () => setMatches((await post(`/v2/knowledge/${enc(kb)}/search`, { query, top_k: 5 })).matches);
  return html`<div class="grid">
    <${Form} onSubmit=${add} submit="Add text" label="Add text">
      <${Field} label="Name"><input value=${name} onInput=${(e) => setName(e.target.value)} /><//>
      <${Field} label="Text"><textarea rows="4" required value=${text} onInput=${(e) => setText(e.target.value)} /><//>
      ${added && html`<p role="status" class="ok">${added}</p>`}
    <//>
    <${Form} onSubmit=${search} submit="Search" label="Search">
      <${Field} label="Query"><input type="search" required value=${query} onInput=${(e) => setQuery(e.target.value)} /><//>
      ${matches && html`<ol>${matches.map((m) => html`<li><p>${m.text}</p><small class="muted">score ${m.scores ? json(m.scores) : m.score}</small></li>`)}</ol>`}
    <//>
  </div>`;
}

export function ApiKeys() {
  const state = useLoad(() => get("/v2/api-keys"));
  const [name, setName] = useState("");
  const [scope, setScope] = useState("run");
  const [project, setProject] = useState("default");
  const [secret, setSecret] = useState(null);
  const create = async () => {
    const key = await post("/v2/api-keys", { name, project_id: project, scope });
    setSecret(key.key);
    setName("");
    state.reload();
  };
  return html`<${Page} title="API keys">
    <p class="muted">Managing keys needs an admin key.</p>
    <${Loading} state=${state}>${(list) => html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Project</th><th scope="col">Scope</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${list.data.map((k) => html`<tr><td>${k.name}</td><td><code>${k.prefix}</code></td><td>${k.project_id}</td><td>${k.admin ? "admin" : k.scope}</td><td>${fmtTime(k.created)}</td>
        <td><${Action} kind="danger" label=${`Revoke ${k.name}`} run=${() => confirm(`Revoke ${k.name}?`) && del(`/v2/api-keys/${enc(k.id)}`)} onDone=${state.reload} /></td></tr>`)}</tbody>
    </table></div>`}<//>
    <section class="panel" aria-labelledby="new-key-title"><h2 id="new-key-title">New key</h2>
      <${Form} onSubmit=${create} submit="Create key" label="New key">
        <div class="grid">
          <${Field} label="Name"><input required value=${name} onInput=${(e) => setName(e.target.value)} /><//>
          <${Field} label="Project"><input required value=${project} onInput=${(e) => setProject(e.target.value)} /><//>
          <${Field} label="Scope"><select value=${scope} onChange=${(e) => setScope(e.target.value)}><option value="run">run</option><option value="project">project</option></select><//>
        </div>
      <//>
      ${secret && html`<div role="status" class="ok"><p>Copy the key now; it is not shown again.</p><${JsonBlock} value=${secret} /></div>`}
    </section>
  <//>`;
}
