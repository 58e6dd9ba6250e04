"""orq-ai-sdk 4.17.13 against a real `baton serve`: agent schedules (the SDK creates cron only)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from orq_ai_sdk import Orq, models


def uniq(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def make_agent(orq: Orq) -> str:
    key = uniq("sched")
    orq.agents.create(
        key=key, role="Digest", description="Sends digests", instructions="Be brief.",
        path="Default/agents", model="openai/gpt-4o", settings={"max_iterations": 3},
    )
    return key


def test_schedule_lifecycle(orq: Orq, baton_server) -> None:
    key = make_agent(orq)
    created = orq.schedules.create(
        agent_key=key,
        display_name="weekday digest",
        expression="0 0 9 * * 1",
        type_="cron",
        payload={"input": "Summarize {{region}}", "variables": {"region": "EMEA"},
                 "memory_entity_id": "ent_1", "metadata": {"run_source": "digest"}},
    )
    assert created.agent_key == key
    assert created.generation == 1
    assert created.trigger_count == 0
    assert created.is_active is True

    listed = orq.schedules.list(agent_key=key)
    assert [s.id for s in listed.schedules] == [created.id]
    assert orq.schedules.retrieve(agent_key=key, schedule_id=created.id).expression == "0 0 9 * * 1"

    renamed = orq.schedules.update(agent_key=key, schedule_id=created.id, display_name="renamed")
    assert renamed.generation == 1
    moved = orq.schedules.update(agent_key=key, schedule_id=created.id, expression="0 0 10 * * 1")
    assert moved.generation == 2

    # The triggered run answers with the fake's default reply (nothing is queued for it, so it
    # cannot take another test's scripted turn).
    triggered = orq.schedules.trigger(agent_key=key, schedule_id=created.id)
    assert triggered.status == "triggered"
    # Wait for the run to finish (Baton's execution history), so it is done before other tests
    # script the shared fake.
    url = f"{baton_server.url}/v3/agents/{key}/schedules/{created.id}/executions"
    headers = {"Authorization": f"Bearer {baton_server.api_key}"}
    for _ in range(100):
        runs = httpx.get(url, headers=headers, trust_env=False, timeout=10).json()["executions"]
        if runs and runs[0]["state"] == "completed":
            break
        time.sleep(0.05)
    assert runs[0]["manual"] is True and runs[0]["state"] == "completed", runs

    orq.schedules.update(agent_key=key, schedule_id=created.id, is_active=False)
    with pytest.raises(models.OrqError) as err:
        orq.schedules.trigger(agent_key=key, schedule_id=created.id)
    assert err.value.status_code == 400

    with pytest.raises(models.OrqError) as err:
        orq.schedules.create(agent_key=key, display_name="too often", expression="0 */30 * * * *",
                             type_="cron", payload={"input": "x"})
    assert err.value.status_code == 400

    orq.schedules.delete(agent_key=key, schedule_id=created.id)
    assert orq.schedules.list(agent_key=key).schedules == []
