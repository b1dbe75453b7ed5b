;; hw_initialize.wat: a WASI reactor (exports _initialize, no _start) that
;; reads its config in _initialize; each request answers with those bytes.
(module
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $len (mut i32) (i32.const 0))
  (func (export "_initialize")
    (global.set $len (call $get_config (i32.const 1024) (i32.const 4096))))
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 1024) (global.get $len))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
