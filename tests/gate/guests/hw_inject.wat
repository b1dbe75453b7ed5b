;; hw_inject.wat: a hostile guest that hands back values which would split a
;; response or inject a request line (issue 18.13). The request header
;; x-case (one digit) selects the attack; the host must fail the request
;; (500) instead of sending any of it:
;; 0 set_method "GET /x HTTP/1.1\r\nX:"     1 set_uri "/a\r\nX: y"
;; 2 request header value "a\r\nX: y"       3 request header name "X\r\nY"
;; 4 response header value "a\r\nX: y"      5 response header name "a b"
;; 6 set_status_code -1                     7 set_status_code 1000
;; 8 set_status_code 99                     9 response trailer value with NUL
;; Without x-case the guest continues and the request passes (a control).
(module
  (import "http_handler" "get_header_values" (func $values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_method" (func $set_method (param i32 i32)))
  (import "http_handler" "set_uri" (func $set_uri (param i32 i32)))
  (import "http_handler" "set_header_value" (func $set (param i32 i32 i32 i32 i32)))
  (import "http_handler" "set_status_code" (func $status (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "x-case")                    ;; 6
  (data (i32.const 200) "GET /x HTTP/1.1\r\nX:")     ;; 19
  (data (i32.const 300) "/a\r\nX: y")                ;; 8
  (data (i32.const 400) "a\r\nX: y")                 ;; 7
  (data (i32.const 500) "X\r\nY")                    ;; 4
  (data (i32.const 600) "a b")                       ;; 3
  (data (i32.const 700) "x-ok")                      ;; 4
  (data (i32.const 800) "a\00b")                     ;; 3
  (func (export "handle_request") (result i64) (local $c i32)
    (if (i64.eqz (call $values (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 1024) (i32.const 16)))
      (then (return (i64.const 1))))
    (local.set $c (i32.sub (i32.load8_u (i32.const 1024)) (i32.const 48)))
    (block $b9 (block $b8 (block $b7 (block $b6 (block $b5 (block $b4 (block $b3 (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 $b3 $b4 $b5 $b6 $b7 $b8 $b9 (local.get $c)))
      (call $set_method (i32.const 200) (i32.const 19)) (return (i64.const 1)))
      (call $set_uri (i32.const 300) (i32.const 8)) (return (i64.const 1)))
      (call $set (i32.const 0) (i32.const 700) (i32.const 4) (i32.const 400) (i32.const 7)) (return (i64.const 1)))
      (call $set (i32.const 0) (i32.const 500) (i32.const 4) (i32.const 700) (i32.const 4)) (return (i64.const 1)))
      (call $set (i32.const 1) (i32.const 700) (i32.const 4) (i32.const 400) (i32.const 7)) (return (i64.const 0)))
      (call $set (i32.const 1) (i32.const 600) (i32.const 3) (i32.const 700) (i32.const 4)) (return (i64.const 0)))
      (call $status (i32.const -1)) (return (i64.const 0)))
      (call $status (i32.const 1000)) (return (i64.const 0)))
      (call $status (i32.const 99)) (return (i64.const 0)))
    (call $set (i32.const 3) (i32.const 700) (i32.const 4) (i32.const 800) (i32.const 3))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
