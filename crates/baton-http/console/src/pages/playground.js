// Playground: chat with an agent over the streamed responses endpoint. Text arrives as it is
// written, tool calls and their results as they happen; calls waiting for approval get
// Approve / Reject, and client-side function calls get a form for their results. Later messages
// continue the same task.
import { useRef, useState } from "preact/hooks";
import { listAll, stream } from "../api.js";
import { html, useLoad, Page, Field, ErrorNote, JsonBlock, parseJson, enc } from "../ui.js";

export function Playground({ args }) {
  const agents = useLoad(() => listAll("/v2/agents"));
  const [agentKey, setAgentKey] = useState(args[0] || "");
  const chosen = agentKey || (agents.data && agents.data[0] && agents.data[0].key) || "";
  return html`<${Page} title="Playground">
    <div class="grid">
      <${Field} label="Agent">
        <select name="agent" value=${chosen} onChange=${(e) => setAgentKey(e.target.value)}>
          ${(agents.data || []).map((a) => html`<option value=${a.key}>${a.display_name || a.key}</option>`)}
        </select>
      <//>
    </div>
    <${ErrorNote} error=${agents.error} />
    ${chosen ? html`<${Chat} key=${chosen} agentKey=${chosen} />` : agents.data && html`<p>Create an agent first: <a href="#/agents/new">New agent</a>.</p>`}
  <//>`;
}

function Chat({ agentKey }) {
  const items = useRef([]);
  const [, setTick] = useState(0);
  const refresh = () => setTick((t) => t + 1);
  const [taskId, setTaskId] = useState(null);
  const [traceId, setTraceId] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState("");
  const [variables, setVariables] = useState("");
  const [entity, setEntity] = useState("");
  const task = useRef(null);

  const add = (item) => {
    items.current = [...items.current, item];
    refresh();
  };
  const update = (match, change) => {
    items.current = items.current.map((it) => (match(it) ? { ...it, ...change(it) } : it));
    refresh();
  };

  const onEvent = (event) => {
    const d = event.data || {};
    switch (event.type) {
      case "response.started":
        task.current = d.taskId;
        setTaskId(d.taskId);
        if (d.telemetry && d.telemetry.trace_id) setTraceId(d.telemetry.trace_id);
        break;
      case "part.delta":
      case "part.done": {
        const part = event.type === "part.done" ? d.part : d.delta;
        if (!part || (part.kind !== "text" && part.kind !== "reasoning")) break;
        const text = part.kind === "text" ? part.text : part.reasoning;
        const found = items.current.some((it) => it.partId === d.partId);
        if (!found) add({ kind: part.kind, partId: d.partId, text });
        else update((it) => it.partId === d.partId, (it) => ({ text: event.type === "part.done" ? text : it.text + text }));
        break;
      }
      case "tool.started":
        add({ kind: "tool", id: d.toolCallId, name: d.toolName || d.toolId, args: d.arguments, status: "running" });
        break;
      case "tool.done":
        update((it) => it.kind === "tool" && it.id === d.toolCallId, () => ({ status: "done", result: d.result }));
        break;
      case "tool.failed":
        update((it) => it.kind === "tool" && it.id === d.toolCallId, () => ({ status: "failed", result: d.error }));
        break;
      case "tool.review.requested":
        add({ kind: "review", id: d.toolCallId, name: d.toolName || d.toolId, args: d.arguments, decision: null });
        break;
      case "tool.review.done":
        update((it) => it.kind === "review" && it.id === d.toolCallId, () => ({ decision: d.review, sent: true }));
        break;
      case "response.done":
        if (d.telemetry && d.telemetry.trace_id) setTraceId(d.telemetry.trace_id);
        if (d.pendingToolCalls && d.pendingToolCalls.length) add({ kind: "pending", calls: d.pendingToolCalls, answered: false });
        add({ kind: "done", finishReason: d.finishReason, usage: d.usage });
        break;
      case "response.failed":
        add({ kind: "failed", text: d.error });
        break;
    }
  };

  const send = async (body) => {
    setBusy(true);
    setError(null);
    try {
      const vars = parseJson(variables, "Variables");
      const full = { ...body, stream: true };
      if (task.current) full.task_id = task.current;
      if (vars) full.variables = vars;
      if (entity.trim()) full.memory = { entity_id: entity.trim() };
      await stream("POST", `/v2/agents/${enc(agentKey)}/responses`, full, onEvent);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const submit = (e) => {
    e.preventDefault();
    const text = message.trim();
    if (!text) return;
    add({ kind: "user", text });
    setMessage("");
    send({ message: { role: "user", parts: [{ kind: "text", text }] } });
  };

  const decide = (id, decision) => {
    update((it) => it.kind === "review" && it.id === id, () => ({ decision }));
    const waiting = items.current.filter((it) => it.kind === "review" && !it.sent);
    if (waiting.every((it) => it.decision)) {
      waiting.forEach((w) => update((it) => it === w, () => ({ sent: true })));
      send({ tool_reviews: waiting.map((it) => ({ tool_call_id: it.id, review: it.decision })) });
    }
  };

  const answer = (pending, results) => {
    update((it) => it === pending, () => ({ answered: true }));
    send({ message: { role: "tool", parts: pending.calls.map((c) => ({ kind: "tool_result", tool_call_id: c.id, result: results[c.id] })) } });
  };

  const reset = () => {
    items.current = [];
    task.current = null;
    setTaskId(null);
    setTraceId(null);
    refresh();
  };

  return html`<div class="chat">
    <div class="row muted small">
      ${taskId ? html`<span>Task <code>${taskId}</code></span>` : html`<span>A new task starts with the first message.</span>`}
      ${traceId && html`<a href=${`#/runs/${traceId}`}>Open run</a>`}
      ${taskId && html`<button type="button" class="link" onClick=${reset}>New task</button>`}
    </div>
    <ol class="transcript" aria-live="polite" aria-label="Conversation">
      ${items.current.map((it) => html`<li class=${`msg ${it.kind}`}>${renderItem(it, decide, answer, busy)}</li>`)}
    </ol>
    ${busy && html`<p class="muted" role="status">Running…</p>`}
    <${ErrorNote} error=${error} />
    <form class="form" onSubmit=${submit} aria-label="Compose">
      <${Field} label="Message"><textarea name="message" rows="3" value=${message} onInput=${(e) => setMessage(e.target.value)} onKeyDown=${(e) => e.key === "Enter" && (e.ctrlKey || e.metaKey) && submit(e)} /><//>
      <details><summary>Variables and memory</summary>
        <div class="grid">
          <${Field} label="Variables (JSON)"><textarea name="variables" class="code" rows="3" placeholder='{"customer": "Ada"}' value=${variables} onInput=${(e) => setVariables(e.target.value)} /><//>
          <${Field} label="Memory entity id"><input name="memory_entity_id" value=${entity} onInput=${(e) => setEntity(e.target.value)} /><//>
        </div>
      </details>
      <div class="row"><button type="submit" class="primary" disabled=${busy}>${taskId ? "Send (continue task)" : "Send"}</button></div>
    </form>
  </div>`;
}

function renderItem(it, decide, answer, busy) {
  switch (it.kind) {
    case "user":
      return html`<span class="who">You</span><p>${it.text}</p>`;
    case "text":
      return html`<span class="who">Agent</span><p class="answer">${it.text}</p>`;
    case "reasoning":
      return html`<span class="who">Thinking</span><p class="muted">${it.text}</p>`;
    case "tool":
      return html`<span class="who">Tool call</span><p><strong>${it.name}</strong> <span class=${`badge ${it.status}`}>${it.status}</span></p>
        <${JsonBlock} value=${it.args} />${it.result !== undefined && html`<p class="muted">Result</p><${JsonBlock} value=${it.result} />`}`;
    case "review":
      return html`<span class="who">Approval needed</span><p><strong>${it.name}</strong> wants to run with</p><${JsonBlock} value=${it.args} />
        ${it.decision
          ? html`<p class="badge">${it.decision}</p>`
          : html`<div class="row"><button type="button" class="primary" disabled=${busy} onClick=${() => decide(it.id, "approved")}>Approve ${it.name}</button>
              <button type="button" class="danger" disabled=${busy} onClick=${() => decide(it.id, "rejected")}>Reject ${it.name}</button></div>`}`;
    case "pending":
      return html`<${PendingCalls} pending=${it} answer=${answer} busy=${busy} />`;
    case "done":
      return html`<p class="muted small">Finished: ${it.finishReason}${it.usage ? ` · ${it.usage.total_tokens ?? "?"} tokens` : ""}</p>`;
    case "failed":
      return html`<p class="error">Failed: ${it.text}</p>`;
  }
  return null;
}

function PendingCalls({ pending, answer, busy }) {
  const [results, setResults] = useState({});
  const [error, setError] = useState(null);
  if (pending.answered) return html`<p class="muted small">Results sent for ${pending.calls.map((c) => c.function && c.function.name).join(", ")}.</p>`;
  const submit = (e) => {
    e.preventDefault();
    try {
      const parsed = {};
      for (const c of pending.calls) parsed[c.id] = parseJson(results[c.id] || "null", `The result of ${c.function.name}`);
      answer(pending, parsed);
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="form" onSubmit=${submit} aria-label="Function results">
    <span class="who">Your functions</span>
    ${pending.calls.map((c) => html`<${Field} label=${`Result of ${c.function.name}(${c.function.arguments})`}>
      <textarea class="code" rows="2" value=${results[c.id] || ""} onInput=${(e) => setResults({ ...results, [c.id]: e.target.value })} placeholder='{"ok": true}' /><//>`)}
    <div class="row"><button type="submit" class="primary" disabled=${busy}>Send results</button></div>
    <${ErrorNote} error=${error} />
  </form>`;
}
