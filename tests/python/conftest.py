"""Fixtures for the orq SDK compatibility tests.

A real `baton serve` process is started once per test session (and once more against
PostgreSQL when BATON_TEST_DATABASE_URL is set) and driven over HTTP with the official
`orq-ai-sdk` client.

Contract with the binary:
  * path from BATON_BIN (default <repo>/target/debug/baton), started as `[BATON_BIN, "serve"]`;
  * env BATON_LISTEN=127.0.0.1:0, BATON_API_KEY, DATABASE_URL, BATON_DATA_DIR, RUST_LOG=info;
  * when ready it prints exactly one stdout line `baton listening on http://127.0.0.1:PORT`
    (logs go to stderr).
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import httpx
import pytest
from orq_ai_sdk import Orq
from orq_ai_sdk.models import OrqError

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_RE = re.compile(r"baton listening on (http://127\.0\.0\.1:\d+)")
STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 10.0


# --------------------------------------------------------------------------- server


@dataclass
class BatonServer:
    backend: str
    url: str
    api_key: str
    proc: subprocess.Popen
    stderr_path: Path
    stdout_lines: List[str] = field(default_factory=list)

    def stderr_tail(self, lines: int = 60) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError as exc:  # pragma: no cover - diagnostics only
            return f"<could not read {self.stderr_path}: {exc}>"
        return "\n".join(text.splitlines()[-lines:])


def _baton_bin() -> Path:
    raw = os.environ.get("BATON_BIN")
    path = Path(raw) if raw else REPO_ROOT / "target" / "debug" / "baton"
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    return path


def _backends() -> List[str]:
    backends = ["sqlite"]
    if os.environ.get("BATON_TEST_DATABASE_URL"):
        backends.append("postgres")
    return backends


def _psql(url: str, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _with_database(url: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


@dataclass
class _PgDatabase:
    admin_url: str
    name: str
    url: str


def _create_pg_database(base_url: str) -> _PgDatabase:
    if shutil.which("psql") is None:
        pytest.fail(
            "BATON_TEST_DATABASE_URL is set but `psql` is not installed "
            "(apt-get install -y postgresql-client)",
            pytrace=False,
        )
    name = "baton_py_" + secrets.token_hex(6)
    sql = f'CREATE DATABASE "{name}"'
    errors = []
    # The given URL first (as documented); the maintenance database `postgres` as a
    # fallback in case the database named in the URL does not exist yet.
    for admin_url in dict.fromkeys([base_url, _with_database(base_url, "postgres")]):
        res = _psql(admin_url, sql)
        if res.returncode == 0:
            return _PgDatabase(admin_url, name, _with_database(base_url, name))
        errors.append(f"psql {admin_url!r}: exit {res.returncode}: {res.stderr.strip()}")
    pytest.fail("could not create the PostgreSQL test database:\n" + "\n".join(errors), pytrace=False)


def _drop_pg_database(db: _PgDatabase) -> None:
    res = _psql(db.admin_url, f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    if res.returncode != 0:
        res = _psql(db.admin_url, f'DROP DATABASE IF EXISTS "{db.name}"')
    if res.returncode != 0:
        warnings.warn(f"could not drop test database {db.name}: {res.stderr.strip()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)


# --------------------------------------------------------------------------- fake model provider


@dataclass
class FakeProvider:
    """The testkit's `baton-fake openai`: a scripted OpenAI-compatible server on loopback."""

    base_url: str
    proc: subprocess.Popen

    @property
    def root(self) -> str:
        return self.base_url[: -len("/v1")]

    def push(self, *turns: dict) -> None:
        resp = httpx.post(f"{self.root}/_fake/turns", json=list(turns), trust_env=False, timeout=10)
        assert resp.status_code == 204, resp.text

    def requests(self) -> list:
        return httpx.get(f"{self.root}/_fake/requests", trust_env=False, timeout=10).json()


def _fake_bin() -> Path:
    raw = os.environ.get("BATON_FAKE_BIN")
    path = Path(raw) if raw else _baton_bin().parent / "baton-fake"
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    return path


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeProvider]:
    binary = _fake_bin()
    if not binary.is_file():
        pytest.fail(
            f"fake provider not found: {binary} (build it with `cargo build -p baton-testkit --bins`)",
            pytrace=False,
        )
    proc = subprocess.Popen(
        [str(binary), "openai"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("fake listening on "):
        _stop(proc)
        pytest.fail(f"baton-fake did not start: {line!r}", pytrace=False)
    try:
        yield FakeProvider(line[len("fake listening on ") :], proc)
    finally:
        _stop(proc)


def _start_server(backend: str, workdir: Path, database_url: str, fake: FakeProvider) -> BatonServer:
    binary = _baton_bin()
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.fail(
            f"baton binary not found or not executable: {binary} "
            "(build it with `cargo build -p baton` or set BATON_BIN)",
            pytrace=False,
        )

    api_key = "baton_test_" + secrets.token_hex(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "BATON_LISTEN": "127.0.0.1:0",
            "BATON_API_KEY": api_key,
            "DATABASE_URL": database_url,
            "BATON_DATA_DIR": str(workdir),
            "RUST_LOG": "info",
            "RUST_BACKTRACE": "1",
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "sk-fake",
            "BATON_POLL_MS": "100",
        }
    )
    stderr_path = workdir / "baton.stderr.log"
    with open(stderr_path, "wb") as stderr_file:
        proc = subprocess.Popen(
            [str(binary), "serve"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
        )

    server = BatonServer(backend, "", api_key, proc, stderr_path)
    lines: "queue.Queue[Optional[str]]" = queue.Queue()

    def pump() -> None:
        # Keeps draining stdout for the whole session so the server never blocks on it.
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            server.stdout_lines.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, name=f"baton-stdout-{backend}", daemon=True).start()

    def fail(reason: str) -> None:
        _stop(proc)
        pytest.fail(
            f"baton serve ({backend}) {reason}\n"
            f"command: {binary} serve\nDATABASE_URL={database_url}\n"
            f"--- stdout ---\n" + "\n".join(server.stdout_lines) + "\n"
            f"--- stderr ({stderr_path}) ---\n{server.stderr_tail(200)}",
            pytrace=False,
        )

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            fail(f"did not print 'baton listening on http://...' within {STARTUP_TIMEOUT_S:.0f}s")
        try:
            line = lines.get(timeout=min(remaining, 0.5))
        except queue.Empty:
            continue
        if line is None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            fail(f"closed stdout / exited (code {proc.returncode}) before it was ready")
        match = READY_RE.fullmatch(line.strip())
        if match:
            server.url = match.group(1)
            return server


@pytest.fixture(scope="session", params=_backends())
def baton_server(request, tmp_path_factory, fake_openai) -> Iterator[BatonServer]:
    backend = request.param
    workdir = tmp_path_factory.mktemp(f"baton-{backend}")
    pg: Optional[_PgDatabase] = None
    if backend == "sqlite":
        database_url = f"sqlite://{workdir}/baton.db?mode=rwc"
    else:
        pg = _create_pg_database(os.environ["BATON_TEST_DATABASE_URL"])
        database_url = pg.url
    try:
        server = _start_server(backend, workdir, database_url, fake_openai)
        try:
            yield server
        finally:
            exited_early = server.proc.poll()
            _stop(server.proc)
            if exited_early is not None:
                pytest.fail(
                    f"baton serve ({backend}) exited on its own during the session "
                    f"with code {exited_early}\n--- stderr ---\n{server.stderr_tail(200)}",
                    pytrace=False,
                )
    finally:
        if pg is not None:
            _drop_pg_database(pg)


@pytest.fixture
def start_baton(tmp_path, fake_openai) -> Iterator[Callable[[], BatonServer]]:
    """Starts `baton serve` processes of the test's own, one after another on one SQLite file
    (as restarts would); those still running are stopped at the end."""
    database_url = f"sqlite://{tmp_path}/baton.db?mode=rwc"
    started: List[BatonServer] = []

    def start() -> BatonServer:
        server = _start_server("sqlite", tmp_path, database_url, fake_openai)
        started.append(server)
        return server

    yield start
    for server in started:
        _stop(server.proc)


# --------------------------------------------------------------------------- HTTP log


@dataclass
class Exchange:
    method: str
    url: httpx.URL
    request_body: bytes
    status: int
    content_type: str
    text: str

    def json(self):
        return json.loads(self.text)

    def describe(self, limit: int = 4000) -> str:
        req = self.request_body.decode("utf-8", errors="replace")
        body = self.text if len(self.text) <= limit else self.text[:limit] + "…"
        return (
            f"{self.method} {self.url}\n  request: {req or '-'}\n"
            f"  -> {self.status} [{self.content_type}] {body}"
        )


class HttpLog:
    """Every request/response the SDK made through one client, raw bytes included."""

    def __init__(self) -> None:
        self.exchanges: List[Exchange] = []

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        req = response.request
        self.exchanges.append(
            Exchange(
                method=req.method,
                url=req.url,
                request_body=bytes(req.content or b""),
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                text=response.text,
            )
        )

    def last(self, method: str, path: str) -> Exchange:
        for ex in reversed(self.exchanges):
            if ex.method == method and ex.url.path == path:
                return ex
        raise AssertionError(f"no {method} {path} in the HTTP log")

    def describe(self) -> str:
        return "\n".join(ex.describe() for ex in self.exchanges) or "<no requests>"


@dataclass
class ClientFactory:
    server: BatonServer
    log: HttpLog
    _clients: List[httpx.Client] = field(default_factory=list)

    def __call__(self, api_key: Optional[str] = "__server__") -> Orq:
        key = self.server.api_key if api_key == "__server__" else api_key
        http = httpx.Client(
            trust_env=False,  # never route 127.0.0.1 through an HTTP(S)_PROXY
            timeout=60.0,
            event_hooks={"response": [self.log.on_response]},
        )
        self._clients.append(http)
        return Orq(api_key=key, server_url=self.server.url, client=http)

    def close(self) -> None:
        for c in self._clients:
            c.close()


@pytest.fixture
def http_log(request) -> HttpLog:
    log = HttpLog()
    request.node._baton_http_log = log
    return log


@pytest.fixture
def make_orq(request, baton_server, http_log) -> Iterator[Callable[..., Orq]]:
    """Build extra SDK clients (e.g. with a wrong API key); all log into `http_log`."""
    request.node._baton_server = baton_server
    factory = ClientFactory(baton_server, http_log)
    yield factory
    factory.close()


@pytest.fixture
def orq(make_orq) -> Orq:
    """An SDK client with the server's valid API key."""
    return make_orq()


# --------------------------------------------------------------------------- reporting


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        if call.excinfo is not None and isinstance(call.excinfo.value, OrqError):
            err = call.excinfo.value
            report.sections.append(
                ("SDK error", f"{type(err).__name__} status={err.status_code}\nbody: {err.body}")
            )
        log = getattr(item, "_baton_http_log", None)
        if log is not None:
            report.sections.append(("HTTP exchanges", log.describe()))
        server = getattr(item, "_baton_server", None)
        if server is not None:
            report.sections.append((f"baton stderr ({server.backend}, tail)", server.stderr_tail(40)))
    return report
