// as_app.ts: an http-wasm handler written in AssemblyScript as a wasm app (tests/gate/wasm_app_e2e.py):
// the dapr:v1 ABI is not C-specific. GET /count reads a counter from the state store, increments and
// saves it through dapr:v1, and answers the new value; anything else is 404.
// Built with asc from scripts/npm (--runtime stub --use abort=: no env imports).
@external("http_handler", "get_uri")
declare function get_uri(buf: usize, limit: u32): u32;
@external("http_handler", "set_status_code")
declare function set_status_code(code: u32): void;
@external("http_handler", "write_body")
declare function write_body(kind: u32, buf: usize, len: u32): void;
@external("dapr:v1", "state_get")
declare function state_get(store: usize, storeLen: u32, key: usize, keyLen: u32, buf: usize, cap: u32): i64;
@external("dapr:v1", "state_save")
declare function state_save(store: usize, storeLen: u32, key: usize, keyLen: u32, value: usize, valueLen: u32,
                            etag: usize, etagLen: u32, options: i32): i64;

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

function reply(status: u32, body: string): i64 {
  set_status_code(status);
  const b = utf8(body);
  write_body(1, changetype<usize>(b), <u32>b.byteLength);
  return 0;
}

export function handle_request(): i64 {
  const ubuf = new ArrayBuffer(256);
  const n = get_uri(changetype<usize>(ubuf), 256);
  const uri = String.UTF8.decodeUnsafe(changetype<usize>(ubuf), <usize>(n < 256 ? n : 256));
  if (uri != "/count") return reply(404, "not found\n");
  const store = utf8("statestore");
  const key = utf8("as-counter");
  const out = new ArrayBuffer(64);
  const got = state_get(changetype<usize>(store), <u32>store.byteLength, changetype<usize>(key), <u32>key.byteLength,
                        changetype<usize>(out), 64);
  let count: i32 = 0;
  if (got > 0 && got <= 64) count = I32.parseInt(String.UTF8.decodeUnsafe(changetype<usize>(out), <usize>got));
  count++;
  const v = utf8(count.toString());
  const saved = state_save(changetype<usize>(store), <u32>store.byteLength, changetype<usize>(key),
                           <u32>key.byteLength, changetype<usize>(v), <u32>v.byteLength, 0, 0, 0);
  if (saved < 0) return reply(500, "save failed\n");
  return reply(200, "count=" + count.toString() + "\n");
}

export function handle_response(ctx: i32, isError: i32): void {}
