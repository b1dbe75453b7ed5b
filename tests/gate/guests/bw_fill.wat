;; bw_fill.wat: a bindings.wasm guest that grows its memory to 4 GiB and
;; fills all of it with one memory.fill: a single bulk operation that only a
;; chunked, deadline-checking engine can interrupt (issue 18 item 7).
(module
  (memory 1 65536)
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const 65535)) (i32.const -1)) (then unreachable))
    (memory.fill (i32.const 0) (i32.const 7) (i32.const -1))))
