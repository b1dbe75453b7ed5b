;; hw_control.wat: request rewrites driven by request headers, then next:
;; x-uri -> set_uri(value) (an empty x-uri sets the empty URI), x-method ->
;; set_method(value), x-read: N (one digit) -> reads N bytes of the request
;; body without buffer_request (next then sees the rest).
(module
  (import "http_handler" "get_header_values" (func $values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_uri" (func $set_uri (param i32 i32)))
  (import "http_handler" "set_method" (func $set_method (param i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-uri")
  (data (i32.const 16) "x-method")
  (data (i32.const 32) "x-read")
  ;; the first value of header (name, len) at 0x1000; returns its length or -1 when absent
  (func $get (param $n i32) (param $l i32) (result i32) (local $cl i64)
    (local.set $cl (call $values (i32.const 0) (local.get $n) (local.get $l) (i32.const 0x1000) (i32.const 4096)))
    (if (result i32) (i64.eqz (local.get $cl))
      (then (i32.const -1))
      (else (i32.sub (call $strlen (i32.const 0x1000)) (i32.const 0)))))
  (func $strlen (param $p i32) (result i32) (local $q i32)
    (local.set $q (local.get $p))
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (local.get $q))))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $l)))
    (i32.sub (local.get $q) (local.get $p)))
  (func (export "handle_request") (result i64) (local $n i32)
    (local.set $n (call $get (i32.const 0) (i32.const 5)))
    (if (i32.ge_s (local.get $n) (i32.const 0)) (then (call $set_uri (i32.const 0x1000) (local.get $n))))
    (local.set $n (call $get (i32.const 16) (i32.const 8)))
    (if (i32.ge_s (local.get $n) (i32.const 0)) (then (call $set_method (i32.const 0x1000) (local.get $n))))
    (local.set $n (call $get (i32.const 32) (i32.const 6)))
    (if (i32.gt_s (local.get $n) (i32.const 0))
      (then (drop (call $read_body (i32.const 0) (i32.const 0x2000) (i32.sub (i32.load8_u (i32.const 0x1000)) (i32.const 48))))))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
