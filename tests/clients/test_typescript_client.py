"""A TypeScript client generated from the live server's `/openapi.json`: openapi-typescript
writes its types at test time, tsc checks `ts/flow.ts` against them, node runs the flow (create a
tool and an agent, run it against the fake provider, continue it, poll it, read its trace).

The npm packages (`ts/package-lock.json`) are installed with `npm ci` under
`target/clients-ts/`, once, and reused while the lock file is unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
WORK = HERE.parents[1] / "target" / "clients-ts"


def sh(*args: str, cwd: Path, env: dict | None = None, timeout: int = 240) -> str:
    run = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"{' '.join(args)} failed ({run.returncode}):\n{output}"
    return output


@pytest.fixture(scope="module")
def workdir() -> Path:
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail("node and npm are needed (Node.js 20+)", pytrace=False)
    WORK.mkdir(parents=True, exist_ok=True)
    lock = (HERE / "ts" / "package-lock.json").read_text()
    installed = WORK / "node_modules" / ".package-lock.json"
    if not installed.is_file() or (WORK / "package-lock.json").read_text() != lock:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HERE / "ts" / name, WORK / name)
        sh("npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", cwd=WORK, timeout=300)
    for name in ("tsconfig.json", "flow.ts"):
        shutil.copy(HERE / "ts" / name, WORK / name)
    return WORK


def test_generated_typescript_client_runs_the_flow(workdir, server):
    (workdir / "openapi.json").write_text(json.dumps(server.openapi()))
    bin_dir = workdir / "node_modules" / ".bin"
    sh(str(bin_dir / "openapi-typescript"), "openapi.json", "-o", "schema.d.ts", cwd=workdir)
    sh(str(bin_dir / "tsc"), "-p", ".", cwd=workdir)
    env = dict(os.environ, BATON_URL=server.url, BATON_API_KEY=server.api_key, FAKE_ROOT=server.fake.root)
    out = sh("node", "dist/flow.js", cwd=workdir, env=env, timeout=120)
    assert "typescript client flow ok" in out, out
