#!/usr/bin/env bash
# npm run test:redis — the shared-store suite against a real Redis (vitest.redis.config.ts).
#
# Installs redis-server from the distribution's package when it is missing (needs root and the
# Debian mirror: `apt-get update` once, then `apt-get install -y redis-server`), starts one server on
# loopback on a free port with no persistence, in a throwaway directory, runs the suite against it
# (REDIS_TEST_URL; tests that stop and restart Redis start their own servers the same way), and stops
# the server by its PID. Bounded in time: the suite is killed after TEST_REDIS_TIMEOUT seconds (600).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test:redis: redis-server is not installed, and installing it needs root (apt-get install -y redis-server)." >&2
    exit 1
  fi
  echo "test:redis: installing redis-server (apt-get update, apt-get install -y redis-server)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
bin="$(command -v redis-server)"
echo "test:redis: $("$bin" --version)"

port="$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
dir="$(mktemp -d)"
(cd "$dir"; exec "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode yes --loglevel warning) &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" = "PONG" ]; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "test:redis: redis-server exited before answering" >&2; exit 1; fi
  sleep 0.1
done
echo "test:redis: redis-server (pid $pid) on 127.0.0.1:$port"

REDIS_TEST_URL="redis://127.0.0.1:$port" REDIS_SERVER_BIN="$bin" CLERK_TELEMETRY_DISABLED=1 \
  timeout "${TEST_REDIS_TIMEOUT:-600}" npx vitest run --config vitest.redis.config.ts
