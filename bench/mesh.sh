#!/usr/bin/env bash
# bench/mesh.sh BUILD_DIR: sidecar-to-sidecar invocation overhead (issue 7).
# Three wasmgate processes on loopback, one event-loop thread each:
#   app     a sidecar without app, used as a trivial HTTP app: GET /v1.0/healthz/outbound -> 204
#   b       the callee's sidecar (--app-port = app)
#   a       the caller's sidecar; a and b find each other through a SQLite registry in a temp dir
# and wrk (keep-alive, 1 thread) against:
#   direct      app                                   GET /v1.0/healthz/outbound
#   1 sidecar   b  /v1.0/invoke/b/method/v1.0/healthz/outbound   (the own-app path)
#   2 sidecars  a  /v1.0/invoke/b/method/v1.0/healthz/outbound   (a -> b -> app, HTTP/1.1 between sidecars)
# Prints requests/s and latency p50/p99 for 1 and 16 connections.
# Environment: MESH_SECONDS (per run, 5).
set -euo pipefail
build=$(cd "${1:?usage: mesh.sh BUILD_DIR}" && pwd)
bin=$build/cli/wasmgate
secs=${MESH_SECONDS:-5}
command -v wrk >/dev/null || { echo "mesh bench: wrk is not installed (scripts/deps.sh)"; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cat >"$tmp/config.yaml" <<YAML
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: bench}
spec:
  nameResolution: {component: sqlite, configuration: {connectionString: "$tmp/nr.db"}}
YAML
start() { # app_id http_port app_port(0 = none)
  local args=(run --app-id "$1" --dapr-http-port "$2" --dapr-grpc-port "$(port)" --dapr-listen-addresses 127.0.0.1 --threads 1
              --metrics-port "$(port)" --log-level warn --config "$tmp/config.yaml")
  [ "$3" = 0 ] || args+=(--app-port "$3")
  (cd "$tmp" && HOME=$tmp exec "$bin" "${args[@]}") >"$tmp/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$2/v1.0/healthz" && return 0
    sleep 0.05
  done
  echo "mesh bench: $1 did not start"; cat "$tmp/$1.log"; exit 1
}
pa=$(port); pb=$(port); papp=$(port)
start app "$papp" 0
start b "$pb" "$papp"
start a "$pa" 0
path=/v1.0/invoke/b/method/v1.0/healthz/outbound
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa$path")" = 204 ] || { echo "mesh bench: a -> b failed"; exit 1; }
run() { # label url conns
  wrk -t1 -c"$3" -d"${secs}s" --latency "$2" 2>&1 | awk -v l="$1" -v c="$3" '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    END { printf "  %-12s %2d conn: %9.0f req/s   p50 %8s   p99 %8s\n", l, c, rps, p50, p99 }'
}
echo "sidecar-to-sidecar invocation: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); wrk ${secs}s per line"
for c in 1 16; do
  run direct "http://127.0.0.1:$papp/v1.0/healthz/outbound" "$c"
  run "1 sidecar" "http://127.0.0.1:$pb$path" "$c"
  run "2 sidecars" "http://127.0.0.1:$pa$path" "$c"
done
