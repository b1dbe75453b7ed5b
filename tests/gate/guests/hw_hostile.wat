;; hw_hostile.wat: misbehaves when asked by the first byte of request header
;; x-hostile: l = infinite loop, b = memory bomb (grows until refused, then
;; traps), r = unbounded recursion, u = unreachable, d = divide by zero,
;; w = writes the response body forever, h = adds response headers forever.
;; Otherwise it continues to next.
(module
  (import "http_handler" "get_header_values" (func $values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "add_header_value" (func $add_header (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-hostile")
  (func $recurse (param $n i32) (result i32) (i32.add (call $recurse (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
  (func (export "handle_request") (result i64) (local $op i32)
    (if (i64.ne (call $values (i32.const 0) (i32.const 0) (i32.const 9) (i32.const 0x1000) (i32.const 64)) (i64.const 0))
      (then (local.set $op (i32.load8_u (i32.const 0x1000)))))
    (if (i32.eq (local.get $op) (i32.const 108)) (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $op) (i32.const 98))
      (then (loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable))
    (if (i32.eq (local.get $op) (i32.const 114)) (then (drop (call $recurse (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 117)) (then unreachable))
    (if (i32.eq (local.get $op) (i32.const 119))
      (then (loop $w (call $write_body (i32.const 1) (i32.const 0) (i32.const 65536)) (br $w))))
    (if (i32.eq (local.get $op) (i32.const 104))
      (then (loop $h (call $add_header (i32.const 1) (i32.const 0) (i32.const 9) (i32.const 0) (i32.const 9)) (br $h))))
    (if (i32.eq (local.get $op) (i32.const 100)) (then (drop (i32.div_u (i32.const 1) (i32.sub (local.get $op) (i32.const 100))))))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
