;; Exception handling (WebAssembly 3.0): catches that branch to a loop label
;; and to the function's label, values of every width (v128 included),
;; unwinding through deep recursion, call_indirect and other instances, tag
;; identity across instances (an imported tag matches, an equal-typed one of
;; another instance does not), clause order, exnref passed around and
;; rethrown, and traps that try_table must not catch. Converted by
;; tests/spec/wast2json.mjs (wabt 1.0.32 cannot parse try_table).
(module $a
  (tag $e (export "e") (param i32))
  (tag $other (export "other") (param i32))
  (func (export "throw_e") (param i32) (throw $e (local.get 0)))
  (func (export "throw_other") (param i32) (throw $other (local.get 0))))
(register "a" $a)

(module $b
  (import "a" "e" (tag $e (param i32)))
  (import "a" "throw_e" (func $throw_e (param i32)))
  (import "a" "throw_other" (func $throw_other (param i32)))
  (tag $mine (param i32))
  (tag $wide (param i64 v128 f64))
  (tag $none)
  (table funcref (elem $thrower))
  (global $tries (mut i32) (i32.const 0))
  (func $thrower (param i32) (throw $mine (local.get 0)))
  (func $deep (param i32)
    (if (i32.eqz (local.get 0)) (then (throw $mine (i32.const 77))))
    (call $deep (i32.sub (local.get 0) (i32.const 1))))

  ;; a catch to the function's own label returns the values
  (func (export "to_function") (result i32)
    (try_table (result i32) (catch $mine 0) (throw $mine (i32.const 9))))
  ;; a catch to a loop label retries
  (func $flaky
    (global.set $tries (i32.add (global.get $tries) (i32.const 1)))
    (if (i32.lt_u (global.get $tries) (i32.const 5)) (then (throw $none))))
  (func (export "retry") (result i32)
    (global.set $tries (i32.const 0))
    (loop $again (try_table (catch $none $again) (call $flaky)))
    (global.get $tries))
  ;; several values, v128 among them
  (func (export "wide") (result i64 i32 f64)
    (local $f f64) (local $v v128)
    (block $h (result i64 v128 f64)
      (try_table (catch $wide $h)
        (throw $wide (i64.const -2) (v128.const i32x4 1 2 3 4) (f64.const 2.5)))
      (unreachable))
    (local.set $f)
    (local.set $v)
    (i32x4.extract_lane 3 (local.get $v))
    (local.get $f))
  (func (export "deep") (param i32) (result i32)
    (block $h (result i32) (try_table (result i32) (catch $mine $h) (call $deep (local.get 0)) (i32.const -1))))
  (func (export "indirect") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $mine $h)
        (call_indirect (param i32) (local.get 0) (i32.const 0)) (i32.const -1))))
  ;; the imported tag is $a's: its exceptions match; $a's other tag does not
  (func (export "imported") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h) (call $throw_e (local.get 0)) (i32.const -1))))
  (func (export "other_tag") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h) (call $throw_other (local.get 0)) (i32.const -1))))
  ;; the first matching clause wins
  (func (export "order") (result i32)
    (block $all
      (block $h (result i32)
        (try_table (result i32) (catch $mine $h) (catch_all $all) (throw $mine (i32.const 3))))
      (return))
    (i32.const -1))
  ;; an exnref handed to another function, which rethrows it
  (func $rethrow (param exnref) (throw_ref (local.get 0)))
  (func (export "pass_exnref") (param i32) (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $mine $outer)
        (block $h (result i32 exnref)
          (try_table (result i32) (catch_ref $mine $h) (throw $mine (local.get 0)))
          (unreachable))
        (call $rethrow)
        (drop)
        (i32.const -1))))
  (func (export "throw_null") (throw_ref (ref.null exn)))
  ;; traps are not exceptions
  (func (export "trap_inside") (result i32)
    (block $h (try_table (catch_all $h) (unreachable)))
    (i32.const -1)))

(assert_return (invoke "to_function") (i32.const 9))
(assert_return (invoke "retry") (i32.const 5))
(assert_return (invoke "wide") (i64.const -2) (i32.const 4) (f64.const 2.5))
(assert_return (invoke "deep" (i32.const 10000)) (i32.const 77))
(assert_return (invoke "indirect" (i32.const 5)) (i32.const 5))
(assert_return (invoke "imported" (i32.const 6)) (i32.const 6))
(assert_exception (invoke "other_tag" (i32.const 6)))
(assert_return (invoke "order") (i32.const 3))
(assert_return (invoke "pass_exnref" (i32.const 8)) (i32.const 8))
(assert_trap (invoke "throw_null") "null exception reference")
(assert_trap (invoke "trap_inside") "unreachable")
(assert_invalid (module (tag (param i32)) (func (try_table (catch 0 0)))) "type mismatch")
