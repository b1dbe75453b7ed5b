#!/usr/bin/env bash
# bench/p2_keyvalue.sh BUILD_DIR: wasi:keyvalue get from a component versus the same get over
# the HTTP API, side by side in one run (issue 14; docs/components.md "The cloud interfaces").
#  1. component: tests/components/kv/kv_guest.c (0.2.0-draft world, built here by
#     tests/components/mkcomponent.py) run by tests/gate/p2_cloud_driver with `--bench N`: N bucket.get of one key (a 7-byte
#     value) against state.in-memory and state.sqlite; the process's CPU time with N minus with 0,
#     divided by N (the host call, the canonical ABI's lifting and lowering, the store's get);
#  2. HTTP: GET /v1.0/state/S/k on `wasmgate run` (1 loop thread) with wrk: the sidecar's CPU time
#     per request (from /proc/PID/stat) and 1/rps.
# Environment: N (20000), SECONDS_PER_RUN (3), CONNS (16).
set -euo pipefail
build=$(cd "${1:?usage: p2_keyvalue.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-20000}
dur=${SECONDS_PER_RUN:-3}
conns=${CONNS:-16}
wasmgate=$build/cli/wasmgate
driver=$build/tests/gate/p2_cloud_driver
command -v wrk >/dev/null || { echo "p2_keyvalue.sh: wrk not installed" >&2; exit 1; }
. "$root/bench/lib.sh"
bench_tmpdir wg-bench-kv
work=$dir

python3 "$root/tests/components/mkcomponent.py" "$root/tests/components/kv/kv_guest.c" -o "$work/kv.component.wasm" \
  --wit "$root/tests/components/kv/draft" --world kv-draft --command

mkdir -p "$work/components"
for t in in-memory sqlite; do
  cat >"$work/components/$t.yaml" <<EOT
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${t/in-/}}
spec:
  type: state.$t
  version: v1
  metadata:
  - {name: connectionString, value: "$work/state.db"}
EOT
done

# CPU seconds (user + sys) of one driver run with `--bench K` against store S
run_cpu() {
  python3 - "$driver" "$work" "$1" "$2" "$work/kv.component.wasm" <<'EOF'
import resource, subprocess, sys
driver, work, store, k, comp = sys.argv[1:]
subprocess.run([driver, "--app-id", "bench", "--resources-path", work + "/components", comp, store, "--bench", k],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.ru_utime + r.ru_stime)
EOF
}
# the median of 5 runs
median_cpu() {
  for _ in 1 2 3 4 5; do run_cpu "$1" "$2"; done | sort -n | sed -n 3p
}

tck=$(getconf CLK_TCK)
port=$(free_port)
(cd "$work" && exec "$wasmgate" run --app-id bench --threads 1 --dapr-http-port "$port" --dapr-grpc-port 0 \
  --dapr-listen-addresses 127.0.0.1 --metrics-port 0 --log-level warn --resources-path "$work/components") \
  >"$work/log" 2>&1 &
pid=$!
pids+=("$pid")
base="http://127.0.0.1:$port/v1.0"
wait_http "$base/healthz/outbound"
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
http_get() {
  local s=$1 c0 c1 out rps reqs
  curl -sf -X POST "$base/state/$s" -H 'Content-Type: application/json' -d '[{"key":"k","value":{"v":1}}]'
  c0=$(cpu)
  out=$(wrk -t1 -c"$conns" -d"${dur}s" "$base/state/$s/k")
  c1=$(cpu)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v c=$((c1 - c0)) -v t="$tck" -v r="$reqs" -v rps="$rps" 'BEGIN {printf "%.2f %.2f", c / t / r * 1e6, 1e6 / rps}'
}

echo "wasi:keyvalue bucket.get from a component (synchronous host call) vs GET /v1.0/state over HTTP, N=$n"
printf '%-8s %20s %17s %15s %11s\n' store "component CPU µs/get" "HTTP CPU µs/req" "HTTP 1/rps µs" "CPU ratio"
for s in memory sqlite; do
  z=$(median_cpu "$s" 0)
  w=$(median_cpu "$s" "$n")
  per=$(awk -v a="$w" -v b="$z" -v n="$n" 'BEGIN {printf "%.3f", (a - b) / n * 1e6}')
  read -r hcpu hinv <<<"$(http_get "$s")"
  printf '%-8s %20s %17s %15s %10.1fx\n' "$s" "$per" "$hcpu" "$hinv" \
    "$(awk -v a="$hcpu" -v b="$per" 'BEGIN {print (b > 0 ? a / b : 0)}')"
done
