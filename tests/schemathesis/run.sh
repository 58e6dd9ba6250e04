#!/usr/bin/env bash
# Fuzzes a live `baton serve` with Schemathesis from its own OpenAPI document: every check on,
# a fixed seed and a bounded number of examples per operation, plus stateful sequences that
# follow the document's links (create -> get -> update -> delete). Fails on any server error,
# response that breaks its schema, or status the document does not list.
#
# Run from the repository root (after `cargo build -p baton`):
#   bash tests/schemathesis/run.sh                  # needs `schemathesis` on PATH or in .venv
# Environment:
#   BATON_BIN          the server binary (default target/debug/baton)
#   BATON_FAKE_BIN     the fake model provider (default: `baton-fake` next to BATON_BIN)
#   SCHEMATHESIS       the schemathesis executable (default .venv/bin/schemathesis)
#   ST_MAX_EXAMPLES    examples per operation (default 30)
#   ST_SEED            the seed (default 20240601)
#   ST_TAGS            space-separated OpenAPI tags to test (default: the typed resources; not
#                      `mcp`, whose transport answers the MCP specification's own refusals, e.g.
#                      406 without `Accept: application/json, text/event-stream`, in plain text)
#   ST_EXTRA_ARGS      more `schemathesis run` options (e.g. `--phases stateful --report har`)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

baton_bin="${BATON_BIN:-target/debug/baton}"
schemathesis="${SCHEMATHESIS:-.venv/bin/schemathesis}"
max_examples="${ST_MAX_EXAMPLES:-30}"
seed="${ST_SEED:-20240601}"
tags="${ST_TAGS:-agents tools memory knowledge api-keys responses schedules traces orchestra ensemble a2a openai}"
fake_bin="${BATON_FAKE_BIN:-$(dirname "$baton_bin")/baton-fake}"

work="$(mktemp -d)"
server_pid=""
fake_pid=""
cleanup() {
    for pid in "$server_pid" "$fake_pid"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

api_key="st-admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
# The runs agents make are answered by the testkit's fake OpenAI provider ("ok" to anything).
mkfifo "$work/fake"
"$fake_bin" openai >"$work/fake" 2>/dev/null &
fake_pid=$!
exec 4<"$work/fake"
fake_url=""
if IFS= read -r -t 30 line <&4 && [[ "$line" =~ ^fake\ listening\ on\ (http://[^ ]+)$ ]]; then
    fake_url="${BASH_REMATCH[1]}"
fi
if [ -z "$fake_url" ]; then
    echo "baton-fake did not start ($fake_bin; cargo build -p baton-testkit --bins)" >&2
    exit 1
fi
cat <&4 >/dev/null &

mkfifo "$work/stdout"
# A bare server: SQLite in a temporary directory, any free port, the fake provider as OpenAI,
# the admin key as the bootstrap key.
env -i PATH="$PATH" HOME="$work" RUST_LOG=warn \
    BATON_LISTEN=127.0.0.1:0 BATON_API_KEY="$api_key" BATON_DATA_DIR="$work/data" \
    DATABASE_URL="sqlite://$work/baton.db?mode=rwc" \
    OPENAI_BASE_URL="$fake_url" OPENAI_API_KEY=sk-fake BATON_POLL_MS=100 \
    "$baton_bin" serve >"$work/stdout" 2>"$work/server.log" &
server_pid=$!

url=""
exec 3<"$work/stdout"
while IFS= read -r -t 30 line <&3; do
    if [[ "$line" =~ baton\ listening\ on\ (http://127\.0\.0\.1:[0-9]+) ]]; then
        url="${BASH_REMATCH[1]}"
        break
    fi
done
if [ -z "$url" ]; then
    echo "baton did not start; its log:" >&2
    tail -50 "$work/server.log" >&2
    exit 1
fi
# Keep draining the server's stdout so it never blocks on a full pipe.
cat <&3 >/dev/null &

filters=()
for tag in $tags; do
    filters+=(--include-tag "$tag")
done

echo "schemathesis against $url (seed $seed, $max_examples examples per operation, tags: $tags)"
status=0
"$schemathesis" --config-file tests/schemathesis/schemathesis.toml run "$url/openapi.json" \
    --checks all \
    --seed "$seed" \
    --max-examples "$max_examples" \
    --workers 1 \
    --request-timeout 10 \
    --header "Authorization: Bearer $api_key" \
    --no-color ${ST_EXTRA_ARGS:-} \
    "${filters[@]}" || status=$?

if [ "$status" -ne 0 ]; then
    echo "schemathesis failed (exit $status); the server's last log lines:" >&2
    tail -30 "$work/server.log" >&2
fi
exit "$status"
