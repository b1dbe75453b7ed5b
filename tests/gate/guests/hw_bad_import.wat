;; hw_bad_import.wat: imports a function http_handler does not have.
(module
  (import "http_handler" "get_everything" (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
