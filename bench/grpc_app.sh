#!/usr/bin/env bash
# bench/grpc_app.sh BUILD_DIR: service invocation to an HTTP app versus the same to a gRPC app
# (--app-protocol grpc: AppCallback.OnInvoke over h2c), side by side on one
# `wasmgate run --threads 1` each. The apps echo the body and do nothing else: Node's http
# module for HTTP, Debian's grpcio (Python, 8 worker threads) for gRPC; the app bounds
# requests/s, so the comparable figure is the sidecar's CPU time per request (/proc/PID/stat). wrk drives
# POST /v1.0/invoke/bench/method/echo with a 100-byte body over CONNS connections; median of
# ROUNDS runs, interleaved. Environment: SECONDS_PER_RUN (3), ROUNDS (3), CONNS (16).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: grpc_app.sh BUILD_DIR}" && pwd)
dur=${SECONDS_PER_RUN:-3}
rounds=${ROUNDS:-3}
conns=${CONNS:-16}
wasmgate=$build/cli/wasmgate
for t in wrk curl node /usr/bin/python3; do
  command -v $t >/dev/null || { echo "grpc_app.sh: $t not installed" >&2; exit 1; }
done
work=$(mktemp -d /tmp/wg-bench-gapp.XXXXXX)
pids=()
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
  sleep 0.5
  [ ${#pids[@]} -gt 0 ] && kill -9 "${pids[@]}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
tck=$(getconf CLK_TCK)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# the two apps
/usr/bin/python3 -m grpc_tools.protoc -I"$root/proto" -I/usr/include --python_out="$work" --grpc_python_out="$work" \
  dapr/proto/common/v1/common.proto dapr/proto/runtime/v1/dapr.proto dapr/proto/runtime/v1/appcallback.proto
cat >"$work/apps.py" <<'PY'
import sys
from concurrent import futures
kind, port = sys.argv[1], int(sys.argv[2])
if True:
    import grpc
    from dapr.proto.common.v1 import common_pb2 as C
    from dapr.proto.runtime.v1 import appcallback_pb2_grpc as AG
    class App(AG.AppCallbackServicer):
        def OnInvoke(self, req, ctx):
            return C.InvokeResponse(data=req.data, content_type="application/json")
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    AG.add_AppCallbackServicer_to_server(App(), s)
    s.add_insecure_port(f"127.0.0.1:{port}")
    s.start()
    s.wait_for_termination()
PY
body=$(python3 -c 'print("{\"v\":\"" + "x" * 90 + "\"}", end="")')
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' \
  "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$body")" >"$work/post.lua"

declare -A sport
for kind in http grpc; do
  ap=$(free_port)
  if [ "$kind" = http ]; then
    node -e 'require("http").createServer((q, s) => { const b = []; q.on("data", (d) => b.push(d));
      q.on("end", () => { s.writeHead(200, {"Content-Type": "application/json"}); s.end(Buffer.concat(b)); }); })
      .listen(+process.argv[1], "127.0.0.1")' "$ap" &
  else
    (cd "$work" && PYTHONPATH="$work" exec /usr/bin/python3 apps.py "$kind" "$ap") &
  fi
  pids+=($!)
  sp=$(free_port)
  (cd "$work" && exec "$wasmgate" run --app-id bench --app-port "$ap" --app-protocol "$kind" --threads 1 \
    --dapr-http-port "$sp" --dapr-grpc-port 0 --dapr-listen-addresses 127.0.0.1 --metrics-port 0 --log-level warn) \
    >"$work/$kind.log" 2>&1 &
  pids+=($!)
  sport[$kind]=$sp
  eval "spid_$kind=$!"
  until curl -sf -X POST -d "$body" "http://127.0.0.1:$sp/v1.0/invoke/bench/method/echo" >/dev/null 2>&1; do sleep 0.05; done
done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # kind -> "rps cpu_us_per_req"
  local kind=$1 p out c0 c1
  p=$(eval echo "\$spid_$kind")
  c0=$(cpu "$p")
  out=$(wrk -t1 -c"$conns" -d"${dur}s" -s "$work/post.lua" "http://127.0.0.1:${sport[$kind]}/v1.0/invoke/bench/method/echo")
  c1=$(cpu "$p")
  awk -v c=$((c1 - c0)) -v t="$tck" '/Requests\/sec/ {rps=$2} /requests in/ {n=$1} /Non-2xx/ {bad=$NF}
    END {if (bad) {print "ERR"; exit} printf "%.0f %.1f", rps, c / t / n * 1e6}' <<<"$out"
}
declare -A rps cpu_us
for _ in $(seq "$rounds"); do
  for kind in http grpc; do
    read -r r c <<<"$(run $kind)"
    rps[$kind]+="$r "
    cpu_us[$kind]+="$c "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "invocation to an HTTP app vs a gRPC app (--app-protocol grpc), --threads 1, $conns conns, median of $rounds x ${dur}s"
printf '%-6s %10s %18s\n' app "req/s" "sidecar CPU µs/req"
for kind in http grpc; do
  printf '%-6s %10s %18s\n' "$kind" "$(median <<<"${rps[$kind]}")" "$(median <<<"${cpu_us[$kind]}")"
done
