;; hw_tag.wat: tags every request with `x-piped: yes` and lets it through;
;; used to see which calls to the app pass the appHttpPipeline.
(module
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-piped")
  (data (i32.const 16) "yes")
  (func (export "handle_request") (result i64)
    (call $set_header (i32.const 0) (i32.const 0) (i32.const 7) (i32.const 16) (i32.const 3))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
