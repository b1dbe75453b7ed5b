/* dapr_app.h: write wasm apps for `wasmgate run --app-wasm` in C: the `dapr:v1` host functions
 * (docs/wasm-apps.md is the normative reference) with typed wrappers. Header-only.
 *
 * An app is either a WAGI program (a plain `int main(void)` that reads the request from the CGI
 * environment and stdin and prints a CGI response) or an http-wasm handler (sdk/c/http_handler.h).
 * Either may call the building blocks through these functions. They reach the same code as the
 * sidecar's HTTP API, so results, errors and ETags are Dapr's. A call that waits on a backend parks
 * the guest; the code below simply sees the function return when the answer is there.
 *
 * Conventions (all functions):
 *  - strings are (pointer, length) pairs; nothing needs a NUL terminator;
 *  - outputs go to a caller-provided buffer (buf, cap); the return value is the full size, so a
 *    result larger than cap is read with dapr_result_body(offset, ...) without redoing the call;
 *  - a negative return is an error: -(HTTP status) of Dapr's answer (-400, -403, -500, ...),
 *    DAPR_E_NOT_FOUND (-404) for a state key that does not exist, DAPR_E_HOST (-1) when the host
 *    itself failed (out of memory); dapr_error() gives "ERR_CODE: message";
 *  - a pointer/length outside the app's memory traps: the request fails with 500.
 *
 * Build (WAGI):  clang-19 --target=wasm32-wasi -O2 -Isdk/c app.c -o app.wasm
 */
#ifndef DAPR_APP_H
#define DAPR_APP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DAPR_IMPORT(name) __attribute__((import_module("dapr:v1"), import_name(name)))

enum { DAPR_E_HOST = -1, DAPR_E_NOT_FOUND = -404 };
/* state options (bits) */
enum { DAPR_FIRST_WRITE = 1, DAPR_STRONG = 2 };
/* log levels */
enum { DAPR_LOG_DEBUG = 0, DAPR_LOG_INFO = 1, DAPR_LOG_WARN = 2, DAPR_LOG_ERROR = 3 };

/* ---- the raw ABI ---- */
DAPR_IMPORT("log") void dapr_log_raw(int32_t level, const void *msg, uint32_t len);
DAPR_IMPORT("state_get")
int64_t dapr_state_get_raw(const void *store, uint32_t store_len, const void *key, uint32_t key_len, void *buf,
                           uint32_t cap);
DAPR_IMPORT("state_save")
int64_t dapr_state_save_raw(const void *store, uint32_t store_len, const void *key, uint32_t key_len,
                            const void *value, uint32_t value_len, const void *etag, uint32_t etag_len,
                            int32_t options);
DAPR_IMPORT("state_delete")
int64_t dapr_state_delete_raw(const void *store, uint32_t store_len, const void *key, uint32_t key_len,
                              const void *etag, uint32_t etag_len, int32_t options);
DAPR_IMPORT("publish")
int64_t dapr_publish_raw(const void *pubsub, uint32_t pubsub_len, const void *topic, uint32_t topic_len,
                         const void *data, uint32_t data_len, const void *content_type, uint32_t content_type_len);
DAPR_IMPORT("invoke")
int64_t dapr_invoke_raw(const void *app_id, uint32_t app_id_len, const void *method, uint32_t method_len,
                        const void *verb, uint32_t verb_len, const void *data, uint32_t data_len,
                        const void *content_type, uint32_t content_type_len, void *buf, uint32_t cap);
DAPR_IMPORT("binding")
int64_t dapr_binding_raw(const void *name, uint32_t name_len, const void *operation, uint32_t operation_len,
                         const void *data, uint32_t data_len, const void *metadata_json, uint32_t metadata_len,
                         void *buf, uint32_t cap);
DAPR_IMPORT("request")
int64_t dapr_request_raw(const void *verb, uint32_t verb_len, const void *path, uint32_t path_len, const void *data,
                         uint32_t data_len, void *buf, uint32_t cap);
DAPR_IMPORT("secret_get")
int64_t dapr_secret_get_raw(const void *store, uint32_t store_len, const void *name, uint32_t name_len, void *buf,
                            uint32_t cap);
DAPR_IMPORT("result_status") int32_t dapr_result_status(void);
DAPR_IMPORT("result_body") int32_t dapr_result_body(uint32_t offset, void *buf, uint32_t cap);
DAPR_IMPORT("result_header")
int32_t dapr_result_header_raw(const void *name, uint32_t name_len, void *buf, uint32_t cap);
DAPR_IMPORT("error") int32_t dapr_error(void *buf, uint32_t cap);

/* ---- typed wrappers on C strings ---- */

#define DAPR_S(s) (s), (uint32_t)strlen(s)

static inline void dapr_log(int32_t level, const char *msg) { dapr_log_raw(level, DAPR_S(msg)); }

/* Value of key in store (JSON text, as the HTTP API returns it) into buf; returns its size. */
static inline int64_t dapr_state_get(const char *store, const char *key, void *buf, uint32_t cap) {
  return dapr_state_get_raw(DAPR_S(store), DAPR_S(key), buf, cap);
}

/* Saves a JSON value (text that is not JSON is stored as a JSON string). etag NULL: none. 0 or < 0. */
static inline int64_t dapr_state_save(const char *store, const char *key, const char *json_value, const char *etag,
                                      int32_t options) {
  return dapr_state_save_raw(DAPR_S(store), DAPR_S(key), DAPR_S(json_value), etag ? etag : "",
                             etag ? (uint32_t)strlen(etag) : 0, options);
}

static inline int64_t dapr_state_delete(const char *store, const char *key, const char *etag, int32_t options) {
  return dapr_state_delete_raw(DAPR_S(store), DAPR_S(key), etag ? etag : "", etag ? (uint32_t)strlen(etag) : 0,
                               options);
}

/* The ETag of the last state_get (NUL-terminated into buf); its length, or -1 when none. */
static inline int32_t dapr_etag(char *buf, uint32_t cap) {
  int32_t n = dapr_result_header_raw("ETag", 4, buf, cap ? cap - 1 : 0);
  if (cap) buf[n >= 0 && (uint32_t)n < cap ? (uint32_t)n : 0] = '\0';
  return n;
}

static inline int64_t dapr_publish(const char *pubsub, const char *topic, const char *data,
                                   const char *content_type) {
  return dapr_publish_raw(DAPR_S(pubsub), DAPR_S(topic), DAPR_S(data), content_type ? content_type : "",
                          content_type ? (uint32_t)strlen(content_type) : 0);
}

/* Invokes method of app_id with verb ("POST" when NULL); the answer's body into buf, its status
 * from dapr_result_status(). */
static inline int64_t dapr_invoke(const char *app_id, const char *method, const char *verb, const char *data,
                                  void *buf, uint32_t cap) {
  return dapr_invoke_raw(DAPR_S(app_id), DAPR_S(method), verb ? verb : "", verb ? (uint32_t)strlen(verb) : 0,
                         data ? data : "", data ? (uint32_t)strlen(data) : 0, "application/json", 16, buf, cap);
}

static inline int64_t dapr_binding(const char *name, const char *operation, const char *data,
                                   const char *metadata_json, void *buf, uint32_t cap) {
  return dapr_binding_raw(DAPR_S(name), DAPR_S(operation), DAPR_S(data), metadata_json ? metadata_json : "",
                          metadata_json ? (uint32_t)strlen(metadata_json) : 0, buf, cap);
}

/* The secret `name` of secret store `store` as a JSON object ({"name":"value"}) into buf. */
static inline int64_t dapr_secret_get(const char *store, const char *name, void *buf, uint32_t cap) {
  return dapr_secret_get_raw(DAPR_S(store), DAPR_S(name), buf, cap);
}

#ifdef __cplusplus
}
#endif
#endif
