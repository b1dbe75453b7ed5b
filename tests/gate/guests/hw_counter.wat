;; hw_counter.wat: instance state across requests and pinning. A global
;; counts the requests this instance served; handle_request sets response
;; header x-count (before next) and returns the count as reqCtx;
;; handle_response (buffer_response) sets x-pinned "ok" when reqCtx equals
;; the instance's counter (the same instance), else "bad".
(module
  (import "http_handler" "enable_features" (func $enable (param i32) (result i32)))
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (data (i32.const 0) "x-count")
  (data (i32.const 16) "x-pinned")
  (data (i32.const 32) "okbad")
  (func (export "_start") (drop (call $enable (i32.const 2))))
  (func $dec (param $v i32) (result i32) (local $p i32)
    (local.set $p (i32.const 0x120))
    (loop $l
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $l (local.get $v)))
    (local.get $p))
  (func (export "handle_request") (result i64) (local $p i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (local.set $p (call $dec (global.get $n)))
    (call $set_header (i32.const 1) (i32.const 0) (i32.const 7) (local.get $p) (i32.sub (i32.const 0x120) (local.get $p)))
    (i64.or (i64.shl (i64.extend_i32_u (global.get $n)) (i64.const 32)) (i64.const 1)))
  (func (export "handle_response") (param $ctx i32) (param i32)
    (if (i32.eq (local.get $ctx) (global.get $n))
      (then (call $set_header (i32.const 1) (i32.const 16) (i32.const 8) (i32.const 32) (i32.const 2)))
      (else (call $set_header (i32.const 1) (i32.const 16) (i32.const 8) (i32.const 34) (i32.const 3))))))
