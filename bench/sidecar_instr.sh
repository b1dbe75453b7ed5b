#!/usr/bin/env bash
# bench/sidecar_instr.sh BUILD_DIR: the proxy's own work per request, nginx against wasmgate, counted
# rather than timed (issue 17): instructions hold on a loaded machine, requests/s and p99 do not.
#
# Starts on loopback, in a temporary directory: a trivial app (nginx, `return 200`); then, one after
# the other under valgrind --tool=callgrind, nginx as a reverse proxy to it (one worker,
# master_process off, keep-alive upstream: the proxy of bench/sidecar.sh) and `wasmgate run
# --threads 1 --app-port`. Each gets WARMUP (1000) requests, then its counters are zeroed and N
# (2000) requests are sent (h2load --h1, 16 keep-alive connections): GET /hello through nginx,
# GET /v1.0/invoke/bench/method/hello through wasmgate. Prints instructions (callgrind Ir, user
# space only: the kernel's share is about the same for both, see the system calls of
# bench/per_request.sh) per request and their ratio: all of nginx's (one process, one thread),
# wasmgate's event-loop thread (--toggle-collect=worker_main: its jobs poller, a thread that
# queries the jobs table every 100 ms, costs per second, not per request, and a run under valgrind
# is slow enough that it would add about 1,400 per request). With OUT_DIR set, the profiles go there.
# Everything it started is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: sidecar_instr.sh BUILD_DIR}" && pwd)
wg=$build/cli/wasmgate
n=${N:-2000}
warm=${WARMUP:-1000}
for t in valgrind callgrind_control callgrind_annotate nginx h2load curl; do
  command -v "$t" >/dev/null || { echo "sidecar_instr: $t not installed (scripts/deps.sh)" >&2; exit 1; }
done
[ -x "$wg" ] || { echo "sidecar_instr: build first" >&2; exit 1; }
source "$root/bench/lib.sh"
bench_tmpdir wg-bench-instr
app_port=$(free_port)
nginx_conf app 1 "server { listen 127.0.0.1:$app_port; location / { return 200 'hello'; } }"
nginx_start app
wait_http "http://127.0.0.1:$app_port/"

declare -A ir
# measure NAME URL CMD...: CMD under callgrind; sets ir[NAME] (instructions per request)
measure() {
  local name=$1 url=$2 vp out f tot
  shift 2
  local extra=()
  [ "$name" = wasmgate ] && extra=(--toggle-collect=worker_main)
  (cd "$dir" && exec valgrind --tool=callgrind "${extra[@]}" --callgrind-out-file="$dir/cg.$name.%p" "$@") >"$dir/$name.log" 2>&1 &
  vp=$!
  pids+=("$vp")
  for _ in $(seq 600); do curl -s -o /dev/null "$url" && break; sleep 0.1; done
  h2load --h1 -n "$warm" -c 16 -t 1 "$url" >/dev/null
  callgrind_control -z "$vp" >/dev/null 2>&1
  out=$(h2load --h1 -n "$n" -c 16 -t 1 "$url")
  grep -q "^requests: $n total, $n started, $n done, $n succeeded" <<<"$out" || { echo "$out" >&2; exit 1; }
  callgrind_control -d "$vp" >/dev/null 2>&1
  for _ in $(seq 100); do f=$(ls -t "$dir"/cg."$name".* 2>/dev/null | head -1); [ -n "$f" ] && break; sleep 0.1; done
  sleep 0.5
  tot=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  ir[$name]=$((tot / n))
  [ -n "${OUT_DIR:-}" ] && cp "$f" "$OUT_DIR/cg.$name"
  kill "$vp" 2>/dev/null || true
  wait "$vp" 2>/dev/null || true
}

proxy_port=$(free_port)
nginx_conf proxy 1 "upstream app { server 127.0.0.1:$app_port; keepalive 64; }
  server { listen 127.0.0.1:$proxy_port; location / { proxy_pass http://app; proxy_http_version 1.1;
           proxy_set_header Connection \"\"; } }"
sed -i '1i master_process off;' "$dir/proxy/nginx.conf"
measure nginx "http://127.0.0.1:$proxy_port/hello" nginx -e "$dir/proxy/error.log" -c "$dir/proxy/nginx.conf" -p "$dir/proxy"
api_port=$(free_port)
measure wasmgate "http://127.0.0.1:$api_port/v1.0/invoke/bench/method/hello" "$wg" run --app-id bench \
  --app-port "$app_port" --dapr-http-port "$api_port" --dapr-grpc-port 0 --metrics-port 0 \
  --dapr-listen-addresses 127.0.0.1 --threads 1 --log-level warn
echo "instructions per proxied request (callgrind, $n requests after $warm, h2load --h1 -c 16):" \
  "nginx reverse proxy ${ir[nginx]}, wasmgate /v1.0/invoke ${ir[wasmgate]}" \
  "($(awk -v a="${ir[wasmgate]}" -v b="${ir[nginx]}" 'BEGIN {printf "%.2f", a / b}')x nginx's)"
