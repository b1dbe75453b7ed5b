/*
 * redis.c: pubsub.redis on Redis Streams (docs reference/components-reference/
 * supported-pubsub/setup-redis-pubsub.md; components-contrib
 * pubsub/redis/redis.go): a topic is a stream, publish is XADD <topic>
 * [MAXLEN ~ maxLenApprox] * data <bytes>; subscribers form the consumer group
 * named by consumerID (default: the app ID), created at "0" with MKSTREAM,
 * and read with XREADGROUP as consumer consumerID. A message is XACKed once
 * the runtime acknowledges it; one it gives back stays pending and is claimed
 * again with XAUTOCLAIM once idle for processingTimeout (checked every
 * redeliverInterval; 0 disables). At start, the consumer first re-reads its own
 * pending entries (ID 0), so messages a crashed sidecar had received but not
 * acknowledged are delivered again at once. At most queueDepth messages are
 * outstanding at a time.
 *
 * hiredis, synchronous, off the loops: publish runs on the libuv thread pool
 * (`blocking`) over one connection under a mutex; each component has one
 * consumer thread with its own connection (XREADGROUP BLOCK 200 ms, so acks
 * and new subscriptions wait at most that long). Lost connections are
 * re-established with a 1 s pause.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "components/pubsub/pubsub.h"
#include "util/err.h"
#include "util/log.h"

typedef struct rtopic {
  char *name;
  wgg_pubsub_deliver_fn fn;
  void *user;
  bool ready; /* the group exists and our own pending entries were re-read */
  struct rtopic *next;
} rtopic;

typedef struct rack {
  char *topic, *id;
  struct rack *next;
} rack;

typedef struct rbus {
  wgg_pubsub base;
  char host[256];
  int port, db;
  char *password, *username, *consumer;
  struct timeval dial, rw;
  uint64_t redeliver_ms, processing_ms;
  int queue_depth;
  long long maxlen;
  pthread_mutex_t pub_mu;
  redisContext *pub;
  pthread_mutex_t mu; /* everything below */
  pthread_cond_t cv;
  rtopic *topics;
  rack *acks;
  char **inflight; /* ids handed to the runtime and not done yet */
  size_t n_inflight, cap_inflight;
  bool stop, thread_started;
  int refs; /* 1 for the component + 1 per message not done */
  pthread_t thread;
} rbus;

typedef struct rmsg {
  wgg_pubsub_msg base;
  rbus *b;
  char *id;
  rtopic *t;         /* whose handler gets it */
  struct rmsg *next; /* the batch being handed over */
} rmsg;

static void bus_unref(rbus *b);

/* ---- connections ---- */

static redisReply *cmdv(redisContext **ctx, int argc, const char **argv, const size_t *lens, wgg_err *err) {
  redisReply *r = redisCommandArgv(*ctx, argc, argv, lens);
  if (!r) {
    wgg_err_set(err, "redis: %s", (*ctx)->errstr[0] ? (*ctx)->errstr : "connection lost");
    redisFree(*ctx);
    *ctx = NULL;
  }
  return r;
}

static int checked(redisContext **ctx, int argc, const char **argv, wgg_err *err) {
  redisReply *r = cmdv(ctx, argc, argv, NULL, err);
  if (!r) return -1;
  int rc = r->type == REDIS_REPLY_ERROR ? wgg_err_set(err, "redis %s: %s", argv[0], r->str) : 0;
  freeReplyObject(r);
  return rc;
}

static redisContext *dial(rbus *b, wgg_err *err) {
  redisContext *c = redisConnectWithTimeout(b->host, b->port, b->dial);
  if (!c || c->err) {
    wgg_err_set(err, "redis %s:%d: cannot connect: %s", b->host, b->port, c ? c->errstr : "out of memory");
    if (c) redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, b->rw);
  if (b->password && *b->password) {
    bool user = b->username && *b->username;
    const char *a[] = {"AUTH", user ? b->username : b->password, b->password};
    if (checked(&c, user ? 3 : 2, a, err)) goto fail;
  }
  if (b->db) {
    char dbs[16];
    snprintf(dbs, sizeof dbs, "%d", b->db);
    const char *a[] = {"SELECT", dbs};
    if (checked(&c, 2, a, err)) goto fail;
  }
  return c;
fail:
  if (c) redisFree(c);
  return NULL;
}

/* ---- publish (thread pool) ---- */

static int r_publish(wgg_pubsub *ps, const char *topic, const char *data, size_t len, wgg_err *err) {
  rbus *b = (rbus *)ps;
  char maxlen[24];
  snprintf(maxlen, sizeof maxlen, "%lld", b->maxlen);
  const char *argv[8];
  size_t lens[8];
  int argc = 0;
  argv[argc++] = "XADD";
  argv[argc++] = topic;
  if (b->maxlen > 0) argv[argc++] = "MAXLEN", argv[argc++] = "~", argv[argc++] = maxlen;
  argv[argc++] = "*";
  argv[argc++] = "data";
  argv[argc++] = data;
  for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
  lens[argc - 1] = len;
  pthread_mutex_lock(&b->pub_mu);
  int rc = -1;
  for (int attempt = 0; attempt < 2 && rc; attempt++) { /* a stale connection is retried once */
    if (!b->pub && !(b->pub = dial(b, err))) break;
    redisReply *r = cmdv(&b->pub, argc, argv, lens, err);
    if (!r) continue;
    if (r->type == REDIS_REPLY_ERROR) {
      wgg_err_set(err, "redis XADD %s: %s", topic, r->str);
      attempt = 2;
    } else {
      rc = 0;
    }
    freeReplyObject(r);
  }
  pthread_mutex_unlock(&b->pub_mu);
  return rc;
}

/* ---- messages ---- */

static void r_done(wgg_pubsub_msg *m, bool ack) {
  rmsg *rm = (rmsg *)m;
  rbus *b = rm->b;
  rack *a = ack ? calloc(1, sizeof *a) : NULL;
  pthread_mutex_lock(&b->mu);
  for (size_t i = 0; i < b->n_inflight; i++)
    if (!strcmp(b->inflight[i], rm->id)) {
      free(b->inflight[i]);
      b->inflight[i] = b->inflight[--b->n_inflight];
      break;
    }
  if (a) {
    a->topic = m->topic, a->id = rm->id;
    m->topic = NULL, rm->id = NULL;
    a->next = b->acks;
    b->acks = a;
  }
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  free(rm->id);
  wgg_pubsub_msg_free(m);
  bus_unref(b);
}

/* Makes a message of one stream entry ([id, [field, value, ...]]) for t,
 * unless it is already in flight here, and links it to *out. Called with
 * b->mu held; the handlers run later, without the lock (see flush_out). */
static void hand_over(rbus *b, rtopic *t, redisReply *entry, rmsg **out) {
  if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[0]->type != REDIS_REPLY_STRING) return;
  const char *id = entry->element[0]->str;
  redisReply *fields = entry->element[1];
  for (size_t i = 0; i < b->n_inflight; i++)
    if (!strcmp(b->inflight[i], id)) return;
  const char *data = "";
  size_t len = 0;
  for (size_t i = 0; fields && fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2)
    if (fields->element[i]->type == REDIS_REPLY_STRING && !strcmp(fields->element[i]->str, "data")) {
      data = fields->element[i + 1]->str ? fields->element[i + 1]->str : "";
      len = fields->element[i + 1]->len;
    }
  if (b->n_inflight == b->cap_inflight) {
    size_t cap = b->cap_inflight ? 2 * b->cap_inflight : 64;
    char **g = realloc(b->inflight, cap * sizeof *g);
    if (!g) return;
    b->inflight = g, b->cap_inflight = cap;
  }
  rmsg *m = (rmsg *)wgg_pubsub_msg_new(sizeof *m, t->name, data, len, r_done);
  char *inf = strdup(id);
  if (!m || !inf || !(m->id = strdup(id))) {
    if (m) free(m->id);
    wgg_pubsub_msg_free(&m->base);
    free(inf);
    return;
  }
  m->b = b;
  m->t = t;
  b->inflight[b->n_inflight++] = inf;
  b->refs++;
  m->next = *out;
  *out = m;
}

/* Runs the handlers of a batch (in stream order), without b->mu: a handler may
 * call done() at once. */
static void flush_out(rmsg *out) {
  rmsg *rev = NULL;
  while (out) {
    rmsg *n = out->next;
    out->next = rev;
    rev = out;
    out = n;
  }
  while (rev) {
    rmsg *n = rev->next;
    rev->t->fn(rev->t->user, &rev->base); /* never blocks */
    rev = n;
  }
}

/* Delivers every entry of an XREADGROUP/XAUTOCLAIM stream list reply. */
static void hand_streams(rbus *b, redisReply *r) {
  if (!r || r->type != REDIS_REPLY_ARRAY) return;
  for (size_t s = 0; s < r->elements; s++) {
    redisReply *st = r->element[s];
    if (st->type != REDIS_REPLY_ARRAY || st->elements != 2) continue;
    rmsg *out = NULL;
    pthread_mutex_lock(&b->mu);
    rtopic *t = b->topics;
    while (t && strcmp(t->name, st->element[0]->str)) t = t->next;
    for (size_t i = 0; t && i < st->element[1]->elements; i++) hand_over(b, t, st->element[1]->element[i], &out);
    pthread_mutex_unlock(&b->mu);
    flush_out(out);
  }
}

/* ---- the consumer thread ---- */

static void nap(rbus *b, int ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  pthread_mutex_lock(&b->mu);
  if (!b->stop) pthread_cond_timedwait(&b->cv, &b->mu, &until);
  pthread_mutex_unlock(&b->mu);
}

/* Creates the groups of new topics and re-reads our own pending entries. */
static int prepare_topics(rbus *b, redisContext **c, wgg_err *err) {
  for (;;) {
    pthread_mutex_lock(&b->mu);
    rtopic *t = b->topics;
    while (t && t->ready) t = t->next;
    char *name = t ? strdup(t->name) : NULL;
    pthread_mutex_unlock(&b->mu);
    if (!t) return 0;
    if (!name) return wgg_err_set(err, "out of memory");
    const char *mk[] = {"XGROUP", "CREATE", name, b->consumer, "0", "MKSTREAM"};
    redisReply *r = cmdv(c, 6, mk, NULL, err);
    if (!r) return free(name), -1;
    bool ok = r->type != REDIS_REPLY_ERROR || !strncmp(r->str, "BUSYGROUP", 9);
    if (!ok) wgg_err_set(err, "redis XGROUP CREATE %s %s: %s", name, b->consumer, r->str);
    freeReplyObject(r);
    if (!ok) return free(name), -1;
    const char *pend[] = {"XREADGROUP", "GROUP", b->consumer, b->consumer, "COUNT", "1000", "STREAMS", name, "0"};
    r = cmdv(c, 9, pend, NULL, err);
    if (!r) return free(name), -1;
    hand_streams(b, r);
    freeReplyObject(r);
    pthread_mutex_lock(&b->mu);
    for (t = b->topics; t; t = t->next)
      if (!strcmp(t->name, name)) t->ready = true;
    pthread_mutex_unlock(&b->mu);
    free(name);
  }
}

static int flush_acks(rbus *b, redisContext **c, wgg_err *err) {
  pthread_mutex_lock(&b->mu);
  rack *a = b->acks;
  b->acks = NULL;
  pthread_mutex_unlock(&b->mu);
  int rc = 0;
  while (a) {
    rack *next = a->next;
    const char *x[] = {"XACK", a->topic, b->consumer, a->id};
    if (!rc && checked(c, 4, x, err)) rc = -1; /* unacked entries are reclaimed later: at-least-once */
    free(a->topic), free(a->id), free(a);
    a = next;
  }
  return rc;
}

static int reclaim(rbus *b, redisContext **c, wgg_err *err) {
  char idle[24];
  snprintf(idle, sizeof idle, "%llu", (unsigned long long)b->processing_ms);
  pthread_mutex_lock(&b->mu);
  size_t n = 0;
  for (rtopic *t = b->topics; t; t = t->next) n++;
  char **names = calloc(n ? n : 1, sizeof *names);
  n = 0;
  for (rtopic *t = b->topics; names && t; t = t->next)
    if (t->ready) names[n++] = strdup(t->name);
  pthread_mutex_unlock(&b->mu);
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    if (!names[i]) continue;
    const char *x[] = {"XAUTOCLAIM", names[i], b->consumer, b->consumer, idle, "0-0", "COUNT", "100"};
    redisReply *r = cmdv(c, 8, x, NULL, err);
    if (!r) {
      rc = -1;
      break;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 && r->element[1]->type == REDIS_REPLY_ARRAY) {
      rmsg *out = NULL;
      pthread_mutex_lock(&b->mu);
      rtopic *t = b->topics;
      while (t && strcmp(t->name, names[i])) t = t->next;
      for (size_t k = 0; t && k < r->element[1]->elements; k++) hand_over(b, t, r->element[1]->element[k], &out);
      pthread_mutex_unlock(&b->mu);
      flush_out(out);
    }
    freeReplyObject(r);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One XREADGROUP over every ready topic for new entries. */
static int read_new(rbus *b, redisContext **c, int count, wgg_err *err) {
  pthread_mutex_lock(&b->mu);
  size_t n = 0;
  for (rtopic *t = b->topics; t; t = t->next) n += t->ready;
  const char **argv = calloc(9 + 2 * n, sizeof *argv);
  char cnt[16];
  snprintf(cnt, sizeof cnt, "%d", count);
  size_t argc = 0, k = 0;
  if (argv) {
    argv[argc++] = "XREADGROUP", argv[argc++] = "GROUP", argv[argc++] = b->consumer, argv[argc++] = b->consumer;
    argv[argc++] = "COUNT", argv[argc++] = cnt, argv[argc++] = "BLOCK", argv[argc++] = "200", argv[argc++] = "STREAMS";
    for (rtopic *t = b->topics; t; t = t->next)
      if (t->ready) argv[argc + k++] = strdup(t->name);
    for (size_t i = 0; i < n; i++) argv[argc + n + i] = ">";
  }
  pthread_mutex_unlock(&b->mu);
  if (!argv) return wgg_err_set(err, "out of memory");
  int rc = 0;
  if (n == 0) {
    nap(b, 200);
  } else {
    redisReply *r = cmdv(c, (int)(argc + 2 * n), argv, NULL, err);
    if (!r) rc = -1;
    else if (r->type == REDIS_REPLY_ERROR) {
      rc = wgg_err_set(err, "redis XREADGROUP: %s", r->str);
      if (strstr(r->str, "NOGROUP")) { /* the stream or group was deleted: create them again */
        pthread_mutex_lock(&b->mu);
        for (rtopic *t = b->topics; t; t = t->next) t->ready = false;
        pthread_mutex_unlock(&b->mu);
      }
    } else hand_streams(b, r);
    if (r) freeReplyObject(r);
  }
  for (size_t i = 0; i < n; i++) free((char *)argv[argc + i]);
  free(argv);
  return rc;
}

static void *consumer_main(void *p) {
  rbus *b = p;
  redisContext *c = NULL;
  uint64_t last_reclaim = now_ms();
  bool warned = false;
  for (;;) {
    pthread_mutex_lock(&b->mu);
    bool stop = b->stop;
    int room = b->queue_depth - (int)b->n_inflight;
    pthread_mutex_unlock(&b->mu);
    if (stop) break;
    wgg_err err;
    if (!c && !(c = dial(b, &err))) {
      if (!warned) wgg_warn("pubsub.redis: %s; retrying every second", err.msg);
      warned = true;
      nap(b, 1000);
      continue;
    }
    int rc = prepare_topics(b, &c, &err);
    if (!rc) rc = flush_acks(b, &c, &err);
    if (!rc && b->redeliver_ms && now_ms() - last_reclaim >= b->redeliver_ms) {
      last_reclaim = now_ms();
      rc = reclaim(b, &c, &err);
    }
    if (!rc && room <= 0) nap(b, 200);
    else if (!rc) rc = read_new(b, &c, room > 100 ? 100 : room, &err);
    if (rc) {
      wgg_warn("pubsub.redis: %s", err.msg);
      warned = true;
      nap(b, c ? 200 : 1000);
    } else {
      warned = false;
    }
  }
  if (c) {
    wgg_err err;
    flush_acks(b, &c, &err);
    if (c) redisFree(c);
  }
  return NULL;
}

/* ---- lifecycle ---- */

static int r_subscribe(wgg_pubsub *ps, const char *topic, wgg_pubsub_deliver_fn fn, void *user, wgg_err *err) {
  rbus *b = (rbus *)ps;
  rtopic *t = calloc(1, sizeof *t);
  if (!t || !(t->name = strdup(topic))) {
    free(t);
    return wgg_err_set(err, "out of memory");
  }
  t->fn = fn, t->user = user;
  pthread_mutex_lock(&b->mu);
  for (rtopic *o = b->topics; o; o = o->next)
    if (!strcmp(o->name, topic)) {
      pthread_mutex_unlock(&b->mu);
      free(t->name), free(t);
      return wgg_err_set(err, "topic %s is already subscribed", topic);
    }
  t->next = b->topics;
  b->topics = t;
  int rc = 0;
  if (!b->thread_started) {
    if (pthread_create(&b->thread, NULL, consumer_main, b)) rc = wgg_err_set(err, "cannot start the consumer thread");
    else b->thread_started = true;
  }
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  return rc;
}

static void bus_free(rbus *b) {
  while (b->topics) {
    rtopic *t = b->topics;
    b->topics = t->next;
    free(t->name), free(t);
  }
  while (b->acks) {
    rack *a = b->acks;
    b->acks = a->next;
    free(a->topic), free(a->id), free(a);
  }
  for (size_t i = 0; i < b->n_inflight; i++) free(b->inflight[i]);
  free(b->inflight);
  if (b->pub) redisFree(b->pub);
  free(b->password), free(b->username), free(b->consumer);
  pthread_mutex_destroy(&b->pub_mu);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  free(b);
}

static void bus_unref(rbus *b) {
  pthread_mutex_lock(&b->mu);
  bool last = --b->refs == 0;
  pthread_mutex_unlock(&b->mu);
  if (last) bus_free(b);
}

static void r_destroy(wgg_pubsub *ps) {
  rbus *b = (rbus *)ps;
  pthread_mutex_lock(&b->mu);
  b->stop = true;
  bool started = b->thread_started;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  if (started) pthread_join(b->thread, NULL);
  bus_unref(b);
}

static const wgg_pubsub_ops redis_ops = {r_publish, r_subscribe, r_destroy};

static int duration_ms(const wgg_component *c, const char *name, const char *def, uint64_t *out, wgg_err *err) {
  const char *v = wgg_component_meta(c, name);
  wgg_err e;
  if (wgg_parse_duration_ms(v && *v ? v : def, out, &e)) return wgg_err_set(err, "pubsub.redis: %s: %s", name, e.msg);
  return 0;
}

static struct timeval tv_of(uint64_t ms) {
  return (struct timeval){(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
}

wgg_pubsub *wgg_pubsub_redis_new(const wgg_component *c, const char *app_id, wgg_err *err) {
  const char *host = wgg_component_meta(c, "redisHost");
  if (!host || !*host) return wgg_err_set(err, "pubsub.redis: redisHost is required (host:port)"), NULL;
  const char *tls = wgg_component_meta(c, "enableTLS");
  if (tls && !strcasecmp(tls, "true")) return wgg_err_set(err, "pubsub.redis: enableTLS is not supported yet"), NULL;
  const char *type = wgg_component_meta(c, "redisType");
  if (type && *type && strcasecmp(type, "node"))
    return wgg_err_set(err, "pubsub.redis: redisType %s is not supported (only node)", type), NULL;
  rbus *b = calloc(1, sizeof *b);
  if (!b) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_init(&b->pub_mu, NULL);
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  b->refs = 1;
  b->base.ops = &redis_ops;
  b->base.blocking = true;
  b->base.concurrency = 10;
  b->queue_depth = 100;
  const char *colon = strrchr(host, ':');
  char *end = NULL;
  long port = colon ? strtol(colon + 1, &end, 10) : 6379;
  size_t hl = colon ? (size_t)(colon - host) : strlen(host);
  uint64_t dial_ms, read_ms;
  if ((colon && (!colon[1] || *end)) || port <= 0 || port > 65535 || hl == 0 || hl >= sizeof b->host) {
    wgg_err_set(err, "pubsub.redis: invalid redisHost '%s' (expected host:port)", host);
    goto fail;
  }
  memcpy(b->host, host, hl);
  b->port = (int)port;
  const char *pw = wgg_component_meta(c, "redisPassword"), *user = wgg_component_meta(c, "redisUsername");
  const char *cid = wgg_component_meta(c, "consumerID");
  if ((pw && !(b->password = strdup(pw))) || (user && !(b->username = strdup(user))) ||
      !(b->consumer = strdup(cid && *cid ? cid : app_id && *app_id ? app_id : "wasmgate"))) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  const char *md = wgg_component_meta(c, "maxLenApprox");
  if (md && *md && ((b->maxlen = strtoll(md, &end, 10)) < 0 || *end)) {
    wgg_err_set(err, "pubsub.redis: invalid maxLenApprox '%s'", md);
    goto fail;
  }
  if (wgg_pubsub_meta_int(c, "redisDB", 0, &b->db, err) || wgg_pubsub_meta_int(c, "queueDepth", 1, &b->queue_depth, err) ||
      wgg_pubsub_meta_int(c, "concurrency", 1, &b->base.concurrency, err) ||
      duration_ms(c, "redeliverInterval", "60s", &b->redeliver_ms, err) ||
      duration_ms(c, "processingTimeout", "15s", &b->processing_ms, err) ||
      duration_ms(c, "dialTimeout", "5s", &dial_ms, err) || duration_ms(c, "readTimeout", "3s", &read_ms, err))
    goto fail;
  b->dial = tv_of(dial_ms);
  b->rw = tv_of(read_ms + 1000); /* XREADGROUP BLOCK 200 must fit in the read timeout */
  /* Like Dapr, check the server at init: a Redis that is down stops the start (unless ignoreErrors). */
  if (!(b->pub = dial(b, err))) goto fail;
  return &b->base;
fail:
  bus_free(b);
  return NULL;
}
