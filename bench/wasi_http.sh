#!/usr/bin/env bash
# bench/wasi_http.sh BUILD_DIR [js]: wasi:http components as wasm apps, side by side in one run
# (docs/wasm-apps.md "WASI 0.2 HTTP components"). wrk -t1, wasmgate --threads 1 (one event-loop
# thread), GET with a small answer:
#   - the C echo component (tests/components/http/echo.c, built now with clang-19 + jco), fresh
#     instance per request and pooled, through /v1.0/invoke and through `wasmgate serve`;
#   - the same kind of answer from an http-wasm app (tests/gate/apps/hw_app.c /hello), fresh and
#     pooled, through /v1.0/invoke;
#   - with `js`: the JavaScript component (tests/components/http/hello.js, componentize-js, ~12 MB)
#     fresh through `wasmgate serve` (see below for pooled), and its first answer after start.
# Prints req/s, p50, p99, the process's CPU µs per request and the wall time from start to the
# first answer. Environment: SECONDS_PER_RUN (3), CONNS (16), COMPONENTS_DIR (where the components
# are built, default a temporary directory).
set -euo pipefail
build=$(cd "${1:?usage: wasi_http.sh BUILD_DIR [js]}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
dur=${SECONDS_PER_RUN:-3}
conns=${CONNS:-16}
wasmgate=$build/cli/wasmgate
command -v wrk >/dev/null || { echo "wasi_http.sh: wrk not installed" >&2; exit 1; }
. "$here/lib.sh"
bench_tmpdir wg-bench-p2h
work=$dir
comps=${COMPONENTS_DIR:-$work}  # COMPONENTS_DIR: reuse what tests/components/http/build.sh built there
"$here/../tests/components/http/build.sh" "$comps" ${2:-} >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
# line LABEL PATH CMD...: bench/lib.sh wrk_line in $work
line() { wrk_line "$work" "$@"; }
run=("$wasmgate" run --app-id bench --threads 1 --dapr-http-port PORT --dapr-grpc-port 0 --dapr-listen-addresses 127.0.0.1
     --metrics-port 0 --log-level warn)
serve=("$wasmgate" serve --threads 1 --log-level warn --addr 127.0.0.1:PORT)
echo "wrk -t1 -c$conns ${dur}s, one event-loop thread"
line "wasi:http C echo, fresh, serve" /hello "${serve[@]}" "$comps/echo.wasm"
line "wasi:http C echo, pooled, serve" /hello "${serve[@]}" --instances pooled "$comps/echo.wasm"
line "wasi:http C echo, fresh, /v1.0/invoke" /v1.0/invoke/bench/method/hello "${run[@]}" --app-wasm "$comps/echo.wasm"
line "wasi:http C echo, pooled, /v1.0/invoke" /v1.0/invoke/bench/method/hello "${run[@]}" --app-wasm "$comps/echo.wasm" \
  --app-wasm-instances pooled
line "http-wasm hello, fresh, /v1.0/invoke" /v1.0/invoke/bench/method/hello "${run[@]}" --app-wasm "$build/tests/gate/apps/hw_app.wasm"
line "http-wasm hello, pooled, /v1.0/invoke" /v1.0/invoke/bench/method/hello "${run[@]}" --app-wasm \
  "$build/tests/gate/apps/hw_app.wasm" --app-wasm-instances pooled
if [ "${2:-}" = js ]; then
  line "wasi:http JS (componentize-js), fresh, serve" /hello "${serve[@]}" "$comps/hello.js.wasm"
  line "wasi:http JS, fresh, serve, no memory image" /hello env WASMGATE_MEMORY_IMAGE=off "${serve[@]}" \
    "$comps/hello.js.wasm"
  # no pooled line: this componentize-js build answers only the first request of an instance (the
  # second never calls response-outparam.set; jco serve's instance-reuse mode fails it the same way)
fi
