# bench/lib.sh: sourced by the bench scripts (bash, set -euo pipefail).
#   bench_tmpdir PREFIX   a temporary directory in $dir; at exit every process whose id is in $pids
#                         is stopped (and waited for) and $dir is removed (bench_cleanup)
#   free_port             a free loopback TCP port
#   wait_http URL         until URL answers (any status), at most 10 s; fails otherwise
#   nginx_conf NAME WORKERS SERVER_BLOCK   $dir/NAME/nginx.conf: foreground, no access log, keep-alive
#   nginx_start NAME      starts that nginx in the background (its id goes into $pids)

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
