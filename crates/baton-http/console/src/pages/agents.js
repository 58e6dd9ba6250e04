// Agents: list and search, create and edit (as a form or as JSON), versions and a diff of two.
import { useEffect, useMemo, useState } from "preact/hooks";
import { get, listAll, patch, post } from "../api.js";
import { html, useLoad, Loading, Page, Field, Form, ErrorNote, Action, json, fmtTime, enc } from "../ui.js";
import { lineDiff } from "../diff.js";

/** The fields of an agent a client sets (the create body's fields). */
const SPEC_FIELDS = [
  "key", "display_name", "role", "description", "instructions", "system_prompt", "path", "model",
  "fallback_models", "settings", "memory_stores", "knowledge_bases", "team_of_agents", "skills",
  "variables", "engine", "output_schema",
];
const BUILT_IN_TOOLS = ["current_date", "retrieve_memory_stores", "query_memory_store", "write_memory_store", "retrieve_knowledge_bases", "query_knowledge_base", "call_sub_agent"];

function specOf(agent) {
  const spec = {};
  for (const f of SPEC_FIELDS) if (agent[f] !== undefined && agent[f] !== null) spec[f] = agent[f];
  return spec;
}

const blank = () => ({
  key: "", display_name: "", role: "Assistant", description: "", instructions: "", path: "Default",
  model: "openai/gpt-4o-mini", settings: { tools: [], tool_approval_required: "respect_tool", max_iterations: 10 },
});

export function Agents({ args }) {
  if (args[0] === "new") return html`<${AgentEditor} />`;
  if (args[0]) return html`<${AgentDetail} agentKey=${args[0]} />`;
  return html`<${AgentList} />`;
}

function AgentList() {
  const state = useLoad(() => listAll("/v2/agents"));
  const [q, setQ] = useState("");
  return html`<${Page} title="Agents" actions=${html`<a class="button primary" href="#/agents/new">New agent</a>`}>
    <${Field} label="Search agents">
      <input type="search" value=${q} onInput=${(e) => setQ(e.target.value)} placeholder="key, name, description or model" />
    <//>
    <${Loading} state=${state}>${(agents) => {
      const needle = q.trim().toLowerCase();
      const shown = agents.filter((a) => !needle || [a.key, a.display_name, a.description, a.role, JSON.stringify(a.model)].join(" ").toLowerCase().includes(needle));
      if (shown.length === 0) return html`<p class="muted">No agents${needle ? " match" : " yet"}.</p>`;
      return html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Key</th><th scope="col">Model</th><th scope="col">Description</th><th scope="col">Version</th><th scope="col">Updated</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${shown.map((a) => html`<tr>
          <td><a href=${`#/agents/${enc(a.key)}`}>${a.display_name || a.key}</a>${a.display_name ? html` <small class="muted">${a.key}</small>` : ""}</td>
          <td>${typeof a.model === "string" ? a.model : a.model && a.model.id}</td>
          <td>${a.description}</td><td>${a.version}</td><td>${fmtTime(a.updated)}</td>
          <td><a href=${`#/playground/${enc(a.key)}`}>Run</a></td>
        </tr>`)}</tbody></table></div>`;
    }}<//>
  <//>`;
}

function AgentDetail({ agentKey }) {
  const state = useLoad(() => get(`/v2/agents/${enc(agentKey)}`), [agentKey]);
  return html`<${Loading} state=${state}>${(agent) => html`
    <${AgentEditor} agent=${agent} onSaved=${state.reload} />
    <${Versions} agentKey=${agentKey} current=${agent.version} />
  `}<//>`;
}

function AgentEditor({ agent, onSaved }) {
  const editing = !!agent;
  const [spec, setSpec] = useState(() => (agent ? specOf(agent) : blank()));
  const [mode, setMode] = useState("form");
  const [text, setText] = useState("");
  const [jsonError, setJsonError] = useState(null);
  const [saved, setSaved] = useState(null);
  const tools = useLoad(() => listAll("/v2/tools"));

  const toJson = () => {
    setText(json(spec));
    setMode("json");
  };
  const toForm = () => {
    try {
      setSpec(JSON.parse(text));
      setJsonError(null);
      setMode("form");
    } catch (e) {
      setJsonError(new Error(`The JSON is not valid: ${e.message}`));
    }
  };
  const current = () => (mode === "json" ? JSON.parse(text) : spec);
  const save = async () => {
    let body;
    try {
      body = current();
    } catch (e) {
      throw new Error(`The JSON is not valid: ${e.message}`);
    }
    if (editing) {
      const { key, ...changes } = body;
      await patch(`/v2/agents/${enc(agent.key)}`, changes);
      setSaved("Saved.");
      onSaved && onSaved();
    } else {
      const created = await post("/v2/agents", body);
      location.hash = `#/agents/${enc(created.key)}`;
    }
  };

  const set = (field) => (e) => setSpec({ ...spec, [field]: e.target.value });
  const settings = spec.settings || {};
  const setSetting = (field, value) => setSpec({ ...spec, settings: { ...settings, [field]: value } });
  const toolRefs = settings.tools || [];
  const hasTool = (ref) => toolRefs.some((t) => t.type === ref.type && (t.key || "") === (ref.key || ""));
  const toggleTool = (ref) =>
    setSetting("tools", hasTool(ref) ? toolRefs.filter((t) => !(t.type === ref.type && (t.key || "") === (ref.key || ""))) : [...toolRefs, ref]);
  const model = typeof spec.model === "string" ? spec.model : (spec.model && spec.model.id) || "";

  return html`<${Page} title=${editing ? `Agent ${agent.key}` : "New agent"} actions=${editing && html`<a class="button" href=${`#/playground/${enc(agent.key)}`}>Open in playground</a>`}>
    <div class="tabs" role="tablist" aria-label="Editor">
      <button type="button" role="tab" aria-selected=${mode === "form"} onClick=${() => mode === "json" && toForm()}>Form</button>
      <button type="button" role="tab" aria-selected=${mode === "json"} onClick=${() => mode === "form" && toJson()}>JSON</button>
    </div>
    <${ErrorNote} error=${jsonError} />
    <${Form} onSubmit=${save} submit=${editing ? "Save changes" : "Create agent"} label="Agent">
      ${mode === "json"
        ? html`<${Field} label="Agent JSON"><textarea class="code" rows="22" value=${text} onInput=${(e) => setText(e.target.value)} /><//>`
        : html`<div class="grid">
          <${Field} label="Key"><input name="key" required disabled=${editing} value=${spec.key} onInput=${set("key")} pattern="[A-Za-z][A-Za-z0-9]*([._\\-][A-Za-z0-9]+)*" /><//>
          <${Field} label="Display name"><input name="display_name" value=${spec.display_name || ""} onInput=${set("display_name")} /><//>
          <${Field} label="Role"><input name="role" required value=${spec.role} onInput=${set("role")} /><//>
          <${Field} label="Model" hint="provider/model, e.g. openai/gpt-4o-mini"><input name="model" required value=${model} onInput=${set("model")} /><//>
          <${Field} label="Path" hint="Project/folder"><input name="path" required value=${spec.path} onInput=${set("path")} /><//>
          <${Field} label="Tool approval">
            <select name="tool_approval_required" value=${settings.tool_approval_required || "respect_tool"} onChange=${(e) => setSetting("tool_approval_required", e.target.value)}>
              <option value="respect_tool">As each tool says</option><option value="all">Every call</option><option value="none">Never</option>
            </select>
          <//>
          <${Field} label="Max iterations"><input name="max_iterations" type="number" min="1" max="100" value=${settings.max_iterations ?? ""} onInput=${(e) => setSetting("max_iterations", e.target.value === "" ? undefined : Number(e.target.value))} /><//>
        </div>
        <${Field} label="Description"><input name="description" required value=${spec.description} onInput=${set("description")} /><//>
        <${Field} label="Instructions"><textarea name="instructions" rows="5" required value=${spec.instructions} onInput=${set("instructions")} /><//>
        <fieldset class="tools"><legend>Tools</legend>
          ${BUILT_IN_TOOLS.map((t) => html`<label class="check"><input type="checkbox" checked=${hasTool({ type: t })} onChange=${() => toggleTool({ type: t })} /> ${t}</label>`)}
          ${(tools.data || []).map((t) => html`<label class="check"><input type="checkbox" checked=${hasTool({ type: t.type, key: t.key })} onChange=${() => toggleTool({ type: t.type, key: t.key })} /> ${t.key} <small class="muted">(${t.type})</small></label>`)}
        </fieldset>`}
    <//>
    ${saved && html`<p role="status" class="ok">${saved}</p>`}
  <//>`;
}

function Versions({ agentKey, current }) {
  const state = useLoad(() => get(`/v2/agents/${enc(agentKey)}/versions`), [agentKey, current]);
  const [left, setLeft] = useState(null);
  const [right, setRight] = useState(null);
  return html`<section class="panel" aria-labelledby="versions-title">
    <h2 id="versions-title">Versions</h2>
    <${Loading} state=${state}>${(page) => {
      const versions = page.data || [];
      const pick = (n) => versions.find((v) => v.version_number === Number(n));
      const a = pick(left ?? (versions[1] || versions[0] || {}).version_number);
      const b = pick(right ?? (versions[0] || {}).version_number);
      return html`
        <div class="table-wrap"><table>
          <thead><tr><th scope="col">Version</th><th scope="col">Created</th><th scope="col">Description</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${versions.map((v) => html`<tr>
            <td>${v.version}</td><td>${fmtTime(v.created)}</td><td>${v.description}</td>
            <td>${v.live ? "live" : v.published ? "published" : "draft"}</td>
            <td>${!v.live && html`<${Action} label="Publish" run=${() => post(`/v2/agents/${enc(agentKey)}/versions/${v.version_number}/publish`)} onDone=${state.reload} />`}</td>
          </tr>`)}</tbody></table></div>
        ${versions.length > 1 && html`<div class="row">
          <${Field} label="Compare"><select value=${a && a.version_number} onChange=${(e) => setLeft(e.target.value)}>${versions.map((v) => html`<option value=${v.version_number}>${v.version}</option>`)}</select><//>
          <${Field} label="with"><select value=${b && b.version_number} onChange=${(e) => setRight(e.target.value)}>${versions.map((v) => html`<option value=${v.version_number}>${v.version}</option>`)}</select><//>
        </div>
        ${a && b && html`<${Diff} before=${json(specOf(a.agent))} after=${json(specOf(b.agent))} />`}`}`;
    }}<//>
  </section>`;
}

function Diff({ before, after }) {
  const lines = useMemo(() => lineDiff(before.split("\n"), after.split("\n")), [before, after]);
  return html`<pre class="diff" aria-label="Differences">${lines.map(([op, text]) => html`<div class=${op === "+" ? "add" : op === "-" ? "del" : ""}>${op} ${text}</div>`)}</pre>`;
}
