#!/usr/bin/env bash
# bench/wasi_http_park.sh BUILD_DIR: what parking costs a hosted wasi:http component's host calls,
# side by side in one run (docs/wasm-apps.md "Parking"; issue 14). wrk -t1, wasmgate --threads 1:
#   - wasi:keyvalue get from tests/components/http/kvcount.c (/get/statestore/k, pooled instances)
#     on state.in-memory (answers at once: no park), state.sqlite (parks: the get runs on the
#     store's executor thread) and state.redis (parks on the loop's pipelined connection to a
#     redis-server started here), next to GET /v1.0/state/statestore/k over the HTTP API;
#   - wasi:http outgoing-handler from tests/components/http/fetch.c (pooled): http://back.dapr/hello
#     (service invocation of the echo component hosted in the same process) and
#     http://127.0.0.1:PORT/hello (the HTTP client to an nginx), next to /v1.0/invoke/back/method/hello.
# Prints req/s, p50, p99 and the sidecar's CPU µs per request (bench/lib.sh wrk_line).
# Environment: SECONDS_PER_RUN (3), CONNS (16).
set -euo pipefail
build=$(cd "${1:?usage: wasi_http_park.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
dur=${SECONDS_PER_RUN:-3}
conns=${CONNS:-16}
wasmgate=$build/cli/wasmgate
for t in wrk redis-server nginx; do command -v $t >/dev/null || { echo "wasi_http_park.sh: $t not installed" >&2; exit 1; }; done
. "$here/lib.sh"
bench_tmpdir wg-bench-park
work=$dir
"$here/../tests/components/http/build.sh" "$work" >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null &
pids+=($!)
nport=$(free_port)
nginx_conf up 1 "server { listen 127.0.0.1:$nport; location / { return 200 'hi'; } }"
nginx_start up
for t in in-memory sqlite redis; do
  mkdir -p "$work/res-$t"
  meta="[]"
  [ $t = sqlite ] && meta="[{name: connectionString, value: $work/$t.db}]"
  [ $t = redis ] && meta="[{name: redisHost, value: 127.0.0.1:$rport}]"
  printf 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: statestore}\nspec:\n  type: state.%s\n  version: v1\n  metadata: %s\n' \
    "$t" "$meta" >"$work/res-$t/store.yaml"
done
run=("$wasmgate" run --app-id bench --threads 1 --dapr-http-port PORT --dapr-grpc-port 0 --dapr-listen-addresses 127.0.0.1
     --metrics-port 0 --log-level warn)
save='curl -s -o /dev/null -X POST -H "Content-Type: application/json" -d "[{\"key\":\"k\",\"value\":\"v1234\"}]" "http://127.0.0.1:$port/v1.0/state/statestore"'
echo "wrk -t1 -c$conns ${dur}s, one event-loop thread"
for t in in-memory sqlite redis; do
  WRK_PREP=$save wrk_line "$work" "kv get, HTTP API, $t" /v1.0/state/statestore/k "${run[@]}" --resources-path "$work/res-$t"
  WRK_PREP=$save wrk_line "$work" "kv get, component (pooled), $t" /v1.0/invoke/bench/method/get/statestore/k \
    "${run[@]}" --resources-path "$work/res-$t" --app-wasm "$work/kvcount.wasm" --app-wasm-instances pooled
done
front=("${run[@]}" --app-wasm "$work/fetch.wasm" --app-wasm "back=$work/echo.wasm" --app-wasm-instances pooled
       --app-wasm-allowed-outbound-hosts "http://127.0.0.1:$nport")
wrk_line "$work" "invoke back (echo component), HTTP API" /v1.0/invoke/back/method/hello "${front[@]}"
wrk_line "$work" "outgoing-handler http://back.dapr/hello" /v1.0/invoke/bench/method/fetch/back.dapr/hello "${front[@]}"
wrk_line "$work" "outgoing-handler to nginx (HTTP client)" "/v1.0/invoke/bench/method/fetch/127.0.0.1:$nport/hello" \
  "${front[@]}"
