;; A wasi_unstable (preview0) program: creates f.txt in the preopen (fd 3),
;; writes 10 bytes, seeks to 2 (preview0 whence SET = 2) and then 3 back from
;; the end (whence END = 1; with preview1's numbering both would differ),
;; reads the file's size and link count from preview0's 56-byte filestat,
;; sleeps 1 ms through poll_oneoff's 56-byte clock subscription, and prints
;; "preview0 ok" when every value is as expected.
(module
  (import "wasi_unstable" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_filestat_get" (func $fstat (param i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "f.txt")
  (data (i32.const 200) "0123456789")
  (data (i32.const 240) "preview0 ok\n")
  (data (i32.const 260) "preview0 BAD\n")
  (func (export "_start") (local $fd i32) (local $ok i32)
    ;; path_open(3, follow, "f.txt", creat|trunc, read|write|seek|filestat rights)
    (local.set $ok (i32.eqz (call $open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 5)
      (i32.const 9) (i64.const 0x20004e) (i64.const 0) (i32.const 0) (i32.const 500))))
    (local.set $fd (i32.load (i32.const 500)))
    ;; iovec {200, 10}
    (i32.store (i32.const 300) (i32.const 200))
    (i32.store (i32.const 304) (i32.const 10))
    (local.set $ok (i32.and (local.get $ok)
      (i32.eqz (call $write (local.get $fd) (i32.const 300) (i32.const 1) (i32.const 504)))))
    ;; seek to 2: preview0 whence 2 = SET
    (local.set $ok (i32.and (local.get $ok)
      (i32.eqz (call $seek (local.get $fd) (i64.const 2) (i32.const 2) (i32.const 512)))))
    (local.set $ok (i32.and (local.get $ok) (i64.eq (i64.load (i32.const 512)) (i64.const 2))))
    ;; seek -3 from the end: preview0 whence 1 = END
    (local.set $ok (i32.and (local.get $ok)
      (i32.eqz (call $seek (local.get $fd) (i64.const -3) (i32.const 1) (i32.const 512)))))
    (local.set $ok (i32.and (local.get $ok) (i64.eq (i64.load (i32.const 512)) (i64.const 7))))
    ;; filestat: nlink u32 at 20, size u64 at 24
    (local.set $ok (i32.and (local.get $ok)
      (i32.eqz (call $fstat (local.get $fd) (i32.const 600)))))
    (local.set $ok (i32.and (local.get $ok) (i32.eq (i32.load (i32.const 620)) (i32.const 1))))
    (local.set $ok (i32.and (local.get $ok) (i64.eq (i64.load (i32.const 624)) (i64.const 10))))
    ;; poll_oneoff: one clock subscription (userdata 77, tag 0, identifier, id 1, timeout 1 ms)
    (i64.store (i32.const 700) (i64.const 77))
    (i32.store8 (i32.const 708) (i32.const 0))
    (i32.store (i32.const 724) (i32.const 1))
    (i64.store (i32.const 732) (i64.const 1000000))
    (local.set $ok (i32.and (local.get $ok)
      (i32.eqz (call $poll (i32.const 700) (i32.const 800) (i32.const 1) (i32.const 900)))))
    (local.set $ok (i32.and (local.get $ok) (i32.eq (i32.load (i32.const 900)) (i32.const 1))))
    (local.set $ok (i32.and (local.get $ok) (i64.eq (i64.load (i32.const 800)) (i64.const 77))))
    ;; print the verdict
    (i32.store (i32.const 300) (select (i32.const 240) (i32.const 260) (local.get $ok)))
    (i32.store (i32.const 304) (select (i32.const 12) (i32.const 13) (local.get $ok)))
    (drop (call $write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 504)))))
