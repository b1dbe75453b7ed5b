;; hw_walltime.wat: reads the WASI wall clock once per request and passes it
;; to next as the request header x-clock (16 hex digits of nanoseconds). Under
;; strictSandbox every instance of one middleware component reads the same
;; fake clock (Dapr makes one per component): two instances alive at once
;; read values exactly 1 ms apart.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-clock")
  (data (i32.const 16) "0123456789abcdef")
  (func (export "handle_request") (result i64)
    (local $t i64) (local $i i32)
    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 64)))
    (local.set $t (i64.load (i32.const 64)))
    ;; 16 hex digits at 128, most significant first
    (local.set $i (i32.const 15))
    (block $done
      (loop $digit
        (i32.store8 (i32.add (i32.const 128) (local.get $i))
          (i32.load8_u (i32.add (i32.const 16) (i32.wrap_i64 (i64.and (local.get $t) (i64.const 15))))))
        (local.set $t (i64.shr_u (local.get $t) (i64.const 4)))
        (br_if $done (i32.eqz (local.get $i)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $digit)))
    (call $set_header (i32.const 0) (i32.const 0) (i32.const 7) (i32.const 128) (i32.const 16))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
