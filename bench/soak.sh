#!/usr/bin/env bash
# bench/soak.sh BUILD_DIR: a soak under mixed load (issue 18, "keep them closed"). Starts the
# `make run` demo (scripts/demo.sh: an HTTP app behind the emoji http-wasm filter with the
# embedded SQLite store, and a second sidecar hosting the order service as a wasm app), then
# drives both for SOAK_SECONDS with several wrk clients at once: service invocation through the
# filter, state save and get, healthz, publish (to the wasm app's sidecar: the demo's first
# sidecar has no pubsub), and invocations of the wasm app (which save state and publish through
# the dapr:v1 host functions). Every SAMPLE_SECONDS it samples each
# sidecar's resident memory (VmRSS) and open descriptors (/proc/PID/fd), and at the end it
# checks that both stayed flat after the warm-up: RSS within max(RSS_SLACK_KB, 25%) of the
# first sample after WARMUP_SECONDS, descriptors within FD_SLACK. Exit 1 when not flat.
# Not a CI test (it runs for minutes); run it after changes to the request path:
#   SOAK_SECONDS=180 bench/soak.sh build
# Environment: SOAK_SECONDS (180), SAMPLE_SECONDS (10), WARMUP_SECONDS (30), CONNS (8 per
# client), RSS_SLACK_KB (8192), FD_SLACK (16), BASE_PORT (43500).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: soak.sh BUILD_DIR}" && pwd)
secs=${SOAK_SECONDS:-180}
sample=${SAMPLE_SECONDS:-10}
warmup=${WARMUP_SECONDS:-30}
conns=${CONNS:-8}
base=${BASE_PORT:-43500}
app_port=$base http_port=$((base + 1)) orders_port=$((base + 2))
command -v wrk >/dev/null || { echo "soak: wrk is not installed (scripts/deps.sh installs it)" >&2; exit 2; }

work=$(mktemp -d)
demo=
cleanup() {
  [ -n "$demo" ] && kill -TERM "$demo" 2>/dev/null && wait "$demo" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && APP_PORT=$app_port DAPR_HTTP_PORT=$http_port ORDERS_HTTP_PORT=$orders_port \
   METRICS_PORT=$((base + 3)) ORDERS_METRICS_PORT=$((base + 4)) LOG_LEVEL=warn \
   exec scripts/demo.sh "$build") >"$work/demo.log" 2>&1 &
demo=$!
for _ in $(seq 100); do
  curl -sf "localhost:$http_port/v1.0/healthz" >/dev/null 2>&1 &&
    curl -sf "localhost:$orders_port/v1.0/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
pid_on() { # the wasmgate process listening on port $1
  for p in $(pgrep -f "$build/cli/wasmgate run"); do
    grep -q -- "--dapr-http-port $1" "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return; }
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--dapr-http-port $1 " && { echo "$p"; return; }
  done
}
sidecar=$(pid_on "$http_port") apphost=$(pid_on "$orders_port")
[ -n "$sidecar" ] && [ -n "$apphost" ] || { echo "soak: the demo did not start" >&2; cat "$work/demo.log" >&2; exit 2; }

cat >"$work/save.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local body = string.format('[{"key":"soak-%d","value":{"n":%d,"pad":"%s"}}]', n % 5000, n, string.rep("x", 200))
  return wrk.format("POST", "/v1.0/state/statestore", {["Content-Type"] = "application/json"}, body)
end
LUA
cat >"$work/publish.lua" <<'LUA'
request = function()
  return wrk.format("POST", "/v1.0/publish/pubsub/soak", {["Content-Type"] = "application/json"}, '{"hello":"soak"}')
end
LUA
cat >"$work/invoke.lua" <<'LUA'
request = function()
  return wrk.format("POST", "/v1.0/invoke/demo/method/echo?message=a%20:metal:", nil, "dogs :dog: welcome :tada:")
end
LUA
cat >"$work/orders.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/v1.0/invoke/orders/method/orders", nil, string.format('{"id":"%d","item":"tea"}', n % 2000))
end
LUA

h=http://127.0.0.1:$http_port o=http://127.0.0.1:$orders_port
wrk -t1 -c"$conns" -d"${secs}s" -s "$work/invoke.lua" "$h" >"$work/wrk.invoke" 2>&1 &
wrk -t1 -c"$conns" -d"${secs}s" -s "$work/save.lua" "$h" >"$work/wrk.save" 2>&1 &
wrk -t1 -c"$conns" -d"${secs}s" "$h/v1.0/state/statestore/soak-1" >"$work/wrk.get" 2>&1 &
wrk -t1 -c2 -d"${secs}s" -s "$work/publish.lua" "$o" >"$work/wrk.publish" 2>&1 &
wrk -t1 -c2 -d"${secs}s" "$h/v1.0/healthz" >"$work/wrk.healthz" 2>&1 &
wrk -t1 -c"$conns" -d"${secs}s" -s "$work/orders.lua" "$o" >"$work/wrk.orders" 2>&1 &

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
printf '%6s  %12s %8s  %12s %8s\n' "t (s)" "sidecar kB" "fds" "wasm app kB" "fds"
t=0 base_s= base_a= bfd_s= bfd_a= last=
while [ "$t" -le "$secs" ]; do
  line=$(printf '%6d  %12s %8s  %12s %8s' "$t" "$(rss "$sidecar")" "$(fds "$sidecar")" "$(rss "$apphost")" "$(fds "$apphost")")
  echo "$line"
  if [ -z "$base_s" ] && [ "$t" -ge "$warmup" ]; then
    base_s=$(rss "$sidecar") base_a=$(rss "$apphost") bfd_s=$(fds "$sidecar") bfd_a=$(fds "$apphost")
  fi
  last="$(rss "$sidecar") $(rss "$apphost") $(fds "$sidecar") $(fds "$apphost")"
  sleep "$sample"
  t=$((t + sample))
done
wait $(jobs -p | grep -v "^$demo$") 2>/dev/null || true
for f in invoke save get publish healthz orders; do
  printf '%-8s %s; %s\n' "$f" "$(grep -m1 'Requests/sec' "$work/wrk.$f" | tr -s ' ')" \
    "$(grep -m1 -E 'Non-2xx|Socket errors' "$work/wrk.$f" | tr -s ' ' || echo 'all 2xx')"
done
[ -n "$base_s" ] || { echo "soak: SOAK_SECONDS must exceed WARMUP_SECONDS" >&2; exit 2; }
read -r end_s end_a efd_s efd_a <<<"$last"
slack=${RSS_SLACK_KB:-8192} fdslack=${FD_SLACK:-16}
flat() { # base end: within max(slack, 25% of base)
  local allow=$(($1 / 4)); [ "$allow" -lt "$slack" ] && allow=$slack
  [ $(($2 - $1)) -le "$allow" ]
}
ok=1
flat "$base_s" "$end_s" || { echo "soak: sidecar RSS grew from $base_s kB to $end_s kB"; ok=0; }
flat "$base_a" "$end_a" || { echo "soak: wasm app sidecar RSS grew from $base_a kB to $end_a kB"; ok=0; }
[ $((efd_s - bfd_s)) -le "$fdslack" ] || { echo "soak: sidecar descriptors grew from $bfd_s to $efd_s"; ok=0; }
[ $((efd_a - bfd_a)) -le "$fdslack" ] || { echo "soak: wasm app descriptors grew from $bfd_a to $efd_a"; ok=0; }
[ "$ok" = 1 ] && echo "soak: flat after ${warmup}s (sidecar $base_s -> $end_s kB, $bfd_s -> $efd_s fds; wasm app $base_a -> $end_a kB, $bfd_a -> $efd_a fds)"
[ "$ok" = 1 ]
