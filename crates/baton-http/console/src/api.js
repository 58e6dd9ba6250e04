// The API client: every call carries the signed-in key as a bearer token; the key lives in
// sessionStorage only (gone when the tab closes, never sent anywhere but this origin).

const KEY = "baton.apiKey";

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

function describe(status, body) {
  const detail = body && typeof body === "object" ? body.error || body : null;
  const message = (detail && detail.message) || (typeof body === "string" && body) || `HTTP ${status}`;
  const param = detail && detail.param;
  return param ? `${param}: ${message}` : message;
}

function headers(body) {
  const h = { Authorization: `Bearer ${session.key()}`, Accept: "application/json" };
  if (body !== undefined) h["Content-Type"] = "application/json";
  return h;
}

/** Calls the API and returns the parsed JSON (null for 204); throws ApiError on 4xx/5xx. */
export async function api(method, path, body, signal) {
  const res = await fetch(path, {
    method,
    headers: headers(body),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path, signal) => api("GET", path, undefined, signal);
export const post = (path, body) => api("POST", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);

/** Every item of a list endpoint (`{data, has_more}` pages), following `starting_after`. */
export async function listAll(path, idOf = (x) => x.id || x._id || x.key) {
  const out = [];
  let after = null;
  for (let i = 0; i < 20; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await get(`${path}${sep}limit=100${after ? `&starting_after=${encodeURIComponent(after)}` : ""}`);
    const items = page.data || [];
    out.push(...items);
    if (!page.has_more || items.length === 0) break;
    after = idOf(items[items.length - 1]);
  }
  return out;
}

/**
 * Reads a server-sent event stream (`POST` with a body, or `GET`) and calls `onEvent` with each
 * event's parsed JSON until `[DONE]` or the end. EventSource cannot send the key, so this reads
 * the body itself.
 */
export async function stream(method, path, body, onEvent, signal) {
  const res = await fetch(path, {
    method,
    headers: { ...headers(body), Accept: "text/event-stream" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    const text = await res.text();
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {}
    throw new ApiError(res.status, data);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart())
        .join("\n");
      if (!data) continue;
      if (data === "[DONE]") {
        reader.cancel().catch(() => {});
        return;
      }
      try {
        onEvent(JSON.parse(data));
      } catch (e) {
        if (e instanceof SyntaxError) continue;
        throw e;
      }
    }
  }
}
