#!/usr/bin/env bash
# scripts/demo.sh BUILD_DIR: the `make run` demo. Starts the echo app
# (examples/http-wasm/app/echo_app.py) and `wasmgate run` in front of it with the emoji filter in
# its httpPipeline and the embedded SQLite state store (examples/http-wasm/emoji/). Runs in the
# current directory (the repository's root for `make run`): the components name their files
# relative to it (build/examples/http-wasm/...). Next to it, a second wasmgate hosts a wasm app
# in-process: the order service of examples/wasm-app (app "orders", no app port). Ctrl-C (or
# SIGTERM) stops them all.
# Environment: APP_PORT (3000), DAPR_HTTP_PORT (3500), DAPR_GRPC_PORT (50001), METRICS_PORT (9090),
# ORDERS_HTTP_PORT (3501), ORDERS_GRPC_PORT (50002), ORDERS_METRICS_PORT (9091), LOG_LEVEL (info).
# Each wasmgate needs ports of its own, as each daprd does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: demo.sh BUILD_DIR}" && pwd)
app_port=${APP_PORT:-3000}
http_port=${DAPR_HTTP_PORT:-3500}
orders_port=${ORDERS_HTTP_PORT:-3501}
demo=$root/examples/http-wasm/emoji

# Background jobs of a script ignore SIGINT: Ctrl-C reaches this shell, whose EXIT trap stops both.
wg=
app=
orders=
stop() { # a process that already ended must not stop the others' cleanup (set -e)
  for pid in $wg $orders $app; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 "$root/examples/http-wasm/app/echo_app.py" "$app_port" &
app=$!
cat <<EOT
wasmgate demo: app "demo" on 127.0.0.1:$app_port, Dapr HTTP API on http://127.0.0.1:$http_port
emoji filter in the httpPipeline (examples/http-wasm/emoji); Ctrl-C stops both. Try:
  curl -s 'localhost:$http_port/v1.0/invoke/demo/method/echo?message=I%20:metal:%20wasm' -d 'dogs :dog: welcome :tada:'
  curl -si 'localhost:$http_port/v1.0/invoke/demo/method/echo' -d 'here is a :cat:'     # 403
  curl -si -X POST localhost:$http_port/v1.0/state/statestore -H 'Content-Type: application/json' \\
       -d '[{"key":"greeting","value":"I :heart: wasm"}]'
  curl -s localhost:$http_port/v1.0/state/statestore/greeting
and a wasm app in-process, app "orders" (examples/wasm-app) on http://127.0.0.1:$orders_port:
  curl -s -X POST localhost:$orders_port/v1.0/invoke/orders/method/orders -d '{"id":"1","item":"tea"}'
  curl -s localhost:$orders_port/v1.0/invoke/orders/method/shipments/1
EOT
"$build/cli/wasmgate" run --app-id demo --app-port "$app_port" --dapr-http-port "$http_port" \
  --dapr-grpc-port "${DAPR_GRPC_PORT:-50001}" --dapr-listen-addresses 127.0.0.1 --metrics-port "${METRICS_PORT:-9090}" --log-level "${LOG_LEVEL:-info}" \
  --config "$demo/config.yaml" --resources-path "$demo/components" &
wg=$!
"$build/cli/wasmgate" run --app-id orders --app-wasm "$build/examples/wasm-app/order_service.wasm" \
  --dapr-http-port "$orders_port" --dapr-grpc-port "${ORDERS_GRPC_PORT:-50002}" --dapr-listen-addresses 127.0.0.1 --metrics-port "${ORDERS_METRICS_PORT:-9091}" \
  --log-level "${LOG_LEVEL:-info}" --state-file "$build/examples/wasm-app/orders-state.db" &
orders=$!
# Any process ending ends the demo; the status is wasmgate's when it is the one that ended.
status=0
wait -n "$wg" "$app" "$orders" || status=$?
exit "$status"
