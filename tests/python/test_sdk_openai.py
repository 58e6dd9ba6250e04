"""The official `openai` Python SDK against a real `baton serve`: agents are models
(`agent/<key>`), chat completions and responses run them (whole and streamed), a server-side
tool runs inside the run, a client function tool comes back as a call and its result continues
the same task, and an unknown model is the SDK's NotFoundError.
"""

from __future__ import annotations

import json
import uuid

import httpx
import openai
import pytest
from openai import OpenAI


def uniq(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def api(baton_server, method: str, path: str, body=None) -> dict:
    resp = httpx.request(method, baton_server.url + path, json=body, trust_env=False, timeout=30,
                         headers={"Authorization": f"Bearer {baton_server.api_key}"})
    assert resp.status_code < 300, resp.text
    return resp.json()


@pytest.fixture
def client(baton_server):
    http = httpx.Client(trust_env=False, timeout=60)
    yield OpenAI(api_key=baton_server.api_key, base_url=baton_server.url + "/v1", http_client=http,
                 max_retries=0)
    http.close()


@pytest.fixture
def agent(baton_server) -> tuple[str, str]:
    """An agent with the server-side `current_date` tool and a client-side function tool."""
    tool = uniq("get_weather")
    api(baton_server, "POST", "/v2/tools", {
        "type": "function", "key": tool, "path": "Default", "description": "Weather by city",
        "function": {"name": tool, "parameters": {"type": "object",
                     "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
    key = uniq("weather-bot")
    api(baton_server, "POST", "/v2/agents", {
        "key": key, "role": "Assistant", "description": "Weather", "instructions": "Be brief.",
        "path": "Default/agents", "model": "openai/gpt-4o",
        "settings": {"max_iterations": 5, "tools": [{"type": "current_date"}, {"type": "function", "key": tool}]}})
    return f"agent/{key}", tool


def task_of(call_id: str) -> str:
    return call_id.split("_")[1]


def test_models_list_the_agents(client, agent):
    ids = [m.id for m in client.models.list()]
    assert agent[0] in ids


def test_chat_plain_runs_a_server_tool_inside(client, agent, fake_openai):
    model, _ = agent
    fake_openai.push({"tool_calls": [{"name": "current_date", "arguments": {}}]}, {"text": "It is Monday."})
    done = client.chat.completions.create(model=model, messages=[
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What day is it?"}])
    assert done.choices[0].message.content == "It is Monday."
    assert done.choices[0].finish_reason == "stop"
    assert done.model == model
    assert done.usage.prompt_tokens == 20 and done.usage.total_tokens == 30
    sent = json.dumps(fake_openai.requests()[-1])
    assert "current_date" in sent and "Answer briefly." in sent


def test_chat_streamed_collects_deltas(client, agent, fake_openai):
    model, _ = agent
    fake_openai.push({"text": "Streaming from an agent."})
    stream = client.chat.completions.create(model=model, stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "Stream please"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Streaming from an agent."
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage.total_tokens == 15


def test_chat_function_tool_returns_tool_calls_then_continues_the_task(client, agent, fake_openai):
    model, tool = agent
    fake_openai.push({"tool_calls": [{"name": tool, "arguments": {"city": "Paris"}}]})
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat.completions.create(model=model, messages=messages)
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == tool
    assert json.loads(call.function.arguments) == {"city": "Paris"}

    fake_openai.push({"text": "Sunny in Paris."})
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"sky": "sunny"})}]
    second = client.chat.completions.create(model=model, messages=messages)
    assert second.choices[0].message.content == "Sunny in Paris."
    sent = json.dumps(fake_openai.requests()[-1])
    assert "sunny" in sent and "Weather in Paris?" in sent

    key = model.split("/", 1)[1]
    task = httpx.get(f"{client.base_url}".rstrip("/").removesuffix("/v1")
                     + f"/v2/agents/{key}/responses/{task_of(call.id)}",
                     headers={"Authorization": f"Bearer {client.api_key}"}, trust_env=False).json()
    assert task["state"] == "completed"
    assert [m["role"] for m in task["output"]][-1] == "agent"


def test_responses_plain_and_streamed(client, agent, fake_openai):
    model, _ = agent
    fake_openai.push({"text": "Hello from Baton."})
    first = client.responses.create(model=model, input="Hi", instructions="Be cheerful.")
    assert first.status == "completed"
    assert first.output_text == "Hello from Baton."
    assert first.usage.input_tokens == 10 and first.usage.output_tokens == 5

    fake_openai.push({"text": "You said hi."})
    stream = client.responses.create(model=model, input="What did I say?", previous_response_id=first.id,
                                     stream=True)
    events = list(stream)
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "You said hi."
    done = events[-1].response
    assert done.output_text == "You said hi."
    assert done.usage.total_tokens == 15
    assert task_of(done.id) == task_of(first.id)
    assert "Hello from Baton." in json.dumps(fake_openai.requests()[-1])


def test_responses_function_call_then_output_continues_the_task(client, agent, fake_openai):
    model, tool = agent
    fake_openai.push({"tool_calls": [{"name": tool, "arguments": {"city": "Rome"}}]})
    first = client.responses.create(model=model, input=[{"role": "user", "content": "Weather in Rome?"}])
    calls = [i for i in first.output if i.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == tool
    assert json.loads(calls[0].arguments) == {"city": "Rome"}

    fake_openai.push({"text": "Warm in Rome."})
    second = client.responses.create(model=model, previous_response_id=first.id, input=[
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": json.dumps({"temp": 30})}])
    assert second.output_text == "Warm in Rome."
    assert task_of(second.id) == task_of(first.id)
    assert "30" in json.dumps(fake_openai.requests()[-1])


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="agent/no-such-agent",
                                       messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 404
    assert err.value.body["param"] == "model"
    assert "agent/no-such-agent" in err.value.body["message"]
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="gpt-4o", input="x")


LOOKUP = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}


def offered(fake_openai, back: int = 1) -> list[str]:
    return [t["function"]["name"] for t in fake_openai.requests()[-back].get("tools", [])]


def test_chat_request_function_tools_come_back_as_tool_calls(client, agent, fake_openai):
    model, tool = agent
    tools = [{"type": "function", "function": {"name": "lookup_order", "description": "Order status",
                                                "parameters": LOOKUP}}]
    fake_openai.push({"tool_calls": [{"name": "lookup_order", "arguments": {"id": "A1"}}]})
    messages = [{"role": "user", "content": "Where is order A1?"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=tools, tool_choice="required")
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "lookup_order"
    assert json.loads(call.function.arguments) == {"id": "A1"}
    assert "lookup_order" in offered(fake_openai) and tool in offered(fake_openai)
    assert fake_openai.requests()[-1]["tool_choice"] == "required"

    fake_openai.push({"text": "A1 has shipped."})
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"status": "shipped"})}]
    second = client.chat.completions.create(model=model, messages=messages, tools=tools)
    assert second.choices[0].message.content == "A1 has shipped."
    assert "shipped" in json.dumps(fake_openai.requests()[-1])


def test_chat_request_function_tools_stream_their_calls(client, agent, fake_openai):
    model, _ = agent
    tools = [{"type": "function", "function": {"name": "lookup_order", "parameters": LOOKUP}}]
    fake_openai.push({"tool_calls": [{"name": "lookup_order", "arguments": {"id": "C3"}}]})
    chunks = list(client.chat.completions.create(
        model=model, stream=True, tools=tools, messages=[{"role": "user", "content": "Order C3?"}]))
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert [c.function.name for c in calls] == ["lookup_order"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]


def test_responses_request_function_tools_and_retrieve(client, agent, fake_openai):
    model, _ = agent
    tools = [{"type": "function", "name": "lookup_order", "description": "Order status", "parameters": LOOKUP,
              "strict": False}]
    fake_openai.push({"tool_calls": [{"name": "lookup_order", "arguments": {"id": "B2"}}]})
    first = client.responses.create(model=model, input="Where is order B2?", tools=tools,
                                    tool_choice={"type": "function", "name": "lookup_order"})
    calls = [i for i in first.output if i.type == "function_call"]
    assert [c.name for c in calls] == ["lookup_order"]
    assert json.loads(calls[0].arguments) == {"id": "B2"}
    assert [t.name for t in first.tools] == ["lookup_order"]

    got = client.responses.retrieve(first.id)
    assert got.id == first.id and got.status == "completed"
    assert [i.type for i in got.output] == [i.type for i in first.output]

    fake_openai.push({"text": "B2 is on its way."})
    second = client.responses.create(model=model, previous_response_id=first.id, tools=tools, input=[
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": "on its way"}])
    assert second.output_text == "B2 is on its way."
    assert client.responses.retrieve(second.id).output_text == "B2 is on its way."
    with pytest.raises(openai.NotFoundError) as err:
        client.responses.retrieve("resp_nope_nope")
    assert err.value.status_code == 404
