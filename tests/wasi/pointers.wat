;; Guest pointers: zero-length buffers are valid at any offset, a range past
;; the end of memory is EFAULT (21), and nothing outside memory is touched.
;; Prints "pointers ok" when every errno is as expected.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 200) "pointers ok\n")
  (data (i32.const 220) "pointers BAD\n")
  (func (export "_start") (local $ok i32)
    (local.set $ok (i32.const 1))
    ;; zero iovecs at an out-of-bounds address: fine, 0 written
    (local.set $ok (i32.and (local.get $ok)
      (i32.eqz (call $write (i32.const 1) (i32.const 0xfffffff0) (i32.const 0) (i32.const 100)))))
    (local.set $ok (i32.and (local.get $ok) (i32.eqz (i32.load (i32.const 100)))))
    ;; zero random bytes at the last address: fine
    (local.set $ok (i32.and (local.get $ok) (i32.eqz (call $random (i32.const 0xffffffff) (i32.const 0)))))
    ;; a buffer running past the end: EFAULT
    (local.set $ok (i32.and (local.get $ok) (i32.eq (call $random (i32.const 65530) (i32.const 16)) (i32.const 21))))
    ;; an iovec whose buffer runs past the end: EFAULT
    (i32.store (i32.const 300) (i32.const 65535))
    (i32.store (i32.const 304) (i32.const 2))
    (local.set $ok (i32.and (local.get $ok)
      (i32.eq (call $write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 100)) (i32.const 21))))
    ;; results written past the end: EFAULT
    (local.set $ok (i32.and (local.get $ok) (i32.eq (call $args_sizes (i32.const 65534) (i32.const 0)) (i32.const 21))))
    (local.set $ok (i32.and (local.get $ok) (i32.eq (call $fdstat (i32.const 1) (i32.const 65530)) (i32.const 21))))
    ;; a bad descriptor: EBADF (8)
    (local.set $ok (i32.and (local.get $ok) (i32.eq (call $fdstat (i32.const 77) (i32.const 0)) (i32.const 8))))
    (i32.store (i32.const 300) (select (i32.const 200) (i32.const 220) (local.get $ok)))
    (i32.store (i32.const 304) (select (i32.const 12) (i32.const 13) (local.get $ok)))
    (drop (call $write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 100)))))
