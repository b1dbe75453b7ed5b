;; hw_control.wat: request rewrites driven by request headers, then next:
;; x-uri -> set_uri(value) (an empty x-uri sets the empty URI), x-method ->
;; set_method(value), x-read: N (one digit) -> reads N bytes of the request
;; body without buffer_request (next then sees the rest), x-prefix -> writes
;; "prefix:" to the response body before next (no buffer_response: the head
;; is committed) and then sets response header x-late (lost).
(module
  (import "http_handler" "get_header_values" (func $values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_uri" (func $set_uri (param i32 i32)))
  (import "http_handler" "set_method" (func $set_method (param i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-uri")
  (data (i32.const 16) "x-method")
  (data (i32.const 32) "x-read")
  (data (i32.const 48) "x-prefix")
  (data (i32.const 64) "prefix:")
  (data (i32.const 80) "x-late")
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
    (if (i32.ge_s (call $get (i32.const 48) (i32.const 8)) (i32.const 0))
      (then
        (call $write_body (i32.const 1) (i32.const 64) (i32.const 7))
        (call $set_header (i32.const 1) (i32.const 80) (i32.const 6) (i32.const 64) (i32.const 6))))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
