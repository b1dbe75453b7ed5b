#!/usr/bin/env bash
# bench/grpc.sh BUILD_DIR: the same state calls over the gRPC API (h2load, h2c) and the
# HTTP API (wrk), side by side on one `wasmgate run --threads 1` and one store:
#   GetState  vs GET  /v1.0/state/{store}/k            (a 100-byte value)
#   SaveState vs POST /v1.0/state/{store} [{key,value}] (the same value)
# for STORES (state.in-memory, then the default sqlite), with CONNS connections and one
# request in flight per connection on both sides (h2load -m1, as wrk), then gRPC with 10
# streams per connection (-m10: HTTP/2 multiplexing, which HTTP/1.1 cannot do). The GET runs
# once more with h2load --h1: the same client as the gRPC runs, so their req/s compare directly
# on a machine where the client competes with the sidecar for the cores.
# Prints requests/s and the sidecar's CPU time per request (/proc/PID/stat), median of ROUNDS
# runs, interleaved. Environment: SECONDS_PER_RUN (3), ROUNDS (3), CONNS (16), STORES.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: grpc.sh BUILD_DIR}" && pwd)
dur=${SECONDS_PER_RUN:-3}
rounds=${ROUNDS:-3}
conns=${CONNS:-16}
read -r -a stores <<<"${STORES:-mem statestore}"
wasmgate=$build/cli/wasmgate
for t in wrk h2load curl; do
  command -v $t >/dev/null || { echo "grpc.sh: $t not installed (scripts/packages/gate.list)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/wg-bench-grpc.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
tck=$(getconf CLK_TCK)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

mkdir -p "$work/res"
cat >"$work/res/mem.yaml" <<EOT
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: mem}
spec: {type: state.in-memory, version: v1, metadata: []}
EOT
cat >"$work/res/sqlite.yaml" <<EOT
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: statestore}
spec:
  type: state.sqlite
  version: v1
  metadata:
  - {name: connectionString, value: "$work/state.db"}
EOT
http=$(free_port)
grpc=$(free_port)
(cd "$work" && exec "$wasmgate" run --app-id bench --threads 1 --dapr-http-port "$http" --dapr-grpc-port "$grpc" \
  --dapr-listen-addresses 127.0.0.1 --metrics-port 0 --log-level warn --resources-path "$work/res") &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/v1.0/healthz" >/dev/null && break; sleep 0.1; done

value=$(printf '"%098d"' 0) # a 100-byte JSON string
# the gRPC request bodies: 5-byte gRPC prefix + protobuf, built by hand (field tags of proto/)
python3 - "$work" "$value" "${stores[@]}" <<'EOT'
import struct, sys
work, value, stores = sys.argv[1], sys.argv[2].encode(), sys.argv[3:]
def field(n, b): return bytes([n << 3 | 2, len(b)]) + b
def frame(m): return b"\0" + struct.pack(">I", len(m)) + m
for s in stores:
    open(f"{work}/get-{s}.bin", "wb").write(frame(field(1, s.encode()) + field(2, b"k")))
    item = field(1, b"k") + field(2, value)  # StateItem{key, value}
    open(f"{work}/save-{s}.bin", "wb").write(frame(field(1, s.encode()) + field(2, item)))
EOT
for s in "${stores[@]}"; do
  printf '[{"key":"k","value":%s}]' "$value" >"$work/save-$s.json"
  curl -sf -X POST -H 'content-type: application/json' --data-binary @"$work/save-$s.json" \
    "http://127.0.0.1:$http/v1.0/state/$s" || { echo "grpc.sh: cannot save to $s" >&2; exit 1; }
  # sanity: the gRPC GetState answers grpc-status 0 with the value
  out=$(curl -s --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' \
    --data-binary @"$work/get-$s.bin" -D - -o "$work/out.bin" "http://127.0.0.1:$grpc/dapr.proto.runtime.v1.Dapr/GetState")
  grep -q 'grpc-status: 0' <<<"$out" && grep -q 000000 "$work/out.bin" ||
    { echo "grpc.sh: GetState over gRPC failed: $out" >&2; exit 1; }
  cat >"$work/save-$s.lua" <<EOT
wrk.method = "POST"
wrk.body = '[{"key":"k","value":$value}]'
wrk.headers["Content-Type"] = "application/json"
EOT
done

# run KIND STORE: prints "rps cpu_us_per_req" for one timed run.
run() {
  local kind=$1 s=$2 t0 t1 out rps
  t0=$(cpu_ticks "$pid")
  case $kind in
    http-get) out=$(wrk -t1 -c"$conns" -d"${dur}s" "http://127.0.0.1:$http/v1.0/state/$s/k") ;;
    http-get-h2load) # the same client as the gRPC runs: their req/s compare directly
      out=$(h2load --h1 -t1 -c"$conns" -m1 -D"$dur" "http://127.0.0.1:$http/v1.0/state/$s/k")
      grep -q ' 0 failed, 0 errored' <<<"$out" || { echo "grpc.sh: h2load errors: $out" >&2; exit 1; } ;;
    http-save) out=$(wrk -t1 -c"$conns" -d"${dur}s" -s "$work/save-$s.lua" "http://127.0.0.1:$http/v1.0/state/$s") ;;
    grpc-get | grpc-get-m10 | grpc-save | grpc-save-m10)
      local m=1 op=get method=GetState
      [[ $kind == *m10 ]] && m=10
      [[ $kind == grpc-save* ]] && op=save method=SaveState
      out=$(h2load -t1 -c"$conns" -m"$m" -D"$dur" -d "$work/$op-$s.bin" -H 'content-type: application/grpc' \
        -H 'te: trailers' "http://127.0.0.1:$grpc/dapr.proto.runtime.v1.Dapr/$method")
      grep -q ' 0 failed, 0 errored' <<<"$out" || { echo "grpc.sh: h2load errors: $out" >&2; exit 1; } ;;
  esac
  t1=$(cpu_ticks "$pid")
  if [[ $kind == http-* && $kind != *h2load ]]; then
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    grep -q 'Non-2xx' <<<"$out" && { echo "grpc.sh: HTTP errors: $out" >&2; exit 1; }
  else
    rps=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' <<<"$out")
  fi
  awk -v r="$rps" -v d=$((t1 - t0)) -v tck="$tck" -v s="$dur" 'BEGIN { printf "%.0f %.1f\n", r, d / tck / (r * s) * 1e6 }'
}

kinds=(http-get http-get-h2load grpc-get grpc-get-m10 http-save grpc-save grpc-save-m10)
echo "gRPC vs HTTP API: wasmgate --threads 1, $conns connections, ${dur}s x $rounds rounds (medians);" \
  "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${stores[@]}"; do
  declare -A res=()
  for _ in $(seq "$rounds"); do
    for k in "${kinds[@]}"; do
      read -r r c < <(run "$k" "$s")
      res[$k]+="$r $c;"
    done
  done
  printf '  %-9s %-36s %10s %14s\n' store call 'req/s' 'CPU us/req'
  for k in "${kinds[@]}"; do
    label=$k
    case $k in
      http-get) label="HTTP GET /v1.0/state (wrk)" ;;
      http-get-h2load) label="HTTP GET /v1.0/state (h2load --h1)" ;;
      grpc-get) label="gRPC GetState (h2load -m1)" ;;
      grpc-get-m10) label="gRPC GetState (h2load -m10)" ;;
      http-save) label="HTTP POST /v1.0/state (wrk)" ;;
      grpc-save) label="gRPC SaveState (h2load -m1)" ;;
      grpc-save-m10) label="gRPC SaveState (h2load -m10)" ;;
    esac
    tr ';' '\n' <<<"${res[$k]}" | sed '/^$/d' | sort -n | awk -v s="$s" -v l="$label" '
      { r[NR] = $1; c[NR] = $2 } END { m = int((NR + 1) / 2); printf "  %-9s %-36s %10d %14.1f\n", s, l, r[m], c[m] }'
  done
  unset res
done
