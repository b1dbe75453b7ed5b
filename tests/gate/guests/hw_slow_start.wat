;; hw_slow_start.wat: a guest whose _start spins (about a second on the
;; interpreter), then continues to next and does nothing else. The probe of
;; httpwasm_instantiate.py: making an instance must not stall the event loop.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i32)
    (local.set $i (i32.const 150000000))
    (loop $spin
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $spin (local.get $i))))
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
