;; hw_resp_names.wat: reports what next's response looks like to a guest.
;; _start enables buffer_response; every request continues, and
;; handle_response puts the response header names (kind 1, sorted,
;; lower-cased) into the response header x-names, comma-separated.
(module
  (import "http_handler" "enable_features" (func $enable (param i32) (result i32)))
  (import "http_handler" "get_header_names" (func $names (param i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "x-names") ;; 7
  (func (export "_start") (drop (call $enable (i32.const 2))))
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32) (local $n i32) (local $k i32)
    (local.set $n (i32.wrap_i64 (call $names (i32.const 1) (i32.const 1024) (i32.const 8192))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
      (if (i32.eqz (i32.load8_u (i32.add (i32.const 1024) (local.get $k))))
        (then (i32.store8 (i32.add (i32.const 1024) (local.get $k)) (i32.const 44))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $l)))
    (call $set (i32.const 1) (i32.const 16) (i32.const 7) (i32.const 1024) (local.get $n))))
