// Runs: traces (one per run of an agent) filtered by status, agent, cost and duration; a run's
// timeline as a waterfall of its spans (model calls, tools, sub-agents) with tokens and cost,
// its messages and the events of its task.
import { useState } from "preact/hooks";
import { get, listAll, post, stream } from "../api.js";
import { html, useLoad, Loading, Page, Field, JsonBlock, fmtTime, fmtMs, fmtCost, fmtInt, enc } from "../ui.js";

const DAY = 86400000;

export function Runs() {
  const agents = useLoad(() => listAll("/v2/agents"));
  const [filter, setFilter] = useState({ status: "", agent: "", minCost: "", minMs: "", days: "7" });
  const state = useLoad(() => {
    const filters = [];
    if (filter.status) filters.push({ field: "status", values: [filter.status] });
    if (filter.agent) filters.push({ field: "agent", values: [filter.agent] });
    const to = new Date(Date.now() + 60000);
    const from = new Date(to - Number(filter.days) * DAY);
    return post("/v3/traces/search", { from: from.toISOString(), to: to.toISOString(), filters, limit: 200 });
  }, [filter.status, filter.agent, filter.days]);
  const set = (field) => (e) => setFilter({ ...filter, [field]: e.target.value });
  return html`<${Page} title="Runs">
    <form class="filters grid" aria-label="Filter runs" onSubmit=${(e) => e.preventDefault()}>
      <${Field} label="Status"><select value=${filter.status} onChange=${set("status")}><option value="">Any</option><option value="ok">OK</option><option value="error">Error</option></select><//>
      <${Field} label="Agent"><select value=${filter.agent} onChange=${set("agent")}><option value="">Any</option>${(agents.data || []).map((a) => html`<option value=${a.key}>${a.key}</option>`)}</select><//>
      <${Field} label="Min cost ($)"><input type="number" min="0" step="any" value=${filter.minCost} onInput=${set("minCost")} /><//>
      <${Field} label="Min duration (ms)"><input type="number" min="0" value=${filter.minMs} onInput=${set("minMs")} /><//>
      <${Field} label="Period"><select value=${filter.days} onChange=${set("days")}><option value="1">Last day</option><option value="7">Last 7 days</option><option value="30">Last 30 days</option></select><//>
    </form>
    <${Loading} state=${state}>${(page) => {
      const runs = (page.data || []).filter(
        (t) => (!filter.minCost || (t.cost && t.cost.total >= Number(filter.minCost))) && (!filter.minMs || t.duration_ms >= Number(filter.minMs)),
      );
      if (!runs.length) return html`<p class="muted">No runs match.</p>`;
      return html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Started</th><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Tokens</th><th scope="col">Cost</th><th scope="col">Models</th></tr></thead>
        <tbody>${runs.map((t) => html`<tr>
          <td><a href=${`#/runs/${t.trace_id}`}>${fmtTime(t.started_at)}</a></td>
          <td>${t.agent && t.agent.name}</td><td><span class=${`badge ${t.status}`}>${t.status}</span></td>
          <td>${fmtMs(t.duration_ms)}</td><td>${fmtInt(t.usage && t.usage.total_tokens)}</td><td>${fmtCost(t.cost)}</td>
          <td>${(t.models || []).join(", ")}</td>
        </tr>`)}</tbody></table></div>`;
    }}<//>
  <//>`;
}

export function Run({ id }) {
  const trace = useLoad(async () => (await get(`/v3/traces/${enc(id)}`)).trace, [id]);
  const spans = useLoad(() => get(`/v3/traces/${enc(id)}/spans?limit=1000`), [id]);
  return html`<${Page} title="Run" actions=${html`<a class="button" href="#/runs">All runs</a>`}>
    <${Loading} state=${trace}>${(t) => html`
      <dl class="facts">
        <div><dt>Agent</dt><dd>${t.agent && t.agent.name}</dd></div>
        <div><dt>Status</dt><dd><span class=${`badge ${t.status}`}>${t.status}</span></dd></div>
        <div><dt>Started</dt><dd>${fmtTime(t.started_at)}</dd></div>
        <div><dt>Duration</dt><dd>${fmtMs(t.duration_ms)}</dd></div>
        <div><dt>Tokens</dt><dd>${fmtInt(t.usage && t.usage.total_tokens)}</dd></div>
        <div><dt>Cost</dt><dd>${fmtCost(t.cost)}</dd></div>
      </dl>
      <section class="panel" aria-labelledby="timeline-title"><h2 id="timeline-title">Timeline</h2>
        <${Loading} state=${spans}>${(page) => html`<${Waterfall} spans=${page.data || []} />`}<//>
      </section>
      ${(t.task_ids || []).map((task) => html`<${TaskView} agentKey=${t.agent && t.agent.name} taskId=${task} />`)}
    `}<//>
  <//>`;
}

/** Spans in tree order with their depth. */
function ordered(spans) {
  const children = new Map();
  const ids = new Set(spans.map((s) => s.span_id));
  for (const s of spans) {
    const parent = s.parent_span_id && ids.has(s.parent_span_id) ? s.parent_span_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(s);
  }
  const out = [];
  const walk = (parent, depth) => {
    const list = (children.get(parent) || []).sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
    for (const s of list) {
      out.push([s, depth]);
      walk(s.span_id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

function Waterfall({ spans }) {
  if (!spans.length) return html`<p class="muted">No spans recorded.</p>`;
  const start = Math.min(...spans.map((s) => Date.parse(s.started_at)));
  const end = Math.max(...spans.map((s) => (s.ended_at ? Date.parse(s.ended_at) : Date.parse(s.started_at) + (s.duration_ms || 0))));
  const total = Math.max(end - start, 1);
  return html`<div class="waterfall" role="table" aria-label="Spans">
    <div class="wf-row wf-head" role="row"><span role="columnheader">Span</span><span role="columnheader">Time</span><span role="columnheader">Tokens</span><span role="columnheader">Cost</span></div>
    ${ordered(spans).map(([s, depth]) => {
      const left = ((Date.parse(s.started_at) - start) / total) * 100;
      const width = Math.max(((s.duration_ms || 0) / total) * 100, 0.5);
      return html`<div class=${`wf-row type-${s.type}`} role="row">
        <span role="cell" class="wf-name" style=${{ paddingLeft: `${depth * 1}rem` }} title=${s.name}>${s.name}</span>
        <span role="cell" class="wf-track" aria-label=${`${fmtMs(s.duration_ms)} from ${fmtMs(Date.parse(s.started_at) - start)}`}>
          <span class="wf-bar" style=${{ left: `${left}%`, width: `${width}%` }}></span><span class="wf-ms">${fmtMs(s.duration_ms)}</span>
        </span>
        <span role="cell">${s.usage ? fmtInt(s.usage.total_tokens) : ""}</span>
        <span role="cell">${s.cost ? fmtCost(s.cost) : ""}</span>
      </div>`;
    })}
  </div>`;
}

function TaskView({ agentKey, taskId }) {
  const task = useLoad(() => get(`/v2/agents/${enc(agentKey)}/responses/${enc(taskId)}`), [agentKey, taskId]);
  // The task's events, replayed from its start: every turn's text, tool calls and reviews.
  const events = useLoad(async () => {
    const seen = [];
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 5000);
    try {
      await stream("GET", `/v2/agents/${enc(agentKey)}/responses/${enc(taskId)}/stream`, undefined, (e) => seen.push(e), abort.signal);
    } catch (e) {
      if (e.name !== "AbortError") throw e;
    } finally {
      clearTimeout(timer);
    }
    return seen;
  }, [agentKey, taskId]);
  return html`<section class="panel" aria-label=${`Task ${taskId}`}>
    <h2>Task <code>${taskId}</code></h2>
    <${Loading} state=${task}>${(t) => html`<p>State: <span class="badge">${t.state || t.status}</span>${t.finish_reason ? ` · ${t.finish_reason}` : ""}</p>`}<//>
    <${Loading} state=${events}>${(list) => html`
      <h3>Messages</h3>
      <ol class="transcript">${messagesOf(list).map((m) => html`<li class=${`msg ${m.kind}`}><span class="who">${m.who}</span>
        ${m.text !== undefined ? html`<p>${m.text}</p>` : html`<${JsonBlock} value=${m.value} />`}</li>`)}</ol>
      <details class="events-box"><summary>Events (${list.length})</summary>
        <ol class="events">${list.map((e) => html`<li><code>${e.type}</code> <small class="muted">${e.timestamp}</small>${e.data && Object.keys(e.data).length ? html`<${JsonBlock} value=${e.data} />` : ""}</li>`)}</ol>
      </details>`}<//>
  </section>`;
}

/** The messages a task's events tell: the agent's texts, tool calls with results, reviews. */
function messagesOf(events) {
  const out = [];
  for (const { type, data: d = {} } of events) {
    if (type === "part.done" && d.part && d.part.kind === "text") out.push({ kind: "text", who: "Agent", text: d.part.text });
    else if (type === "tool.started") out.push({ kind: "tool", who: `Tool call: ${d.toolName || d.toolId}`, value: d.arguments });
    else if (type === "tool.done") out.push({ kind: "tool", who: `Tool result: ${d.toolId}`, value: d.result });
    else if (type === "tool.failed") out.push({ kind: "failed", who: `Tool failed: ${d.toolId}`, text: d.error });
    else if (type === "tool.review.requested") out.push({ kind: "review", who: `Approval asked: ${d.toolName || d.toolId}`, value: d.arguments });
    else if (type === "tool.review.done") out.push({ kind: "review", who: `Review: ${d.toolId}`, text: d.review });
    else if (type === "response.failed") out.push({ kind: "failed", who: "Failed", text: d.error });
  }
  return out;
}
