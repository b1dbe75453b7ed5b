/* http_handler.h: write http-wasm guests (Dapr's middleware.http.wasm) in C.
 *
 * Two layers:
 *  1. The raw ABI: every function of the host module `http_handler`, declared with the ABI's names
 *     (prefixed `hh_` in C so that e.g. `log` does not clash with libm) and its exact wasm types:
 *     i32 is int32_t/uint32_t or a pointer (wasm32), i64 is int64_t/uint64_t. The import names are
 *     the ABI's, unprefixed. Reference: http-wasm "HTTP handler ABI" (content/http-handler-abi.md),
 *     summarised in the project's shared/reference/http-wasm-abi.md section 1.
 *  2. Helpers (http_handler_sdk.c): read a method/URI/header/body into a buffer following the
 *     buf/buf_limit size-probing contract, set headers from C strings, write bodies, log.
 *
 * A guest defines `int64_t handle_request(void)` and, if it continues to the next handler with a
 * request context, `void handle_response(int32_t req_ctx, int32_t is_error)` (the SDK provides a
 * no-op default). This header marks both for export, so no linker flags are needed. Build:
 *
 *     clang-19 --target=wasm32-wasi -O2 -Isdk/c -c guest.c sdk/c/http_handler_sdk.c
 *     clang-19 --target=wasm32-wasi guest.o http_handler_sdk.o -o guest.wasm
 *
 * The result is a WASI command: the host runs `_start` once when it creates an instance (that is
 * where `main` or `__attribute__((constructor))` functions may call hh_enable_features/hh_get_config),
 * then calls handle_request/handle_response for every request on that instance. Globals persist
 * across the requests served by one instance. See sdk/c/README.md.
 */
#ifndef HTTP_HANDLER_H
#define HTTP_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HH_IMPORT(name) __attribute__((import_module("http_handler"), import_name(name)))
#define HH_EXPORT(name) __attribute__((export_name(name)))

/* ---- Enumerations (ABI "header_kind", "body_kind", "log_level", "features") ---- */

/* header_kind: which header (or trailer) map a header function works on. */
enum hh_header_kind {
  HH_HEADER_REQUEST = 0,
  HH_HEADER_RESPONSE = 1,
  HH_TRAILER_REQUEST = 2,
  HH_TRAILER_RESPONSE = 3,
};

/* body_kind: which body read_body/write_body work on. */
enum hh_body_kind {
  HH_BODY_REQUEST = 0,
  HH_BODY_RESPONSE = 1,
};

/* log_level (a signed i32). */
enum hh_log_level {
  HH_LOG_DEBUG = -1,
  HH_LOG_INFO = 0,
  HH_LOG_WARN = 1,
  HH_LOG_ERROR = 2,
  HH_LOG_NONE = 3,
};

/* features: bit flags for hh_enable_features. */
#define HH_FEATURE_BUFFER_REQUEST 1u  /* the request body the guest reads is replayed to the next handler */
#define HH_FEATURE_BUFFER_RESPONSE 2u /* the next handler's response can be read and changed in handle_response */
#define HH_FEATURE_TRAILERS 4u        /* trailer kinds 2 and 3 are supported */

/* ---- Raw imports (module "http_handler") ----
 * Getters taking (buf, buf_limit) write the value only if 0 < L <= buf_limit and always return its
 * length L: call with buf_limit 0 to probe the size. count_len results pack count << 32 | len where
 * len counts one NUL after each entry. The host traps (fails the request with 500) on misuse: see
 * the before/after-next table in the ABI. */

/* Enables `features` (HH_FEATURE_*); returns the set now enabled (cumulative, as the reference host).
 * Called from _start: for every request; from handle_request: for the current request only. */
HH_IMPORT("enable_features") uint32_t hh_enable_features(uint32_t features);
/* The component's `guestConfig` bytes. */
HH_IMPORT("get_config") uint32_t hh_get_config(void *buf, uint32_t buf_limit);
/* 1 if messages at `level` are logged, else 0. */
HH_IMPORT("log_enabled") uint32_t hh_log_enabled(int32_t level);
/* Logs `message` (UTF-8, message_len bytes) at `level`. */
HH_IMPORT("log") void hh_log(int32_t level, const void *message, uint32_t message_len);

/* Request method (e.g. "GET"); set_method traps on an empty method or after next. */
HH_IMPORT("get_method") uint32_t hh_get_method(void *buf, uint32_t buf_limit);
HH_IMPORT("set_method") void hh_set_method(const void *method, uint32_t method_len);
/* Origin-form path[?query], still percent-encoded; set_uri replaces path and query (len 0 -> "/"). */
HH_IMPORT("get_uri") uint32_t hh_get_uri(void *buf, uint32_t buf_limit);
HH_IMPORT("set_uri") void hh_set_uri(const void *uri, uint32_t uri_len);
/* "HTTP/1.1", "HTTP/2.0". */
HH_IMPORT("get_protocol_version") uint32_t hh_get_protocol_version(void *buf, uint32_t buf_limit);

/* Lower-cased header names, each followed by a NUL; returns count << 32 | len. */
HH_IMPORT("get_header_names") uint64_t hh_get_header_names(int32_t kind, void *buf, uint32_t buf_limit);
/* Values of header `name` (case-insensitive, name_len > 0), one NUL-terminated entry per field. */
HH_IMPORT("get_header_values")
uint64_t hh_get_header_values(int32_t kind, const void *name, uint32_t name_len, void *buf, uint32_t buf_limit);
/* Replaces all values of `name` with one value. */
HH_IMPORT("set_header_value")
void hh_set_header_value(int32_t kind, const void *name, uint32_t name_len, const void *value, uint32_t value_len);
/* Appends one value to `name`. */
HH_IMPORT("add_header_value")
void hh_add_header_value(int32_t kind, const void *name, uint32_t name_len, const void *value, uint32_t value_len);
/* Removes every value of `name` (no-op if absent). */
HH_IMPORT("remove_header") void hh_remove_header(int32_t kind, const void *name, uint32_t name_len);

/* Reads the next bytes of a body stream (buf_limit > 0); returns eof << 32 | len. */
HH_IMPORT("read_body") uint64_t hh_read_body(int32_t kind, void *buf, uint32_t buf_limit);
/* Appends to a body; the first write in a request replaces the existing body. */
HH_IMPORT("write_body") void hh_write_body(int32_t kind, const void *body, uint32_t body_len);

/* Response status (default 200); get needs buffer_response after next. */
HH_IMPORT("get_status_code") uint32_t hh_get_status_code(void);
HH_IMPORT("set_status_code") void hh_set_status_code(uint32_t status_code);
/* Client address "ip:port" ("[v6]:port"). */
HH_IMPORT("get_source_addr") uint32_t hh_get_source_addr(void *buf, uint32_t buf_limit);

/* ---- Exports the guest defines ---- */

/* Called for every request. Return hh_next(ctx) to continue to the next handler (then
 * handle_response(ctx, is_error) is called), or hh_done() when the guest wrote the response. */
HH_EXPORT("handle_request") int64_t handle_request(void);
/* Called after the next handler returned, with the req_ctx packed by handle_request; is_error is 1
 * if the next handler failed. The SDK defines a weak no-op. */
HH_EXPORT("handle_response") void handle_response(int32_t req_ctx, int32_t is_error);

/* ---- ctx_next and count_len/eof_len packing ---- */

/* Continue to the next handler; req_ctx comes back as handle_response's first argument. */
static inline int64_t hh_next(uint32_t req_ctx) { return (int64_t)(((uint64_t)req_ctx << 32) | 1u); }
/* Stop here: the guest has set the response (status, headers, body); handle_response is not called. */
static inline int64_t hh_done(void) { return 0; }
/* count of a count_len result. */
static inline uint32_t hh_count(uint64_t count_len) { return (uint32_t)(count_len >> 32); }
/* byte length of a count_len or eof_len result. */
static inline uint32_t hh_len(uint64_t x) { return (uint32_t)x; }
/* eof flag of an eof_len result. */
static inline int hh_eof(uint64_t eof_len) { return (eof_len >> 32) != 0; }

/* ---- Helpers (http_handler_sdk.c) ---- */

/* A byte string owned by the caller: `ptr` (malloc'ed, always NUL-terminated after `len` bytes, so
 * it can be used as a C string when the value holds no NUL) and its length. hh_free releases it. */
typedef struct hh_bytes {
  char *ptr;
  uint32_t len;
} hh_bytes;
void hh_free(hh_bytes *b);

/* Read the whole value of a getter into *out, probing with a 512-byte stack buffer and retrying
 * with an exact allocation when the value is longer (the buf_limit contract). Return 0, or -1 when
 * out of memory (*out is then empty). */
int hh_method(hh_bytes *out);
int hh_uri(hh_bytes *out);
int hh_protocol_version(hh_bytes *out);
int hh_source_addr(hh_bytes *out);
int hh_config(hh_bytes *out);

/* Bounded variants without allocation: copy the value into buf (cap bytes) NUL-terminated and
 * return its length L; if L >= cap nothing useful is in buf (buf[0] is NUL): retry with L + 1. */
uint32_t hh_uri_into(char *buf, uint32_t cap);
uint32_t hh_method_into(char *buf, uint32_t cap);

/* First value of header `name` (C string, any case) in *out. Returns the number of values the
 * header has (0: absent, *out empty), or -1 when out of memory. */
int hh_header(int32_t kind, const char *name, hh_bytes *out);
/* All values of `name` (or, with name NULL, all header names) as a NUL-terminated list in *out:
 * iterate with hh_list_next. Returns the count, or -1 when out of memory. */
int hh_header_values(int32_t kind, const char *name, hh_bytes *out);
int hh_header_names(int32_t kind, hh_bytes *out);
/* Iterates a NUL-terminated list: *cursor starts at NULL; returns the next entry or NULL at the end. */
const char *hh_list_next(const hh_bytes *list, const char **cursor);

/* Set/add/remove a header from C strings. */
void hh_set_header(int32_t kind, const char *name, const char *value);
void hh_add_header(int32_t kind, const char *name, const char *value);
void hh_del_header(int32_t kind, const char *name);

/* Reads the rest of body `kind` into *out, at most `max` bytes. Returns 0; 1 if the body is longer
 * than max (*out holds the first max bytes, the rest is unread); -1 when out of memory. */
int hh_read_body_all(int32_t kind, hh_bytes *out, uint32_t max);
/* Writes a C string (or len bytes) as body `kind`: the first write in a request replaces the body. */
void hh_write_body_str(int32_t kind, const char *s);

/* Logs a printf-style message at `level`, if enabled (the message is cut at 1 KiB). */
void hh_logf(int32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends a complete response from handle_request: status, optional content type and body.
 * Returns hh_done(), so `return hh_respond(403, "text/plain", "no\n");` ends the request. */
int64_t hh_respond(uint32_t status, const char *content_type, const char *body);

#ifdef __cplusplus
}
#endif
#endif
