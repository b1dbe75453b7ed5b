;; bench/component/hostcall.wat: a small component for bench_component.
;; `run(n)` calls the imported `log(msg: string)` n times with a 5-byte
;; string (a canon lower: the host lifts the string from linear memory);
;; `id(x)` is the cheapest lifted export.
(component
  (import "log" (func $log (param "msg" string)))
  (core module $Mem
    (memory (export "mem") 1)
    (data (i32.const 16) "hello"))
  (core instance $mem (instantiate $Mem))
  (core func $log' (canon lower (func $log) (memory (core memory $mem "mem"))))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "log" (func $log (param i32 i32)))
    (func (export "run") (param $n i32)
      (block $done
        (loop $l
          (br_if $done (i32.eqz (local.get $n)))
          (call $log (i32.const 16) (i32.const 5))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l))))
    (func (export "id") (param i32) (result i32) (local.get 0)))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem")) (export "log" (func $log'))))))
  (func (export "run") (param "n" u32) (canon lift (core func $m "run")))
  (func (export "id") (param "x" u32) (result u32) (canon lift (core func $m "id"))))
