"""orq-ai-sdk 4.17.13 against a real `baton serve`: /v2/tools and /v2/agents.

Wire contract: the SDK's own response models (status codes, required fields, error bodies). Every test uses
its own uuid-suffixed keys, so tests do not depend on each other or on ordering.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Dict, List

import pytest
from orq_ai_sdk import Orq, models

SECRET = "SECRET123"
AGENT_MODEL = "openai/gpt-4o"


def uniq(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def function_tool_body(key: str, description: str = "Returns the weather for a city") -> Dict[str, Any]:
    return {
        "type": "function",
        "key": key,
        "path": "Default",
        "description": description,
        "function": {
            "name": key,
            "description": "Get the current weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"],
            },
        },
    }


def http_tool_body(key: str) -> Dict[str, Any]:
    return {
        "type": "http",
        "key": key,
        "path": "Default",
        "description": "Calls the weather HTTP API",
        "http": {
            "blueprint": {
                "url": "https://api.example.com/weather/{{city}}",
                "method": "GET",
                "headers": {
                    "Authorization": {"value": f"Bearer {SECRET}", "encrypted": True},
                    "X-Plain": "plain-value",
                },
            },
            "arguments": {
                "city": {"type": "string", "description": "City", "send_to_model": True},
            },
        },
    }


def create_agent(orq: Orq, key: str, tool_key: str | None = None, **overrides: Any):
    tools: List[Dict[str, Any]] = [{"type": "current_date"}]
    if tool_key is not None:
        tools.append({"type": "function", "key": tool_key})
    kwargs: Dict[str, Any] = dict(
        key=key,
        role="Weather assistant",
        description="Answers questions about the weather",
        instructions="Be concise. Use the tools when needed.",
        path="Default/agents",
        model=AGENT_MODEL,
        settings={"tools": tools, "max_iterations": 3},
    )
    kwargs.update(overrides)
    return orq.agents.create(**kwargs)


def header_value(h: Any) -> str:
    """A blueprint header comes back as a plain string or as {value, encrypted}."""
    return h if isinstance(h, str) else h.value


def assert_status(err: models.OrqError, status: int) -> None:
    assert err.status_code == status, f"expected HTTP {status}, got {err.status_code}: {err.body}"


def assert_typed(err: models.OrqError, cls: type, wire: str) -> None:
    """The error body must parse into the SDK's typed error (reference §9)."""
    assert isinstance(err, cls), (
        f"HTTP {err.status_code} body must be {wire} (SDK {cls.__name__}); "
        f"the SDK raised {type(err).__name__}: {err} | body: {err.body}"
    )


@pytest.fixture
def function_tool(orq):
    return orq.tools.create(request=function_tool_body(uniq("fn_tool")))


# ----------------------------------------------------------------------------- tools


def test_function_tool_lifecycle(orq, http_log):
    key = uniq("weather_fn")
    created = orq.tools.create(request=function_tool_body(key))

    raw = http_log.last("POST", "/v2/tools").json()
    assert isinstance(raw.get("_id"), str) and raw["_id"], f"create response lacks `_id`: {raw}"
    tool_id = raw["_id"]
    assert created.id == tool_id
    assert created.type == "function"
    assert created.key == key
    assert created.path == "Default"
    assert created.description == "Returns the weather for a city"
    assert created.status == "live"
    assert created.function.name == key
    assert created.function.parameters is not None
    assert created.function.parameters.type == "object"
    assert created.function.parameters.properties == {
        "city": {"type": "string", "description": "City name"}
    }
    assert created.function.parameters.required == ["city"]

    got = orq.tools.retrieve(tool_id=tool_id)
    assert got.id == tool_id
    assert got.type == "function"
    assert got.key == key
    assert got.function.parameters.required == ["city"]

    updated = orq.tools.update(
        tool_id=tool_id,
        request_body={"type": "function", "description": "Weather, updated description"},
    )
    assert updated.id == tool_id
    assert updated.description == "Weather, updated description"
    assert updated.key == key, "PATCH must not drop fields that were not sent"
    assert updated.function.name == key

    got = orq.tools.retrieve(tool_id=tool_id)
    assert got.description == "Weather, updated description"
    assert got.function.parameters.required == ["city"]

    assert orq.tools.delete(tool_id=tool_id) is None
    assert http_log.last("DELETE", f"/v2/tools/{tool_id}").status == 200

    with pytest.raises(models.OrqError) as excinfo:
        orq.tools.retrieve(tool_id=tool_id)
    assert_status(excinfo.value, 404)
    assert_typed(excinfo.value, models.ErrorResponse, "{message: string, code?: int}")

    listed = orq.tools.list()
    assert tool_id not in [t.id for t in listed.data], "deleted tool still listed"


def test_http_tool_secret_header_is_never_returned(orq, http_log):
    key = uniq("weather_http")
    created = orq.tools.create(request=http_tool_body(key))
    create_ex = http_log.last("POST", "/v2/tools")
    assert SECRET not in create_ex.text, f"create response leaks the secret: {create_ex.text}"
    tool_id = create_ex.json().get("_id")
    assert tool_id, f"create response lacks `_id`: {create_ex.text}"
    assert created.type == "http"

    got = orq.tools.retrieve(tool_id=tool_id)
    retrieve_ex = http_log.last("GET", f"/v2/tools/{tool_id}")
    assert SECRET not in retrieve_ex.text, f"retrieve leaks the secret: {retrieve_ex.text}"

    assert got.type == "http"
    assert got.key == key
    blueprint = got.http.blueprint
    assert blueprint.url == "https://api.example.com/weather/{{city}}"
    assert blueprint.method == "GET"
    assert blueprint.headers is not None and "X-Plain" in blueprint.headers, blueprint.headers
    assert header_value(blueprint.headers["X-Plain"]) == "plain-value"
    # The secret header stays configured (and marked encrypted), only its value is hidden.
    assert "Authorization" in blueprint.headers, blueprint.headers
    auth = blueprint.headers["Authorization"]
    assert not isinstance(auth, str) and auth.encrypted is True, auth
    assert SECRET not in auth.value
    assert got.http.arguments is not None and got.http.arguments["city"].type == "string"

    listed = orq.tools.list()
    list_ex = http_log.last("GET", "/v2/tools")
    assert SECRET not in list_ex.text, f"list leaks the secret: {list_ex.text}"
    assert tool_id in [t.id for t in listed.data]

    # An update that does not touch the headers must not reveal (or lose) the secret.
    updated = orq.tools.update(
        tool_id=tool_id, request_body={"type": "http", "description": "new description"}
    )
    update_ex = http_log.last("PATCH", f"/v2/tools/{tool_id}")
    assert SECRET not in update_ex.text, f"update leaks the secret: {update_ex.text}"
    assert updated.description == "new description"
    assert "Authorization" in updated.http.blueprint.headers

    got = orq.tools.retrieve(tool_id=tool_id)
    assert SECRET not in http_log.last("GET", f"/v2/tools/{tool_id}").text


def test_list_tools_contains_function_and_http(orq, http_log):
    fn = orq.tools.create(request=function_tool_body(uniq("list_fn")))
    fn_id = http_log.last("POST", "/v2/tools").json()["_id"]
    orq.tools.create(request=http_tool_body(uniq("list_http")))
    http_id = http_log.last("POST", "/v2/tools").json()["_id"]
    assert fn_id != http_id

    listed = orq.tools.list()
    assert listed.object == "list"
    assert listed.has_more is False, "a list without `limit` returns every tool"
    by_id = {t.id: t for t in listed.data}
    assert fn_id in by_id, f"function tool {fn_id} missing from {list(by_id)}"
    assert http_id in by_id, f"http tool {http_id} missing from {list(by_id)}"
    assert by_id[fn_id].type == "function" and by_id[fn_id].key == fn.key
    assert by_id[http_id].type == "http"
    raw_ids = [item.get("_id") for item in http_log.last("GET", "/v2/tools").json()["data"]]
    assert all(raw_ids), "every listed tool must carry `_id`"


# ----------------------------------------------------------------------------- agents


def test_create_agent_resolves_tools(orq, function_tool, http_log):
    key = uniq("weather_agent")
    agent = create_agent(orq, key, tool_key=function_tool.key)
    assert http_log.last("POST", "/v2/agents").status == 201

    assert agent.key == key
    assert agent.id
    assert agent.model.id == AGENT_MODEL
    assert agent.status in ("live", "draft", "pending", "published")
    assert agent.path == "Default/agents"
    assert agent.role == "Weather assistant"
    assert agent.instructions == "Be concise. Use the tools when needed."
    assert agent.settings is not None
    assert agent.settings.max_iterations == 3
    tools = agent.settings.tools
    assert tools is not None and len(tools) == 2, tools
    for t in tools:
        assert t.id, f"tool entry without id: {t}"
        assert t.action_type, f"tool entry without action_type: {t}"
    by_type = {t.action_type: t for t in tools}
    assert set(by_type) == {"current_date", "function"}, [t.action_type for t in tools]
    assert by_type["function"].key == function_tool.key
    assert by_type["function"].id == function_tool.id, "a function reference resolves to the tool's _id"

    got = orq.agents.retrieve(agent_key=key)
    assert got.id == agent.id
    assert got.key == key
    assert got.model.id == AGENT_MODEL
    assert got.settings is not None and got.settings.max_iterations == 3
    assert sorted(t.action_type for t in got.settings.tools) == ["current_date", "function"]
    assert all(t.id for t in got.settings.tools)


def test_list_agents_pagination(orq, http_log):
    ids = []
    for i in range(3):
        ids.append(create_agent(orq, uniq(f"page_agent{i}")).id)
        time.sleep(0.02)  # distinct creation instants: the list is newest first
    assert len(set(ids)) == 3

    first = orq.agents.list(limit=2)
    assert http_log.last("GET", "/v2/agents").url.params.get("limit") == "2.0", "SDK sends a float"
    assert first.object == "list"
    assert len(first.data) == 2, [a.key for a in first.data]
    assert first.has_more is True

    seen = [a.id for a in first.data]
    page, pages = first, 1
    while page.has_more:
        page = orq.agents.list(limit=2, starting_after=page.data[-1].id)
        pages += 1
        assert 1 <= len(page.data) <= 2, f"page {pages}: {len(page.data)} items after has_more=true"
        if page.has_more:
            assert len(page.data) == 2
        seen.extend(a.id for a in page.data)
        assert pages < 500, "pagination does not terminate"
    assert len(seen) == len(set(seen)), f"an agent appears on two pages: {seen}"

    positions = [seen.index(i) if i in seen else None for i in reversed(ids)]
    assert None not in positions, f"created agents {ids} missing from paginated ids {seen}"
    assert positions == sorted(positions), f"not newest first: {positions}"

    everything = orq.agents.list()
    assert everything.has_more is False
    assert [a.id for a in everything.data] == seen, "unpaginated list differs from the pages"


def test_update_agent_instructions(orq):
    key = uniq("upd_agent")
    agent = create_agent(orq, key)
    updated = orq.agents.update(agent_key=key, instructions="Answer only in French.")
    assert updated.id == agent.id
    assert updated.instructions == "Answer only in French."
    assert updated.role == "Weather assistant", "PATCH must not drop fields that were not sent"
    assert updated.model.id == AGENT_MODEL

    got = orq.agents.retrieve(agent_key=key)
    assert got.instructions == "Answer only in French."
    assert got.description == "Answers questions about the weather"
    assert got.settings is not None and got.settings.max_iterations == 3


def test_delete_agent_then_404(orq, http_log):
    key = uniq("del_agent")
    create_agent(orq, key)
    assert orq.agents.delete(agent_key=key) is None
    assert http_log.last("DELETE", f"/v2/agents/{key}").status == 204

    with pytest.raises(models.OrqError) as excinfo:
        orq.agents.retrieve(agent_key=key)
    assert_status(excinfo.value, 404)
    assert_typed(excinfo.value, models.RetrieveAgentRequestAgentsResponseBody, "{message: string}")

    with pytest.raises(models.OrqError) as excinfo:
        orq.agents.update(agent_key=key, instructions="too late")
    assert_status(excinfo.value, 404)
    assert_typed(excinfo.value, models.UpdateAgentAgentsResponseBody, "{message: string}")

    with pytest.raises(models.OrqError) as excinfo:
        orq.agents.delete(agent_key=key)
    assert_status(excinfo.value, 404)
    assert_typed(excinfo.value, models.DeleteAgentResponseBody, "{message: string}")

    assert key not in [a.key for a in orq.agents.list().data]


def test_duplicate_agent_key_conflict(orq):
    key = uniq("dup_agent")
    first = create_agent(orq, key)
    with pytest.raises(models.OrqError) as excinfo:
        create_agent(orq, key, instructions="a second agent with the same key")
    assert_status(excinfo.value, 409)
    # The first agent is untouched.
    got = orq.agents.retrieve(agent_key=key)
    assert got.id == first.id
    assert got.instructions == "Be concise. Use the tools when needed."


# ----------------------------------------------------------------------------- auth


def test_wrong_api_key_is_rejected(make_orq):
    bad = make_orq(api_key="wrong-" + uuid.uuid4().hex)
    with pytest.raises(models.OrqError) as excinfo:
        bad.agents.list()
    assert_status(excinfo.value, 401)

    with pytest.raises(models.OrqError) as excinfo:
        bad.tools.list()
    assert_status(excinfo.value, 401)
    assert_typed(excinfo.value, models.HonoAPIError, "{message: string, code?: string}")


def test_missing_api_key_is_rejected(make_orq, monkeypatch):
    monkeypatch.delenv("ORQ_API_KEY", raising=False)
    anonymous = make_orq(api_key=None)
    with pytest.raises(models.OrqError) as excinfo:
        anonymous.agents.list()
    assert_status(excinfo.value, 401)
