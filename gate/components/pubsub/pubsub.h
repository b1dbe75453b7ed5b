/*
 * pubsub.h: the one interface every pub/sub component implements
 * (pubsub.in-memory, pubsub.redis, pubsub.mqtt3). Semantics follow Dapr's
 * components-contrib pubsub/pubsub.go: publish bytes to a topic; subscribe a
 * handler to a topic; the handler's verdict acknowledges the message or hands
 * it back to the broker for redelivery.
 *
 * Threads: publish() may block (network) when `blocking` is set and is then
 * only called from the libuv thread pool. subscribe() may be called at any
 * time after creation (subscriptions arrive once the app answered
 * /dapr/subscribe), from any thread. Components deliver messages from their
 * own threads through the deliver callback, which never blocks; the runtime
 * later calls msg->done exactly once, from any thread (usually its delivery
 * loop thread), and done never blocks either (a component queues the broker acknowledgement to its
 * own thread).
 */
#ifndef WGG_PUBSUB_PUBSUB_H
#define WGG_PUBSUB_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/component.h"
#include "wggate.h"

/* Capability bits, reported by /v1.0/metadata (components-contrib pubsub/feature.go). */
enum {
  WGG_PSFEAT_MESSAGE_TTL = 1 << 0,         /* "MESSAGE_TTL" */
  WGG_PSFEAT_SUBSCRIBE_WILDCARDS = 1 << 1, /* "SUBSCRIBE_WILDCARDS" */
  WGG_PSFEAT_BULK_PUBLISH = 1 << 2,        /* "BULK_PUBLISH" */
};

/* A message handed to the runtime. Allocated by the component; the runtime
 * owns it until it calls done(m, ack), which releases it. ack true: the
 * message was handled (delivered, dropped or dead-lettered) and the broker may
 * forget it; false: the broker should deliver it again later (Redis: it stays
 * pending and is reclaimed after processingTimeout). */
typedef struct wgg_pubsub_msg {
  char *topic;        /* the topic it was received on (owned by the message) */
  char *data;         /* payload bytes, NUL-terminated for convenience */
  size_t len;
  void (*done)(struct wgg_pubsub_msg *m, bool ack);
} wgg_pubsub_msg;

/* The runtime's entry point for received messages: takes ownership of m.
 * Called on a component thread; never blocks. */
typedef void (*wgg_pubsub_deliver_fn)(void *user, wgg_pubsub_msg *m);

typedef struct wgg_pubsub wgg_pubsub;

typedef struct wgg_pubsub_ops {
  /* Publishes len bytes of data to topic. Returns 0 once the broker has
   * accepted the message (Redis: XADD answered; MQTT qos >= 1: PUBACK/PUBCOMP
   * received), or -1 with err. */
  int (*publish)(wgg_pubsub *ps, const char *topic, const char *data, size_t len, wgg_err *err);
  /* Starts delivering messages of topic to fn(user, msg). One handler per
   * topic. Returns 0 or -1 with err (topic already subscribed, broker error). */
  int (*subscribe)(wgg_pubsub *ps, const char *topic, wgg_pubsub_deliver_fn fn, void *user, wgg_err *err);
  /* Stops the component's threads and releases it. Messages handed to the
   * runtime but not yet done stay valid: their done() still works after
   * destroy (the component keeps what done needs alive until the last one). */
  void (*destroy)(wgg_pubsub *ps);
} wgg_pubsub_ops;

/* The common head of every component. */
struct wgg_pubsub {
  const wgg_pubsub_ops *ops;
  unsigned features;  /* WGG_PSFEAT_* */
  bool blocking;      /* true: publish only from the thread pool */
  int concurrency;    /* in-flight deliveries per subscription the component allows (>= 1) */
};

/* Creates the component c describes (type "pubsub.in-memory", "pubsub.redis"
 * or "pubsub.mqtt3"; version "" or "v1"); app_id is the default consumerID.
 * Returns NULL with err for an unknown type/version, invalid metadata or a
 * broker that cannot be reached. The caller owns the result (ops->destroy). */
wgg_pubsub *wgg_pubsub_new(const wgg_component *c, const char *app_id, wgg_err *err);

/* True when type names a pub/sub component this build implements. */
bool wgg_pubsub_type_supported(const char *type);

/* Reads integer metadata `name` (>= min) of c into *out, keeping *out when
 * absent or empty. Returns 0 or -1 with err naming the field and value. */
int wgg_pubsub_meta_int(const wgg_component *c, const char *name, int min, int *out, wgg_err *err);

/* Allocates a message with copies of topic and data and the given done.
 * extra bytes of zeroed space follow the struct (for a component's own
 * fields: the returned pointer is the start of a struct that begins with a
 * wgg_pubsub_msg). Returns NULL on OOM. Free with wgg_pubsub_msg_free. */
wgg_pubsub_msg *wgg_pubsub_msg_new(size_t size, const char *topic, const char *data, size_t len,
                                   void (*done)(wgg_pubsub_msg *, bool));
void wgg_pubsub_msg_free(wgg_pubsub_msg *m);

/* The concrete components. Same contract as wgg_pubsub_new. */
wgg_pubsub *wgg_pubsub_memory_new(const wgg_component *c, const char *app_id, wgg_err *err);
wgg_pubsub *wgg_pubsub_redis_new(const wgg_component *c, const char *app_id, wgg_err *err);
wgg_pubsub *wgg_pubsub_mqtt_new(const wgg_component *c, const char *app_id, wgg_err *err);

#endif
