"""A tiny A2A agent on the official `a2a-sdk`, for Baton's A2A client tests.

Usage: python server.py [--v03] [--token TOKEN] [--advertise HOST]
Listens on 127.0.0.1 and prints `a2a listening on http://HOST:PORT` (HOST as --advertise
names it, the URLs its card gives) once it serves. The agent card is at
/.well-known/agent-card.json, JSON-RPC at /rpc.

The agent answers by the user's text:
  * `ask me` -> the task stops in input-required with a question;
  * `data`   -> completes with a text artifact and a data artifact;
  * `later`  -> the call returns a working task that completes a second later;
  * anything else -> completes with the artifact `echo: <text>`.
With --token every JSON-RPC call must carry `Authorization: Bearer TOKEN`.
"""

from __future__ import annotations

import argparse
import asyncio
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse

from a2a.helpers.proto_helpers import (
    get_message_text,
    new_data_part,
    new_text_message,
    new_task_from_user_message,
    new_text_part,
)
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Role,
)


class EchoExecutor(AgentExecutor):
    def __init__(self) -> None:
        self.background: set[asyncio.Task] = set()

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        text = get_message_text(context.message) if context.message else ""
        if context.current_task is None and context.message is not None:
            await event_queue.enqueue_event(new_task_from_user_message(context.message))
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.start_work()
        if text.strip() == "ask me":
            await updater.requires_input(
                updater.new_agent_message([new_text_part("Which city do you mean?")])
            )
            return
        if text.strip() == "later":
            # Answers after the call returned: the caller sees a working task and asks again.
            async def finish() -> None:
                await asyncio.sleep(1.0)
                await updater.add_artifact([new_text_part("echo: later")], name="answer")
                await updater.complete()

            self.background.add(asyncio.get_running_loop().create_task(finish()))
            return
        await updater.add_artifact([new_text_part(f"echo: {text}")], name="answer")
        if text.strip() == "data":
            await updater.add_artifact(
                [new_data_part({"temperature": 21, "unit": "C"})], name="reading"
            )
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.cancel()


class RequireToken(BaseHTTPMiddleware):
    def __init__(self, app, token: str):
        super().__init__(app)
        self.token = token

    async def dispatch(self, request, call_next):
        if request.url.path == "/rpc" and request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return await call_next(request)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--v03", action="store_true", help="serve a v0.3 card and methods")
    parser.add_argument("--token")
    parser.add_argument("--advertise", default="127.0.0.1", help="the host its card names")
    args = parser.parse_args()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://{args.advertise}:{port}"
    version = "0.3" if args.v03 else "1.0"
    card = AgentCard(
        name="Echo agent",
        description="Echoes what it is told",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=f"{base}/rpc", protocol_binding="JSONRPC", protocol_version=version)
        ],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain", "application/json"],
        skills=[AgentSkill(id="echo", name="Echo", description="Echoes", tags=["echo"])],
    )
    handler = DefaultRequestHandler(
        agent_executor=EchoExecutor(), task_store=InMemoryTaskStore(), agent_card=card
    )
    routes = create_agent_card_routes(card) + create_jsonrpc_routes(
        handler, "/rpc", enable_v0_3_compat=args.v03
    )
    app = Starlette(routes=routes)
    if args.token:
        app.add_middleware(RequireToken, token=args.token)
    config = uvicorn.Config(app, log_level="warning")
    server = uvicorn.Server(config)
    print(f"a2a listening on {base}", flush=True)
    asyncio.run(server.serve(sockets=[sock]))


if __name__ == "__main__":
    main()
