;; hw_wasi.wat: a guest that imports WASI: writes "hello from guest" to
;; stdout and "oops" to stderr in _start and in every handle_request, and
;; logs "alert" at info through http_handler.log; with request header x-exit
;; it calls proc_exit(3) instead. Response header x-clock-small is "1" when
;; the monotonic clock reads below one second (the strict sandbox's clock
;; starts at 0), else "0".
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "get_header_values" (func $values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "log_enabled" (func $log_enabled (param i32) (result i32)))
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from guest\n")
  (data (i32.const 32) "oops\n")
  (data (i32.const 48) "alert")
  (data (i32.const 64) "x-debug-enabled")
  (data (i32.const 80) "01")
  (data (i32.const 96) "x-exit")
  (data (i32.const 112) "x-clock-small")
  (func $say
    (i32.store (i32.const 256) (i32.const 0)) (i32.store (i32.const 260) (i32.const 17))
    (drop (call $fd_write (i32.const 1) (i32.const 256) (i32.const 1) (i32.const 300)))
    (i32.store (i32.const 256) (i32.const 32)) (i32.store (i32.const 260) (i32.const 5))
    (drop (call $fd_write (i32.const 2) (i32.const 256) (i32.const 1) (i32.const 300))))
  (func (export "_start") (call $say))
  (func (export "handle_request") (result i64)
    (if (i64.ne (call $values (i32.const 0) (i32.const 96) (i32.const 6) (i32.const 0x1000) (i32.const 64)) (i64.const 0))
      (then (call $proc_exit (i32.const 3))))
    (call $say)
    (call $log (i32.const 0) (i32.const 48) (i32.const 5))
    (call $set_header (i32.const 1) (i32.const 64) (i32.const 15)
      (i32.add (i32.const 80) (call $log_enabled (i32.const -1))) (i32.const 1))
    (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 512)))
    (call $set_header (i32.const 1) (i32.const 112) (i32.const 13)
      (i32.add (i32.const 80) (i64.lt_u (i64.load (i32.const 512)) (i64.const 1000000000))) (i32.const 1))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
