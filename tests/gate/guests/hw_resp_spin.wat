;; hw_resp_spin.wat: no body imports; buffer_response (enabled in _start,
;; so it may set headers after next); handle_response spins for a while (long
;; enough to be parked between time slices) and then sets response header
;; x-spun: yes. Used to stream an answer whose head waits for a parked guest.
(module
  (import "http_handler" "enable_features" (func $enable (param i32) (result i32)))
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-spun")
  (data (i32.const 16) "yes")
  (func (export "_start") (drop (call $enable (i32.const 2))))
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32) (local $i i32)
    (local.set $i (i32.const 30000000))
    (loop $l
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l (local.get $i)))
    (call $set_header (i32.const 1) (i32.const 0) (i32.const 6) (i32.const 16) (i32.const 3))))
