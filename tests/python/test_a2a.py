"""The official A2A SDK (`a2a-sdk`, protocol v1.0) driving a real `baton serve` over both of its
bindings, JSON-RPC and HTTP+JSON: the agent card, a message answered with a completed task and
its artifact, streaming, getting and listing tasks, canceling, subscribing to a running task,
a client-side tool pausing the task in input-required and its result continuing it, and push
notifications delivered to a webhook on loopback.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
import uuid

import httpx
import pytest
from a2a.client import ClientConfig, ClientFactory
from a2a.types import (
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTasksRequest,
    Message,
    SendMessageRequest,
    SubscribeToTaskRequest,
    TaskPushNotificationConfig,
    TaskState,
)
from a2a.utils.errors import TaskNotCancelableError, TaskNotFoundError, UnsupportedOperationError
from google.protobuf import json_format

MODEL = "openai/gpt-4o"
BINDINGS = ["JSONRPC", "HTTP+JSON"]


def uniq(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def make_agent(server, tools=()) -> str:
    key = uniq("a2a")
    resp = httpx.post(
        f"{server.url}/v2/agents",
        headers={"Authorization": f"Bearer {server.api_key}"},
        json={"key": key, "role": "Assistant", "description": "Answers questions briefly",
              "instructions": "Be brief.", "path": "Default/agents", "model": MODEL,
              "settings": {"max_iterations": 5, "tools": list(tools)}},
        trust_env=False,
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return key


def message(text=None, *, data=None, task_id=None, context_id=None) -> Message:
    parts = []
    if text is not None:
        parts.append({"text": text})
    if data is not None:
        parts.append({"data": data})
    body = {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": parts}
    if task_id:
        body["taskId"] = task_id
    if context_id:
        body["contextId"] = context_id
    return json_format.ParseDict(body, Message())


def as_dict(proto) -> dict:
    return json_format.MessageToDict(proto)


class Agent:
    """An SDK client for one agent over one binding."""

    def __init__(self, server, key: str, binding: str, streaming: bool = False):
        self.server, self.key, self.binding, self.streaming = server, key, binding, streaming

    async def __aenter__(self):
        self.http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {self.server.api_key}"}, timeout=30, trust_env=False
        )
        factory = ClientFactory(ClientConfig(
            httpx_client=self.http, streaming=self.streaming,
            supported_protocol_bindings=[self.binding],
        ))
        self.client = await factory.create_from_url(f"{self.server.url}/a2a/{self.key}")
        return self

    async def __aexit__(self, *exc):
        await self.http.aclose()

    async def send(self, msg: Message, **configuration) -> list:
        request = SendMessageRequest(message=msg)
        for name, value in configuration.items():
            if name == "push":
                request.configuration.task_push_notification_config.CopyFrom(value)
            else:
                setattr(request.configuration, name, value)
        return [event async for event in self.client.send_message(request)]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def answer_text(task) -> str:
    return "".join(p.text for a in task.artifacts for p in a.parts if p.text)


def wait_state(agent: Agent, task_id: str, states, timeout: float = 20):
    async def poll():
        deadline = time.monotonic() + timeout
        while True:
            task = await agent.client.get_task(GetTaskRequest(id=task_id))
            if task.status.state in states or time.monotonic() > deadline:
                return task
            await asyncio.sleep(0.1)
    return poll()


def test_agent_card_describes_both_bindings_skills_and_auth(baton_server):
    key = make_agent(baton_server, [{"type": "current_date"}])

    async def go():
        async with Agent(baton_server, key, "JSONRPC") as agent:
            card = agent.client._card  # noqa: SLF001 - the card the SDK resolved
            raw = (await agent.http.get(f"{baton_server.url}/a2a/{key}/.well-known/agent-card.json")).json()
            return card, raw

    card, raw = run(go())
    assert card.name == key
    assert card.description == "Answers questions briefly"
    bindings = {i.protocol_binding: i.url for i in card.supported_interfaces}
    assert bindings == {"JSONRPC": f"{baton_server.url}/a2a/{key}", "HTTP+JSON": f"{baton_server.url}/a2a/{key}"}
    assert all(i.protocol_version == "1.0" for i in card.supported_interfaces)
    assert card.capabilities.streaming and card.capabilities.push_notifications
    assert card.security_schemes["bearer"].http_auth_security_scheme.scheme == "Bearer"
    assert card.security_schemes["x_api_key"].api_key_security_scheme.name == "x-api-key"
    assert [s.id for s in card.skills] == [key, "tool:current_date"]
    assert raw["supportedInterfaces"][0]["protocolBinding"] == "JSONRPC"
    # The card is behind the API's auth like every route.
    assert httpx.get(f"{baton_server.url}/a2a/{key}/.well-known/agent-card.json", trust_env=False).status_code == 401


@pytest.mark.parametrize("binding", BINDINGS)
def test_send_message_completes_a_task_with_its_answer_and_get_and_list_find_it(baton_server, fake_openai, binding):
    key = make_agent(baton_server)
    fake_openai.push({"text": "Paris is the capital of France."})
    fake_openai.push({"text": "{\"city\": \"Lyon\", \"rank\": 3}"})

    async def go():
        async with Agent(baton_server, key, binding) as agent:
            [first] = await agent.send(message("Capital of France?"))
            task = first.task
            [second] = await agent.send(message("Third city, as JSON?", context_id=task.context_id))
            got = await agent.client.get_task(GetTaskRequest(id=task.id))
            short = await agent.client.get_task(GetTaskRequest(id=task.id, history_length=1))
            listed = await agent.client.list_tasks(ListTasksRequest(context_id=task.context_id, history_length=1))
            # Without a context: the agent's tasks, one per page, the token leading on.
            paged = await agent.client.list_tasks(ListTasksRequest(page_size=1))
            rest = await agent.client.list_tasks(ListTasksRequest(page_size=1, page_token=paged.next_page_token))
            with pytest.raises(TaskNotFoundError):
                await agent.client.get_task(GetTaskRequest(id="no-such-task"))
            with pytest.raises(TaskNotCancelableError):
                await agent.client.cancel_task(CancelTaskRequest(id=task.id))
            return task, second.task, got, short, listed, paged, rest

    task, second, got, short, listed, paged, rest = run(go())
    assert task.status.state == TaskState.TASK_STATE_COMPLETED, as_dict(task)
    assert answer_text(task) == "Paris is the capital of France."
    assert [m.role for m in task.history] == [1, 2]  # ROLE_USER, ROLE_AGENT
    assert task.history[0].parts[0].text == "Capital of France?"
    assert got.id == task.id and answer_text(got) == answer_text(task)
    assert len(short.history) == 1
    # Structured output: the JSON answer also comes as a data part.
    data = [json_format.MessageToDict(p.data) for a in second.artifacts for p in a.parts if p.HasField("data")]
    assert data == [{"city": "Lyon", "rank": 3}]
    assert second.context_id == task.context_id and second.id != task.id
    assert [t.id for t in listed.tasks] == [second.id, task.id]
    assert listed.total_size == 2
    assert [t.id for t in list(paged.tasks) + list(rest.tasks)] == [second.id, task.id]
    assert paged.total_size == 2 and paged.next_page_token and not rest.next_page_token


@pytest.mark.parametrize("binding", BINDINGS)
def test_streaming_yields_the_task_its_updates_its_artifact_and_the_last_status(baton_server, fake_openai, binding):
    key = make_agent(baton_server)
    fake_openai.push({"text": "Streamed answer.", "delay_ms": 200})

    async def go():
        async with Agent(baton_server, key, binding, streaming=True) as agent:
            return await agent.send(message("Stream please"))

    events = run(go())
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds[0] == "task", kinds
    assert kinds[-2:] == ["artifact_update", "status_update"], kinds
    assert "status_update" in kinds[1:-2], kinds  # working
    assert events[1].status_update.status.state == TaskState.TASK_STATE_WORKING
    artifact = events[-2].artifact_update
    assert artifact.last_chunk and artifact.artifact.parts[0].text == "Streamed answer."
    assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
    assert events[-1].status_update.task_id == events[0].task.id
    # The text arrived in chunks before the final state: the first makes the answer artifact,
    # the next ones append to it, and the whole answer replaces it at the end.
    chunks = [e.artifact_update for e in events[:-2] if e.HasField("artifact_update")]
    assert len(chunks) > 1, kinds
    assert not chunks[0].append and all(c.append for c in chunks[1:])
    assert not any(c.last_chunk for c in chunks)
    assert "".join(c.artifact.parts[0].text for c in chunks) == "Streamed answer."
    assert {c.artifact.artifact_id for c in chunks} == {artifact.artifact.artifact_id}


@pytest.mark.parametrize("binding", BINDINGS)
def test_subscribe_follows_a_running_task_and_cancel_stops_another(baton_server, fake_openai, binding):
    key = make_agent(baton_server)
    fake_openai.push({"text": "Slow answer.", "delay_ms": 1500})

    async def go():
        async with Agent(baton_server, key, binding) as agent, \
                Agent(baton_server, key, binding, streaming=True) as streaming:
            [sent] = await agent.send(message("Take your time"), return_immediately=True)
            task = sent.task
            followed = [e async for e in streaming.client.subscribe(SubscribeToTaskRequest(id=task.id))]
            fake_openai.push({"text": "Never seen.", "delay_ms": 5000})
            [slow] = await agent.send(message("Another slow one"), return_immediately=True)
            await wait_state(agent, slow.task.id, [TaskState.TASK_STATE_WORKING])
            canceled = await agent.client.cancel_task(CancelTaskRequest(id=slow.task.id))
            with pytest.raises(UnsupportedOperationError):
                [e async for e in streaming.client.subscribe(SubscribeToTaskRequest(id=slow.task.id))]
            return task, followed, canceled

    task, followed, canceled = run(go())
    assert task.status.state == TaskState.TASK_STATE_SUBMITTED
    assert followed[0].task.id == task.id
    assert followed[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
    assert any(e.artifact_update.artifact.parts[0].text == "Slow answer." for e in followed if e.HasField("artifact_update"))
    assert canceled.status.state == TaskState.TASK_STATE_CANCELED, as_dict(canceled)


@pytest.mark.parametrize("binding", BINDINGS)
def test_client_side_tool_pauses_in_input_required_and_its_result_completes_the_task(baton_server, fake_openai, binding):
    tool = uniq("get_weather")
    key = make_agent(baton_server, [{"type": "function", "function": {
        "name": tool, "description": "Weather by city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    fake_openai.push({"tool_calls": [{"name": tool, "arguments": {"city": "Paris"}}]})
    fake_openai.push({"text": "Sunny in Paris."})

    async def go():
        async with Agent(baton_server, key, binding) as agent:
            [paused] = await agent.send(message("Weather in Paris?"))
            status = paused.task.status
            call = json_format.MessageToDict(status.message.parts[0].data)["toolCall"]
            [done] = await agent.send(message(
                data={"toolResult": {"toolCallId": call["id"], "result": {"sky": "sunny"}}},
                task_id=paused.task.id))
            return paused.task, call, done.task

    paused, call, done = run(go())
    assert paused.status.state == TaskState.TASK_STATE_INPUT_REQUIRED, as_dict(paused)
    assert call["name"] == tool and call["arguments"] == {"city": "Paris"}
    assert done.id == paused.id
    assert done.status.state == TaskState.TASK_STATE_COMPLETED, as_dict(done)
    assert answer_text(done) == "Sunny in Paris."


class Webhook:
    """A loopback webhook that keeps what it receives."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                received.append((headers, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(body) for _, body in self.received):
                return
            time.sleep(0.05)
        raise AssertionError(f"not received: {self.received}")


@pytest.mark.parametrize("binding", BINDINGS)
def test_push_notifications_reach_a_webhook_and_configs_are_managed(start_baton, tmp_path, fake_openai, binding):
    # Webhooks go through the outbound policy: this server may reach loopback.
    (tmp_path / "baton.toml").write_text("[tools]\nallow_loopback = true\n")
    server = start_baton()
    key = make_agent(server)
    hook = Webhook()
    fake_openai.push({"text": "Pushed answer.", "delay_ms": 300})
    config = json_format.ParseDict({"url": hook.url, "token": "tok-1", "id": "hook-1"}, TaskPushNotificationConfig())

    async def go():
        async with Agent(server, key, binding) as agent:
            [sent] = await agent.send(message("Tell my webhook"), return_immediately=True, push=config)
            task_id = sent.task.id
            await asyncio.to_thread(hook.wait_for, lambda b: b.get("statusUpdate", {}).get("status", {}).get("state") == "TASK_STATE_COMPLETED")
            extra = json_format.ParseDict({"taskId": task_id, "url": hook.url + "/2"}, TaskPushNotificationConfig())
            created = await agent.client.create_task_push_notification_config(extra)
            listed = await agent.client.list_task_push_notification_configs(
                ListTaskPushNotificationConfigsRequest(task_id=task_id))
            got = await agent.client.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id=task_id, id="hook-1"))
            await agent.client.delete_task_push_notification_config(
                DeleteTaskPushNotificationConfigRequest(task_id=task_id, id=created.id))
            after = await agent.client.list_task_push_notification_configs(
                ListTaskPushNotificationConfigsRequest(task_id=task_id))
            return task_id, created, listed, got, after

    task_id, created, listed, got, after = run(go())
    headers, _ = hook.received[0]
    assert headers.get("x-a2a-notification-token") == "tok-1"
    bodies = [b for _, b in hook.received]
    artifacts = [b["artifactUpdate"]["artifact"]["parts"][0]["text"] for b in bodies if "artifactUpdate" in b]
    assert artifacts == ["Pushed answer."], bodies
    assert all(b.get("statusUpdate", {}).get("taskId", task_id) == task_id for b in bodies)
    assert created.id and created.task_id == task_id
    assert sorted(c.id for c in listed.configs) == sorted(["hook-1", created.id])
    # The token is a secret: stored sealed, answered masked.
    assert got.url == hook.url and got.token == "********"
    assert [c.id for c in after.configs] == ["hook-1"]
