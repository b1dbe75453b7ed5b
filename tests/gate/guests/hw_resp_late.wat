;; hw_resp_late.wat: no body imports and no buffer_response; handle_response
;; sets a response header after next, which the ABI refuses ("can't set
;; response header after next handler unless buffer_response is enabled"):
;; the guest fails in handle_response, so the caller gets 500.
(module
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-late")
  (data (i32.const 16) "yes")
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32)
    (call $set_header (i32.const 1) (i32.const 0) (i32.const 6) (i32.const 16) (i32.const 3))))
