;; hw_start_spin.wat: a guest whose _start spins (about a quarter second on the
;; interpreter), then continues to next and does nothing else. For
;; pipeline_shutdown_race.py: a call waits for an instance being made while the sidecar stops.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i32)
    (local.set $i (i32.const 40000000))
    (loop $spin
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $spin (local.get $i))))
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
