#!/usr/bin/env bash
# Browser tests of the web console: a real `baton serve` (SQLite, temp data dir) whose `openai`
# provider is the testkit's scripted fake, driven by Chromium through playwright-core.
# Screenshots of each page land in target/console-screenshots/.
#
#   bash tests/console/run.sh            # builds the binaries first
#   SKIP_BUILD=1 bash tests/console/run.sh
#
# Env: CHROMIUM (default: chromium on PATH), BATON_BIN / BATON_FAKE_BIN (default target/debug/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build -p baton -p baton-testkit --bins
fi
baton="${BATON_BIN:-$root/target/debug/baton}"
fake_bin="${BATON_FAKE_BIN:-$(dirname "$baton")/baton-fake}"
chromium="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
[ -x "$baton" ] || { echo "no baton binary at $baton" >&2; exit 1; }
[ -x "$fake_bin" ] || { echo "no baton-fake binary at $fake_bin" >&2; exit 1; }
[ -n "$chromium" ] || { echo "no chromium: apt-get install chromium, or set CHROMIUM" >&2; exit 1; }

# npm packages: installed once under target/, again when the lock file changes.
work="$root/target/console-tests"
mkdir -p "$work"
if ! cmp -s tests/console/package-lock.json "$work/package-lock.json" || [ ! -d "$work/node_modules" ]; then
    cp tests/console/package.json tests/console/package-lock.json "$work/"
    (cd "$work" && npm ci --no-audit --no-fund)
fi
cp tests/console/console.test.mjs "$work/"

tmp="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# The first line of `file` starting with `prefix`, without it (waits up to 30 s).
first_line() {
    local file="$1" prefix="$2"
    for _ in $(seq 1 300); do
        local line
        line="$(grep -m1 "^$prefix" "$file" 2>/dev/null || true)"
        if [ -n "$line" ]; then
            printf '%s' "${line#"$prefix"}"
            return 0
        fi
        sleep 0.1
    done
    echo "no '$prefix' line in $file:" >&2
    cat "$file" >&2
    return 1
}

"$fake_bin" openai >"$tmp/fake.out" 2>&1 &
pids+=($!)
fake_url="$(first_line "$tmp/fake.out" "fake listening on ")"

api_key="baton_test_$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
env -u BATON_CONFIG \
    BATON_LISTEN=127.0.0.1:0 \
    BATON_API_KEY="$api_key" \
    DATABASE_URL="sqlite://$tmp/baton.db?mode=rwc" \
    BATON_DATA_DIR="$tmp" \
    OPENAI_BASE_URL="$fake_url" \
    OPENAI_API_KEY=sk-fake \
    BATON_POLL_MS=100 \
    RUST_LOG=warn \
    "$baton" serve >"$tmp/baton.out" 2>"$tmp/baton.err" &
pids+=($!)
url="$(first_line "$tmp/baton.out" "baton listening on ")"

mkdir -p "$root/target/console-screenshots"
if ! BATON_URL="$url" BATON_API_KEY="$api_key" FAKE_ROOT="${fake_url%/v1}" CHROMIUM="$chromium" \
    SCREENSHOTS="$root/target/console-screenshots" \
    node --test --test-reporter=spec "$work/console.test.mjs"; then
    echo "--- baton serve stderr (last 50 lines)" >&2
    tail -n 50 "$tmp/baton.err" >&2
    exit 1
fi
echo "screenshots: target/console-screenshots/"
