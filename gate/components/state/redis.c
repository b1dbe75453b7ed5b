/*
 * redis.c: state.redis (docs reference/components-reference/
 * supported-state-stores/setup-redis.md). Each item is a Redis hash
 * {data, version}; the ETag is the version (a decimal integer, so any other
 * ETag is invalid); TTL is EXPIRE. Every write, a save of several items and a
 * transaction alike, is one Lua script that checks all ETags first and then
 * writes, so it is atomic on the server.
 *
 * Two ways in, the same commands: the API's calls come through `start` on
 * the loop threads, each loop with its own pipelined asynchronous connection
 * (components/redisasync.h: no thread waits on Redis, any number of calls
 * share the socket, readTimeout bounds each); the synchronous get/apply
 * (callers off the loops, such as input binding replies) use one blocking
 * connection under a mutex, hence the store is also `blocking`. Either
 * connection is re-established on the next call, so the store recovers by
 * itself when Redis comes back.
 */
#include <ctype.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "components/redisasync.h"
#include "components/state/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/loophooks.h"

/* KEYS: the items' keys. ARGV: 5 per item: op ("set"|"del"), etag ("" = none),
 * value, first-write ("1"|"0"), ttl seconds ("0" = none). Checks every item
 * against the state before the batch, then applies them in order. */
static const char WRITE_SCRIPT[] =
    "for i = 1, #KEYS do\n"
    "  local b = (i - 1) * 5\n"
    "  local cur = redis.call('HGET', KEYS[i], 'version')\n"
    "  if ARGV[b + 2] ~= '' then\n"
    "    if (not cur) or cur ~= ARGV[b + 2] then return redis.error_reply('ETAG_MISMATCH ' .. i) end\n"
    "  elseif ARGV[b + 1] == 'set' and ARGV[b + 4] == '1' and cur then\n"
    "    return redis.error_reply('ETAG_MISMATCH ' .. i)\n"
    "  end\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  local b = (i - 1) * 5\n"
    "  if ARGV[b + 1] == 'del' then\n"
    "    redis.call('DEL', KEYS[i])\n"
    "  else\n"
    "    redis.call('HSET', KEYS[i], 'data', ARGV[b + 3])\n"
    "    redis.call('HINCRBY', KEYS[i], 'version', 1)\n"
    "    local ttl = tonumber(ARGV[b + 5])\n"
    "    if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) else redis.call('PERSIST', KEYS[i]) end\n"
    "  end\n"
    "end\n"
    "return #KEYS\n";

static const char GET_SCRIPT[] =
    "local r = redis.call('HMGET', KEYS[1], 'data', 'version')\n"
    "return {r[1], r[2], redis.call('TTL', KEYS[1])}\n";

typedef struct rstore rstore;

/* One loop thread's asynchronous connection. */
typedef struct rslot {
  struct rslot *next;
  uv_loop_t *loop;
  wgg_redis_async *conn; /* NULL once the loop closed (calls then go the synchronous way) */
} rslot;

struct rstore {
  wgg_state_store base;
  pthread_mutex_t slots_mu;
  rslot *slots; /* under slots_mu; each slot's conn is used on its loop only */
  pthread_mutex_t mu;
  redisContext *ctx;
  char host[256];
  int port;
  char *password, *username;
  int db;
  struct timeval dial, rw;
  int64_t default_ttl;
  time_t last_used;
};

static void drop(rstore *st) {
  if (st->ctx) redisFree(st->ctx);
  st->ctx = NULL;
}

static redisReply *cmd(rstore *st, int argc, const char **argv, const size_t *lens, wgg_err *err) {
  redisReply *r = redisCommandArgv(st->ctx, argc, argv, lens);
  if (!r) {
    wgg_err_set(err, "redis %s:%d: %s", st->host, st->port, st->ctx->errstr[0] ? st->ctx->errstr : "connection lost");
    drop(st);
  }
  return r;
}

/* Makes sure a live connection exists (connect, AUTH, SELECT; PING a
 * connection that sat idle, since the server may have restarted). */
static int ensure(rstore *st, wgg_err *err) {
  time_t now = time(NULL);
  if (st->ctx && now - st->last_used >= 1) {
    const char *ping[] = {"PING"};
    wgg_err ignored;
    redisReply *r = cmd(st, 1, ping, NULL, &ignored);
    if (r) freeReplyObject(r);
  }
  st->last_used = now;
  if (st->ctx) return 0;
  st->ctx = redisConnectWithTimeout(st->host, st->port, st->dial);
  if (!st->ctx || st->ctx->err) {
    wgg_err_set(err, "redis %s:%d: cannot connect: %s", st->host, st->port, st->ctx ? st->ctx->errstr : "out of memory");
    drop(st);
    return -1;
  }
  redisSetTimeout(st->ctx, st->rw);
  if (st->password && *st->password) {
    const char *a[] = {"AUTH", st->username && *st->username ? st->username : st->password, st->password};
    int argc = st->username && *st->username ? 3 : 2;
    redisReply *r = cmd(st, argc, a, NULL, err);
    if (!r) return -1;
    bool ok = r->type != REDIS_REPLY_ERROR;
    if (!ok) wgg_err_set(err, "redis %s:%d: AUTH: %s", st->host, st->port, r->str);
    freeReplyObject(r);
    if (!ok) return drop(st), -1;
  }
  if (st->db) {
    char dbs[16];
    snprintf(dbs, sizeof dbs, "%d", st->db);
    const char *s[] = {"SELECT", dbs};
    redisReply *r = cmd(st, 2, s, NULL, err);
    if (!r) return -1;
    bool ok = r->type != REDIS_REPLY_ERROR;
    if (!ok) wgg_err_set(err, "redis %s:%d: SELECT %d: %s", st->host, st->port, st->db, r->str);
    freeReplyObject(r);
    if (!ok) return drop(st), -1;
  }
  return 0;
}

/* Reads GET_SCRIPT's reply r into out (zeroed by the caller). Returns a status. */
static int parse_get(const redisReply *r, wgg_state_got *out, wgg_err *err) {
  if (r->type == REDIS_REPLY_ERROR) return wgg_err_set(err, "redis: %s", r->str), WGG_ST_ERROR;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
    return wgg_err_set(err, "redis: unexpected reply to a get"), WGG_ST_ERROR;
  redisReply *data = r->element[0], *ver = r->element[1], *ttl = r->element[2];
  if (data->type == REDIS_REPLY_STRING && ver->type == REDIS_REPLY_STRING) {
    out->value = wgg_strndup(data->str, data->len);
    out->value_len = data->len;
    out->etag = wgg_strndup(ver->str, ver->len);
    out->found = true;
    if (ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 0) out->expire_unix = (int64_t)time(NULL) + ttl->integer;
    if (!out->value || !out->etag) {
      wgg_state_got_free(out);
      return wgg_err_set(err, "out of memory"), WGG_ST_ERROR;
    }
  }
  return WGG_ST_OK;
}

static int r_get(wgg_state_store *s, const char *key, wgg_state_got *out, wgg_err *err) {
  rstore *st = (rstore *)s;
  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&st->mu);
  int status = WGG_ST_ERROR;
  for (int attempt = 0; attempt < 2; attempt++) { /* reads are safe to retry */
    if (ensure(st, err)) continue;
    const char *argv[] = {"EVAL", GET_SCRIPT, "1", key};
    redisReply *r = cmd(st, 4, argv, NULL, err);
    if (!r) continue;
    status = parse_get(r, out, err);
    freeReplyObject(r);
    break; /* an answer, even an error reply, is not retried */
  }
  pthread_mutex_unlock(&st->mu);
  return status;
}

static bool valid_version(const char *s) {
  if (!*s || strlen(s) > 19) return false;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return false;
  return true;
}

/* The EVAL of WRITE_SCRIPT for ops: argv/lens/nums are malloc'd (free all
 * three). Returns WGG_ST_OK or a status with err. */
typedef struct wargs {
  const char **argv;
  size_t *lens;
  char (*nums)[24];
  size_t argc;
} wargs;

static void wargs_free(wargs *w) {
  free(w->argv), free(w->lens), free(w->nums);
}

static int build_write(const rstore *st, const wgg_state_op *ops, size_t n, wargs *w, wgg_err *err) {
  memset(w, 0, sizeof *w);
  for (size_t i = 0; i < n; i++)
    if (ops[i].etag && *ops[i].etag && !valid_version(ops[i].etag))
      return wgg_err_set(err, "invalid etag value: %s", ops[i].etag), WGG_ST_ETAG_INVALID;
  if (n > 100000) return wgg_err_set(err, "too many operations in one request"), WGG_ST_BAD_REQUEST;
  size_t argc = 3 + n + 5 * n;
  const char **argv = w->argv = calloc(argc, sizeof *argv);
  size_t *lens = w->lens = calloc(argc, sizeof *lens);
  char(*nums)[24] = w->nums = calloc(n + 1, sizeof *nums);
  w->argc = argc;
  if (!argv || !lens || !nums) {
    wargs_free(w);
    return wgg_err_set(err, "out of memory"), WGG_ST_ERROR;
  }
  snprintf(nums[n], sizeof nums[n], "%zu", n);
  argv[0] = "EVAL", argv[1] = WRITE_SCRIPT, argv[2] = nums[n];
  for (size_t i = 0; i < n; i++) argv[3 + i] = ops[i].key;
  for (size_t i = 0; i < n; i++) {
    const char **a = argv + 3 + n + 5 * i;
    size_t *l = lens + 3 + n + 5 * i;
    int64_t ttl = ops[i].ttl_seconds > 0 ? ops[i].ttl_seconds : st->default_ttl;
    snprintf(nums[i], sizeof nums[i], "%lld", (long long)(ttl > 0 ? ttl : 0));
    a[0] = ops[i].is_delete ? "del" : "set";
    a[1] = ops[i].etag ? ops[i].etag : "";
    a[2] = ops[i].is_delete ? "" : ops[i].value;
    a[3] = ops[i].first_write ? "1" : "0";
    a[4] = nums[i];
    for (int k = 0; k < 5; k++) l[k] = k == 2 && !ops[i].is_delete ? ops[i].value_len : strlen(a[k]); /* value: bytes */
  }
  for (size_t i = 0; i < 3 + n; i++) lens[i] = strlen(argv[i]);
  return WGG_ST_OK;
}

/* The status of WRITE_SCRIPT's reply r for ops. */
static int parse_write(const redisReply *r, const wgg_state_op *ops, size_t n, wgg_err *err) {
  if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "ETAG_MISMATCH")) {
    const char *at = strstr(r->str, "ETAG_MISMATCH ");
    size_t i = at ? strtoul(at + 14, NULL, 10) : 0; /* 1-based index of the failing op */
    wgg_err_set(err, "%s", i >= 1 && i <= n ? wgg_state_mismatch_msg(&ops[i - 1]) : "etag mismatch");
    return WGG_ST_ETAG_MISMATCH;
  }
  if (r->type == REDIS_REPLY_ERROR) return wgg_err_set(err, "redis: %s", r->str), WGG_ST_ERROR;
  return WGG_ST_OK;
}

static int r_apply(wgg_state_store *s, const wgg_state_op *ops, size_t n, wgg_err *err) {
  rstore *st = (rstore *)s;
  if (n == 0) return WGG_ST_OK;
  wargs w;
  int status = build_write(st, ops, n, &w, err);
  if (status != WGG_ST_OK) return status;
  pthread_mutex_lock(&st->mu);
  status = WGG_ST_ERROR;
  if (ensure(st, err) == 0) {
    redisReply *r = cmd(st, (int)w.argc, w.argv, w.lens, err);
    if (r) {
      status = parse_write(r, ops, n, err);
      freeReplyObject(r);
    }
  }
  pthread_mutex_unlock(&st->mu);
  wargs_free(&w);
  return status;
}

/* ---- the asynchronous form: one pipelined connection per loop ---- */

static void slot_close(void *p) { /* the loop's thread is closing (util/loophooks.h) */
  rslot *sl = p;
  wgg_redis_async *conn = sl->conn;
  sl->conn = NULL;
  wgg_redis_async_close(conn); /* after the calls in flight */
}

/* The calling loop's connection, created on first use; NULL when this
 * thread is not an active loop thread (or out of memory). */
static wgg_redis_async *loop_conn(rstore *st, uv_loop_t *loop) {
  pthread_mutex_lock(&st->slots_mu);
  rslot *sl = st->slots;
  while (sl && sl->loop != loop) sl = sl->next;
  pthread_mutex_unlock(&st->slots_mu);
  if (sl) return sl->conn;
  if (!wgg_loop_hooks_active(loop)) return NULL;
  sl = calloc(1, sizeof *sl);
  wgg_redisconn cfg = {.port = st->port, .password = st->password, .username = st->username, .db = st->db,
                       .dial = st->dial, .rw = st->rw};
  memcpy(cfg.host, st->host, sizeof cfg.host);
  if (!sl || !(sl->conn = wgg_redis_async_new(loop, &cfg))) return free(sl), NULL;
  sl->loop = loop;
  if (wgg_loop_hooks_add(loop, slot_close, sl)) {
    wgg_redis_async_close(sl->conn);
    free(sl);
    return NULL;
  }
  pthread_mutex_lock(&st->slots_mu);
  sl->next = st->slots;
  st->slots = sl;
  pthread_mutex_unlock(&st->slots_mu);
  return sl->conn;
}

typedef struct acall {
  wgg_state_call *c;
  wgg_redis_async *conn;
  int attempt;
} acall;

static void get_answer(void *user, redisReply *r, const char *err, bool retryable) {
  acall *a = user;
  wgg_state_call *c = a->c;
  if (!r && retryable && a->attempt++ == 0) { /* a lost connection: reads are safe to retry, once */
    const char *argv[] = {"EVAL", GET_SCRIPT, "1", c->key};
    if (!wgg_redis_async_cmd(a->conn, 4, argv, NULL, get_answer, a)) return;
  }
  memset(c->got, 0, sizeof *c->got);
  c->status = r ? parse_get(r, c->got, c->err) : (wgg_err_set(c->err, "%s", err), WGG_ST_ERROR);
  free(a);
  c->done(c);
}

static void write_answer(void *user, redisReply *r, const char *err, bool retryable) {
  (void)retryable; /* a write may have run: never retried */
  acall *a = user;
  wgg_state_call *c = a->c;
  c->status = r ? parse_write(r, c->ops, c->n, c->err) : (wgg_err_set(c->err, "%s", err), WGG_ST_ERROR);
  free(a);
  c->done(c);
}

static int r_start(wgg_state_store *s, uv_loop_t *loop, wgg_state_call *c) {
  rstore *st = (rstore *)s;
  wgg_redis_async *conn = loop_conn(st, loop);
  if (!conn) return WGG_STATE_START_SYNC;
  if (c->got) memset(c->got, 0, sizeof *c->got);
  if (!c->got && c->n == 0) {
    c->status = WGG_ST_OK;
    c->done(c);
    return 0;
  }
  wargs w = {0};
  if (!c->got && (c->status = build_write(st, c->ops, c->n, &w, c->err)) != WGG_ST_OK) {
    c->done(c);
    return 0;
  }
  acall *a = calloc(1, sizeof *a);
  int rc = -1;
  if (a) {
    *a = (acall){.c = c, .conn = conn};
    const char *argv[] = {"EVAL", GET_SCRIPT, "1", c->key};
    rc = c->got ? wgg_redis_async_cmd(conn, 4, argv, NULL, get_answer, a)
                : wgg_redis_async_cmd(conn, (int)w.argc, w.argv, w.lens, write_answer, a);
  }
  wargs_free(&w);
  if (!rc) return 0;
  if (a) { /* the connection is closing: the synchronous way */
    free(a);
    return WGG_STATE_START_SYNC;
  }
  wgg_err_set(c->err, "out of memory");
  c->status = WGG_ST_ERROR;
  c->done(c);
  return 0;
}

static void r_destroy(wgg_state_store *s) {
  rstore *st = (rstore *)s;
  drop(st);
  while (st->slots) { /* their loops have ended: the connections were closed by slot_close */
    rslot *sl = st->slots;
    st->slots = sl->next;
    free(sl);
  }
  free(st->password);
  free(st->username);
  pthread_mutex_destroy(&st->mu);
  pthread_mutex_destroy(&st->slots_mu);
  free(st);
}

static const wgg_state_store_ops redis_ops = {r_get, r_apply, r_destroy, NULL, r_start};

static int duration_tv(const wgg_component *c, const char *name, const char *def, struct timeval *tv, wgg_err *err) {
  const char *v = wgg_component_meta(c, name);
  uint64_t ms;
  wgg_err e;
  if (wgg_parse_duration_ms(v && *v ? v : def, &ms, &e)) return wgg_err_set(err, "state.redis: %s: %s", name, e.msg);
  tv->tv_sec = (time_t)(ms / 1000);
  tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
  return 0;
}

wgg_state_store *wgg_state_redis_new(const wgg_component *c, wgg_err *err) {
  const char *host = wgg_component_meta(c, "redisHost");
  if (!host || !*host) return wgg_err_set(err, "state.redis: redisHost is required (host:port)"), NULL;
  const char *tls = wgg_component_meta(c, "enableTLS");
  if (tls && !strcasecmp(tls, "true")) return wgg_err_set(err, "state.redis: enableTLS is not supported yet"), NULL;
  const char *type = wgg_component_meta(c, "redisType");
  if (type && *type && strcasecmp(type, "node"))
    return wgg_err_set(err, "state.redis: redisType %s is not supported (only node)", type), NULL;
  const char *fo = wgg_component_meta(c, "failover");
  if (fo && !strcasecmp(fo, "true")) return wgg_err_set(err, "state.redis: failover (sentinel) is not supported"), NULL;
  rstore *st = calloc(1, sizeof *st);
  if (!st) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_init(&st->mu, NULL);
  pthread_mutex_init(&st->slots_mu, NULL);
  st->base.ops = &redis_ops;
  st->base.features = WGG_FEAT_ETAG | WGG_FEAT_TRANSACTIONAL | WGG_FEAT_TTL;
  st->base.blocking = true;
  const char *colon = strrchr(host, ':');
  char *end = NULL;
  long port = colon ? strtol(colon + 1, &end, 10) : 6379;
  size_t hl = colon ? (size_t)(colon - host) : strlen(host);
  if ((colon && (!*(colon + 1) || *end)) || port <= 0 || port > 65535 || hl == 0 || hl >= sizeof st->host) {
    wgg_err_set(err, "state.redis: invalid redisHost '%s' (expected host:port)", host);
    goto fail;
  }
  memcpy(st->host, host, hl);
  st->host[hl] = '\0';
  st->port = (int)port;
  const char *pw = wgg_component_meta(c, "redisPassword"), *user = wgg_component_meta(c, "redisUsername");
  if ((pw && !(st->password = strdup(pw))) || (user && !(st->username = strdup(user)))) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  const char *db = wgg_component_meta(c, "redisDB");
  if (db && *db) {
    st->db = (int)strtol(db, &end, 10);
    if (*end || st->db < 0) {
      wgg_err_set(err, "state.redis: invalid redisDB '%s'", db);
      goto fail;
    }
  }
  const char *ttl = wgg_component_meta(c, "ttlInSeconds");
  if (ttl && *ttl) {
    st->default_ttl = strtoll(ttl, &end, 10);
    if (*end || st->default_ttl < -1) {
      wgg_err_set(err, "state.redis: invalid ttlInSeconds '%s'", ttl);
      goto fail;
    }
  }
  if (duration_tv(c, "dialTimeout", "5s", &st->dial, err) || duration_tv(c, "readTimeout", "3s", &st->rw, err)) goto fail;
  /* Like Dapr, check the server at init: a Redis that is down stops the start (unless ignoreErrors). */
  wgg_err e;
  if (ensure(st, &e)) {
    wgg_err_set(err, "state.redis: %s", e.msg);
    goto fail;
  }
  return &st->base;
fail:
  r_destroy(&st->base);
  return NULL;
}
