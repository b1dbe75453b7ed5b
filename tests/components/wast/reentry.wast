;; may_enter over ancestors (CanonicalABI.md may_enter_from / entering_set):
;; entering a child also enters its parent, but a call from the child into
;; its parent (a lifted function of the parent passed as the child's import:
;; "donut wrapping") enters nothing new and must not trap; calling the child
;; again from there re-enters it and traps. `run(1)`: host -> P -> C1 -> P
;; (returns 7) -> C1 adds 1000. `run(2)`: ... -> P -> C1 again (through a
;; table, as call_indirect would) -> trap.
(component
  ;; the child: f(x) = back(x) + 1000
  (component $C1
    (import "back" (func $back (param "x" u32) (result u32)))
    (core func $back' (canon lower (func $back)))
    (core module $M
      (import "" "back" (func $back (param i32) (result i32)))
      (func (export "f") (param i32) (result i32) (i32.add (call $back (local.get 0)) (i32.const 1000))))
    (core instance $m (instantiate $M (with "" (instance (export "back" (func $back'))))))
    (func (export "f") (param "x" u32) (result u32) (canon lift (core func $m "f"))))
  (core module $M2
    (import "" "child" (func $child (param i32) (result i32)))
    (func (export "back") (param i32) (result i32)
      ;; x = 1: return 7; x = 2: call the child again (re-entering it)
      (if (result i32) (i32.eq (local.get 0) (i32.const 2))
        (then (call $child (i32.const 1)))
        (else (i32.const 7)))))
  (core module $Tramp
    (table (export "t") 1 funcref)
    (type $ft (func (param i32) (result i32)))
    (func (export "child") (param i32) (result i32) (call_indirect (type $ft) (local.get 0) (i32.const 0))))
  (core instance $tramp (instantiate $Tramp))
  (core instance $m2 (instantiate $M2 (with "" (instance (export "child" (func $tramp "child"))))))
  (func $back (param "x" u32) (result u32) (canon lift (core func $m2 "back")))
  (instance $c1 (instantiate $C1 (with "back" (func $back))))
  (core func $f (canon lower (func $c1 "f")))
  (core module $M1
    (import "" "f" (func $f (param i32) (result i32)))
    (import "" "t" (table 1 funcref))
    (elem (i32.const 0) func $f)
    (func (export "run") (param i32) (result i32) (call $f (local.get 0))))
  (core instance $m1 (instantiate $M1 (with "" (instance (export "f" (func $f)) (export "t" (table $tramp "t"))))))
  (func (export "run") (param "x" u32) (result u32) (canon lift (core func $m1 "run"))))
(assert_return (invoke "run" (u32.const 1)) (u32.const 1007))
(assert_trap (invoke "run" (u32.const 2)) "cannot enter component instance")
