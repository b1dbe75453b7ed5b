/* hw_app.c: an http-wasm handler as a wasm app (tests/gate/wasm_app_e2e.py): it answers itself,
 * calls the dapr:v1 host functions (which park it while a backend answers), or continues to a
 * `next` that has nothing behind it and writes the response in handle_response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "dapr_app.h"
#include "http_handler.h"

static char out[4096];

int64_t handle_request(void) {
  char uri[512];
  hh_uri_into(uri, sizeof uri);
  if (!strcmp(uri, "/hello")) return hh_respond(200, "text/plain", "hello from an http-wasm app\n");
  if (!strncmp(uri, "/state/", 7)) { /* GET value, POST saves the body */
    hh_bytes m = {0};
    hh_method(&m);
    int post = m.ptr && !strcmp(m.ptr, "POST");
    hh_free(&m);
    if (post) {
      hh_bytes b = {0};
      hh_read_body_all(HH_BODY_REQUEST, &b, 1 << 16);
      int64_t rc = dapr_state_save_raw(DAPR_S("statestore"), DAPR_S(uri + 7), b.ptr ? b.ptr : "", b.len, "", 0, 0);
      hh_free(&b);
      return rc < 0 ? hh_respond(500, "text/plain", "save failed") : hh_respond(204, NULL, NULL);
    }
    int64_t n = dapr_state_get("statestore", uri + 7, out, sizeof out - 1);
    if (n == DAPR_E_NOT_FOUND) return hh_respond(404, "text/plain", "no such key");
    if (n < 0) return hh_respond(500, "text/plain", "get failed");
    out[n < (int64_t)sizeof out ? n : 0] = '\0';
    return hh_respond(200, "application/json", out);
  }
  if (!strcmp(uri, "/next")) return hh_next(42);
  if (!strncmp(uri, "/mutate", 7)) { /* wasm_app_fresh.py: the state it finds, then change all of it */
    static int counter;
    static char scratch[64];
    char msg[160];
    snprintf(msg, sizeof msg, "counter=%d scratch=%d pages=%u stderr=%d", counter, scratch[0],
             (unsigned)__builtin_wasm_memory_size(0), fcntl(2, F_GETFD) >= 0);
    counter++;
    scratch[0] = 'x';
    char *big = malloc(4u << 20); /* grows memory; never freed */
    if (big) big[0] = 1;
    close(2);
    if (strstr(uri, "trap")) __builtin_trap();
    return hh_respond(200, "text/plain", msg);
  }
  /* "ID:N": a random ID drawn when the instance started, and the requests it served */
  static unsigned id;
  static int served;
  if (!id) getentropy(&id, sizeof id);
  if (!strcmp(uri, "/served")) {
    char msg[32];
    snprintf(msg, sizeof msg, "%u:%d", id, ++served);
    return hh_respond(200, "text/plain", msg);
  }
  if (!strncmp(uri, "/trap?id=", 9)) { /* traps only on the instance named */
    if ((unsigned)strtoul(uri + 9, NULL, 10) == id) __builtin_trap();
    return hh_respond(409, "text/plain", "another instance");
  }
  if (!strcmp(uri, "/trap")) __builtin_trap();
  return hh_respond(404, "text/plain", "not found");
}

void handle_response(int32_t req_ctx, int32_t is_error) {
  char msg[64];
  snprintf(msg, sizeof msg, "after next: ctx=%d error=%d\n", (int)req_ctx, (int)is_error);
  hh_set_header(HH_HEADER_RESPONSE, "Content-Type", "text/plain");
  hh_write_body_str(HH_BODY_RESPONSE, msg);
}
