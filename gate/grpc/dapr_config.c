/*
 * dapr_config.c: the configuration RPCs as daprd 1.16 serves them (dapr
 * pkg/api/grpc/grpc.go): GetConfiguration(+Alpha1) through
 * wgg_config_get_call, the code path of GET /v1.0/configuration/{store};
 * SubscribeConfiguration(+Alpha1), a server stream whose first message
 * carries the subscription id and every later one a change (the store's
 * watcher thread packs it and hands it to this loop through a uv_async); and
 * the deprecated UnsubscribeConfiguration(+Alpha1), which ends the stream
 * of that id (OK) and answers ok, or ok false with daprd's message when no
 * stream has that id. A stream's subscription ends when its client goes away.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/configuration/configuration.h"
#include "grpc/dapr_internal.h"
#include "util/log.h"

typedef Dapr__Proto__Common__V1__ConfigurationItem ConfItem;

/* ---- items as map<string, ConfigurationItem> ---- */

/* Fills the entries of a map<string, ConfigurationItem> field (entry
 * descriptor d, all such entries share one layout) from items: *out_entries
 * and *out_vals are malloc'd (free both); strings borrowed from items.
 * Returns the count, or (size_t)-1 on OOM. */
typedef struct item_entry {
  ProtobufCMessage base;
  char *key;
  ConfItem *value;
} item_entry;

static size_t items_to_map(const wgg_conf_items *items, const ProtobufCMessageDescriptor *d, item_entry ***out,
                           void **mem) {
  size_t n = items ? items->n : 0;
  char *m = calloc(n ? n : 1, sizeof(item_entry *) + d->sizeof_message + sizeof(ConfItem));
  if (!m) return (size_t)-1;
  item_entry **ptrs = (item_entry **)m;
  char *at = m + n * sizeof(item_entry *);
  for (size_t i = 0; i < n; i++) {
    item_entry *e = (item_entry *)at;
    at += d->sizeof_message;
    ConfItem *v = (ConfItem *)at;
    at += sizeof(ConfItem);
    protobuf_c_message_init(d, e);
    dapr__proto__common__v1__configuration_item__init(v);
    v->value = items->items[i].value;
    v->version = items->items[i].version;
    e->key = items->items[i].key;
    e->value = v;
    ptrs[i] = e;
  }
  *out = ptrs;
  *mem = m;
  return n;
}

/* ---- GetConfiguration ---- */

static void get_done(void *user, const wgg_api_status *st, const wgg_conf_items *items) {
  wgg_grpc_call *call = user;
  if (st) {
    wgg_grpc_fail_status(call, st);
    return;
  }
  Dapr__Proto__Runtime__V1__GetConfigurationResponse r = DAPR__PROTO__RUNTIME__V1__GET_CONFIGURATION_RESPONSE__INIT;
  item_entry **ents;
  void *mem;
  size_t n = items_to_map(items, &dapr__proto__runtime__v1__get_configuration_response__items_entry__descriptor, &ents,
                          &mem);
  if (n == (size_t)-1) {
    wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
    return;
  }
  r.n_items = n;
  r.items = (Dapr__Proto__Runtime__V1__GetConfigurationResponse__ItemsEntry **)ents;
  wgg_grpc_reply(call, &r.base);
  free(mem);
}

void wgg_grpc_get_configuration(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__GetConfigurationRequest *q = (void *)m;
  wgg_api_status st;
  wgg_config_entry *ce = wgg_config_lookup(api, q->store_name, &st);
  if (!ce || wgg_config_get_call(api, wgg_grpc_call_loop(call), ce, (const char *const *)q->keys, q->n_keys, get_done,
                                 call, &st))
    wgg_grpc_fail_status(call, &st);
  protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- SubscribeConfiguration ---- */

typedef struct qmsg { /* a packed SubscribeConfigurationResponse for the loop */
  uint8_t *bytes;
  size_t len;
  struct qmsg *next;
} qmsg;

typedef struct cstream {
  wgg_api *api;
  wgg_grpc_call *call; /* NULL once finished */
  wgg_config_entry *ce;
  uv_async_t async;
  pthread_mutex_t mu; /* qh/qt (watcher thread), stop (UnsubscribeConfiguration's thread) */
  qmsg *qh, *qt;
  bool stop;
  bool started;    /* the request was taken */
  bool subscribed; /* the store watches id */
  char id[37];
  struct cstream *next; /* in the registry while subscribed */
} cstream;

/* The streams by id, for UnsubscribeConfiguration from any loop. Ids are
 * random UUIDs, unique in the process. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static cstream *reg_head;

static void reg_remove(cstream *cs) {
  pthread_mutex_lock(&reg_mu);
  for (cstream **pp = &reg_head; *pp; pp = &(*pp)->next)
    if (*pp == cs) {
      *pp = cs->next;
      break;
    }
  pthread_mutex_unlock(&reg_mu);
}

static void cs_free(uv_handle_t *h) {
  cstream *cs = h->data;
  while (cs->qh) {
    qmsg *n = cs->qh->next;
    free(cs->qh->bytes);
    free(cs->qh);
    cs->qh = n;
  }
  pthread_mutex_destroy(&cs->mu);
  free(cs);
}

/* Unsubscribes (no notification follows), ends the call with code/msg (st
 * instead when non-NULL) and frees cs. */
static void cs_end(cstream *cs, int code, const char *msg, const wgg_api_status *st) {
  reg_remove(cs); /* no UnsubscribeConfiguration reaches cs->async after this */
  if (cs->subscribed) {
    wgg_err err = {0};
    if (wgg_config_unsubscribe_call(cs->ce, cs->id, &err)) wgg_debug("configuration unsubscribe %s: %s", cs->id, err.msg);
    cs->subscribed = false;
  }
  wgg_grpc_call *call = cs->call;
  cs->call = NULL;
  if (call) {
    wgg_grpc_stream_set(call, NULL, NULL, NULL);
    if (st) wgg_grpc_fail_status(call, st);
    else wgg_grpc_stream_finish(call, code, "%s", msg ? msg : "");
  }
  uv_close((uv_handle_t *)&cs->async, cs_free);
}

/* wgg_config_notify_cb, on the store's watcher thread. */
static void on_change(const char *id, const wgg_conf_items *items, void *user) {
  cstream *cs = user;
  Dapr__Proto__Runtime__V1__SubscribeConfigurationResponse r =
      DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_CONFIGURATION_RESPONSE__INIT;
  item_entry **ents;
  void *mem;
  size_t n = items_to_map(items, &dapr__proto__runtime__v1__subscribe_configuration_response__items_entry__descriptor,
                          &ents, &mem);
  if (n == (size_t)-1) return;
  r.id = (char *)id;
  r.n_items = n;
  r.items = (Dapr__Proto__Runtime__V1__SubscribeConfigurationResponse__ItemsEntry **)ents;
  qmsg *q = calloc(1, sizeof *q);
  size_t len = protobuf_c_message_get_packed_size(&r.base);
  if (q && (q->bytes = malloc(len ? len : 1))) {
    q->len = protobuf_c_message_pack(&r.base, q->bytes);
    pthread_mutex_lock(&cs->mu);
    if (cs->qt) cs->qt->next = q;
    else cs->qh = q;
    cs->qt = q;
    uv_async_send(&cs->async);
    pthread_mutex_unlock(&cs->mu);
  } else {
    free(q);
    wgg_warn("configuration subscription %s: out of memory; a change was not sent", id);
  }
  free(mem);
}

static void on_async(uv_async_t *a) {
  cstream *cs = a->data;
  pthread_mutex_lock(&cs->mu);
  qmsg *q = cs->qh;
  cs->qh = cs->qt = NULL;
  bool stop = cs->stop;
  pthread_mutex_unlock(&cs->mu);
  while (q) {
    qmsg *next = q->next;
    if (cs->call && !stop) wgg_grpc_stream_send_raw(cs->call, q->bytes, q->len); /* a failure: the stream is ending */
    free(q->bytes);
    free(q);
    q = next;
  }
  if (stop && cs->call) cs_end(cs, WGG_GRPC_OK, NULL, NULL); /* UnsubscribeConfiguration: the RPC returns nil */
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void on_msg(wgg_grpc_call *call, const uint8_t *data, size_t len, void *ctx) {
  (void)call;
  cstream *cs = ctx;
  if (cs->started) return; /* a server-streaming method reads one request */
  cs->started = true;
  Dapr__Proto__Runtime__V1__SubscribeConfigurationRequest *q =
      dapr__proto__runtime__v1__subscribe_configuration_request__unpack(NULL, len, data);
  if (!q) {
    cs_end(cs, WGG_GRPC_INTERNAL,
           "grpc: error unmarshalling request: invalid dapr.proto.runtime.v1.SubscribeConfigurationRequest message",
           NULL);
    return;
  }
  wgg_api_status st;
  cs->ce = wgg_config_lookup(cs->api, q->store_name, &st);
  if (cs->ce) qsort(q->keys, q->n_keys, sizeof *q->keys, cmp_str); /* daprd sorts the keys */
  if (!cs->ce || wgg_config_subscribe_call(cs->api, cs->ce, (const char *const *)q->keys, q->n_keys, on_change, cs,
                                           cs->id, &st)) {
    dapr__proto__runtime__v1__subscribe_configuration_request__free_unpacked(q, NULL);
    cs_end(cs, 0, NULL, &st);
    return;
  }
  dapr__proto__runtime__v1__subscribe_configuration_request__free_unpacked(q, NULL);
  cs->subscribed = true;
  pthread_mutex_lock(&reg_mu);
  cs->next = reg_head;
  reg_head = cs;
  pthread_mutex_unlock(&reg_mu);
  Dapr__Proto__Runtime__V1__SubscribeConfigurationResponse r =
      DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_CONFIGURATION_RESPONSE__INIT;
  r.id = cs->id;
  if (wgg_grpc_stream_send(cs->call, &r.base)) cs_end(cs, WGG_GRPC_INTERNAL, "out of memory", NULL);
}

static void on_end(wgg_grpc_call *call, bool gone, void *ctx) {
  (void)call;
  cstream *cs = ctx;
  if (!gone && cs->started) return; /* the client half-closes after its request: the stream goes on */
  /* gone: the client went away (daprd unsubscribes); no request at all: grpc-go's io.EOF answer */
  cs_end(cs, WGG_GRPC_UNKNOWN, "EOF", NULL);
}

void wgg_grpc_subscribe_configuration(wgg_api *api, wgg_grpc_call *call) {
  cstream *cs = calloc(1, sizeof *cs);
  if (!cs) {
    wgg_grpc_stream_finish(call, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  cs->api = api;
  cs->call = call;
  pthread_mutex_init(&cs->mu, NULL);
  uv_async_init(wgg_grpc_call_loop(call), &cs->async, on_async);
  cs->async.data = cs;
  wgg_grpc_stream_set(call, on_msg, on_end, cs);
}

/* ---- UnsubscribeConfiguration ---- */

void wgg_grpc_unsubscribe_configuration(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  (void)api;
  Dapr__Proto__Runtime__V1__UnsubscribeConfigurationRequest *q = (void *)m;
  bool found = false;
  pthread_mutex_lock(&reg_mu);
  for (cstream *cs = reg_head; cs && !found; cs = cs->next)
    if (!strcmp(cs->id, q->id)) {
      found = true;
      pthread_mutex_lock(&cs->mu);
      cs->stop = true;
      uv_async_send(&cs->async);
      pthread_mutex_unlock(&cs->mu);
    }
  pthread_mutex_unlock(&reg_mu);
  Dapr__Proto__Runtime__V1__UnsubscribeConfigurationResponse r =
      DAPR__PROTO__RUNTIME__V1__UNSUBSCRIBE_CONFIGURATION_RESPONSE__INIT;
  char msg[320];
  if (found) {
    wgg_warn("Unsubscribing using UnsubscribeConfiguration is deprecated. Disconnect from the SubscribeConfiguration "
             "RPC instead.");
    r.ok = true;
  } else {
    snprintf(msg, sizeof msg, "failed to unsubscribe to configuration request %.180s: subscription does not exist",
             q->id);
    r.message = msg;
  }
  wgg_grpc_reply(call, &r.base);
  protobuf_c_message_free_unpacked(m, NULL);
}
