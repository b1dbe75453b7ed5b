;; hw_answer.wat: answers every request itself (next is not called):
;; 418, content-type text/plain, body "short and stout".
(module
  (import "http_handler" "set_status_code" (func $set_status (param i32)))
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "content-type")
  (data (i32.const 16) "text/plain")
  (data (i32.const 32) "short and stout")
  (func (export "handle_request") (result i64)
    (call $set_header (i32.const 1) (i32.const 0) (i32.const 12) (i32.const 16) (i32.const 10))
    (call $set_status (i32.const 418))
    (call $write_body (i32.const 1) (i32.const 32) (i32.const 15))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32) unreachable))
