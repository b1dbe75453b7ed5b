;; noop.wat: the cheapest http-wasm guest, for bench/middleware.sh: continue to the next
;; handler and do nothing on the response. No imports.
(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
