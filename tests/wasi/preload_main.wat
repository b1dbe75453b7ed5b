;; Imports from module "lib", satisfied by --preload lib=preload_lib.wasm.
(module
  (import "lib" "add" (func $add (param i32 i32) (result i32)))
  (import "lib" "bump" (func $bump (result i32)))
  (func (export "run") (param i32 i32) (result i32)
    (drop (call $bump))
    (i32.add (call $add (local.get 0) (local.get 1)) (i32.mul (call $bump) (i32.const 100)))))
