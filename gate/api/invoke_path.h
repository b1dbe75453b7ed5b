/*
 * invoke_path.h: how service invocation reads its target and method from a
 * request, and the one normalisation of the method that both the access
 * control check and the forwarded request use (dapr pkg/api/http/
 * directmessaging.go findTargetIDAndMethod; pkg/messaging/method/normalize.go
 * NormalizeMethod, daprd >= 1.17.5).
 *
 * Strings here are byte strings with a length: a percent-decoded path may
 * hold any byte, NUL included, and nothing is cut at a NUL.
 */
#ifndef WGG_API_INVOKE_PATH_H
#define WGG_API_INVOKE_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "http/server.h"

/* Percent-decodes n bytes of s (every %XX, as Go's url.PathUnescape; '+'
 * becomes ' ' only when plus is true, as url.QueryUnescape). Returns a new
 * buffer (caller frees; NUL-terminated after *out_len bytes, which may
 * themselves contain NUL), or NULL on a malformed escape or out of memory
 * (*out_len is then 0 for a malformed escape, 1 for out of memory). */
char *wgg_pct_decode(const char *s, size_t n, bool plus, size_t *out_len);

/* wgg_pct_decode into out (at least n + 1 bytes): the decoded bytes, then a
 * NUL. Returns their count, or -1 on a malformed escape. */
long wgg_pct_decode_into(const char *s, size_t n, bool plus, char *out);

/* Go's path.Clean of n bytes of p (duplicate slashes, `.` and `..`
 * segments; "" becomes "."). Returns a new NUL-terminated buffer with its
 * length in *out_len, or NULL when out of memory. */
char *wgg_path_clean(const char *p, size_t n, size_t *out_len);

/* wgg_path_clean into out (at least n + 3 bytes): returns the cleaned length
 * (out is NUL-terminated after it). Never fails. */
size_t wgg_path_clean_into(const char *p, size_t n, char *out);

/* The invocation target of req, as daprd's findTargetIDAndMethod, in its
 * order: 1. a non-empty `dapr-app-id` header: the app ID, and the method is
 * the whole cleaned, decoded path without its leading '/'; 2. `Authorization:
 * Basic base64("dapr-app-id:<id>")` (user compared case-insensitively, exactly
 * one ':'): the same with that ID; 3. a path /v1.0/invoke/<id>/method/<method>
 * (empty segments allowed between the prefix parts), read from the decoded
 * path: the ID is what precedes the first "/method/" (decoded once more as a
 * query component when that gives a non-empty string), the method the
 * cleaned rest ("." as empty). Returns 1 with *id, *id_len and
 * *method, *method_len: one new block (the caller frees *id only; *method
 * points into it, so a request costs one allocation), 0 when none applies, -1
 * when the path has a malformed escape, -2 when out of memory. */
int wgg_invoke_find_target(const wgg_http_req *req, char **id, size_t *id_len, char **method, size_t *method_len);

/* wgg_invoke_find_target with the block in room (room_cap bytes) when it fits
 * there: then *id == room and nothing is to be freed; otherwise *id is a new
 * block as above (the caller frees *id when it is not room). */
int wgg_invoke_find_target_in(const wgg_http_req *req, char *room, size_t room_cap, char **id, size_t *id_len,
                              char **method, size_t *method_len);

/* daprd's NormalizeMethod: rejects a method holding '#', '?', NUL or a
 * control byte (0x01-0x1f, 0x7f), then path.Clean, leading "../" dropped,
 * "." and ".." as empty. Returns 0 with *out (new, NUL-terminated, caller
 * frees), or -1 with daprd's reason in why ("method contains forbidden
 * character: \"a?b\"", Go's %q quoting). Out of memory is -1 with "out of
 * memory". */
int wgg_invoke_normalize_method(const char *m, size_t n, char **out, char *why, size_t why_len);

/* wgg_invoke_normalize_method into out (at least n + 3 bytes; no allocation):
 * 0 with the normalised method in out (NUL-terminated, *out_len bytes), or -1
 * with why as above. */
int wgg_invoke_normalize_method_into(const char *m, size_t n, char *out, size_t *out_len, char *why, size_t why_len);

/* Percent-encodes a normalised method for a request target, as Go's
 * url.URL.EscapedPath does when daprd builds the app's URL: unreserved
 * characters, sub-delimiters, ':', '@' and '/' stay, '%' and every other byte
 * become %XX. Returns a new string (caller frees) or NULL when out of memory. */
char *wgg_invoke_escape_path(const char *m);

/* wgg_invoke_escape_path of n bytes of m into out (at least 3 * n + 1 bytes;
 * no allocation). Returns the escaped length; out is NUL-terminated. */
size_t wgg_invoke_escape_path_into(const char *m, size_t n, char *out);

/* Go's %q of n bytes of s into out (size cap, always NUL-terminated):
 * quoted, with \" \\ \n \r \t and \xNN for other control and invalid bytes. */
void wgg_go_quote(const char *s, size_t n, char *out, size_t cap);

#endif
