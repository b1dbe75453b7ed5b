;; Tail calls (WebAssembly 3.0): return_call and return_call_indirect run in
;; constant frame space (a million-deep mutual recursion), to a host function
;; (an ordinary call then return), across instances, with the indirect
;; call's traps.
(module $callee
  (func (export "add1") (param i64) (result i64) (i64.add (local.get 0) (i64.const 1))))
(register "callee" $callee)

(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (import "callee" "add1" (func $add1 (param i64) (result i64)))
  (type $ii (func (param i64) (result i64)))
  (table funcref (elem $even $odd $add1 $print))
  (func $even (export "even") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
      (else (return_call_indirect (type $ii) (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))
  (func (export "to_host") (param i32) (return_call $print (local.get 0)))
  (func (export "cross") (param i64) (result i64) (return_call $add1 (local.get 0)))
  (func (export "indirect") (param i64 i32) (result i64)
    (return_call_indirect (type $ii) (local.get 0) (local.get 1)))
  ;; a tail call with more arguments than the caller has params
  (func $sum3 (param i64 i64 i64) (result i64) (i64.add (local.get 0) (i64.add (local.get 1) (local.get 2))))
  (func (export "widen") (param i64) (result i64)
    (return_call $sum3 (local.get 0) (i64.const 10) (i64.const 100))))

(assert_return (invoke "even" (i64.const 1000000)) (i64.const 1))
(assert_return (invoke "even" (i64.const 999999)) (i64.const 0))
(invoke "to_host" (i32.const 7))
(assert_return (invoke "cross" (i64.const 41)) (i64.const 42))
(assert_return (invoke "indirect" (i64.const 5) (i32.const 2)) (i64.const 6))
(assert_trap (invoke "indirect" (i64.const 5) (i32.const 3)) "indirect call type mismatch")
(assert_trap (invoke "indirect" (i64.const 5) (i32.const 9)) "undefined element")
(assert_return (invoke "widen" (i64.const 1)) (i64.const 111))
(assert_invalid (module (func $f (result i32) (i32.const 0)) (func (result i64) (return_call $f))) "type mismatch")
