;; hw_start_trap.wat: traps in _start (middleware creation must fail).
(module
  (memory (export "memory") 1)
  (func (export "_start") unreachable)
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
