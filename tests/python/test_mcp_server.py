"""The official `mcp` Python SDK as a client of Baton's MCP server (`/mcp`): a project's agents
are its tools. Against a real `baton serve` whose `openai` provider is the testkit's scripted
fake, over both eras of the protocol: the `initialize` handshake (2025-11-25) and the
per-request envelope of 2026-07-28 (`server/discover`).
"""

from __future__ import annotations

import json
import uuid

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

MODEL = "openai/gpt-4o"
# `auto` probes `server/discover` and stays on 2026-07-28 when the server speaks it.
MODES = ["legacy", "auto"]


def uniq(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def create_agent(server, **extra) -> str:
    key = uniq("mcp_agent")
    body = {"key": key, "role": "Assistant", "description": f"Answers as {key}",
            "instructions": "Be brief.", "path": "Default/agents", "model": MODEL, **extra}
    resp = httpx.post(f"{server.url}/v2/agents", json=body, trust_env=False, timeout=30,
                      headers={"Authorization": f"Bearer {server.api_key}"})
    assert resp.status_code == 201, resp.text
    return key


def mcp_client(server, mode: str, key: str | None = None) -> Client:
    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {key or server.api_key}"},
        timeout=httpx2.Timeout(30, read=120),
        trust_env=False,  # never route 127.0.0.1 through an HTTP(S)_PROXY
    )
    return Client(streamable_http_client(f"{server.url}/mcp", http_client=http), mode=mode)


def run(coro_fn):
    return anyio.run(coro_fn)


@pytest.mark.parametrize("mode", MODES)
def test_agents_are_listed_as_tools_with_their_schemas(baton_server, mode):
    plain = create_agent(baton_server)
    schema = {"type": "object", "properties": {"mood": {"type": "string"}}, "required": ["mood"]}
    structured = create_agent(baton_server, output_schema=schema)

    async def main():
        async with mcp_client(baton_server, mode) as client:
            # The era the client asked for is the one the server speaks.
            assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
            assert client.server_info.name == "baton"
            assert client.server_capabilities.tools is not None
            tools = {}
            cursor = None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools.update({t.name: t for t in page.tools})
                cursor = page.next_cursor
                if not cursor:
                    break
            return tools

    tools = run(main)
    assert plain in tools and structured in tools
    tool = tools[plain]
    assert tool.description == f"Answers as {plain}"
    assert tool.input_schema["required"] == ["message"]
    assert set(tool.input_schema["properties"]) == {"message", "variables", "task_id"}
    assert tool.output_schema is None
    assert tools[structured].output_schema == schema


@pytest.mark.parametrize("mode", MODES)
def test_calling_an_agent_answers_its_text_and_continues_its_task(baton_server, fake_openai, mode):
    key = create_agent(baton_server)
    fake_openai.push({"text": "Paris is sunny."}, {"text": "Still sunny."})

    async def main():
        async with mcp_client(baton_server, mode) as client:
            first = await client.call_tool(key, {"message": "Weather in Paris?"})
            task_id = first.meta["task_id"]
            second = await client.call_tool(key, {"message": "And now?", "task_id": task_id})
            return first, second

    first, second = run(main)
    assert not first.is_error, first
    assert [c.text for c in first.content] == ["Paris is sunny."]
    assert first.structured_content is None
    assert not second.is_error, second
    assert second.content[0].text == "Still sunny."
    assert second.meta["task_id"] == first.meta["task_id"]
    # The second turn saw the first: one task, its history sent to the model.
    last = fake_openai.requests()[-1]
    assert "Weather in Paris?" in json.dumps(last["messages"])


@pytest.mark.parametrize("mode", MODES)
def test_structured_output_comes_back_as_structured_content(baton_server, fake_openai, mode):
    schema = {"type": "object", "properties": {"mood": {"type": "string", "enum": ["good", "bad"]}},
              "required": ["mood"]}
    key = create_agent(baton_server, output_schema=schema)
    fake_openai.push({"text": "{\"mood\": \"good\"}"})

    async def main():
        async with mcp_client(baton_server, mode) as client:
            await client.list_tools()  # the SDK checks structured content against the listed schema
            return await client.call_tool(key, {"message": "How are you?"})

    result = run(main)
    assert not result.is_error, result
    assert result.structured_content == {"mood": "good"}
    assert json.loads(result.content[0].text) == {"mood": "good"}


@pytest.mark.parametrize("mode", MODES)
def test_a_long_run_reports_progress(baton_server, fake_openai, mode):
    key = create_agent(baton_server, settings={"max_iterations": 5, "tools": [{"type": "current_date"}]})
    fake_openai.push(
        {"tool_calls": [{"name": "current_date", "arguments": {}}], "delay_ms": 300},
        {"text": "Today it is.", "delay_ms": 300},
    )
    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, message))

    async def main():
        async with mcp_client(baton_server, mode) as client:
            return await client.call_tool(key, {"message": "What day is it?"}, progress_callback=on_progress)

    result = run(main)
    assert not result.is_error, result
    assert result.content[0].text == "Today it is."
    messages = [m for _, m in seen]
    assert any("calling tool `current_date`" in m for m in messages), messages
    assert any("tool `current_date` answered" in m for m in messages), messages
    progress = [p for p, _ in seen]
    assert progress == sorted(progress) and len(set(progress)) == len(progress), progress


def test_a_bad_key_is_refused_with_401(baton_server):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
    for auth in ({}, {"Authorization": "Bearer not-a-key"}, {"x-api-key": "not-a-key"}):
        resp = httpx.post(f"{baton_server.url}/mcp", json=body, headers={**headers, **auth},
                          trust_env=False, timeout=30)
        assert resp.status_code == 401, resp.text
    ok = httpx.post(f"{baton_server.url}/mcp", json=body, trust_env=False, timeout=30,
                    headers={**headers, "x-api-key": baton_server.api_key})
    assert ok.status_code == 200, ok.text

    async def main():
        async with mcp_client(baton_server, "legacy", key="not-a-key") as client:
            await client.list_tools()

    with pytest.raises(Exception):
        run(main)


@pytest.mark.parametrize("mode", MODES)
def test_unknown_tools_and_failed_runs_are_errors(baton_server, fake_openai, mode):
    key = create_agent(baton_server)
    fake_openai.push({"error": {"status": 400, "body": {"error": {"message": "bad request"}}}})

    async def main():
        async with mcp_client(baton_server, mode) as client:
            with pytest.raises(MCPError) as unknown:
                await client.call_tool(uniq("no_such_agent"), {"message": "hi"})
            failed = await client.call_tool(key, {"message": "hi"})
            invalid = await client.call_tool(key, {"message": "hi", "variables": "nope"})
            return unknown.value, failed, invalid

    unknown, failed, invalid = run(main)
    assert "unknown tool" in str(unknown)
    assert failed.is_error, failed
    assert failed.meta["task_id"]
    assert invalid.is_error and "`variables`" in invalid.content[0].text, invalid
