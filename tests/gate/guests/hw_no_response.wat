;; hw_no_response.wat: does not export handle_response.
(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 1)))
