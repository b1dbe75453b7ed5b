#!/usr/bin/env bash
# fuzz/make-seeds.sh OUT_DIR: builds the seed corpora for the engine's fuzz
# targets under a build directory (nothing is committed). OUT_DIR/module/
# (for fuzz_module) gets whole modules:
#   - every .wat under tests/ and examples/, through wat2wasm;
#   - the freestanding C guests in fuzz/guests/, with clang-19
#     --target=wasm32-wasi at several optimisation levels and feature sets;
#   - random valid modules from binaryen (`wasm-opt -ttf`), from fixed-seed
#     pseudo-random inputs, with and without most Wasm 2.0 features;
#   - a few hand-made edge cases (empty input, header only, bad version).
# OUT_DIR/code/ (for fuzz_code) gets the function bodies of those modules with
# their signatures, in fuzz_code's input layout (fuzz/extract-bodies.py).
# OUT_DIR/resources/ (for fuzz_resources) gets the YAML files of tests/ and examples/.
# Each tool that is missing is skipped with a note; the seeds are a head start
# for the fuzzer, not a requirement.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
top=${1:?usage: make-seeds.sh OUT_DIR}
out=$top/module
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

# .wat files in the tree.
if command -v wat2wasm >/dev/null; then
  while IFS= read -r -d '' wat; do
    name=$(echo "${wat#"$root"/}" | tr '/' '_')
    wat2wasm --enable-all "$wat" -o "$out/wat_${name%.wat}.wasm" 2>/dev/null && n=$((n + 1)) || true
  done < <(find "$root/tests" "$root/examples" -name '*.wat' -print0 2>/dev/null)
else
  echo "make-seeds: wat2wasm not found, skipping .wat seeds" >&2
fi

# C guests, freestanding (no libc: small seeds with dense code).
if command -v clang-19 >/dev/null && command -v wasm-ld-19 >/dev/null; then
  variants=("O0:-O0" "O2:-O2" "Oz:-Oz" "mvp:-O2 -mcpu=mvp" "bulk:-O2 -mbulk-memory -mnontrapping-fptoint"
            "simd:-O2 -msimd128" "O3simd:-O3 -msimd128 -mbulk-memory")
  for c in "$root"/fuzz/guests/*.c; do
    base=$(basename "$c" .c)
    for v in "${variants[@]}"; do
      tag=${v%%:*}
      # Undefined memcpy/memset (no libc) become imports. Guests needing a
      # feature (simd.c) only build in the variants that enable it.
      # shellcheck disable=SC2086 # the flags are meant to split
      if clang-19 --target=wasm32-wasi ${v#*:} -c "$c" -o "$tmp/$base.o" 2>/dev/null &&
         wasm-ld-19 --no-entry --allow-undefined "$tmp/$base.o" -o "$out/c_${base}_$tag.wasm" 2>/dev/null; then
        n=$((n + 1))
      fi
    done
  done
else
  echo "make-seeds: clang-19/wasm-ld-19 not found, skipping C guests" >&2
fi

# Random modules from binaryen's translate-to-fuzz mode.
if command -v wasm-opt >/dev/null && command -v python3 >/dev/null; then
  # No --enable-reference-types: binaryen 108 then also emits typed function
  # references (not Wasm 2.0), and the seed is invalid for wabt and for us.
  w20="--enable-simd --enable-bulk-memory --enable-multivalue --enable-sign-ext
       --enable-nontrapping-float-to-int --enable-mutable-globals"
  for seed in $(seq 1 40); do
    python3 -c "import random,sys; r=random.Random($seed); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(256 * (1 + $seed % 16))))" >"$tmp/rand"
    feats=""
    [ $((seed % 2)) -eq 0 ] && feats=$w20
    # shellcheck disable=SC2086
    wasm-opt -ttf "$tmp/rand" $feats -o "$out/ttf_$seed.wasm" >/dev/null 2>&1 && n=$((n + 1)) || true
  done
else
  echo "make-seeds: wasm-opt or python3 not found, skipping random modules" >&2
fi

# Edge cases.
printf '' >"$out/edge_empty.wasm"
printf '\0asm\1\0\0\0' >"$out/edge_header.wasm"
printf '\0asm\2\0\0\0' >"$out/edge_version.wasm"
printf '\0asm\1\0\0\0\0\4\1a\1\2' >"$out/edge_custom.wasm"
n=$((n + 4))
echo "make-seeds: $n modules in $out"
if command -v python3 >/dev/null; then
  python3 "$root/fuzz/extract-bodies.py" "$top/code" "$out"/*.wasm
fi

# OUT_DIR/resources/ (for fuzz_resources): every YAML file in the tree.
mkdir -p "$top/resources"
r=0
while IFS= read -r -d '' y; do
  cp "$y" "$top/resources/$(echo "${y#"$root"/}" | tr '/' '_')" && r=$((r + 1))
done < <(find "$root/tests" "$root/examples" \( -name '*.yaml' -o -name '*.yml' \) -print0 2>/dev/null)
echo "make-seeds: $r YAML files in $top/resources"

# OUT_DIR/resiliency/ (for fuzz_resiliency): a cron schedule line, then a
# resources file (the Resiliency documents of the tests and a few schedules).
mkdir -p "$top/resiliency"
i=0
for sched in "*/15 * * * * *" "@every 15s" "0 30 9 * JAN-MAR MON-FRI" "@daily" "0 0 0 29 2 *"; do
  printf '%s\n' "$sched" >"$top/resiliency/sched$i" && i=$((i + 1))
done
cat >"$top/resiliency/res$i" <<'YAML'
@hourly
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: seed}
spec:
  policies:
    timeouts: {general: 5s, DefaultTimeoutPolicy: 1m30s}
    retries:
      r: {policy: exponential, maxInterval: 15s, maxRetries: -1, matching: {httpStatusCodes: "429,500-599"}}
      DefaultAppRetryPolicy: {policy: constant, duration: 200ms, maxRetries: 3}
    circuitBreakers:
      cb: {maxRequests: 2, interval: 8s, timeout: 1s, trip: "consecutiveFailures >= 2 || requests > 10 && totalFailures > 3"}
  targets:
    apps: {a: {timeout: general, retry: r, circuitBreaker: cb}}
    components: {statestore: {outbound: {retry: r, circuitBreaker: cb}, inbound: {timeout: 2s}}}
YAML
i=$((i + 1))
echo "make-seeds: $i inputs in $top/resiliency"

# OUT_DIR/grpc/ (for fuzz_grpc): HTTP/2 frames after the client preface: a
# whole unary GetState call, one with grpc-timeout, an oversized message
# prefix, a reset stream and a PING; streams on the target's echo method.
mkdir -p "$top/grpc"
python3 - "$top/grpc" <<'PY'
import struct, sys
out = sys.argv[1]
def frame(t, f, sid, p=b""): return struct.pack(">I", len(p))[1:] + bytes([t, f]) + struct.pack(">I", sid) + p
def lit(n, v): return b"\x00" + bytes([len(n)]) + n.encode() + bytes([len(v)]) + v.encode()
def hdrs(extra=b"", path="/dapr.proto.runtime.v1.Dapr/GetState"):
    return (lit(":method", "POST") + lit(":scheme", "http") + lit(":path", path) +
            lit(":authority", "x") + lit("content-type", "application/grpc") + lit("te", "trailers") + extra)
msg = b"\x0a\x0astatestore\x12\x01k"
grpc = b"\x00" + struct.pack(">I", len(msg)) + msg
import gzip
zmsg = gzip.compress(msg)
gz = b"\x01" + struct.pack(">I", len(zmsg)) + zmsg
seeds = {
    "call": frame(4, 0, 0) + frame(1, 4, 1, hdrs()) + frame(0, 1, 1, grpc),
    "timeout": frame(4, 0, 0) + frame(1, 4, 1, hdrs(lit("grpc-timeout", "1m"))) + frame(0, 1, 1, grpc),
    "big": frame(4, 0, 0) + frame(1, 4, 1, hdrs()) + frame(0, 1, 1, b"\x00\x7f\xff\xff\xff" + b"x" * 20),
    "reset": frame(4, 0, 0) + frame(1, 4, 1, hdrs()) + frame(3, 0, 1, b"\x00\x00\x00\x08") + frame(6, 0, 0, b"12345678"),
    "two": frame(4, 0, 0) + frame(1, 5, 1, hdrs()) + frame(1, 4, 3, hdrs()) + frame(0, 0, 3, grpc[:4]) + frame(0, 1, 3, grpc[4:]),
    # the target's echo stream (paths "/s..."): messages split across frames, a small window, then half-close
    "stream": frame(4, 0, 0, b"\x00\x04\x00\x00\x00\x10") + frame(1, 4, 1, hdrs(path="/stream")) + frame(0, 0, 1, grpc + grpc[:3]) +
              frame(0, 0, 1, grpc[3:]) + frame(0, 0, 1, b"\x00\x00\x00\x00\x01x") + frame(0, 1, 1, grpc),
    "stream_rst": frame(4, 0, 0) + frame(1, 4, 1, hdrs(path="/s")) + frame(0, 0, 1, grpc) + frame(3, 0, 1, b"\x00\x00\x00\x08"),
    # grpc-encoding gzip: a compressed unary call and compressed stream messages
    "gzip": frame(4, 0, 0) + frame(1, 4, 1, hdrs(lit("grpc-encoding", "gzip"))) + frame(0, 1, 1, gz),
    "gzip_stream": frame(4, 0, 0) + frame(1, 4, 1, hdrs(lit("grpc-encoding", "gzip"), path="/s")) + frame(0, 0, 1, gz) +
                   frame(0, 1, 1, grpc),
}
for k, v in seeds.items():
    open(f"{out}/{k}", "wb").write(v)
PY
echo "make-seeds: $(ls "$top/grpc" | wc -l) inputs in $top/grpc"
# OUT_DIR/grpc_client/ (for fuzz_grpc_client): what an app sends back after its
# SETTINGS to the client's three calls (streams 1, 3, 5): answers with
# trailers, a trailers-only error, an HTTP error status, a GOAWAY, a reset,
# an oversized message prefix.
mkdir -p "$top/grpc_client"
python3 - "$top/grpc_client" <<'PY'
import struct, sys
out = sys.argv[1]
def frame(t, f, sid, p=b""): return struct.pack(">I", len(p))[1:] + bytes([t, f]) + struct.pack(">I", sid) + p
def lit(n, v): return b"\x00" + bytes([len(n)]) + n.encode() + bytes([len(v)]) + v.encode()
head = lit(":status", "200") + lit("content-type", "application/grpc")
msg = b"\x0a\x02\x12\x00\x12\x04text"
grpc = b"\x00" + struct.pack(">I", len(msg)) + msg
ok = lambda sid: frame(1, 4, sid, head + lit("x-app", "1")) + frame(0, 0, sid, grpc) + frame(1, 5, sid, lit("grpc-status", "0"))
seeds = {
    "ok": frame(4, 1, 0) + ok(1) + ok(3) + ok(5),
    "errors": frame(4, 1, 0) + frame(1, 5, 1, head + lit("grpc-status", "5") + lit("grpc-message", "no%20such")) +
              frame(1, 5, 3, lit(":status", "503")) + frame(3, 0, 5, b"\x00\x00\x00\x07"),
    "goaway": frame(4, 1, 0) + ok(1) + frame(7, 0, 0, struct.pack(">II", 1, 0)),
    "split": frame(4, 1, 0) + frame(1, 4, 1, head) + frame(0, 0, 1, grpc[:3]) + frame(0, 0, 1, grpc[3:]) +
             frame(0, 0, 1, grpc) + frame(1, 5, 1, lit("grpc-status", "0")),
    "big": frame(4, 1, 0) + frame(1, 4, 1, head) + frame(0, 0, 1, b"\x00\x7f\xff\xff\xff" + b"x" * 30),
    "ping": frame(4, 1, 0) + frame(6, 0, 0, b"12345678") + frame(8, 0, 0, b"\x00\x01\x00\x00") + ok(3),
}
for k, v in seeds.items():
    open(f"{out}/{k}", "wb").write(v)
PY
echo "make-seeds: $(ls "$top/grpc_client" | wc -l) inputs in $top/grpc_client"
# OUT_DIR/http/ (for fuzz_http): what clients send on one connection: API
# calls, pipelines, chunked bodies, Expect, percent-encoded paths, the
# invocation forms (path, dapr-app-id header, basic auth) and hostile framing.
mkdir -p "$top/http"
h=0
http_seed() { printf '%b' "$1" >"$top/http/seed$h"; h=$((h + 1)); }
http_seed 'GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n\r\n'
http_seed 'GET /v1.0/healthz/outbound HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.0/metadata HTTP/1.1\r\nHost: x\r\n\r\n'
http_seed 'POST /v1.0/state/statestore HTTP/1.1\r\nHost: x\r\nContent-Length: 25\r\n\r\n[{"key":"k","value":"v"}]'
http_seed 'GET /v1.0/state/s%2Fx/k%00y?metadata.a=b&x=%zz HTTP/1.1\r\nHost: x\r\n\r\n'
http_seed 'POST /v1.0/publish/pubsub/topic HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
http_seed 'PUT /v1.0/invoke/fuzz/method/a/../b%2e%2e/c?q=1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi'
http_seed 'GET /v1.0/invoke/http%3A%2F%2F127.0.0.1%3A1/method/ HTTP/1.1\r\nHost: x\r\n\r\n'
http_seed 'GET /orders/1 HTTP/1.1\r\nHost: x\r\ndapr-app-id: fuzz\r\n\r\n'
http_seed 'GET /orders HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ZGFwci1hcHAtaWQ6ZnV6eg==\r\n\r\n'
http_seed 'POST /v1.0/bindings/b HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{"operation":"get"}x'
http_seed 'POST /v1.0-alpha1/publish/bulk/pubsub/t HTTP/1.0\r\nContent-Length: 2\r\n\r\n[]'
http_seed 'POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc'
http_seed 'GET / HTTP/9.9\r\nHost: a\r\nHost: b\r\n X-Fold: c\r\n\r\n'
# streamed invocation bodies (over the harness's 16 bytes): answered before the body is read, with a pipelined
# request behind (a half-closed client once waited out the 5 s linger), and a chunked one past 16 bytes
http_seed 'POST /v1.0/invoke/other/method/y HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\n\r\n0123456789012345678901234567890123456789GET /v1.0/metadata HTTP/1.1\r\nHost: b\r\n\r\n'
http_seed 'POST /v1.0/invoke/fuzz/method/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n14\r\naaaaaaaaaaaaaaaaaaaa\r\n5\r\nbbbbb\r\n0\r\n\r\nGET /v1.0/healthz HTTP/1.1\r\nHost: a\r\n\r\n'
echo "make-seeds: $h inputs in $top/http"

# OUT_DIR/wagi/ (for fuzz_wagi): CGI responses (first byte 0) and requests for the CGI
# environment (first byte 1: method, target, header name/value pairs separated by NUL).
mkdir -p "$top/wagi"
printf '\000Status: 404 Not Found\r\nContent-Type: text/plain\r\nLocation: /x\r\n\r\nbody' >"$top/wagi/resp0"
printf '\000Content-Type: text/html\n\n<p>hi</p>' >"$top/wagi/resp1"
printf '\001POST\000/orders/%%41?x=1&y=2\000Content-Type\000application/json\000X-Trace\000abc' >"$top/wagi/req0"
echo "make-seeds: 3 WAGI inputs in $top/wagi"
# OUT_DIR/component/ (for fuzz_component): small components written here in the
# component text format and encoded with jco's parse (scripts/npm), plus the
# bare preamble. Skipped when node or jco is missing.
mkdir -p "$top/component"
printf '\000asm\015\000\001\000' >"$top/component/empty"
jco_api=$root/scripts/npm/node_modules/@bytecodealliance/jco/dist/api.js
if command -v node >/dev/null && [ -f "$jco_api" ]; then
  JCO_API=$jco_api OUT=$top/component node --input-type=module <<'JS' || echo "make-seeds: jco parse failed" >&2
const { parse } = await import(process.env.JCO_API);
const fs = await import('node:fs');
const seeds = [
  `(component
    (core module $m (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
      (func (export "greet") (param i32 i32) (result i32) i32.const 0)
      (func (export "post") (param i32)))
    (core instance $i (instantiate $m))
    (alias core export $i "mem" (core memory $mem))
    (alias core export $i "realloc" (core func $realloc))
    (alias core export $i "greet" (core func $greet))
    (alias core export $i "post" (core func $post))
    (func (export "greet") (param "name" string) (result string)
      (canon lift (core func $greet) (memory $mem) (realloc $realloc) (post-return $post))))`,
  `(component
    (import "wasi:cli/environment@0.2.3" (instance
      (export "get-environment" (func (result (list (tuple string string)))))))
    (import "log" (func $log (param "msg" string)))
    (core module $mem (memory (export "m") 1))
    (core instance $mi (instantiate $mem))
    (alias core export $mi "m" (core memory $m))
    (core func $l (canon lower (func $log) (memory $m)))
    (core module $user (import "host" "log" (func (param i32 i32))))
    (core instance (instantiate $user (with "host" (instance (export "log" (func $l)))))))`,
  `(component
    (type $r (resource (rep i32)))
    (core func $new (canon resource.new $r))
    (core func $drop (canon resource.drop $r))
    (core func $rep (canon resource.rep $r))
    (type $pt (record (field "x" s32) (field "y" s32)))
    (type $sh (variant (case "circle" f32) (case "rect" $pt) (case "none")))
    (type $f (flags "a" "b" "c"))
    (type $e (enum "x" "y"))
    (type $o (option $sh))
    (type $res (result $o (error string)))
    (type $own (own $r))
    (type $bor (borrow $r))
    (export "r" (type $r)))`,
  `(component
    (component $inner
      (import "x" (func $x (param "a" u64) (result u32)))
      (export "y" (func $x)))
    (import "f" (func $f (param "a" u64) (result u32)))
    (instance $i (instantiate $inner (with "x" (func $f))))
    (export "g" (func $i "y")))`,
  `(component
    (type $t (instance
      (export "r" (type $r (sub resource)))
      (export "[constructor]r" (func (result (own $r))))
      (export "[method]r.get" (func (param "self" (borrow $r)) (result string)))))
    (import "wasi:io/streams@0.2.0" (instance (type $t))))`,
  // the fuzz linker's typed names (fuzz_component.c): one import that matches, others that do not
  `(component
    (import "f" (func))
    (import "g" (func (param "a" u32) (param "b" string) (result (list u8))))
    (import "i" (instance
      (export "r" (type $r (sub resource)))
      (type $t (record (field "a" u64) (field "b" f32)))
      (export "t" (type $t2 (eq $t)))
      (export "f" (func (param "x" (borrow $r)) (param "y" (option $t2)) (result (result (own $r) (error $t2)))))
      (type $fl (flags "x" "y"))
      (export "fl" (type $fl2 (eq $fl)))
      (type $v (variant (case "a") (case "b" (tuple s8 char)) (case "c" (list $fl2))))
      (export "v" (type $v2 (eq $v)))
      (type $e (enum "p" "q"))
      (export "e" (type $e2 (eq $e)))
      (export "g" (func (param "v" $v2) (result $e2)))))
    (import "log" (func (param "msg" (list u8)))))`,
  `(component
    (core type $ft (func (param i32) (result i32)))
    (core type $mt (module (type (func (param i32))) (import "a" "b" (func (type 0))) (export "c" (memory 1))))
    (import "m" (core module (type $mt))))`,
];
for (const [i, text] of seeds.entries()) {
  try {
    fs.writeFileSync(`${process.env.OUT}/seed${i}.wasm`, Buffer.from(await parse(text)));
  } catch (e) {
    console.error(`make-seeds: component seed ${i}: ${String(e).split('\n')[0].slice(0, 300)}`);
  }
}
JS
fi
echo "make-seeds: $(find "$top/component" -type f | wc -l) components in $top/component"
# OUT_DIR/state_query/ (for fuzz_state_query): query bodies.
mkdir -p "$top/state_query"
q=0
for body in '{}' '{"filter":{"EQ":{"person.org":"Dev Ops"}}}' \
  '{"filter":{"OR":[{"EQ":{"state":"CA"}},{"AND":[{"GT":{"person.id":1000}},{"IN":{"state":["WA",null]}}]}]},"sort":[{"key":"person.id","order":"DESC"}],"page":{"limit":2,"token":"1"}}' \
  '{"filter":{"NEQ":{"x":[1,2]}},"sort":[{"key":"b"}]}' '{"page":{"token":"abc"}}'; do
  printf '%s' "$body" >"$top/state_query/q$q" && q=$((q + 1))
done
echo "make-seeds: $q inputs in $top/state_query"
# OUT_DIR/localstorage/ (for fuzz_localstorage): file names, then data.
mkdir -p "$top/localstorage"
l=0
for input in 'a.txt' '../../etc/passwd' '/abs/x' 'sub/up/up/../x' 'slash/etc/shadow' 'loop1' \
  $'x\n"quoted\\n\\u00e9"' $'y\naGVsbG8=' $'z\n`raw`'; do
  printf '%s' "$input" >"$top/localstorage/l$l" && l=$((l + 1))
done
echo "make-seeds: $l inputs in $top/localstorage"
# OUT_DIR/protojson/ (for fuzz_protojson): google.rpc.Status with details, raw
# (first byte even) and as base64 trailer text (first byte odd).
mkdir -p "$top/protojson"
python3 - "$top/protojson" <<'PY'
import base64, sys
def v(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out
def f(num, payload):  # a length-delimited field
    return v(num << 3 | 2) + v(len(payload)) + payload
def any_(name, body):
    return f(1, b"type.googleapis.com/" + name) + f(2, body)
info = f(1, b"REASON") + f(2, b"dapr.io") + f(3, f(1, b"k") + f(2, b"v"))
retry = f(1, v(1 << 3) + v(1) + v(2 << 3) + v(500000000))
bad = f(1, f(1, b"qty") + f(2, b"must be positive"))
status = v(1 << 3) + v(3) + f(2, b"m") + f(3, any_(b"google.rpc.ErrorInfo", info)) + \
    f(3, any_(b"google.rpc.RetryInfo", retry)) + f(3, any_(b"google.rpc.BadRequest", bad)) + \
    f(3, any_(b"google.protobuf.Duration", v(1 << 3) + v(7)))
seeds = [b"\x00" + status, b"\x01" + base64.b64encode(status), b"\x00" + f(3, any_(b"acme.Custom", b"\x08\x01"))]
for i, s in enumerate(seeds):
    open(f"{sys.argv[1]}/p{i}", "wb").write(s)
PY
echo "make-seeds: $(find "$top/protojson" -type f | wc -l) inputs in $top/protojson"
