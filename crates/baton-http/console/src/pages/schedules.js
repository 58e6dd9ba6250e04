// Schedules of an agent: list; create (cron, interval or once) with the next five firings
// previewed as the expression is typed; pause, resume, trigger now; execution history.
import { useEffect, useState } from "preact/hooks";
import { get, listAll, patch, post } from "../api.js";
import { html, useLoad, Loading, Page, Field, Form, Action, fmtTime, enc } from "../ui.js";

const EXAMPLES = { cron: "0 9 * * 1-5", interval: "@every 6h", once: "@at 2030-01-01T09:00:00Z" };

export function Schedules({ args }) {
  const agents = useLoad(() => listAll("/v2/agents"));
  const [agentKey, setAgentKey] = useState(args[0] || "");
  const chosen = agentKey || (agents.data && agents.data[0] && agents.data[0].key) || "";
  return html`<${Page} title="Schedules">
    <${Field} label="Agent">
      <select name="agent" value=${chosen} onChange=${(e) => setAgentKey(e.target.value)}>
        ${(agents.data || []).map((a) => html`<option value=${a.key}>${a.display_name || a.key}</option>`)}
      </select>
    <//>
    ${chosen && html`<${AgentSchedules} key=${chosen} agentKey=${chosen} />`}
  <//>`;
}

function AgentSchedules({ agentKey }) {
  const state = useLoad(() => get(`/v3/agents/${enc(agentKey)}/schedules`), [agentKey]);
  const [open, setOpen] = useState(null);
  return html`
    <${NewSchedule} agentKey=${agentKey} onCreated=${state.reload} />
    <section class="panel" aria-labelledby="schedules-title"><h2 id="schedules-title">Schedules of ${agentKey}</h2>
    <${Loading} state=${state}>${(list) => (list.schedules.length === 0 ? html`<p class="muted">None yet.</p>` : html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Cadence</th><th scope="col">State</th><th scope="col">Next run</th><th scope="col">Fired</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${list.schedules.map((s) => html`<tr>
        <td>${s.display_name || s._id}</td><td><code>${s.expression}</code> <small class="muted">${s.type}</small></td>
        <td><span class=${`badge ${s.is_active ? "ok" : ""}`}>${s.is_active ? "active" : "paused"}</span></td>
        <td>${fmtTime(s.next_run_at)}</td><td>${s.trigger_count}</td>
        <td class="row">
          <${Action} label=${s.is_active ? "Pause" : "Resume"} run=${() => patch(`/v3/agents/${enc(agentKey)}/schedules/${s._id}`, { is_active: !s.is_active })} onDone=${state.reload} />
          <${Action} label="Trigger now" disabled=${!s.is_active} run=${() => post(`/v3/agents/${enc(agentKey)}/schedules/${s._id}/execution`)} onDone=${() => setOpen(s._id + Date.now())} />
          <button type="button" onClick=${() => setOpen(open && open.startsWith(s._id) ? null : s._id)}>History</button>
        </td></tr>
        ${open && open.startsWith(s._id) && html`<tr><td colspan="6"><${History} key=${open} agentKey=${agentKey} id=${s._id} /></td></tr>`}`)}
      </tbody></table></div>`)}<//>
    </section>`;
}

function History({ agentKey, id }) {
  const state = useLoad(() => get(`/v3/agents/${enc(agentKey)}/schedules/${id}/executions`), [id]);
  return html`<${Loading} state=${state}>${(h) => (h.executions.length === 0 ? html`<p class="muted">No executions yet.</p>` : html`<ul class="history">
    ${h.executions.map((e) => html`<li>${fmtTime(e.fired_at)} · ${e.manual ? "manual" : "scheduled"} · <span class="badge">${e.state || "gone"}</span> · task <code>${e.task_id}</code></li>`)}
  </ul>`)}<//>`;
}

function usePreview(kind, expression) {
  const [preview, setPreview] = useState({ firings: [], error: null });
  useEffect(() => {
    if (!expression.trim()) return setPreview({ firings: [], error: null });
    const timer = setTimeout(() => {
      post("/v3/schedules/preview", { type: kind, expression }).then(
        (p) => setPreview({ firings: p.next_run_at, error: null }),
        (e) => setPreview({ firings: [], error: e }),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [kind, expression]);
  return preview;
}

function NewSchedule({ agentKey, onCreated }) {
  const [kind, setKind] = useState("cron");
  const [expression, setExpression] = useState(EXAMPLES.cron);
  const [input, setInput] = useState("");
  const [name, setName] = useState("");
  const preview = usePreview(kind, expression);
  const create = async () => {
    await post(`/v3/agents/${enc(agentKey)}/schedules`, {
      type: kind, expression, display_name: name || undefined, payload: { input: input || undefined },
    });
    setName("");
    setInput("");
    onCreated();
  };
  return html`<section class="panel" aria-labelledby="new-schedule-title"><h2 id="new-schedule-title">New schedule</h2>
    <${Form} onSubmit=${create} submit="Create schedule" label="New schedule">
      <div class="grid">
        <${Field} label="Type">
          <select name="type" value=${kind} onChange=${(e) => { setKind(e.target.value); setExpression(EXAMPLES[e.target.value]); }}>
            <option value="cron">Cron</option><option value="interval">Interval</option><option value="once">Once</option>
          </select>
        <//>
        <${Field} label="Expression" hint="UTC. Cron (5 or 6 fields, @daily), @every 6h, or @at 2030-01-01T09:00:00Z">
          <input name="expression" required value=${expression} onInput=${(e) => setExpression(e.target.value)} />
        <//>
        <${Field} label="Name"><input name="display_name" value=${name} onInput=${(e) => setName(e.target.value)} /><//>
      </div>
      <${Field} label="Message each firing sends"><textarea name="input" rows="2" value=${input} onInput=${(e) => setInput(e.target.value)} /><//>
      <div class="preview" aria-live="polite">
        <h3>Next firings</h3>
        ${preview.error
          ? html`<p class="error">${preview.error.message}</p>`
          : html`<ol class="firings">${preview.firings.map((f) => html`<li><time datetime=${f}>${fmtTime(f)}</time> <small class="muted">${f}</small></li>`)}</ol>`}
      </div>
    <//>
  </section>`;
}
