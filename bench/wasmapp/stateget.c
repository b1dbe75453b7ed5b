/* stateget.c: a WAGI wasm app for bench/wasm_app.sh. GET /get?store=S&n=N does N dapr:v1 state
 * gets of key "k" in store S in one request and prints how many succeeded; GET /hello answers a
 * small body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dapr_app.h"

static const char *param(const char *k, char *buf, size_t cap) {
  const char *q = getenv("QUERY_STRING");
  size_t kl = strlen(k);
  buf[0] = '\0';
  for (const char *p = q; p && *p;) {
    if (!strncmp(p, k, kl) && p[kl] == '=') {
      size_t n = strcspn(p + kl + 1, "&");
      if (n >= cap) n = cap - 1;
      memcpy(buf, p + kl + 1, n);
      buf[n] = '\0';
      break;
    }
    p = strchr(p, '&');
    if (p) p++;
  }
  return buf;
}

int main(void) {
  const char *path = getenv("PATH_INFO");
  if (path && !strcmp(path, "/hello")) {
    printf("Content-Type: text/plain\n\nhello\n");
    return 0;
  }
  char store[64], nbuf[32], v[256];
  param("store", store, sizeof store);
  long n = atol(param("n", nbuf, sizeof nbuf)), ok = 0;
  for (long i = 0; i < n; i++) ok += dapr_state_get(store, "k", v, sizeof v) > 0;
  printf("Content-Type: text/plain\n\n%ld\n", ok);
  return 0;
}
