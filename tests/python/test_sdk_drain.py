"""orq-ai-sdk 4.17.13 reading a stream of a `baton serve` that is stopped with SIGTERM mid-run:
the server lets the model call in flight finish, hands the run over and ends the stream with a
`reconnect` event (no `data:`, no `[DONE]`), which the SDK yields as an item without data
instead of failing; the next server on the database finishes the run.
"""

from __future__ import annotations

import signal
import time
import uuid

import httpx
from orq_ai_sdk import Orq


def client(server) -> Orq:
    http = httpx.Client(trust_env=False, timeout=60.0)
    return Orq(api_key=server.api_key, server_url=server.url, client=http)


def test_a_stream_cut_by_sigterm_ends_with_reconnect_and_the_run_finishes_elsewhere(start_baton, fake_openai):
    first = start_baton()
    orq = client(first)
    key = f"agent_{uuid.uuid4().hex[:12]}"
    orq.agents.create(key=key, role="Assistant", description="d", instructions="Be brief.",
                      path="Default/agents", model="openai/gpt-4o",
                      settings={"max_iterations": 5, "tools": [{"type": "current_date"}]})
    fake_openai.push({"tool_calls": [{"name": "current_date", "arguments": {}}], "delay_ms": 1500},
                     {"text": "Finished on the next server."})
    stream = orq.agents.responses.create(
        agent_key=key, message={"role": "user", "parts": [{"kind": "text", "text": "Date?"}]}, stream=True
    )
    items = iter(stream)
    started = next(items)
    assert started.data.type == "response.started"
    task_id = started.data.data.task_id

    # Stopped while the model call is in flight: the call ends, is stored, the run handed over.
    first.proc.send_signal(signal.SIGTERM)
    rest = list(items)  # no parsing error: the SDK takes the reconnect event
    assert rest, "the stream ends with an item"
    assert rest[-1].data is None, rest
    assert [e.data.type for e in rest if e.data is not None] == [], rest
    assert first.proc.wait(timeout=15) == 0

    second = start_baton()
    orq = client(second)
    deadline = time.monotonic() + 20
    polled = orq.agents.responses.get(agent_key=key, task_id=task_id)
    while polled.status == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.1)
        polled = orq.agents.responses.get(agent_key=key, task_id=task_id)
    assert polled.status == "completed"
    assert polled.output[-1].parts[0].text == "Finished on the next server."
    kinds = [p.kind for m in polled.output for p in m.parts]
    assert kinds == ["tool_call", "tool_result", "text"], kinds
