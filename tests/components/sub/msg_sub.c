/*
 * msg_sub.c: a component exporting a message handler, built at test time
 * twice and hosted by tests/gate/p2_subscriber.py:
 *   (default) wasi:messaging/incoming-handler@0.2.0-draft handle(message)
 *     (world wasi-sub of sub.wit): reads the message's topic and data,
 *     counts "wasi:TOPIC:DATA" in bucket "seen" (seen.h) and drops the
 *     message; data "retry" answers error other("again") until its third
 *     delivery, else ok; data "trap" traps before dropping the message (the
 *     host frees it when the instance ends: gate_p2_subscriber, through
 *     tests/gate/p2_cloud_driver --deliver);
 *   -DWASMCLOUD: wasmcloud:messaging/handler@0.2.0 handle-message(msg)
 *     (world wasmcloud-sub): counts "wasmcloud:SUBJECT:BODY" the same way,
 *     answering err("again") for "retry" until the third delivery.
 */
#include "seen.h"

static uint32_t ret[4] __attribute__((aligned(8)));

static int retry(const char *d, size_t n, uint64_t count) { return same(d, n, "retry") && count < 3; }

#ifndef WASMCLOUD
#define TYPES "wasi:messaging/types@0.2.0-draft"
IMPORT(TYPES, "[method]message.topic") void msg_topic(int32_t m, void *ret);
IMPORT(TYPES, "[method]message.data") void msg_data(int32_t m, void *ret);
IMPORT(TYPES, "[resource-drop]message") void msg_drop(int32_t m);

EXPORT("wasi:messaging/incoming-handler@0.2.0-draft#handle") uint32_t *handle(int32_t m) {
  uint32_t t[3], d[2];
  msg_topic(m, t); /* option<string>: disc, ptr, len */
  msg_data(m, d);  /* list<u8>: ptr, len */
  if (same((const char *)(uintptr_t)d[0], d[1], "trap")) __builtin_trap();
  msg_drop(m);
  key_reset();
  key_str("wasi:");
  if (t[0] & 0xff) key_add((const char *)(uintptr_t)t[1], t[2]);
  key_add(":", 1);
  key_add((const char *)(uintptr_t)d[0], d[1]);
  uint64_t n = seen();
  ret[0] = 0; /* result<_, error>: ok */
  if (retry((const char *)(uintptr_t)d[0], d[1], n)) {
    ret[0] = 1;
    ret[1] = 3; /* error::other("again") */
    ret[2] = (uint32_t)(uintptr_t)"again";
    ret[3] = 5;
  }
  return ret;
}
#else
EXPORT("wasmcloud:messaging/handler@0.2.0#handle-message")
uint32_t *handle_message(const char *s, uint32_t sn, const char *b, uint32_t bn, int32_t has_reply, const char *r,
                         uint32_t rn) {
  (void)has_reply, (void)r, (void)rn;
  key_reset();
  key_str("wasmcloud:");
  key_add(s, sn);
  key_add(":", 1);
  key_add(b, bn);
  uint64_t n = seen();
  ret[0] = 0; /* result<_, string> */
  if (retry(b, bn, n)) {
    ret[0] = 1;
    ret[1] = (uint32_t)(uintptr_t)"again";
    ret[2] = 5;
  }
  return ret;
}
#endif
