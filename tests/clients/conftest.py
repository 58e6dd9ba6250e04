"""Fixtures for the generated-client tests: a `baton serve` on SQLite whose `openai` provider is
the testkit's scripted fake (`baton-fake openai`), started once per session.

Binaries: BATON_BIN (default <repo>/target/debug/baton) and BATON_FAKE_BIN (default: `baton-fake`
next to it); build them with `cargo build -p baton -p baton-testkit --bins`.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 30.0


def _binary(env: str, default: Path) -> Path:
    raw = os.environ.get(env)
    path = Path(raw) if raw else default
    path = path if path.is_absolute() else (Path.cwd() / path).resolve()
    if not path.is_file():
        pytest.fail(f"{path} not found (cargo build -p baton -p baton-testkit --bins)", pytrace=False)
    return path


def _first_line(proc: subprocess.Popen, prefix: str) -> str:
    """The rest of the first stdout line starting with `prefix`; stdout is drained afterwards
    so the process never blocks on a full pipe."""
    lines: "queue.Queue[str | None]" = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.put(raw.decode(errors="replace").strip())
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            break
        if line.startswith(prefix):
            return line[len(prefix) :]
    _stop(proc)
    pytest.fail(f"no '{prefix}' line from {proc.args}", pytrace=False)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class Fake:
    """The scripted fake provider: `push` queues the model's next answers."""

    root: str

    def push(self, *turns: dict) -> None:
        resp = httpx.post(f"{self.root}/_fake/turns", json=list(turns), trust_env=False, timeout=10)
        assert resp.status_code == 204, resp.text


@dataclass
class Server:
    url: str
    api_key: str
    fake: Fake
    stderr: Path

    def openapi(self) -> dict:
        return httpx.get(f"{self.url}/openapi.json", trust_env=False, timeout=10).json()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    baton = _binary("BATON_BIN", REPO_ROOT / "target" / "debug" / "baton")
    fake_bin = _binary("BATON_FAKE_BIN", baton.parent / "baton-fake")
    fake = subprocess.Popen(
        [str(fake_bin), "openai"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        fake_url = _first_line(fake, "fake listening on ")
        work = tmp_path_factory.mktemp("baton")
        api_key = "baton_test_" + secrets.token_hex(24)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
        env.update(
            {
                "BATON_LISTEN": "127.0.0.1:0",
                "BATON_API_KEY": api_key,
                "DATABASE_URL": f"sqlite://{work}/baton.db?mode=rwc",
                "BATON_DATA_DIR": str(work),
                "OPENAI_BASE_URL": fake_url,
                "OPENAI_API_KEY": "sk-fake",
                "BATON_POLL_MS": "100",
                "RUST_LOG": "info",
            }
        )
        stderr = work / "baton.stderr.log"
        with open(stderr, "wb") as err:
            proc = subprocess.Popen(
                [str(baton), "serve"], cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err
            )
        try:
            url = _first_line(proc, "baton listening on ")
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
            yield Server(url, api_key, Fake(fake_url[: -len("/v1")]), stderr)
        finally:
            _stop(proc)
    finally:
        _stop(fake)
