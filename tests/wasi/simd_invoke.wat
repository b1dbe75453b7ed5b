;; --invoke with v128 values (tests/wasi/run.sh): a v128 argument and result
;; as one 128-bit hex integer, as wasmtime takes and prints them.
(module
  (func (export "addsplat") (param v128 i32) (result v128 i32)
    (i32x4.add (local.get 0) (i32x4.splat (local.get 1)))
    (i32x4.extract_lane 3 (local.get 0))))
