"""A Python client generated from the live server's `/openapi.json` (openapi-python-client, at
test time) runs the basic flow, every body through its typed models: create a tool and an
agent, run the agent against the fake provider (paused on the tool, continued with its result,
then in the background and polled), read the run's trace and spans, keep a schedule.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
import typing
import uuid
from pathlib import Path

import httpx
import pytest

PACKAGE = "baton_client"


def uniq(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def generated(server, tmp_path_factory):
    """The generated package, imported; generation must warn about nothing."""
    out = tmp_path_factory.mktemp("python-client")
    spec = out / "openapi.json"
    spec.write_text(json.dumps(server.openapi()))
    config = out / "config.yml"
    config.write_text(f"project_name_override: baton-client\npackage_name_override: {PACKAGE}\npost_hooks: []\n")
    run = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec), "--config", str(config),
         "--meta", "none", "--output-path", str(out / PACKAGE)],
        capture_output=True, text=True, timeout=240,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "Warning" not in report and "Unable to" not in report, f"the document does not generate cleanly:\n{report}"
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))


def body_of(operation, data: dict):
    """`data` as the typed body `operation` takes (for a union, the member that reads it back whole)."""
    kind = typing.get_type_hints(operation.sync_detailed)["body"]
    candidates = typing.get_args(kind) or (kind,)
    for candidate in candidates:
        try:
            body = candidate.from_dict(data)
        except (KeyError, TypeError, ValueError):
            continue
        if body.to_dict() == data:
            return body
    raise AssertionError(f"no body type of {operation.__name__} reads {data}")


def call(operation, client, status: int, **kwargs):
    """Calls `operation` and returns its parsed body, which must be a typed model (not an error)."""
    response = operation.sync_detailed(client=client, **kwargs)
    assert response.status_code == status, response.content.decode()
    return response.parsed


def test_generated_client_creates_runs_and_traces(generated, server):
    from baton_client import AuthenticatedClient
    from baton_client.api.agents import agents_create
    from baton_client.api.responses import responses_create, responses_retrieve, threads_retrieve
    from baton_client.api.schedules import schedules_create, schedules_delete, schedules_list
    from baton_client.api.tools import tools_create
    from baton_client.api.traces import traces_list_spans, traces_retrieve, traces_retrieve_span
    from baton_client.models import (
        AgentResponse, CreateResponseRequest, CreateScheduleRequest, FinishReason, InputMessage,
        MessageRole, PolledResponse, PollStatus, Schedule, ScheduleKind, SchedulePayloadInput, SpanPage,
        SpanType, TaskState, ThreadInput, ThreadTasks, TraceEnvelope,
    )

    client = AuthenticatedClient(base_url=server.url, token=server.api_key, raise_on_unexpected_status=True,
                                 timeout=httpx.Timeout(60), httpx_args={"trust_env": False})

    tool = uniq("get_weather")
    created = tools_create.sync_detailed(client=client, body=body_of(tools_create, {
        "type": "function", "key": tool, "path": "Default", "description": "Weather by city",
        "function": {"name": tool, "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                   "required": ["city"]}}}))
    assert created.status_code in (200, 201), created.content.decode()
    agent = uniq("agent")
    created = agents_create.sync_detailed(client=client, body=body_of(agents_create, {
        "key": agent, "role": "Assistant", "description": "Answers", "instructions": "Be brief.",
        "path": "Default/agents", "model": "openai/gpt-4o",
        "settings": {"max_iterations": 5, "tools": [{"type": "current_date"}, {"type": "function", "key": tool}]}}))
    assert created.status_code == 201, created.content.decode()

    def message(text: str) -> InputMessage:
        return InputMessage.from_dict({"role": "user", "parts": [{"kind": "text", "text": text}]})

    # Paused on the client-side tool, continued with its result.
    server.fake.push({"tool_calls": [{"name": "current_date", "arguments": {}}, {"name": tool, "arguments": {"city": "Lima"}}]})
    thread = ThreadInput(id=uniq("thread"))
    paused = call(responses_create, client, 200, agent_key=agent,
                  body=CreateResponseRequest(message=message("Weather in Lima?"), thread=thread))
    assert isinstance(paused, AgentResponse)
    assert paused.status.state == TaskState.INPUT_REQUIRED
    assert paused.finish_reason == FinishReason.TOOL_CALLS
    (pending,) = paused.pending_tool_calls
    assert pending.function.name == tool and json.loads(pending.function.arguments) == {"city": "Lima"}

    server.fake.push({"text": "Sunny in Lima."})
    answer = InputMessage.from_dict({"role": "tool", "parts": [
        {"kind": "tool_result", "tool_call_id": pending.id, "result": {"sky": "sunny"}}]})
    done = call(responses_create, client, 200, agent_key=agent,
                body=CreateResponseRequest(message=answer, task_id=paused.task_id))
    assert done.status.state == TaskState.COMPLETED and done.finish_reason == FinishReason.STOP
    assert done.output[-1].role == MessageRole.AGENT
    assert done.output[-1].parts[0].text == "Sunny in Lima."
    assert done.usage.total_tokens > 0

    # In the background, polled.
    server.fake.push({"text": "Later.", "delay_ms": 200})
    queued = call(responses_create, client, 200, agent_key=agent,
                  body=CreateResponseRequest(message=message("Later?"), background=True, thread=thread))
    assert queued.output == []
    deadline = time.monotonic() + 20
    while True:
        polled = call(responses_retrieve, client, 200, agent_key=agent, task_id=queued.task_id)
        assert isinstance(polled, PolledResponse)
        if polled.status != PollStatus.IN_PROGRESS or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert polled.status == PollStatus.COMPLETED and polled.state == TaskState.COMPLETED
    history = call(threads_retrieve, client, 200, thread_id=thread.id)
    assert isinstance(history, ThreadTasks) and len(history.tasks) == 2

    # The first run's trace: the turn roots, model calls and the tool call, with their tokens.
    envelope = call(traces_retrieve, client, 200, trace_id=paused.telemetry.trace_id)
    assert isinstance(envelope, TraceEnvelope)
    trace = envelope.trace
    assert trace.task_ids == [paused.task_id] and trace.turns == 2
    page = call(traces_list_spans, client, 200, trace_id=trace.trace_id)
    assert isinstance(page, SpanPage) and not page.has_more
    kinds = [span.type_ for span in page.data]
    assert kinds.count(SpanType.AGENT) == 2 and SpanType.LLM in kinds and SpanType.TOOL in kinds, kinds
    llm = next(span for span in page.data if span.type_ == SpanType.LLM)
    one = call(traces_retrieve_span, client, 200, trace_id=trace.trace_id, span_id=llm.span_id)
    assert one.usage.total_tokens > 0 and one.attributes is not None
    assert trace.usage.total_tokens == sum(s.usage.total_tokens for s in page.data if s.type_ == SpanType.LLM)

    # A schedule, kept and removed.
    schedule = call(schedules_create, client, 201, agent_key=agent, body=CreateScheduleRequest(
        type_=ScheduleKind.CRON, expression="0 0 9 * * mon-fri",
        payload=SchedulePayloadInput.from_dict({"input": "Digest"}), display_name="Digest"))
    assert isinstance(schedule, Schedule) and schedule.is_active and schedule.next_run_at
    listed = call(schedules_list, client, 200, agent_key=agent)
    assert [s.field_id for s in listed.schedules] == [schedule.field_id]
    removed = schedules_delete.sync_detailed(client=client, agent_key=agent, schedule_id=schedule.field_id)
    assert removed.status_code == 204


def test_errors_are_typed(generated, server):
    from baton_client import AuthenticatedClient
    from baton_client.api.responses import responses_retrieve
    from baton_client.models import ErrorBody

    client = AuthenticatedClient(base_url=server.url, token=server.api_key, raise_on_unexpected_status=True,
                                 httpx_args={"trust_env": False})
    missing = responses_retrieve.sync_detailed(client=client, agent_key=uniq("nobody"), task_id="t")
    assert missing.status_code == 404
    assert isinstance(missing.parsed, ErrorBody) and missing.parsed.error.code == "not_found"
    anonymous = AuthenticatedClient(base_url=server.url, token="wrong", raise_on_unexpected_status=True,
                                    httpx_args={"trust_env": False})
    denied = responses_retrieve.sync_detailed(client=anonymous, agent_key="a", task_id="t")
    assert denied.status_code == 401 and isinstance(denied.parsed, ErrorBody)
