;; header.wat: an http-wasm guest written by hand in the WebAssembly text format.
;; It adds the response header `x-wat: hello from wat` and passes every request on
;; (handle_request returns ctx_next = 1: continue, request context 0). It imports only
;; what it uses and needs no WASI.
(module
  (import "http_handler" "set_header_value"
    (func $set_header_value (param $kind i32) (param $name i32) (param $name_len i32)
                            (param $value i32) (param $value_len i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-wat")
  (data (i32.const 16) "hello from wat")

  (func (export "handle_request") (result i64)
    ;; header_kind 1 = response: set before next, merged with the next handler's headers
    (call $set_header_value (i32.const 1) (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 14))
    (i64.const 1))

  (func (export "handle_response") (param $req_ctx i32) (param $is_error i32))
)
