;; list<u8> crosses the canonical ABI as one byte array (WG_CVAL_BYTES):
;; host -> guest -> host, between two components (memory to memory), the
;; bounds and alignment rules, and a list<u8> larger than the 64M-element cap
;; of lists lifted value by value.

(component
  (core module $M
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    ;; (ptr, len) back through a return area
    (func (export "ret2") (param i32 i32) (result i32)
      (i32.store (i32.const 8) (local.get 0))
      (i32.store (i32.const 12) (local.get 1))
      (i32.const 8))
    ;; the sum of the bytes
    (func (export "sum") (param $p i32) (param $n i32) (result i32)
      (local $s i32)
      (block $done
        (loop $l
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))
      (local.get $s))
    ;; a list past the end of memory
    (func (export "oob") (result i32)
      (i32.store (i32.const 8) (i32.const 65530))
      (i32.store (i32.const 12) (i32.const 7))
      (i32.const 8)))
  (core instance $m (instantiate $M))
  (alias core export $m "mem" (core memory $mem))
  (alias core export $m "realloc" (core func $realloc))
  (func (export "echo") (param "b" (list u8)) (result (list u8))
    (canon lift (core func $m "ret2") (memory $mem) (realloc $realloc)))
  (func (export "sum") (param "b" (list u8)) (result u32)
    (canon lift (core func $m "sum") (memory $mem) (realloc $realloc)))
  (func (export "oob") (result (list u8)) (canon lift (core func $m "oob") (memory $mem))))
(assert_return (invoke "echo" (list.const (u8.const 1) (u8.const 0) (u8.const 255) (u8.const 7)))
  (list.const (u8.const 1) (u8.const 0) (u8.const 255) (u8.const 7)))
(assert_return (invoke "echo" (list.const)) (list.const))
(assert_return (invoke "sum" (list.const (u8.const 200) (u8.const 100) (u8.const 3))) (u32.const 303))
(assert_trap (invoke "oob") "list pointer/length out of bounds of memory")

;; component to component: the caller's bytes reach the callee's memory and
;; the callee's result comes back into the caller's, one copy each way
(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 4096))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $bump))
        (global.set $bump (i32.add (local.get $p) (local.get 3)))
        (local.get $p))
      ;; reverse in place, return (ptr, len) through a return area
      (func (export "rev") (param $p i32) (param $n i32) (result i32)
        (local $i i32) (local $j i32) (local $t i32)
        (local.set $j (i32.sub (i32.add (local.get $p) (local.get $n)) (i32.const 1)))
        (local.set $i (local.get $p))
        (block $done
          (loop $l
            (br_if $done (i32.ge_s (local.get $i) (local.get $j)))
            (local.set $t (i32.load8_u (local.get $i)))
            (i32.store8 (local.get $i) (i32.load8_u (local.get $j)))
            (i32.store8 (local.get $j) (local.get $t))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $l)))
        (i32.store (i32.const 8) (local.get $p))
        (i32.store (i32.const 12) (local.get $n))
        (i32.const 8)))
    (core instance $m (instantiate $M))
    (func (export "rev") (param "b" (list u8)) (result (list u8))
      (canon lift (core func $m "rev") (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  (instance $callee (instantiate $Callee))
  (core module $Mem
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 8192))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $bump))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $mem (instantiate $Mem))
  (core func $rev (canon lower (func $callee "rev") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
  (core module $Caller
    (import "" "mem" (memory 1))
    (import "" "rev" (func $rev (param i32 i32 i32)))
    ;; writes 1 2 3 4 5 at 100, reverses it through the callee, and returns
    ;; the first byte of the result times 10 plus its length: 55
    (func (export "run") (result i32)
      (i32.store (i32.const 100) (i32.const 0x04030201))
      (i32.store8 (i32.const 104) (i32.const 5))
      (call $rev (i32.const 100) (i32.const 5) (i32.const 16))
      (i32.add (i32.mul (i32.load8_u (i32.load (i32.const 16))) (i32.const 10))
               (i32.load (i32.const 20))))
    ;; the caller's own bytes are untouched
    (func (export "orig") (result i32) (i32.load8_u (i32.const 100))))
  (core instance $c (instantiate $Caller (with "" (instance
    (export "mem" (memory $mem "mem")) (export "rev" (func $rev))))))
  (func (export "run") (result u32) (canon lift (core func $c "run")))
  (func (export "orig") (result u32) (canon lift (core func $c "orig"))))
(assert_return (invoke "run") (u32.const 55))
(assert_return (invoke "orig") (u32.const 1))

;; a list<u8> of 64M+1 bytes lifts (the element cap is for lists of values)
(component
  (core module $M
    (memory (export "mem") 1025)
    (func (export "huge") (result i32)
      (i32.store (i32.const 8) (i32.const 0))
      (i32.store (i32.const 12) (i32.const 0x4000001))
      (i32.const 8)))
  (core instance $m (instantiate $M))
  (func (export "huge") (result (list u8)) (canon lift (core func $m "huge") (memory (core memory $m "mem")))))
(invoke "huge")

;; guest -> host: strings and list<u8> reach the host as views of the
;; guest's memory (cm_driver defines wasmgate:test/host), with the same
;; checks as every lift: UTF-8, bounds, char values
(component
  (import "wasmgate:test/host" (instance $h
    (export "str-len" (func (param "s" string) (param "extra" u32) (result u32)))
    (export "bytes-sum" (func (param "b" (list u8)) (result u32)))
    (export "char-id" (func (param "c" char) (result char)))))
  (core module $Mem
    (memory (export "mem") 1)
    (data (i32.const 16) "h\c3\a9llo wasm, a longer string\ff\01\02\03"))
  (core instance $mem (instantiate $Mem))
  (core func $str-len (canon lower (func $h "str-len") (memory (core memory $mem "mem"))))
  (core func $bytes-sum (canon lower (func $h "bytes-sum") (memory (core memory $mem "mem"))))
  (core func $char-id (canon lower (func $h "char-id")))
  (core module $M
    (import "" "str-len" (func $str-len (param i32 i32 i32) (result i32)))
    (import "" "bytes-sum" (func $bytes-sum (param i32 i32) (result i32)))
    (import "" "char-id" (func $char-id (param i32) (result i32)))
    ;; "héllo wasm, a longer string": 28 bytes, plus 100
    (func (export "len") (result i32) (call $str-len (i32.const 16) (i32.const 28) (i32.const 100)))
    ;; the 0xff byte is not UTF-8
    (func (export "bad") (result i32) (call $str-len (i32.const 16) (i32.const 29) (i32.const 0)))
    ;; a string past the end of memory
    (func (export "oob") (result i32) (call $str-len (i32.const 65530) (i32.const 7) (i32.const 0)))
    ;; 0xff + 1 + 2 + 3
    (func (export "sum") (result i32) (call $bytes-sum (i32.const 44) (i32.const 4)))
    (func (export "sum-oob") (result i32) (call $bytes-sum (i32.const 65535) (i32.const 2)))
    (func (export "char") (param i32) (result i32) (call $char-id (local.get 0))))
  (core instance $m (instantiate $M (with "" (instance
    (export "str-len" (func $str-len)) (export "bytes-sum" (func $bytes-sum)) (export "char-id" (func $char-id))))))
  (func (export "len") (result u32) (canon lift (core func $m "len")))
  (func (export "bad") (result u32) (canon lift (core func $m "bad")))
  (func (export "oob") (result u32) (canon lift (core func $m "oob")))
  (func (export "sum") (result u32) (canon lift (core func $m "sum")))
  (func (export "sum-oob") (result u32) (canon lift (core func $m "sum-oob")))
  (func (export "char") (param "c" u32) (result u32) (canon lift (core func $m "char"))))
(assert_return (invoke "len") (u32.const 128))
(assert_trap (invoke "bad") "invalid utf-8")
(assert_trap (invoke "oob") "string pointer/length out of bounds of memory")
(assert_return (invoke "sum") (u32.const 261))
(assert_trap (invoke "sum-oob") "list pointer/length out of bounds of memory")
(assert_return (invoke "char" (u32.const 0x41)) (u32.const 0x41))
(assert_trap (invoke "char" (u32.const 0xd800)) "invalid `char` bit pattern")
