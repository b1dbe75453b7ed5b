#!/usr/bin/env bash
# bench/middleware.sh BUILD_DIR: the sidecar's HTTP path with and without http-wasm middleware,
# in one run: requests/s, p50/p99 latency (wrk) and the sidecar's CPU time per request (from
# /proc/PID/stat) for GET $PATH_Q through `wasmgate run --threads 1` with
#   none      no Configuration
#   noop-wat  httpPipeline = bench/httpwasm/noop.wat  (handle_request returns 1, nothing else)
#   noop-c    httpPipeline = bench/httpwasm/noop.c    (the same through sdk/c and wasi-libc)
#   emoji     httpPipeline = examples/http-wasm/emoji (get_uri, decode, read_body, rewrite the query)
# before that, each guest's cost in process (bench_httpwasm: no HTTP, no noise from the network
# path); then the cost of one bindings.wasm call: in process (bench_binding) and over HTTP (POST
# /v1.0/bindings/shout, CPU per request minus the GET baseline's).
# Each configuration runs ROUNDS times, interleaved; the table shows medians. The guest's cost is
# the difference of CPU per request to `none` (CPU time, so it does not depend on how busy the
# other core is); 1/rps differences are shown too.
# Environment: SECONDS_PER_RUN (3), ROUNDS (3), CONNS (16), PATH_Q (/v1.0/healthz?msg=:metal:),
# CONFIGS (the list above).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: middleware.sh BUILD_DIR}" && pwd)
dur=${SECONDS_PER_RUN:-3}
rounds=${ROUNDS:-3}
conns=${CONNS:-16}
path_q=${PATH_Q:-/v1.0/healthz?msg=:metal:}
wasmgate=$build/cli/wasmgate
command -v wrk >/dev/null || { echo "middleware.sh: wrk not installed (scripts/packages/gate.list)" >&2; exit 1; }
work=$(mktemp -d /tmp/wg-bench-mw.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
tck=$(getconf CLK_TCK)

declare -A guest=([noop-wat]=$build/bench/guests/noop_wat.wasm [noop-c]=$build/bench/guests/noop_c.wasm
                  [emoji]=$build/examples/http-wasm/emoji.wasm)
read -r -a configs <<<"${CONFIGS:-none noop-wat noop-c emoji}" # CONFIGS: a subset, "none" first

# Writes $work/<name>/{components/,config.yaml} for one configuration.
setup() {
  local name=$1 d=$work/$1
  mkdir -p "$d/components"
  cat >"$d/components/shout.yaml" <<EOT
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: shout}
spec:
  type: bindings.wasm
  version: v1
  metadata:
  - {name: url, value: "file://$build/examples/bindings-wasm/shout.wasm"}
EOT
  printf 'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: bench}\nspec: {}\n' >"$d/config.yaml"
  [ "$name" = none ] && return
  cat >"$d/components/mw.yaml" <<EOT
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: mw}
spec:
  type: middleware.http.wasm
  version: v1
  metadata:
  - {name: url, value: "file://${guest[$name]}"}
EOT
  cat >"$d/config.yaml" <<EOT
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: bench}
spec:
  httpPipeline:
    handlers:
    - {name: mw, type: middleware.http.wasm}
EOT
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start NAME: starts wasmgate for configuration NAME; sets pid and port.
start() {
  port=$(free_port)
  "$wasmgate" run --app-id bench --dapr-http-port "$port" --dapr-listen-addresses 127.0.0.1 --threads 1 \
    --enable-metrics=false --log-level warn --config "$work/$1/config.yaml" --resources-path "$work/$1/components" \
    >"$work/$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/v1.0/healthz" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "middleware.sh: wasmgate ($1) did not start:" >&2
  cat "$work/$1.log" >&2
  exit 1
}

stop() { kill "$pid" && wait "$pid" 2>/dev/null || true; pid=; }

# measure URL [wrk args...]: prints "rps p50_us p99_us cpu_us_per_req" for one wrk run.
measure() {
  local url=$1 out t0 t1
  shift
  wrk -t1 -c"$conns" -d1s "$@" "$url" >/dev/null # warm-up
  t0=$(cpu_ticks "$pid")
  out=$(wrk -t1 -c"$conns" -d"${dur}s" --latency "$@" "$url")
  t1=$(cpu_ticks "$pid")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "middleware.sh: non-2xx answers from $url:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk -v dt=$((t1 - t0)) -v tck="$tck" '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1e6; return v }
    / 50%/ { p50 = us($2) } / 99%/ { p99 = us($2) }
    /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 }
    END { printf "%.0f %.0f %.0f %.2f\n", rps, p50, p99, dt * 1e6 / tck / n }' <<<"$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "http-wasm guests in process (bench_httpwasm: the host's handle_request/handle_response calls, no HTTP):"
"$build/bench/bench_httpwasm" -u "$path_q" noop-wat="${guest[noop-wat]}" noop-c="${guest[noop-c]}" \
  emoji="${guest[emoji]}" | sed 's/^/  /'
echo
for c in "${configs[@]}"; do setup "$c"; done
echo "sidecar + http-wasm middleware: GET $path_q, wasmgate --threads 1, wrk -t1 -c$conns, ${dur}s x $rounds rounds"
echo "  ($(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
declare -A res
for r in $(seq "$rounds"); do
  for c in "${configs[@]}"; do
    start "$c"
    res[$c.$r]=$(measure "http://127.0.0.1:$port$path_q")
    stop
  done
done
printf '  %-9s %10s %9s %9s %12s %12s %12s\n' config req/s p50_us p99_us cpu_us/req guest_cpu_us guest_1/rps_us
base_cpu= base_rps=
for c in "${configs[@]}"; do
  col() { for r in $(seq "$rounds"); do echo "${res[$c.$r]}" | cut -d' ' -f"$1"; done | median; }
  rps=$(col 1) p50=$(col 2) p99=$(col 3) cpu=$(col 4)
  if [ "$c" = none ]; then
    base_cpu=$cpu base_rps=$rps
    printf '  %-9s %10s %9s %9s %12s %12s %12s\n' "$c" "$rps" "$p50" "$p99" "$cpu" - -
  else
    printf '  %-9s %10s %9s %9s %12s %12.2f %12.2f\n' "$c" "$rps" "$p50" "$p99" "$cpu" \
      "$(awk -v a="$cpu" -v b="$base_cpu" 'BEGIN { print a - b }')" \
      "$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { print 1e6 / a - 1e6 / b }')"
  fi
done

echo
echo "bindings.wasm (examples/bindings-wasm/shout.wasm, a small C WASI command; target < 20 us per call):"
"$build/bench/bench_binding" -t 0.5 -r 7 "$build/examples/bindings-wasm/shout.wasm" | sed 's/^/  /'
printf 'wrk.method = "POST"\nwrk.body = [[{"operation":"execute","data":"hello wasm","metadata":{"args":"loud"}}]]\nwrk.headers["Content-Type"] = "application/json"\n' >"$work/post.lua"
cpus=()
for r in $(seq "$rounds"); do
  start none
  cpus+=("$(measure "http://127.0.0.1:$port/v1.0/bindings/shout" -s "$work/post.lua")")
  stop
done
b_rps=$(printf '%s\n' "${cpus[@]}" | cut -d' ' -f1 | median)
b_cpu=$(printf '%s\n' "${cpus[@]}" | cut -d' ' -f4 | median)
b_p50=$(printf '%s\n' "${cpus[@]}" | cut -d' ' -f2 | median)
b_p99=$(printf '%s\n' "${cpus[@]}" | cut -d' ' -f3 | median)
printf '  over HTTP: POST /v1.0/bindings/shout %s req/s, p50 %s us, p99 %s us, %s CPU us/req (%.1f us more than GET %s)\n' \
  "$b_rps" "$b_p50" "$b_p99" "$b_cpu" "$(awk -v a="$b_cpu" -v b="$base_cpu" 'BEGIN { print a - b }')" "$path_q"
