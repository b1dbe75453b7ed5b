#!/usr/bin/env bash
# bench/grpc_callgrind.sh BUILD_DIR: work per call, gRPC GetState vs HTTP GET
# /v1.0/state/mem/k (a 100-byte value in state.in-memory), one call in flight per
# connection (h2load -m1 and h2load --h1, 4 connections), counted in ways that do not
# depend on the machine's load:
#   instructions per call: the sidecar (`--threads 1`) under valgrind --tool=callgrind,
#     WARMUP calls of each kind, then the counters zeroed and N calls of one kind, dumped
#     (PROGRAM TOTALS / N); with OUT_DIR set, the profiles and callgrind_annotate's
#     self and inclusive listings go there;
#   system calls per call: `strace -c -f` over N calls of each kind on a plain run.
# Environment: N (4000), WARMUP (500), OUT_DIR (unset).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: grpc_callgrind.sh BUILD_DIR}" && pwd)
. "$root/bench/lib.sh"
n=${N:-4000}
warm=${WARMUP:-500}
wasmgate=$build/cli/wasmgate
for t in valgrind callgrind_control strace h2load curl; do
  command -v $t >/dev/null || { echo "grpc_callgrind.sh: $t not installed" >&2; exit 1; }
done
bench_tmpdir wg-bench-grpccg
work=$dir
pid=
mkdir -p "$work/res"
cat >"$work/res/mem.yaml" <<EOT
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: mem}
spec: {type: state.in-memory, version: v1, metadata: []}
EOT
python3 - "$work" <<'EOT'
import struct, sys
def field(n, b): return bytes([n << 3 | 2, len(b)]) + b
m = field(1, b"mem") + field(2, b"k")
open(f"{sys.argv[1]}/get.bin", "wb").write(b"\0" + struct.pack(">I", len(m)) + m)
EOT

# start WRAPPER...: the sidecar under WRAPPER (valgrind, strace or nothing); sets pid, http, grpc
start() {
  http=$(free_port)
  grpc=$(free_port)
  (cd "$work" && exec "$@" "$wasmgate" run --app-id bench --threads 1 --dapr-http-port "$http" \
    --dapr-grpc-port "$grpc" --dapr-listen-addresses 127.0.0.1 --metrics-port 0 --log-level warn \
    --resources-path "$work/res") &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$http/v1.0/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf -X POST -H 'content-type: application/json' --data-binary "[{\"key\":\"k\",\"value\":\"$(printf '%098d' 0)\"}]" \
    "http://127.0.0.1:$http/v1.0/state/mem" || { echo "grpc_callgrind.sh: cannot save" >&2; exit 1; }
}
stop() {
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}
# calls KIND COUNT: COUNT calls of KIND (grpc or http), failing on any error
calls() {
  local out
  if [ "$1" = grpc ]; then
    out=$(h2load -t1 -c4 -m1 -n"$2" -d "$work/get.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
      "http://127.0.0.1:$grpc/dapr.proto.runtime.v1.Dapr/GetState")
  else
    out=$(h2load --h1 -t1 -c4 -m1 -n"$2" "http://127.0.0.1:$http/v1.0/state/mem/k")
  fi
  grep -q "$2 succeeded, 0 failed, 0 errored" <<<"$out" || { echo "grpc_callgrind.sh: $1 calls failed: $out" >&2; exit 1; }
}

echo "work per call: wasmgate --threads 1, state.in-memory, 100-byte value, 4 connections, -m1; N=$n"
start valgrind --tool=callgrind --compress-strings=no --callgrind-out-file="$work/cg.%p"
calls grpc "$warm"
calls http "$warm"
for kind in grpc http; do
  callgrind_control -z "$pid" >/dev/null
  calls "$kind" "$n"
  callgrind_control -d "dump-$kind" "$pid" >/dev/null
  sleep 1
  f=$(grep -l "^desc: Trigger: Client Request: dump-$kind" "$work"/cg.* || true)
  [ -n "$f" ] || f=$(ls -t "$work"/cg.*.* | head -1)
  total=$(awk '/^summary:|^totals:/ {print $2; exit}' "$f")
  printf '  %-40s %10.0f instructions/call\n' "$kind $( [ $kind = grpc ] && echo GetState || echo 'GET /v1.0/state')" \
    "$(awk -v t="$total" -v n="$n" 'BEGIN {print t / n}')"
  if [ -n "${OUT_DIR:-}" ]; then
    mkdir -p "$OUT_DIR"
    cp "$f" "$OUT_DIR/$kind.callgrind"
    callgrind_annotate --inclusive=yes "$f" >"$OUT_DIR/$kind-inclusive.txt" 2>/dev/null || true
    callgrind_annotate "$f" >"$OUT_DIR/$kind-self.txt" 2>/dev/null || true
  fi
done
stop

start
calls grpc "$warm"
calls http "$warm"
for kind in grpc http; do
  strace -c -f -p "$pid" -o "$work/strace-$kind.txt" 2>/dev/null &
  spid=$!
  sleep 1 # attached to every thread
  calls "$kind" "$n"
  kill -INT "$spid"
  wait "$spid" 2>/dev/null || true
  read -r sys top < <(awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {c += $4; printf "%s", ""; t[$NF] = $4}
    END {s = ""; for (k in t) s = s k ":" t[k] " "; print c, s}' "$work/strace-$kind.txt")
  printf '  %-40s %10.2f system calls/call  (%s)\n' "$kind" "$(awk -v s="$sys" -v n="$n" 'BEGIN {print s / n}')" "$top"
  [ -n "${OUT_DIR:-}" ] && cp "$work/strace-$kind.txt" "$OUT_DIR/"
done
stop
