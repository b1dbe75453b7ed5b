;; bw_unknown_import.wat: a WASI command that imports a function no host
;; provides: bindings.wasm must refuse it at start, naming the import.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "nope" (func $nope))
  (memory (export "memory") 1)
  (func (export "_start") (call $nope)))
