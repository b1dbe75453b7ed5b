;; Imports resolve semver-compatibly (cm_driver defines WASI 0.2 at 0.2.12):
;; 0.2.3 is satisfied by 0.2.12; 0.3.0 and 0.1.9 are not (with unknown
;; imports allowed they are accepted and trap when called).
(component
  (import "wasi:cli/environment@0.2.3" (instance $env
    (export "get-arguments" (func (result (list string))))))
  (import "wasi:cli/environment@0.3.0" (instance $env3
    (export "get-arguments" (func (result (list string))))))
  (import "wasi:cli/environment@0.1.9" (instance $env1
    (export "get-arguments" (func (result (list string))))))
  (core module $Mem
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $mem (instantiate $Mem))
  (core func $args (canon lower (func $env "get-arguments") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
  (core func $args3 (canon lower (func $env3 "get-arguments") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
  (core func $args1 (canon lower (func $env1 "get-arguments") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "args" (func $args (param i32)))
    (import "" "args3" (func $args3 (param i32)))
    (import "" "args1" (func $args1 (param i32)))
    ;; the number of arguments: the list's length at 8 + 4
    (func (export "count") (result i32) (call $args (i32.const 8)) (i32.load (i32.const 12)))
    (func (export "count3") (result i32) (call $args3 (i32.const 8)) (i32.load (i32.const 12)))
    (func (export "count1") (result i32) (call $args1 (i32.const 8)) (i32.load (i32.const 12))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem")) (export "args" (func $args))
    (export "args3" (func $args3)) (export "args1" (func $args1))))))
  (func (export "count") (result u32) (canon lift (core func $m "count")))
  (func (export "count3") (result u32) (canon lift (core func $m "count3")))
  (func (export "count1") (result u32) (canon lift (core func $m "count1")))
)
(assert_return (invoke "count") (u32.const 1))
(assert_trap (invoke "count3") "unimplemented import `wasi:cli/environment@0.3.0#get-arguments`")
(assert_trap (invoke "count1") "unimplemented import `wasi:cli/environment@0.1.9#get-arguments`")
