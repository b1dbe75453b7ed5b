# bench/lib.sh: sourced by the bench scripts (bash, set -euo pipefail).
#   bench_tmpdir PREFIX   a temporary directory in $dir; at exit every process whose id is in $pids
#                         is stopped (and waited for) and $dir is removed (bench_cleanup)
#   free_port             a free loopback TCP port
#   wait_http URL         until URL answers (any status), at most 10 s; fails otherwise
#   nginx_conf NAME WORKERS SERVER_BLOCK   $dir/NAME/nginx.conf: foreground, no access log, keep-alive
#   nginx_start NAME      starts that nginx in the background (its id goes into $pids)
#   wrk_line WORK LABEL PATH CMD...  one wrk measurement of a server started by CMD (below)

bench_tmpdir() {
  dir=$(mktemp -d "/tmp/$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() {
  for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "bench: $1 did not come up" >&2
  return 1
}

nginx_conf() {
  mkdir -p "$dir/$1"
  cat >"$dir/$1/nginx.conf" <<EOF
worker_processes $2;
daemon off;
pid $dir/$1/nginx.pid;
error_log $dir/$1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/$1; proxy_temp_path $dir/$1; fastcgi_temp_path $dir/$1;
  uwsgi_temp_path $dir/$1; scgi_temp_path $dir/$1;
  keepalive_requests 1000000;
  $3
}
EOF
}

nginx_start() {
  nginx -e "$dir/$1/error.log" -c "$dir/$1/nginx.conf" -p "$dir/$1" &
  pids+=($!)
}

# wrk_line WORKDIR LABEL PATH CMD...: starts CMD in WORKDIR (PORT replaced by a free port; its id goes
# into $pids), waits for PATH, runs wrk -t1 -c$conns for $dur s on it and prints req/s, p50, p99, the
# process's CPU µs per request and the time from start to the first answer; then stops CMD. With
# WRK_PREP set, that command is eval'd (with $port) once the server answers anything, before PATH.
wrk_line() {
  local work=$1 label=$2 path=$3 tck
  shift 3
  tck=$(getconf CLK_TCK)
  local port pid c0 c1 out reqs args=() t0 t1
  port=$(free_port)
  for a in "$@"; do args+=("${a//PORT/$port}"); done
  t0=$(date +%s%N)
  (cd "$work" && HOME=$work exec "${args[@]}") >"$work/log.$port" 2>&1 &
  pid=$!
  pids+=("$pid")
  if [ -n "${WRK_PREP:-}" ]; then # a command to run (with $port set) once the server is up
    for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.02; done
    eval "$WRK_PREP"
  fi
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port$path" >/dev/null 2>&1 && break; sleep 0.02; done
  t1=$(date +%s%N)
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(wrk -t1 -c"$conns" -d"${dur}s" --latency "http://127.0.0.1:$port$path")
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  printf '%-44s' "$label"
  awk '/Requests\/sec/ {r = $2} / 50%/ {p50 = $2} / 99%/ {p99 = $2} END {printf "%10s req/s  p50 %8s  p99 %8s", r, p50, p99}' <<<"$out"
  awk -v c=$((c1 - c0)) -v t="$tck" -v r="$reqs" 'BEGIN {printf "  CPU %6.1f µs/req", c / t / r * 1e6}'
  printf '  (start to first answer %d ms)\n' $(((t1 - t0) / 1000000))
  kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
}
