;; hw_start_config.wat: get_config called from the module's start section
;; (before the instance's exports are known): the config bytes must land in
;; this instance's memory. Each request answers with the bytes the start
;; function received, then "|" and the length get_config returned.
(module
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $len (mut i32) (i32.const -1))
  (data (i32.const 16) "|")
  (func $init
    (global.set $len (call $get_config (i32.const 1024) (i32.const 4096))))
  (start $init)
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 1024) (global.get $len))
    (call $write_body (i32.const 1) (i32.const 16) (i32.const 1))
    ;; the length as one decimal digit (tests use configs shorter than 10 bytes)
    (i32.store8 (i32.const 32) (i32.add (i32.const 48) (global.get $len)))
    (call $write_body (i32.const 1) (i32.const 32) (i32.const 1))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
