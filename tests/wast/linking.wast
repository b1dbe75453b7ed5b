;; Imports and exports across instances, import matching, and instantiation
;; order: segments apply in order, a failing one traps and leaves the earlier
;; effects in place (spec 4.5.4), and the start function runs last.
(module $base
  (memory (export "mem") 1 4)
  (table (export "tab") 4 10 funcref)
  (global (export "g") (mut i32) (i32.const 10))
  (global (export "k") i64 (i64.const 7))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "bump") (global.set 0 (i32.add (global.get 0) (i32.const 1))))
  (func (export "getg") (result i32) (global.get 0)))
(register "base" $base)

(module $user
  (import "base" "add" (func $add (param i32 i32) (result i32)))
  (import "base" "mem" (memory 1))
  (import "base" "tab" (table 2 funcref))
  (import "base" "g" (global $g (mut i32)))
  (import "base" "k" (global $k i64))
  (type $bin (func (param i32 i32) (result i32)))
  (elem (i32.const 1) $add $local)
  (data (i32.const 100) "\2a")
  (func $local (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1)))
  (func (export "via-table") (param i32 i32 i32) (result i32)
    (call_indirect (type $bin) (local.get 1) (local.get 2) (local.get 0)))
  (func (export "set-g") (param i32) (global.set $g (local.get 0)))
  (func (export "k") (result i64) (global.get $k))
  (func (export "start-ran") (result i32) (i32.load8_u (i32.const 200)))
  (func $start (i32.store8 (i32.const 200) (i32.const 1)))
  (start $start))
(assert_return (invoke $user "via-table" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 5))
(assert_return (invoke $user "via-table" (i32.const 2) (i32.const 2) (i32.const 3)) (i32.const 6))
(assert_trap (invoke $user "via-table" (i32.const 0) (i32.const 2) (i32.const 3)) "uninitialized element")
(assert_return (invoke $base "peek" (i32.const 100)) (i32.const 42))
(assert_return (invoke $user "start-ran") (i32.const 1))
(assert_return (invoke $user "set-g" (i32.const 77)))
(assert_return (invoke $base "getg") (i32.const 77))
(assert_return (invoke $base "bump"))
(assert_return (get $base "g") (i32.const 78))
(assert_return (invoke $user "k") (i64.const 7))

;; Import matching.
(assert_unlinkable (module (import "base" "add" (func (param i32) (result i32)))) "incompatible import type")
(assert_unlinkable (module (import "base" "missing" (func))) "unknown import")
(assert_unlinkable (module (import "base" "g" (global i32))) "incompatible import type")
(assert_unlinkable (module (import "base" "k" (global (mut i64)))) "incompatible import type")
(assert_unlinkable (module (import "base" "mem" (memory 2))) "incompatible import type")
(assert_unlinkable (module (import "base" "mem" (memory 1 2))) "incompatible import type")
(module (import "base" "mem" (memory 1 4)))
(module (import "base" "mem" (memory 0 5)))
(assert_unlinkable (module (import "base" "tab" (table 5 funcref))) "incompatible import type")
(assert_unlinkable (module (import "base" "tab" (table 1 externref))) "incompatible import type")
(assert_unlinkable (module (import "base" "mem" (table 1 funcref))) "incompatible import type")

;; A failing data segment keeps the earlier segments' writes; the start function does not run.
(assert_trap
  (module
    (import "base" "mem" (memory 1))
    (data (i32.const 300) "\05")
    (data (i32.const 65535) "\01\02")
    (func $s (i32.store8 (i32.const 301) (i32.const 9)))
    (start $s))
  "out of bounds memory access")
(assert_return (invoke $base "peek" (i32.const 300)) (i32.const 5))
(assert_return (invoke $base "peek" (i32.const 301)) (i32.const 0))

;; A failing element segment keeps the earlier ones, and stops before data.
(assert_trap
  (module
    (import "base" "tab" (table 1 funcref))
    (import "base" "mem" (memory 1))
    (func $f (result i32) (i32.const 1))
    (elem (i32.const 0) $f)
    (elem (i32.const 9) $f $f)
    (data (i32.const 302) "\06"))
  "out of bounds table access")
(assert_return (invoke $base "peek" (i32.const 302)) (i32.const 0))

;; A trapping start function.
(assert_trap (module (func $s (unreachable)) (start $s)) "unreachable")
