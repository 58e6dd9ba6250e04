// Shared pieces: the `html` template tag, loading hooks, formatting and small widgets.
import { h } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);

/** Runs `load` (an async function) now and whenever `deps` change; `reload` runs it again. */
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const run = useCallback(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => {
      live = false;
    };
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

export function Loading({ state, children }) {
  if (state.error) return html`<${ErrorNote} error=${state.error} />`;
  if (state.loading && !state.data) return html`<p class="muted" role="status">Loading…</p>`;
  return children(state.data);
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.message || String(error)}</p>`;
}

export const json = (v) => JSON.stringify(v, null, 2);

export function parseJson(text, name) {
  try {
    return text.trim() ? JSON.parse(text) : undefined;
  } catch (e) {
    throw new Error(`${name} is not valid JSON: ${e.message}`);
  }
}

export const fmtTime = (t) => (t ? new Date(t).toLocaleString() : "—");
export const fmtMs = (ms) => (ms == null ? "—" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);
export const fmtCost = (c) => {
  const total = c && typeof c === "object" ? c.total : c;
  return total == null ? "—" : `$${Number(total).toFixed(total < 0.01 ? 6 : 4)}`;
};
export const fmtInt = (n) => (n == null ? "—" : Number(n).toLocaleString());

export function Page({ title, actions, children }) {
  return html`<section class="page" aria-labelledby="page-title">
    <header class="page-head">
      <h1 id="page-title">${title}</h1>
      <div class="actions">${actions}</div>
    </header>
    ${children}
  </section>`;
}

/** A labelled control: the label wraps its input so a click or screen reader finds it. */
export function Field({ label, hint, children }) {
  return html`<label class="field"><span>${label}</span>${children}${hint && html`<small class="muted">${hint}</small>`}</label>`;
}

export function JsonBlock({ value }) {
  return html`<pre class="json">${typeof value === "string" ? value : json(value)}</pre>`;
}

/** A button that runs an async action, disabled while it runs, showing its error. */
export function Action({ run, label, kind = "", disabled, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const click = async () => {
    setBusy(true);
    setError(null);
    try {
      const out = await run();
      onDone && onDone(out);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="action"><button type="button" class=${kind} disabled=${busy || disabled} onClick=${click}>${label}</button>${error && html`<${ErrorNote} error=${error} />`}</span>`;
}

/** A form whose submit runs an async action and shows its error. */
export function Form({ onSubmit, submit, children, label }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const go = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="form" onSubmit=${go} aria-label=${label}>
    ${children}
    <div class="row"><button type="submit" class="primary" disabled=${busy}>${submit}</button></div>
    <${ErrorNote} error=${error} />
  </form>`;
}

export const enc = encodeURIComponent;
