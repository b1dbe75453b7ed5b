/* order_service.c: an order service as a wasm app (WAGI: a plain WASI program; docs/wasm-apps.md).
 *
 *   POST /orders             {"id":"42","item":"book","qty":1} -> saves order-42, publishes it to
 *                            topic "orders" on pub/sub "pubsub", answers 201 with the order
 *   GET  /orders/{id}        the saved order (404 when unknown), with its ETag
 *   GET  /dapr/subscribe     subscribes /shipments to "orders"
 *   POST /shipments          (pub/sub delivery) records shipment-{id} = {"order":"{id}","status":"ready"}
 *   GET  /shipments/{id}     the shipment (404 until the event was delivered)
 *
 * Build: clang-19 --target=wasm32-wasi -O2 -Isdk/c -c order_service.c && clang-19 --target=wasm32-wasi
 * order_service.o -o order_service.wasm. Its twin as an ordinary HTTP app is order_app.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dapr_app.h"

static char body[16384];
static size_t body_len;
static char value[16384];

static const char *env(const char *k) {
  const char *v = getenv(k);
  return v ? v : "";
}

static void read_body(void) {
  size_t want = (size_t)atol(env("CONTENT_LENGTH"));
  while (body_len < want && body_len < sizeof body - 1) {
    size_t n = fread(body + body_len, 1, sizeof body - 1 - body_len, stdin);
    if (!n) break;
    body_len += n;
  }
  body[body_len] = '\0';
}

static void respond(int status, const char *json) {
  printf("Status: %d\nContent-Type: application/json\n\n%s\n", status, json);
}

/* The string or number value of "key" in a flat JSON object, into out (a small scanner: enough for
 * this example's documents; a real app would use a JSON library). */
static int json_field(const char *doc, const char *key, char *out, size_t cap) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *p = strstr(doc, pat);
  if (!p) return -1;
  p += strlen(pat);
  while (*p == ' ' || *p == ':') p++;
  int quoted = *p == '"';
  if (quoted) p++;
  size_t n = 0;
  while (*p && n + 1 < cap && (quoted ? *p != '"' : (*p != ',' && *p != '}' && *p != ' '))) out[n++] = *p++;
  out[n] = '\0';
  return n ? 0 : -1;
}

static int safe_id(const char *id) {
  for (const char *p = id; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-')) return 0;
  return *id != 0;
}

static void dapr_failed(int64_t rc) {
  char msg[512], out[700];
  int32_t n = dapr_error(msg, sizeof msg - 1);
  msg[n > 0 && n < (int32_t)sizeof msg ? n : 0] = '\0';
  snprintf(out, sizeof out, "{\"error\":\"dapr call failed (%lld)\",\"detail\":\"%s\"}", (long long)rc, msg);
  respond(500, out);
}

static void get_doc(const char *prefix, const char *id) {
  char key[128];
  snprintf(key, sizeof key, "%s-%s", prefix, id);
  int64_t n = dapr_state_get("statestore", key, value, sizeof value - 1);
  if (n == DAPR_E_NOT_FOUND) {
    respond(404, "{\"error\":\"not found\"}");
    return;
  }
  if (n < 0 || n >= (int64_t)sizeof value) {
    dapr_failed(n);
    return;
  }
  value[n] = '\0';
  char etag[128];
  dapr_etag(etag, sizeof etag);
  printf("Content-Type: application/json\nETag: %s\n\n%s\n", etag, value);
}

int main(void) {
  const char *method = env("REQUEST_METHOD"), *path = env("PATH_INFO");
  read_body();
  char id[64], key[128];
  if (!strcmp(method, "GET") && !strcmp(path, "/dapr/subscribe")) {
    respond(200, "[{\"pubsubname\":\"pubsub\",\"topic\":\"orders\",\"route\":\"/shipments\"}]");
  } else if (!strcmp(method, "POST") && !strcmp(path, "/orders")) {
    if (json_field(body, "id", id, sizeof id) || !safe_id(id)) {
      respond(400, "{\"error\":\"an order needs an id of letters, digits and dashes\"}");
      return 0;
    }
    snprintf(key, sizeof key, "order-%s", id);
    int64_t rc = dapr_state_save("statestore", key, body, NULL, 0);
    if (rc >= 0) rc = dapr_publish("pubsub", "orders", body, "application/json");
    if (rc < 0) {
      dapr_failed(rc);
      return 0;
    }
    dapr_log(DAPR_LOG_INFO, "order accepted");
    respond(201, body);
  } else if (!strcmp(method, "GET") && !strncmp(path, "/orders/", 8) && safe_id(path + 8)) {
    get_doc("order", path + 8);
  } else if (!strcmp(method, "POST") && !strcmp(path, "/shipments")) {
    /* a CloudEvent: the order is its "data" */
    const char *data = strstr(body, "\"data\"");
    if (!data || json_field(data, "id", id, sizeof id) || !safe_id(id)) {
      respond(200, "{\"status\":\"DROP\"}"); /* not an order: drop it, do not retry */
      return 0;
    }
    char doc[160];
    snprintf(key, sizeof key, "shipment-%s", id);
    snprintf(doc, sizeof doc, "{\"order\":\"%s\",\"status\":\"ready\"}", id);
    int64_t rc = dapr_state_save("statestore", key, doc, NULL, 0);
    respond(200, rc < 0 ? "{\"status\":\"RETRY\"}" : "{\"status\":\"SUCCESS\"}");
  } else if (!strcmp(method, "GET") && !strncmp(path, "/shipments/", 11) && safe_id(path + 11)) {
    get_doc("shipment", path + 11);
  } else {
    respond(404, "{\"error\":\"no such route\"}");
  }
  return 0;
}
