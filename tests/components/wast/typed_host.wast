;; Typed host definitions (wg_component_linker_define_func_typed): a
;; component whose import retypes a WASI 0.2 host function is refused at
;; instantiation, naming the import, as wasmtime refuses it. Before, the
;; host function got arguments of kinds it does not check: this component's
;; `write` of a string made wasi:io/streams' write read the string's bytes
;; as an array of values and print garbage (or read past the guest's memory).

;; write's `contents` retyped from list<u8> to string
(assert_unlinkable
  (component
    (import "wasi:io/streams@0.2.3" (instance $streams
      (export "output-stream" (type $os (sub resource)))
      (export "[method]output-stream.write"
        (func (param "self" (borrow $os)) (param "contents" string) (result (result))))))
    (alias export $streams "output-stream" (type $os))
    (import "wasi:cli/stdout@0.2.3" (instance $stdout
      (alias outer 1 $os (type $o))
      (export "output-stream" (type $os2 (eq $o)))
      (export "get-stdout" (func (result (own $os2))))))
    (alias export $stdout "get-stdout" (func $get))
    (alias export $streams "[method]output-stream.write" (func $write))
    (core module $Mem
      (memory (export "mem") 1)
      (data (i32.const 16) "hello from a retyped write\n"))
    (core instance $mem (instantiate $Mem))
    (alias core export $mem "mem" (core memory $m))
    (core func $get_c (canon lower (func $get)))
    (core func $write_c (canon lower (func $write) (memory $m)))
    (core module $Main
      (import "" "get" (func $get (result i32)))
      (import "" "write" (func $write (param i32 i32 i32) (result i32)))
      (func (export "run") (result i32)
        (call $write (call $get) (i32.const 16) (i32.const 27))))
    (core instance $main (instantiate $Main
      (with "" (instance (export "get" (func $get_c)) (export "write" (func $write_c))))))
    (func (export "run") (result u32) (canon lift (core func $main "run"))))
  "component imports instance `wasi:io/streams@0.2.3`, but a matching implementation was not found in the linker: instance export `[method]output-stream.write` has the wrong type: type mismatch in parameter 2 (`contents`)")

;; a handle of another resource: the "pollable" of this wasi:io/poll is the
;; output-stream of wasi:io/streams
(assert_unlinkable
  (component
    (import "wasi:io/streams@0.2.3" (instance $streams (export "output-stream" (type (sub resource)))))
    (alias export $streams "output-stream" (type $os))
    (import "wasi:io/poll@0.2.3" (instance
      (alias outer 1 $os (type $o))
      (export "pollable" (type $p (eq $o)))
      (export "poll" (func (param "in" (list (borrow $p))) (result (list u32)))))))
  "instance export `poll` has the wrong type: type mismatch in parameter 1 (`in`)")

;; a parameter too many
(assert_unlinkable
  (component
    (import "wasi:random/random@0.2.0" (instance
      (export "get-random-u64" (func (param "x" u32) (result u64))))))
  "instance export `get-random-u64` has the wrong type: expected 0 parameters, found 1")

;; a result of another type
(assert_unlinkable
  (component
    (import "wasi:clocks/monotonic-clock@0.2.0" (instance
      (export "now" (func (result u32))))))
  "instance export `now` has the wrong type: type mismatch in the result")

;; a record with a renamed field
(assert_unlinkable
  (component
    (import "wasi:clocks/wall-clock@0.2.0" (instance
      (type $dt (record (field "seconds" u64) (field "nanos" u32)))
      (export "datetime" (type $d (eq $dt)))
      (export "now" (func (result $d))))))
  "instance export `now` has the wrong type: type mismatch in the result")

;; the host test interface, typed too: a top-level-style interface function
(assert_unlinkable
  (component
    (import "wasmgate:test/host" (instance
      (export "bytes-sum" (func (param "b" (list u16)) (result u32))))))
  "instance export `bytes-sum` has the wrong type: type mismatch in parameter 1 (`b`)")

;; the same imports with their real types link (and run)
(component
  (import "wasi:io/error@0.2.3" (instance $err (export "error" (type (sub resource)))))
  (alias export $err "error" (type $error))
  (import "wasi:io/streams@0.2.3" (instance $streams
    (alias outer 1 $error (type $e0))
    (export "error" (type $e (eq $e0)))
    (export "output-stream" (type $os (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $e)) (case "closed")))
    (export "stream-error" (type $se2 (eq $se)))
    (export "[method]output-stream.check-write"
      (func (param "self" (borrow $os)) (result (result u64 (error $se2)))))))
  (import "wasi:clocks/wall-clock@0.2.0" (instance
    (type $dt (record (field "seconds" u64) (field "nanoseconds" u32)))
    (export "datetime" (type $d (eq $dt)))
    (export "now" (func (result $d)))))
  (import "wasmgate:test/host" (instance $host
    (export "bytes-sum" (func (param "b" (list u8)) (result u32)))))
  (core module $Mem
    (memory (export "mem") 1)
    (data (i32.const 16) "\01\02\03"))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "mem" (core memory $m))
  (alias export $host "bytes-sum" (func $sum))
  (core func $sum_c (canon lower (func $sum) (memory $m)))
  (core module $Main
    (import "" "sum" (func $sum (param i32 i32) (result i32)))
    (func (export "run") (result i32) (call $sum (i32.const 16) (i32.const 3))))
  (core instance $main (instantiate $Main (with "" (instance (export "sum" (func $sum_c))))))
  (func (export "run") (result u32) (canon lift (core func $main "run"))))
(assert_return (invoke "run") (u32.const 6))
