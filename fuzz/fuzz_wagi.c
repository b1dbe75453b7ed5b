/* fuzz_wagi.c: the WAGI contract of wasm apps (gate/wasmhost/app_wagi.c) on hostile input.
 * First byte even: the input is a guest's stdout, parsed as a CGI response; when accepted, the
 * status is 100-999, the body offset within the input, and no header name or value holds CR, LF
 * or NUL. First byte odd: the input is split at NULs into a method, a target and header
 * name/value pairs, from which the CGI environment is built; every entry is "KEY=VALUE" with
 * a non-empty key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasmhost/app_internal.h"

static void check(int cond) {
  if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0;
  if (!(data[0] & 1)) {
    wgg_hdrs h = {0};
    int status = 0;
    size_t off = 0;
    wgg_err err;
    if (!wgg_wagi_parse((const char *)data + 1, size - 1, &status, &h, &off, &err)) {
      check(status >= 100 && status <= 999);
      check(off <= size - 1);
      for (size_t i = 0; i < h.n; i++) {
        check(*h.v[i].name && !strpbrk(h.v[i].name, "\r\n:"));
        check(!strpbrk(h.v[i].value, "\r\n"));
      }
    }
    wgg_hdrs_free(&h);
    return 0;
  }
  /* fields separated by NUL: method, target, then name, value, ... (at most 16 headers) */
  char *copy = malloc(size);
  if (!copy) return 0;
  memcpy(copy, data + 1, size - 1);
  copy[size - 1] = '\0';
  const char *f[36];
  size_t nf = 0;
  for (char *p = copy; nf < 36 && p < copy + size - 1; p += strlen(p) + 1) f[nf++] = p;
  if (nf < 2) {
    free(copy);
    return 0;
  }
  wgg_http_header hs[16];
  size_t nh = 0;
  for (size_t i = 2; i + 1 < nf && nh < 16; i += 2) hs[nh++] = (wgg_http_header){f[i], f[i + 1]};
  struct wgg_wasm_app app = {.app_id = "fuzz", .http_port = 3500};
  int envc = 0;
  char **env = wgg_wagi_env(&app, f[0], f[1], hs, nh, size, "[::1]:5000", &envc);
  if (env) {
    for (int i = 0; i < envc; i++) {
      const char *eq = strchr(env[i], '=');
      check(eq && eq != env[i]);
    }
    check(env[envc] == NULL);
  }
  wgg_wagi_env_free(env);
  free(copy);
  return 0;
}
