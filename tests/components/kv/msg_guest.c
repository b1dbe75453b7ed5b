/*
 * msg_guest.c: a WASI 0.2 command that publishes through
 * wasi:messaging@0.2.0-draft (world messaging/msg.wit) with hand-written
 * canonical ABI imports; built and run by tests/gate/p2_keyvalue.py.
 *
 *   msg_guest PUBSUB
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define TYPES "wasi:messaging/types@0.2.0-draft"

/* see kv_guest.c: stdout is unbuffered because every export of a command,
 * this one too, ends with libc's exit-time flush */
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t oldn, size_t align, size_t n) {
  (void)oldn, (void)align;
  return realloc(old, n ? n : 1);
}

IMPORT(TYPES, "[static]client.connect") void connect_(const char *n, size_t nl, void *ret);
IMPORT(TYPES, "[method]client.disconnect") void disconnect_(int32_t c, void *ret);
IMPORT(TYPES, "[resource-drop]client") void client_drop(int32_t c);
IMPORT(TYPES, "[constructor]message") int32_t message_new(const void *d, size_t n);
IMPORT(TYPES, "[method]message.set-content-type") void set_ctype(int32_t m, const char *s, size_t n);
IMPORT(TYPES, "[method]message.content-type") void ctype(int32_t m, void *ret);
IMPORT(TYPES, "[method]message.add-metadata") void add_meta(int32_t m, const char *k, size_t kn, const char *v, size_t vn);
IMPORT(TYPES, "[method]message.remove-metadata") void remove_meta(int32_t m, const char *k, size_t kn);
IMPORT(TYPES, "[method]message.metadata") void meta(int32_t m, void *ret);
IMPORT(TYPES, "[method]message.data") void data(int32_t m, void *ret);
IMPORT(TYPES, "[method]message.topic") void topic(int32_t m, void *ret);
IMPORT(TYPES, "[resource-drop]message") void message_drop(int32_t m);
IMPORT("wasi:messaging/producer@0.2.0-draft", "send") void send_(int32_t c, const char *t, size_t tn, int32_t m, void *ret);
/* wasmcloud:messaging@0.2.0: broker-message = record { subject, body, reply-to: option<string> }, flattened */
IMPORT("wasmcloud:messaging/consumer@0.2.0", "publish")
void wc_publish(const char *s, size_t sn, const void *b, size_t bn, int32_t has_reply, const char *r, size_t rn, void *ret);
IMPORT("wasmcloud:messaging/consumer@0.2.0", "request")
void wc_request(const char *s, size_t sn, const void *b, size_t bn, uint32_t timeout_ms, void *ret);

static _Alignas(8) uint8_t ret[16];
static uint32_t u32(size_t off) { uint32_t v; memcpy(&v, ret + off, 4); return v; }
static const char *ptr(size_t off) { return (const char *)(uintptr_t)u32(off); }

/* result<_, error> or result<client, error>: error = variant { timeout, connection(string),
 * permission-denied(string), other(string) } at 4, its string at 8, 12 */
static int result(const char *what) {
  static const char *const names[] = {"timeout", "connection", "permission-denied", "other"};
  printf("%s: ", what);
  if (!ret[0]) return printf("ok\n"), 0;
  printf("error %s", ret[4] < 4 ? names[ret[4]] : "?");
  if (ret[4]) printf(": %.*s", (int)u32(12), ptr(8));
  printf("\n");
  return -1;
}

static void send(int32_t c, const char *t, const char *body, const char *k, const char *v) {
  int32_t m = message_new(body, strlen(body));
  if (k) add_meta(m, k, strlen(k), v, strlen(v));
  char what[64];
  snprintf(what, sizeof what, "send %s", t);
  send_(c, t, strlen(t), m, ret);
  result(what);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *ps = argc > 1 ? argv[1] : "pubsub";
  connect_("nope", 4, ret);
  result("connect nope");
  connect_(ps, strlen(ps), ret);
  if (result("connect")) return 1;
  int32_t c = (int32_t)u32(4);

  int32_t m = message_new("hello events", 12);
  set_ctype(m, "text/plain", 10);
  add_meta(m, "cloudevent.type", 15, "com.example.greeting", 20);
  add_meta(m, "drop-me", 7, "x", 1);
  remove_meta(m, "drop-me", 7);
  ctype(m, ret); /* option<string>: disc 0, string 4, 8 */
  printf("content-type: %.*s\n", ret[0] ? (int)u32(8) : 4, ret[0] ? ptr(4) : "none");
  meta(m, ret); /* option<list<tuple<string, string>>>: disc 0, list 4, 8 */
  printf("metadata:");
  const struct { const char *p; size_t n; } *t = (const void *)(uintptr_t)u32(4);
  for (size_t i = 0; ret[0] && i < u32(8); i++) printf(" %.*s=%.*s", (int)t[2 * i].n, t[2 * i].p, (int)t[2 * i + 1].n, t[2 * i + 1].p);
  printf("\n");
  data(m, ret); /* list<u8>: 0, 4 */
  printf("data: %.*s\n", (int)u32(4), ptr(0));
  topic(m, ret);
  printf("topic: %s\n", ret[0] ? "some" : "none");
  send_(c, "orders", 6, m, ret); /* the message moves to the host */
  result("send orders");

  send(c, "raw", "{\"raw\":true}", "rawPayload", "true");
  send(c, "forbidden", "x", NULL, NULL);
  send(c, "", "y", NULL, NULL);
  send(c, "orders", "z", "ttlInSeconds", "soon");
  int32_t unsent = message_new("never", 5);
  message_drop(unsent);
  /* wasmcloud:messaging: result<_, string> (the string at 4, 8) */
  wc_publish("orders", 6, "from wasmcloud", 14, 1, "inbox", 5, ret);
  printf("wasmcloud publish orders: %s%.*s\n", ret[0] ? "error " : "ok", ret[0] ? (int)u32(8) : 0, ret[0] ? ptr(4) : "");
  wc_publish("forbidden", 9, "x", 1, 0, NULL, 0, ret);
  printf("wasmcloud publish forbidden: %s%.*s\n", ret[0] ? "error " : "ok", ret[0] ? (int)u32(8) : 0, ret[0] ? ptr(4) : "");
  wc_request("orders", 6, "?", 1, 1000, ret);
  printf("wasmcloud request: %s%.*s\n", ret[0] ? "error " : "ok", ret[0] ? (int)u32(8) : 0, ret[0] ? ptr(4) : "");
  disconnect_(c, ret);
  result("disconnect");
  client_drop(c);
  return 0;
}
