/* bw_http.c: a bindings.wasm guest of the pre-standard wasi-http ABI that
 * Dapr links (modules "types", "streams", "default-outgoing-HTTP", as
 * dev-wasm's clients call them). argv: METHOD_INDEX AUTHORITY PATH QUERY
 * [BODY]. Sends the request over http with the headers "X-Test: yes" and
 * "Host: ignored.example", then prints "status N", each response header
 * named X-* as "NAME: VALUE", and "body " + the body, read 5 bytes at a time
 * (or "no body (ERR)" when incoming-response-consume fails). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
typedef uint32_t u32;
IMPORT("types", "new-fields") u32 new_fields(u32 ptr, u32 len);
IMPORT("types", "drop-fields") void drop_fields(u32 f);
IMPORT("types", "fields-entries") void fields_entries(u32 f, u32 out);
IMPORT("types", "new-outgoing-request")
u32 new_outgoing_request(u32 method, u32 mptr, u32 mlen, u32 path, u32 path_len, u32 query, u32 query_len,
                         u32 scheme_some, u32 scheme, u32 sptr, u32 slen, u32 authority, u32 authority_len, u32 headers);
IMPORT("types", "outgoing-request-write") void outgoing_request_write(u32 req, u32 out);
IMPORT("types", "drop-outgoing-request") void drop_outgoing_request(u32 req);
IMPORT("types", "future-incoming-response-get") void future_get(u32 f, u32 out);
IMPORT("types", "incoming-response-status") u32 response_status(u32 r);
IMPORT("types", "incoming-response-headers") u32 response_headers(u32 r);
IMPORT("types", "incoming-response-consume") void response_consume(u32 r, u32 out);
IMPORT("types", "drop-incoming-response") void drop_response(u32 r);
IMPORT("streams", "read") void stream_read(u32 s, uint64_t len, u32 out);
IMPORT("streams", "write") void stream_write(u32 s, u32 ptr, u32 len, u32 out);
IMPORT("streams", "drop-input-stream") void drop_stream(u32 s);
IMPORT("default-outgoing-HTTP", "handle") u32 handle(u32 req, u32 b, u32 c, u32 d, u32 e, u32 f, u32 g, u32 h);

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t old_size, size_t align, size_t size) {
  (void)old_size, (void)align;
  return realloc(old, size ? size : 1);
}

#define P(x) ((u32)(uintptr_t)(x))

int main(int argc, char **argv) {
  if (argc < 5) return 2;
  const char *authority = argv[2], *path = argv[3], *query = argv[4];
  const char *kv[] = {"X-Test", "yes", "Host", "ignored.example"};
  u32 entries[8];
  for (int i = 0; i < 4; i++) {
    entries[2 * i] = P(kv[i]);
    entries[2 * i + 1] = (u32)strlen(kv[i]);
  }
  u32 headers = new_fields(P(entries), 2);
  u32 req = new_outgoing_request((u32)atoi(argv[1]), 0, 0, P(path), strlen(path), P(query), strlen(query), 1, 0, 0, 0,
                                 P(authority), strlen(authority), headers);
  u32 res2[4] = {0};
  if (argc > 5) {
    outgoing_request_write(req, P(res2));
    u32 stream = res2[1];
    stream_write(stream, P(argv[5]), strlen(argv[5]), P(res2));
    if (res2[0] != 0 || res2[1] != strlen(argv[5])) return 4;
  }
  u32 future = handle(req, 0, 0, 0, 0, 0, 0, 0);
  u32 fut[3];
  future_get(future, P(fut));
  u32 res = fut[2];
  printf("status %u\n", response_status(res));
  u32 list[2] = {0, 0}; /* left untouched for an unknown handle */
  fields_entries(response_headers(res), P(list));
  u32 *e = (u32 *)(uintptr_t)list[0];
  for (u32 i = 0; i < list[1]; i++, e += 4)
    if (e[1] > 2 && !memcmp((char *)(uintptr_t)e[0], "X-", 2))
      printf("%.*s: %.*s\n", (int)e[1], (char *)(uintptr_t)e[0], (int)e[3], (char *)(uintptr_t)e[2]);
  u32 c[2] = {9, 0};
  response_consume(res, P(c));
  if (c[0] != 0) {
    printf("no body (%u)", c[0]);
    return 0;
  }
  printf("body ");
  for (;;) {
    u32 r[4];
    stream_read(c[1], 5, P(r));
    fwrite((void *)(uintptr_t)r[1], 1, r[2], stdout);
    if (r[3] == 0) break;
  }
  drop_stream(c[1]);
  drop_response(res);
  drop_outgoing_request(req);
  drop_fields(headers);
  return 0;
}
