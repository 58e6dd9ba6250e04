// The basic flow through a client generated from the live document: types from
// openapi-typescript (schema.d.ts, generated at test time), calls through openapi-fetch. tsc
// checks every body against those types; node runs it against the server.
// Env: BATON_URL, BATON_API_KEY, FAKE_ROOT (the fake provider's root).
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];

// Node's `process`, without depending on its type package.
declare const process: { env: Record<string, string | undefined> };

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

// JSON answers only (the responses operation also documents its `text/event-stream` form).
const client = createClient<paths, `${string}/json`>({
  baseUrl: env("BATON_URL"),
  headers: { Authorization: `Bearer ${env("BATON_API_KEY")}` },
});

function check(ok: boolean, what: string, detail?: unknown): asserts ok {
  if (!ok) throw new Error(`${what}: ${JSON.stringify(detail)}`);
}

async function push(...turns: object[]): Promise<void> {
  const resp = await fetch(`${env("FAKE_ROOT")}/_fake/turns`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(turns),
  });
  check(resp.status === 204, "script the fake provider", resp.status);
}

const text = (t: string): Schemas["InputMessage"] => ({ role: "user", parts: [{ kind: "text", text: t }] });

async function setup(): Promise<{ agent: string; tool: string }> {
  const suffix = Date.now().toString(36);
  const tool = `get_weather_${suffix}`;
  const agent = `ts_agent_${suffix}`;
  const created = await client.POST("/v2/tools", {
    body: {
      type: "function", key: tool, path: "Default", description: "Weather by city",
      function: { name: tool, parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
    },
  });
  check(created.response.ok, "create the tool", created.error);
  const made = await client.POST("/v2/agents", {
    body: {
      key: agent, role: "Assistant", description: "Answers", instructions: "Be brief.", path: "Default/agents",
      model: "openai/gpt-4o", settings: { max_iterations: 5, tools: [{ type: "current_date" }, { type: "function", key: tool }] },
    },
  });
  check(made.response.status === 201, "create the agent", made.error);
  return { agent, tool };
}

async function run(agent: string, tool: string): Promise<Schemas["AgentResponse"]> {
  const path = { path: { agent_key: agent } };
  await push({ tool_calls: [{ name: "current_date", arguments: {} }, { name: tool, arguments: { city: "Lima" } }] });
  const paused = await client.POST("/v2/agents/{agent_key}/responses", { params: path, body: { message: text("Weather in Lima?") } });
  check(paused.data !== undefined, "run the agent", paused.error);
  const first: Schemas["AgentResponse"] = paused.data;
  check(first.status.state === "input-required" && first.finish_reason === "tool_calls", "pause on the tool", first);
  const pending = first.pending_tool_calls?.[0];
  check(pending !== undefined && pending.function.name === tool, "one pending call", first.pending_tool_calls);

  await push({ text: "Sunny in Lima." });
  const result: Schemas["MessagePart"] = { kind: "tool_result", tool_call_id: pending.id, result: { sky: "sunny" } };
  const done = await client.POST("/v2/agents/{agent_key}/responses", {
    params: path,
    body: { task_id: first.task_id, message: { role: "tool", parts: [result] } },
  });
  check(done.data !== undefined, "continue the task", done.error);
  const last = done.data.output.at(-1)?.parts[0];
  check(done.data.status.state === "completed" && last?.kind === "text" && last.text === "Sunny in Lima.", "answer", done.data);

  const polled = await client.GET("/v2/agents/{agent_key}/responses/{task_id}", {
    params: { path: { agent_key: agent, task_id: first.task_id } },
  });
  check(polled.data?.status === "completed" && polled.data.state === "completed", "poll", polled.data);
  return first;
}

async function trace(first: Schemas["AgentResponse"]): Promise<void> {
  const trace_id = first.telemetry.trace_id;
  const found = await client.GET("/v3/traces/{trace_id}", { params: { path: { trace_id } } });
  check(found.data !== undefined && found.data.trace.turns === 2, "read the trace", found.data ?? found.error);
  const spans = await client.GET("/v3/traces/{trace_id}/spans", { params: { path: { trace_id }, query: { limit: 100 } } });
  check(spans.data !== undefined, "list the spans", spans.error);
  const kinds: Schemas["SpanType"][] = spans.data.data.map((s) => s.type);
  check(kinds.includes("llm") && kinds.includes("tool"), "model and tool spans", kinds);
  const tokens = spans.data.data.reduce((sum, s) => sum + (s.type === "llm" ? (s.usage?.total_tokens ?? 0) : 0), 0);
  check(tokens === found.data.trace.usage.total_tokens, "the trace's tokens are its model calls'", tokens);
  const missing = await client.GET("/v3/traces/{trace_id}", { params: { path: { trace_id: "0".repeat(32) } } });
  check(missing.response.status === 404 && missing.error?.error.code === "not_found", "typed 404", missing.error);
}

const { agent, tool } = await setup();
await trace(await run(agent, tool));
console.log("typescript client flow ok");
