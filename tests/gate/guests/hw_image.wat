;; hw_image.wat: a guest whose memory 0 (4 pages) is made from a copy-on-write image
;; (gate/wasmhost/httpwasm_module.c; docs/engine.md "Memory images"). handle_request answers with
;; header x-img = the 9 bytes of a data segment in the last page, then overwrites them with
;; "CLOBBERED"; a request for "/trap" then traps, which discards the instance (its memory goes back
;; to the image's cache, reset). A pooled instance sees its own write; a new one sees the image.
(module
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "set_header_value" (func $set_header (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 4)
  (data (i32.const 0) "x-img")
  (data (i32.const 16) "CLOBBERED")
  (data (i32.const 196708) "imagedata")
  (func (export "handle_request") (result i64) (local $n i32)
    (local.set $n (call $get_uri (i32.const 64) (i32.const 64)))
    (call $set_header (i32.const 1) (i32.const 0) (i32.const 5) (i32.const 196708) (i32.const 9))
    (memory.copy (i32.const 196708) (i32.const 16) (i32.const 9))
    (if (i32.eq (local.get $n) (i32.const 5)) (then unreachable))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
