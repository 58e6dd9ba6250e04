"""orq-ai-sdk 4.17.13 running agents on a real `baton serve` whose `openai` provider is the
testkit's scripted fake (`baton-fake openai`): the docs' flows — a function tool pauses the task
in input-required, the tool result continues it, a user message starts the next turn, a
background run is polled, a streamed run yields every event type in order.
"""

from __future__ import annotations

import json
import time
import uuid

from orq_ai_sdk import Orq

MODEL = "openai/gpt-4o"


def uniq(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def user(text: str) -> dict:
    return {"role": "user", "parts": [{"kind": "text", "text": text}]}


def make_agent(orq: Orq, tools: list) -> str:
    key = uniq("agent")
    orq.agents.create(
        key=key,
        role="Assistant",
        description="Answers questions",
        instructions="Be brief.",
        path="Default/agents",
        model=MODEL,
        settings={"max_iterations": 5, "tools": tools},
    )
    return key


def test_function_tool_pauses_then_continues_with_result_and_new_turn(orq, fake_openai):
    tool_key = uniq("get_weather")
    orq.tools.create(request={
        "type": "function", "key": tool_key, "path": "Default", "description": "Weather by city",
        "function": {"name": tool_key, "parameters": {"type": "object",
                     "properties": {"city": {"type": "string"}}, "required": ["city"]}},
    })
    key = make_agent(orq, [{"type": "current_date"}, {"type": "function", "key": tool_key}])

    fake_openai.push({"tool_calls": [{"name": "current_date", "arguments": {}},
                                     {"name": tool_key, "arguments": {"city": "Paris"}}]})
    first = orq.agents.responses.create(agent_key=key, message=user("Weather in Paris today?"))
    assert first.finish_reason == "tool_calls"
    assert len(first.pending_tool_calls) == 1
    pending = first.pending_tool_calls[0]
    assert pending.function.name == tool_key
    assert json.loads(pending.function.arguments) == {"city": "Paris"}
    kinds = [p.kind for m in first.output for p in m.parts]
    assert kinds == ["tool_call", "tool_call", "tool_result"], kinds

    fake_openai.push({"text": "Sunny in Paris."})
    second = orq.agents.responses.create(
        agent_key=key,
        task_id=first.task_id,
        message={"role": "tool", "parts": [{"kind": "tool_result", "tool_call_id": pending.id,
                                            "result": {"sky": "sunny"}}]},
    )
    assert second.task_id == first.task_id
    assert second.id != first.id
    assert second.finish_reason == "stop"
    assert second.output[-1].parts[0].text == "Sunny in Paris."
    sent = json.dumps(fake_openai.requests()[-1])
    assert "sunny" in sent and pending.id in sent

    fake_openai.push({"text": "You asked about Paris."})
    third = orq.agents.responses.create(agent_key=key, task_id=first.task_id, message=user("What did I ask?"))
    assert third.finish_reason == "stop"
    assert third.output[-1].parts[0].text == "You asked about Paris."
    history = json.dumps(fake_openai.requests()[-1])
    assert "Weather in Paris today?" in history and "Sunny in Paris." in history
    assert third.usage.total_tokens > 0


def test_background_run_is_polled_to_completion(orq, fake_openai):
    key = make_agent(orq, [])
    fake_openai.push({"text": "Done later.", "delay_ms": 300})
    started = orq.agents.responses.create(agent_key=key, message=user("Work in the background"), background=True)
    assert started.output == []
    polled = orq.agents.responses.get(agent_key=key, task_id=started.task_id)
    assert polled.status == "in_progress"
    deadline = time.monotonic() + 20
    while polled.status == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.1)
        polled = orq.agents.responses.get(agent_key=key, task_id=started.task_id)
    assert polled.status == "completed"
    assert polled.finish_reason == "stop"
    assert polled.output[-1].parts[0].text == "Done later."


def test_streamed_run_yields_every_event(orq, fake_openai):
    key = make_agent(orq, [{"type": "current_date"}])
    fake_openai.push({"tool_calls": [{"name": "current_date", "arguments": {}}]},
                     {"text": "It is a good day to ship."})
    stream = orq.agents.responses.create(agent_key=key, message=user("What day is it?"), stream=True)
    events = [e.data for e in stream if e.data is not None]
    types = [e.type for e in events]
    assert types[0] == "response.started", types
    assert types[-1] == "response.done", types
    for expected in ["tool.started", "tool.done", "part.delta", "part.done"]:
        assert expected in types, types
    text = "".join(e.data.delta.text for e in events if e.type == "part.delta")
    assert text == "It is a good day to ship."
    assert events[-1].data.finish_reason == "stop"
    started = events[0].data
    polled = orq.agents.responses.get(agent_key=key, task_id=started.task_id)
    assert polled.status == "completed"


def test_a_run_reads_back_as_a_trace(orq, fake_openai):
    import datetime

    key = make_agent(orq, [{"type": "current_date"}])
    fake_openai.push({"tool_calls": [{"name": "current_date", "arguments": {}}], "usage": [100, 20]})
    fake_openai.push({"text": "It is today.", "usage": [150, 5]})
    done = orq.agents.responses.create(agent_key=key, message=user("What day is it?"))
    trace_id = done.telemetry.trace_id

    trace = orq.traces.get(trace_id=trace_id).trace
    assert trace.trace_id == trace_id
    assert trace.usage.total_tokens == 275
    spans = orq.traces.list_spans(trace_id=trace_id).data
    llm = [s for s in spans if s.type == "llm"]
    assert len(llm) == 2
    assert sum(s.usage.total_tokens for s in llm) == trace.usage.total_tokens

    now = datetime.datetime.now(datetime.timezone.utc)
    found = orq.traces.search(
        from_=now - datetime.timedelta(hours=1),
        to=now + datetime.timedelta(hours=1),
        filters=[{"field": "agent", "op": "eq", "values": [key]}],
    )
    assert [t.trace_id for t in found.data] == [trace_id]


def test_a_running_task_refuses_a_message_with_409_and_the_polled_task_lists_queued_ones(
    orq, fake_openai, baton_server
):
    """A busy task answers 409 (`task_busy`, with the task's running state), which the SDK raises
    as its default error; a message queued with Baton's `multitask_strategy` (not an SDK
    field) shows in the polled task without breaking the SDK's model."""
    import httpx
    import pytest
    from orq_ai_sdk import models

    key = make_agent(orq, [])
    fake_openai.push({"text": "Slowly done.", "delay_ms": 1500}, {"text": "Then this."})
    started = orq.agents.responses.create(agent_key=key, message=user("Take your time"), background=True)
    with pytest.raises(models.APIDefaultError) as err:
        orq.agents.responses.create(agent_key=key, task_id=started.task_id, message=user("And now?"))
    assert err.value.status_code == 409
    body = json.loads(err.value.body)
    assert body["error"]["code"] == "task_busy", body
    assert body["task"]["id"] == started.task_id, body
    assert body["task"]["state"] in ("submitted", "working"), body

    queued = httpx.post(
        f"{baton_server.url}/v2/agents/{key}/responses",
        headers={"Authorization": f"Bearer {baton_server.api_key}"},
        json={"task_id": started.task_id, "message": user("After that"),
              "multitask_strategy": "enqueue", "background": True},
        timeout=10,
    )
    assert queued.status_code == 200, queued.text
    polled = orq.agents.responses.get(agent_key=key, task_id=started.task_id)
    assert polled.status == "in_progress"
    deadline = time.monotonic() + 20
    while polled.status == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.1)
        polled = orq.agents.responses.get(agent_key=key, task_id=started.task_id)
    assert polled.status == "completed"
    assert polled.output[-1].parts[0].text == "Then this."
