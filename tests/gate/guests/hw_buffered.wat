;; hw_buffered.wat: buffer_request and buffer_response (enabled in _start).
;; handle_request reads the whole request body (next must still see all of
;; it). handle_response sets the status to next's + 1, removes x-drop, sets
;; x-wrapped, and replaces next's body with "wrapped:" + next's body.
(module
  (import "http_handler" "enable_features" (func $enable (param i32) (result i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "get_status_code" (func $get_status (result i32)))
  (import "http_handler" "set_status_code" (func $set_status (param i32)))
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (import "http_handler" "remove_header" (func $remove_header (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "wrapped:")
  (data (i32.const 16) "x-drop")
  (data (i32.const 32) "x-wrapped")
  (data (i32.const 48) "1")
  (func (export "_start") (drop (call $enable (i32.const 3))))
  (func (export "handle_request") (result i64)
    (loop $l (br_if $l (i64.eqz (i64.shr_u (call $read_body (i32.const 0) (i32.const 0x2000) (i32.const 4)) (i64.const 32)))))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32) (local $n i32)
    (call $set_status (i32.add (call $get_status) (i32.const 1)))
    (call $remove_header (i32.const 1) (i32.const 16) (i32.const 6))
    (call $set_header (i32.const 1) (i32.const 32) (i32.const 9) (i32.const 48) (i32.const 1))
    (local.set $n (i32.wrap_i64 (call $read_body (i32.const 1) (i32.const 0x3000) (i32.const 8192))))
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 8))
    (call $write_body (i32.const 1) (i32.const 0x3000) (local.get $n))))
