// The console's shell: sign-in, navigation and a hash router (`#/agents`, `#/runs/<id>`), so the
// server only serves `/` and its assets.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { get, session } from "./api.js";
import { html, Field, Form } from "./ui.js";
import { Agents } from "./pages/agents.js";
import { Playground } from "./pages/playground.js";
import { Runs, Run } from "./pages/runs.js";
import { Schedules } from "./pages/schedules.js";
import { Tools, MemoryStores, Knowledge, ApiKeys } from "./pages/resources.js";
import { Usage } from "./pages/usage.js";

const NAV = [
  ["agents", "Agents"],
  ["playground", "Playground"],
  ["runs", "Runs"],
  ["schedules", "Schedules"],
  ["tools", "Tools"],
  ["memory", "Memory"],
  ["knowledge", "Knowledge"],
  ["keys", "API keys"],
  ["usage", "Usage"],
];

function useRoute() {
  const read = () => (location.hash.replace(/^#\/?/, "") || "agents").split("/").map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

function SignIn({ onIn }) {
  const [key, setKey] = useState("");
  const submit = async () => {
    session.signIn(key.trim());
    try {
      await get("/v2/agents?limit=1");
      onIn();
    } catch (e) {
      session.signOut();
      throw e.status === 401 ? new Error("This API key was not accepted.") : e;
    }
  };
  return html`<main class="signin">
    <h1>Baton</h1>
    <p class="muted">Sign in with an API key. It is kept in this tab's session storage only.</p>
    <${Form} onSubmit=${submit} submit="Sign in" label="Sign in">
      <${Field} label="API key">
        <input type="password" name="api_key" autocomplete="current-password" required value=${key} onInput=${(e) => setKey(e.target.value)} />
      <//>
    <//>
  </main>`;
}

function Body({ route }) {
  const [page, ...rest] = route;
  switch (page) {
    case "agents":
      return html`<${Agents} args=${rest} />`;
    case "playground":
      return html`<${Playground} args=${rest} />`;
    case "runs":
      return rest[0] ? html`<${Run} id=${rest[0]} />` : html`<${Runs} />`;
    case "schedules":
      return html`<${Schedules} args=${rest} />`;
    case "tools":
      return html`<${Tools} />`;
    case "memory":
      return html`<${MemoryStores} />`;
    case "knowledge":
      return html`<${Knowledge} />`;
    case "keys":
      return html`<${ApiKeys} />`;
    case "usage":
      return html`<${Usage} />`;
    default:
      return html`<p>No page here. <a href="#/agents">Agents</a></p>`;
  }
}

function App() {
  const [signedIn, setSignedIn] = useState(!!session.key());
  const route = useRoute();
  if (!signedIn) return html`<${SignIn} onIn=${() => setSignedIn(true)} />`;
  const out = () => {
    session.signOut();
    setSignedIn(false);
  };
  return html`<div class="shell">
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <strong class="brand">Baton</strong>
      <nav aria-label="Sections">
        <ul>
          ${NAV.map(([id, label]) => html`<li><a href=${`#/${id}`} aria-current=${route[0] === id ? "page" : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
      <button type="button" class="link" onClick=${out}>Sign out</button>
    </header>
    <main id="main" tabindex="-1"><${Body} route=${route} /></main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
