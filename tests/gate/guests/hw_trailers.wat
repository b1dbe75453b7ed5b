;; hw_trailers.wat: the trailers feature (header kinds 2 and 3). _start
;; enables trailers|buffer_response. A GET is answered by the guest: body =
;; the feature digit from _start, then the request trailer names (kind 2) and
;; the values of response trailer x-rt (kind 3) as count_len lists, after
;; setting and adding them. A POST continues; in handle_response the guest
;; adds response trailer x-after (allowed with buffer_response) and reports
;; the kind 3 names in header x-trailers, then sets a request trailer, which
;; traps ("can't set request trailer after next handler") when the request
;; path is /after.
(module
  (import "http_handler" "enable_features" (func $enable (param i32) (result i32)))
  (import "http_handler" "get_method" (func $get_method (param i32 i32) (result i32)))
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "get_header_names" (func $names (param i32 i32 i32) (result i64)))
  (import "http_handler" "get_header_values" (func $values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set (param i32 i32 i32 i32 i32)))
  (import "http_handler" "add_header_value" (func $add (param i32 i32 i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $features (mut i32) (i32.const 0))
  (data (i32.const 100) "x-rt")      ;; 4
  (data (i32.const 110) "x-rq")      ;; 4
  (data (i32.const 120) "one")       ;; 3
  (data (i32.const 130) "two")       ;; 3
  (data (i32.const 140) "x-after")   ;; 7
  (data (i32.const 150) "x-trailers");; 10
  (data (i32.const 170) "\n")
  (func (export "_start")
    (global.set $features (call $enable (i32.const 6))))
  (func $nl (call $write_body (i32.const 1) (i32.const 170) (i32.const 1)))
  ;; writes the low 32 bits (len) of a count_len list at 1024
  (func $list (param $cl i64)
    (call $write_body (i32.const 1) (i32.const 1024) (i32.wrap_i64 (local.get $cl)))
    (call $nl))
  (func (export "handle_request") (result i64)
    (if (i32.eq (call $get_method (i32.const 0) (i32.const 0)) (i32.const 4))
      (then (return (i64.const 1))))
    (i32.store8 (i32.const 200) (i32.add (i32.const 48) (global.get $features)))
    (call $write_body (i32.const 1) (i32.const 200) (i32.const 1))
    (call $nl)
    (call $set (i32.const 2) (i32.const 110) (i32.const 4) (i32.const 120) (i32.const 3))
    (call $list (call $names (i32.const 2) (i32.const 1024) (i32.const 512)))
    (call $set (i32.const 3) (i32.const 100) (i32.const 4) (i32.const 120) (i32.const 3))
    (call $add (i32.const 3) (i32.const 100) (i32.const 4) (i32.const 130) (i32.const 3))
    (call $list (call $values (i32.const 3) (i32.const 100) (i32.const 4) (i32.const 1024) (i32.const 512)))
    ;; trailers are not headers: kind 1 has no x-rt
    (call $list (call $values (i32.const 1) (i32.const 100) (i32.const 4) (i32.const 1024) (i32.const 512)))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32) (local $cl i64)
    (call $add (i32.const 3) (i32.const 140) (i32.const 7) (i32.const 120) (i32.const 3))
    (local.set $cl (call $names (i32.const 3) (i32.const 1024) (i32.const 512)))
    ;; NULs to commas so that the list fits in a header value
    (call $commas (i32.wrap_i64 (local.get $cl)))
    (call $set (i32.const 1) (i32.const 150) (i32.const 10) (i32.const 1024) (i32.wrap_i64 (local.get $cl)))
    ;; "/after" has 6 bytes
    (if (i32.eq (call $get_uri (i32.const 0) (i32.const 0)) (i32.const 6))
      (then (call $set (i32.const 2) (i32.const 110) (i32.const 4) (i32.const 120) (i32.const 3)))))
  (func $commas (param $n i32) (local $k i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
      (if (i32.eqz (i32.load8_u (i32.add (i32.const 1024) (local.get $k))))
        (then (i32.store8 (i32.add (i32.const 1024) (local.get $k)) (i32.const 44))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $l))))
)
