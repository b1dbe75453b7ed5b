/*
 * mqtt.c: pubsub.mqtt3 (docs reference/components-reference/supported-pubsub/
 * setup-mqtt3.md; components-contrib pubsub/mqtt3) on libmosquitto, MQTT
 * 3.1.1. Metadata: url (tcp://[user:pass@]host[:port]; ssl:// is refused),
 * consumerID (client ID of the subscriber connection; default the app ID),
 * qos (0|1|2, default 1), retain (false), cleanSession (false).
 *
 * Two connections, each with its own libmosquitto network thread: the
 * producer (client ID <consumerID>-producer, clean session) and the consumer
 * (client ID consumerID, persistent session unless cleanSession). Publish runs
 * on the libuv thread pool (`blocking`) and returns once the broker confirmed
 * the message (PUBACK for qos 1, PUBCOMP for qos 2; for qos 0, once written).
 *
 * At-least-once delivery: libmosquitto queues the PUBACK of an incoming
 * message before its on_message callback but writes it only after the
 * callback returns, on the same network thread. The callback therefore waits
 * until the runtime is done with the message: acknowledged, the PUBACK goes
 * out; given back (retries exhausted, no dead-letter topic), the consumer's
 * socket is shut down so the PUBACK is never sent and the broker delivers the
 * message again after the automatic reconnect (persistent session, qos >= 1).
 * A sidecar killed with the message in flight leaves it unacknowledged the
 * same way. The cost: one message at a time per consumer connection (MQTT
 * order is kept; concurrency is 1), and a delivery that takes longer than the
 * keep-alive (60 s) makes the broker drop the connection and resend.
 */
#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "components/lazy_mosquitto.h"
#include "components/pubsub/pubsub.h"
#include "util/err.h"
#include "util/log.h"

enum { KEEPALIVE_S = 60, PUBLISH_TIMEOUT_S = 10, HANDLER_WAIT_S = 5 };

typedef struct mtopic {
  char *filter;
  wgg_pubsub_deliver_fn fn;
  void *user;
  struct mtopic *next;
} mtopic;

typedef struct qbus {
  wgg_pubsub base;
  char host[256];
  int port, qos;
  bool retain, clean;
  char *user, *pass, *client_id, *producer_id;
  struct mosquitto *prod, *cons;
  pthread_mutex_t mu; /* everything below */
  pthread_cond_t cv;
  mtopic *topics;
  int *acked; /* mids confirmed by the broker, not yet seen by their publisher */
  size_t n_acked, cap_acked;
  bool prod_up, cons_up, stop, cons_started;
  int refs; /* 1 for the component + 1 per message not done */
} qbus;

typedef struct qmsg {
  wgg_pubsub_msg base;
  qbus *b;
  bool done, ack;
  bool orphan; /* on_message stopped waiting (shutdown): q_done frees it */
} qmsg;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void) {
  mosquitto_lib_init();
}

static void deadline_in(struct timespec *ts, int seconds) {
  clock_gettime(CLOCK_REALTIME, ts);
  ts->tv_sec += seconds;
}

static void bus_free(qbus *b) {
  if (b->prod) mosquitto_destroy(b->prod);
  if (b->cons) mosquitto_destroy(b->cons);
  while (b->topics) {
    mtopic *t = b->topics;
    b->topics = t->next;
    free(t->filter), free(t);
  }
  free(b->acked);
  free(b->user), free(b->pass), free(b->client_id), free(b->producer_id);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  free(b);
}

static void bus_unref(qbus *b) {
  pthread_mutex_lock(&b->mu);
  bool last = --b->refs == 0;
  pthread_mutex_unlock(&b->mu);
  if (last) bus_free(b);
}

/* ---- producer ---- */

static void on_prod_connect(struct mosquitto *m, void *p, int rc) {
  (void)m;
  qbus *b = p;
  pthread_mutex_lock(&b->mu);
  b->prod_up = rc == 0;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

static void on_prod_disconnect(struct mosquitto *m, void *p, int rc) {
  (void)m, (void)rc;
  qbus *b = p;
  pthread_mutex_lock(&b->mu);
  b->prod_up = false;
  pthread_mutex_unlock(&b->mu);
}

static void on_publish(struct mosquitto *m, void *p, int mid) {
  (void)m;
  qbus *b = p;
  pthread_mutex_lock(&b->mu);
  if (b->n_acked == b->cap_acked) {
    size_t cap = b->cap_acked ? 2 * b->cap_acked : 64;
    int *g = realloc(b->acked, cap * sizeof *g);
    if (g) b->acked = g, b->cap_acked = cap;
  }
  if (b->n_acked < b->cap_acked) b->acked[b->n_acked++] = mid;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

static bool take_acked(qbus *b, int mid) {
  for (size_t i = 0; i < b->n_acked; i++)
    if (b->acked[i] == mid) {
      b->acked[i] = b->acked[--b->n_acked];
      return true;
    }
  return false;
}

static int q_publish(wgg_pubsub *ps, const char *topic, const char *data, size_t len, wgg_err *err) {
  qbus *b = (qbus *)ps;
  if (len > 268435455) return wgg_err_set(err, "mqtt3: message too large (%zu bytes)", len);
  int mid = 0;
  pthread_mutex_lock(&b->mu); /* held across the call: on_publish cannot record mid before we wait for it */
  int rc = mosquitto_publish(b->prod, &mid, topic, (int)len, data, b->qos, b->retain);
  if (rc != MOSQ_ERR_SUCCESS) {
    pthread_mutex_unlock(&b->mu);
    return wgg_err_set(err, "mqtt3 %s:%d: publish to %s: %s", b->host, b->port, topic, mosquitto_strerror(rc));
  }
  struct timespec until;
  deadline_in(&until, PUBLISH_TIMEOUT_S);
  int wrc = 0;
  while (!take_acked(b, mid) && wrc == 0) wrc = pthread_cond_timedwait(&b->cv, &b->mu, &until);
  pthread_mutex_unlock(&b->mu);
  if (wrc) return wgg_err_set(err, "mqtt3 %s:%d: no confirmation from the broker within %d s", b->host, b->port,
                              PUBLISH_TIMEOUT_S);
  return 0;
}

/* ---- consumer ---- */

static void subscribe_all(qbus *b) {
  for (mtopic *t = b->topics; t; t = t->next) {
    int rc = mosquitto_subscribe(b->cons, NULL, t->filter, b->qos);
    if (rc != MOSQ_ERR_SUCCESS) wgg_warn("mqtt3: subscribe %s: %s", t->filter, mosquitto_strerror(rc));
  }
}

static void on_cons_connect(struct mosquitto *m, void *p, int rc) {
  (void)m;
  qbus *b = p;
  pthread_mutex_lock(&b->mu);
  b->cons_up = rc == 0;
  if (rc == 0) subscribe_all(b); /* a clean session lost its subscriptions; a persistent one keeps them (no harm) */
  else wgg_warn("mqtt3 %s:%d: connection refused: %s", b->host, b->port, mosquitto_connack_string(rc));
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

static void on_cons_disconnect(struct mosquitto *m, void *p, int rc) {
  (void)m;
  qbus *b = p;
  pthread_mutex_lock(&b->mu);
  b->cons_up = false;
  bool stop = b->stop;
  pthread_mutex_unlock(&b->mu);
  if (rc && !stop) wgg_warn("mqtt3 %s:%d: consumer connection lost; reconnecting", b->host, b->port);
}

static void q_done(wgg_pubsub_msg *m, bool ack) {
  qmsg *qm = (qmsg *)m;
  qbus *b = qm->b;
  pthread_mutex_lock(&b->mu);
  bool orphan = qm->orphan;
  qm->done = true;
  qm->ack = ack;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  if (orphan) {
    wgg_pubsub_msg_free(m);
    bus_unref(b);
  }
}

static mtopic *handler_for(qbus *b, const char *topic) {
  for (mtopic *t = b->topics; t; t = t->next) {
    bool match = false;
    if (mosquitto_topic_matches_sub(t->filter, topic, &match) == MOSQ_ERR_SUCCESS && match) return t;
  }
  return NULL;
}

/* On the consumer's network thread: hands the message over and waits for the
 * verdict (see the top of the file). */
static void on_message(struct mosquitto *m, void *p, const struct mosquitto_message *in) {
  qbus *b = p;
  struct timespec until;
  deadline_in(&until, HANDLER_WAIT_S);
  pthread_mutex_lock(&b->mu);
  mtopic *t;
  int wrc = 0;
  while (!(t = handler_for(b, in->topic)) && !b->stop && wrc == 0) /* session messages may precede subscribe() */
    wrc = pthread_cond_timedwait(&b->cv, &b->mu, &until);
  if (!t) {
    pthread_mutex_unlock(&b->mu);
    if (!b->stop) wgg_warn("mqtt3: message on %s, a topic nobody here subscribes to; dropped", in->topic);
    return;
  }
  qmsg *qm = (qmsg *)wgg_pubsub_msg_new(sizeof *qm, in->topic, in->payload ? in->payload : "", (size_t)in->payloadlen,
                                        q_done);
  if (!qm) {
    pthread_mutex_unlock(&b->mu);
    shutdown(mosquitto_socket(m), SHUT_RDWR); /* not acknowledged: the broker resends */
    return;
  }
  qm->b = b;
  b->refs += 2; /* the message's own reference, and ours while we wait */
  wgg_pubsub_deliver_fn fn = t->fn;
  void *user = t->user;
  pthread_mutex_unlock(&b->mu);
  fn(user, &qm->base);
  pthread_mutex_lock(&b->mu);
  while (!qm->done && !b->stop) pthread_cond_wait(&b->cv, &b->mu);
  bool done = qm->done, ack = qm->ack;
  if (!done) qm->orphan = true; /* stopping: the runtime still owns it; q_done frees it */
  pthread_mutex_unlock(&b->mu);
  if (!done || !ack) shutdown(mosquitto_socket(m), SHUT_RDWR);
  if (done) {
    wgg_pubsub_msg_free(&qm->base);
    bus_unref(b);
  }
  bus_unref(b);
}

static int q_subscribe(wgg_pubsub *ps, const char *topic, wgg_pubsub_deliver_fn fn, void *user, wgg_err *err) {
  qbus *b = (qbus *)ps;
  mtopic *t = calloc(1, sizeof *t);
  if (!t || !(t->filter = strdup(topic))) {
    free(t);
    return wgg_err_set(err, "out of memory");
  }
  t->fn = fn, t->user = user;
  pthread_mutex_lock(&b->mu);
  for (mtopic *o = b->topics; o; o = o->next)
    if (!strcmp(o->filter, topic)) {
      pthread_mutex_unlock(&b->mu);
      free(t->filter), free(t);
      return wgg_err_set(err, "topic %s is already subscribed", topic);
    }
  t->next = b->topics;
  b->topics = t;
  int rc = MOSQ_ERR_NO_CONN;
  if (!b->cons_started) { /* the first subscription connects the consumer (non-blocking); on_connect subscribes */
    rc = mosquitto_connect_async(b->cons, b->host, b->port, KEEPALIVE_S);
    if (rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_ERRNO) rc = mosquitto_loop_start(b->cons); /* retries by itself */
    if (rc == MOSQ_ERR_SUCCESS) b->cons_started = true;
    else wgg_warn("mqtt3 %s:%d: consumer: %s", b->host, b->port, mosquitto_strerror(rc));
    rc = MOSQ_ERR_NO_CONN;
  } else if (b->cons_up) {
    rc = mosquitto_subscribe(b->cons, NULL, topic, b->qos);
  }
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
    return wgg_err_set(err, "mqtt3: subscribe %s: %s", topic, mosquitto_strerror(rc));
  return 0;
}

static void q_destroy(wgg_pubsub *ps) {
  qbus *b = (qbus *)ps;
  pthread_mutex_lock(&b->mu);
  b->stop = true;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  mosquitto_disconnect(b->prod);
  mosquitto_loop_stop(b->prod, false);
  if (b->cons_started) {
    mosquitto_disconnect(b->cons);
    mosquitto_loop_stop(b->cons, false);
  }
  bus_unref(b);
}

static const wgg_pubsub_ops mqtt_ops = {q_publish, q_subscribe, q_destroy};

/* Parses tcp://[user[:pass]@]host[:port] (mqtt:// too). */
static int parse_url(qbus *b, const char *url, wgg_err *err) {
  const char *p = strstr(url, "://");
  if (!p) return wgg_err_set(err, "mqtt3: invalid url '%s' (tcp://host:port expected)", url);
  size_t sl = (size_t)(p - url);
  if ((sl == 3 && !strncasecmp(url, "ssl", 3)) || (sl == 3 && !strncasecmp(url, "tls", 3)) ||
      (sl == 5 && !strncasecmp(url, "mqtts", 5)))
    return wgg_err_set(err, "mqtt3: TLS urls (%.*s://) are not supported yet", (int)sl, url);
  if (!(sl == 3 && !strncasecmp(url, "tcp", 3)) && !(sl == 4 && !strncasecmp(url, "mqtt", 4)))
    return wgg_err_set(err, "mqtt3: invalid url scheme in '%s' (tcp:// expected)", url);
  p += 3;
  const char *at = strchr(p, '@');
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    b->user = strndup(p, (size_t)((colon ? colon : at) - p));
    if (colon) b->pass = strndup(colon + 1, (size_t)(at - colon - 1));
    p = at + 1;
  }
  size_t hl = strcspn(p, ":/");
  if (hl == 0 || hl >= sizeof b->host) return wgg_err_set(err, "mqtt3: invalid host in url '%s'", url);
  memcpy(b->host, p, hl);
  b->port = 1883;
  if (p[hl] == ':') {
    char *end;
    long port = strtol(p + hl + 1, &end, 10);
    if (port <= 0 || port > 65535 || (*end && *end != '/'))
      return wgg_err_set(err, "mqtt3: invalid port in url '%s'", url);
    b->port = (int)port;
  }
  return 0;
}

static int bool_meta(const wgg_component *c, const char *name, bool *out, wgg_err *err) {
  const char *v = wgg_component_meta(c, name);
  if (!v || !*v) return 0;
  if (!strcasecmp(v, "true") || !strcmp(v, "1")) *out = true;
  else if (!strcasecmp(v, "false") || !strcmp(v, "0")) *out = false;
  else return wgg_err_set(err, "mqtt3: invalid %s '%s' (true or false)", name, v);
  return 0;
}

/* Creates a client. The producer is connected at once (blocking, at start:
 * like Dapr, an unreachable broker fails the component's init) and gets its
 * thread; the consumer connects on the first subscribe(). */
static struct mosquitto *client(qbus *b, const char *id, bool clean, bool consumer, wgg_err *err) {
  struct mosquitto *m = mosquitto_new(id, clean, b);
  if (!m) return wgg_err_set(err, "mqtt3: cannot create a client"), NULL;
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_reconnect_delay_set(m, 1, 10, true);
  if (b->user) mosquitto_username_pw_set(m, b->user, b->pass);
  if (consumer) {
    mosquitto_connect_callback_set(m, on_cons_connect);
    mosquitto_disconnect_callback_set(m, on_cons_disconnect);
    mosquitto_message_callback_set(m, on_message);
  } else {
    mosquitto_connect_callback_set(m, on_prod_connect);
    mosquitto_disconnect_callback_set(m, on_prod_disconnect);
    mosquitto_publish_callback_set(m, on_publish);
  }
  if (consumer) return m;
  int rc = mosquitto_connect(m, b->host, b->port, KEEPALIVE_S);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_start(m);
  if (rc != MOSQ_ERR_SUCCESS) {
    wgg_err_set(err, "mqtt3 %s:%d: cannot connect: %s", b->host, b->port,
                rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    mosquitto_destroy(m);
    return NULL;
  }
  return m;
}

wgg_pubsub *wgg_pubsub_mqtt_new(const wgg_component *c, const char *app_id, wgg_err *err) {
  if (wgg_mosquitto_load(err)) return NULL; /* loaded on first use (components/lazy_mosquitto.h) */
  pthread_once(&lib_once, lib_init);
  const char *url = wgg_component_meta(c, "url");
  if (!url || !*url) return wgg_err_set(err, "mqtt3: url is required (tcp://host:port)"), NULL;
  qbus *b = calloc(1, sizeof *b);
  if (!b) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  b->refs = 1;
  b->base.ops = &mqtt_ops;
  b->base.blocking = true;
  b->base.concurrency = 1;
  b->base.features = WGG_PSFEAT_SUBSCRIBE_WILDCARDS;
  b->qos = 1;
  if (parse_url(b, url, err) || wgg_pubsub_meta_int(c, "qos", 0, &b->qos, err) ||
      bool_meta(c, "retain", &b->retain, err) || bool_meta(c, "cleanSession", &b->clean, err))
    goto fail;
  if (b->qos > 2) {
    wgg_err_set(err, "mqtt3: invalid qos %d (0, 1 or 2)", b->qos);
    goto fail;
  }
  const char *cid = wgg_component_meta(c, "consumerID");
  b->client_id = strdup(cid && *cid ? cid : app_id && *app_id ? app_id : "wasmgate");
  size_t n = b->client_id ? strlen(b->client_id) + 10 : 0;
  if (!b->client_id || !(b->producer_id = malloc(n))) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  snprintf(b->producer_id, n, "%s-producer", b->client_id);
  if (!(b->prod = client(b, b->producer_id, true, false, err)) || !(b->cons = client(b, b->client_id, b->clean, true, err)))
    goto fail;
  return &b->base;
fail:
  if (b->prod) {
    mosquitto_disconnect(b->prod);
    mosquitto_loop_stop(b->prod, false);
  }
  bus_free(b);
  return NULL;
}
