;; hw_no_memory.wat: does not export memory.
(module
  (memory 1)
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
