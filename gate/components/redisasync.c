/* redisasync.c: see redisasync.h. */
#include "components/redisasync.h"
#include "util/loophooks.h"

#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct areq areq;

struct areq {
  areq *prev, *next;
  wgg_redis_async *a;
  uint64_t deadline_ms; /* uv_now() based */
  wgg_redis_async_cb cb; /* NULL: a set-up command (AUTH, SELECT) */
  void *user;
};

/* The libuv side of one redisAsyncContext (hiredis's ev hooks). Outlives the
 * context until its handle's close callback. */
typedef struct aev {
  uv_poll_t poll;
  redisAsyncContext *ac; /* NULL once hiredis cleaned up */
  int events;
} aev;

struct wgg_redis_async {
  uv_loop_t *loop;
  redisAsyncContext *ac; /* NULL while disconnected */
  bool connected;        /* ac's connect callback said so */
  uv_timer_t timer;
  areq *head, *tail; /* pending, oldest first */
  size_t pending;    /* with a callback */
  bool closing;
  const char *kill_reason; /* why the current context is being dropped, NULL: it failed by itself */
  char host[256];
  int port, db;
  char *password, *username;
  uint64_t dial_ms, rw_ms;
};

/* ---- the libuv adapter ---- */

static void ev_poll(uv_poll_t *h, int status, int events) {
  aev *e = h->data;
  if (status < 0) events = UV_READABLE; /* let hiredis see the error on read */
  if (e->ac && (events & UV_READABLE)) redisAsyncHandleRead(e->ac);
  if (e->ac && (events & UV_WRITABLE)) redisAsyncHandleWrite(e->ac);
}

static void ev_update(aev *e) {
  if (e->events) uv_poll_start(&e->poll, e->events, ev_poll);
  else uv_poll_stop(&e->poll);
}

static void ev_add_read(void *p) {
  aev *e = p;
  e->events |= UV_READABLE;
  ev_update(e);
}

static void ev_del_read(void *p) {
  aev *e = p;
  e->events &= ~UV_READABLE;
  ev_update(e);
}

static void ev_add_write(void *p) {
  aev *e = p;
  e->events |= UV_WRITABLE;
  ev_update(e);
}

static void ev_del_write(void *p) {
  aev *e = p;
  e->events &= ~UV_WRITABLE;
  ev_update(e);
}

static void ev_closed(uv_handle_t *h) {
  free(h->data);
}

static void ev_cleanup(void *p) {
  aev *e = p;
  e->ac = NULL;
  uv_close((uv_handle_t *)&e->poll, ev_closed);
}

static int ev_attach(redisAsyncContext *ac, uv_loop_t *loop) {
  aev *e = calloc(1, sizeof *e);
  if (!e) return -1;
  if (uv_poll_init(loop, &e->poll, ac->c.fd)) {
    free(e);
    return -1;
  }
  uv_unref((uv_handle_t *)&e->poll); /* an idle connection does not keep the loop alive */
  e->poll.data = e;
  e->ac = ac;
  ac->ev.data = e;
  ac->ev.addRead = ev_add_read;
  ac->ev.delRead = ev_del_read;
  ac->ev.addWrite = ev_add_write;
  ac->ev.delWrite = ev_del_write;
  ac->ev.cleanup = ev_cleanup;
  return 0;
}

/* ---- pending commands and the timer ---- */

static void unlink_req(wgg_redis_async *a, areq *r) {
  if (r->prev) r->prev->next = r->next;
  else a->head = r->next;
  if (r->next) r->next->prev = r->prev;
  else a->tail = r->prev;
}

static void finish_close(wgg_redis_async *a);
static void on_timer(uv_timer_t *t);

static void arm(wgg_redis_async *a) {
  if (!a->head) {
    uv_timer_stop(&a->timer);
    return;
  }
  if (uv_is_active((uv_handle_t *)&a->timer)) return; /* fires at or before the head's deadline */
  uint64_t now = uv_now(a->loop);
  uv_timer_start(&a->timer, on_timer, a->head->deadline_ms > now ? a->head->deadline_ms - now : 0, 0);
}

/* Drops the current context: hiredis answers every pending command with NULL
 * (on_reply reports reason) and frees it. */
static void kill_ctx(wgg_redis_async *a, const char *reason) {
  redisAsyncContext *ac = a->ac;
  if (!ac) return;
  a->ac = NULL;
  a->connected = false;
  a->kill_reason = reason;
  redisAsyncFree(ac);
  a->kill_reason = NULL;
}

static void on_timer(uv_timer_t *t) {
  wgg_redis_async *a = t->data;
  if (!a->head) return;
  if (uv_now(a->loop) >= a->head->deadline_ms) {
    kill_ctx(a, "i/o timeout");
    return;
  }
  arm(a);
}

static void on_reply(redisAsyncContext *ac, void *rp, void *priv) {
  areq *r = priv;
  wgg_redis_async *a = r->a;
  unlink_req(a, r);
  if (r->cb) a->pending--;
  redisReply *reply = rp;
  char err[320];
  bool retryable = false;
  if (!reply) {
    if (a->ac == ac) { /* the context is going away by itself (lost, refused): later commands reconnect */
      a->ac = NULL;
      a->connected = false;
    }
    const char *why = a->kill_reason ? a->kill_reason : ac->err && ac->errstr[0] ? ac->errstr : "connection lost";
    snprintf(err, sizeof err, "redis %s:%d: %s", a->host, a->port, why);
    retryable = !a->kill_reason;
  } else if (!r->cb && reply->type == REDIS_REPLY_ERROR) {
    /* AUTH or SELECT failed: the commands behind it fail with the server's NOAUTH/... errors */
  }
  if (r->cb) r->cb(r->user, reply, reply ? NULL : err, retryable);
  free(r);
  arm(a);
  if (a->closing && !a->pending) finish_close(a);
}

static void on_connect(const redisAsyncContext *ac, int status) {
  wgg_redis_async *a = ac->data;
  if (a && a->ac == ac) {
    if (status == REDIS_OK) a->connected = true;
    else a->ac = NULL; /* hiredis frees it and fails its commands */
  }
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  (void)status;
  wgg_redis_async *a = ac->data;
  if (a && a->ac == ac) {
    a->ac = NULL;
    a->connected = false;
  }
}

/* Queues one command on the current context. Returns 0 or -1 (not queued). */
static int send_cmd(wgg_redis_async *a, int argc, const char **argv, const size_t *lens, wgg_redis_async_cb cb,
                    void *user) {
  areq *r = calloc(1, sizeof *r);
  if (!r) return -1;
  uint64_t wait = a->rw_ms + (a->connected ? 0 : a->dial_ms);
  *r = (areq){.a = a, .deadline_ms = uv_now(a->loop) + wait, .cb = cb, .user = user};
  if (redisAsyncCommandArgv(a->ac, on_reply, r, argc, argv, lens) != REDIS_OK) {
    free(r);
    return -1;
  }
  r->prev = a->tail;
  if (a->tail) a->tail->next = r;
  else a->head = r;
  a->tail = r;
  if (cb) a->pending++;
  arm(a);
  return 0;
}

/* Starts a connection (non-blocking connect) with AUTH and SELECT queued. */
static int connect_ctx(wgg_redis_async *a, char *err, size_t errlen) {
  redisAsyncContext *ac = redisAsyncConnect(a->host, a->port);
  if (!ac || ac->err) {
    snprintf(err, errlen, "redis %s:%d: cannot connect: %s", a->host, a->port, ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    return -1;
  }
  if (ev_attach(ac, a->loop)) {
    snprintf(err, errlen, "redis %s:%d: cannot connect: out of memory", a->host, a->port);
    redisAsyncFree(ac);
    return -1;
  }
  ac->data = a;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  a->ac = ac;
  a->connected = false;
  if (a->password) {
    const char *av[] = {"AUTH", a->username ? a->username : a->password, a->password};
    send_cmd(a, a->username ? 3 : 2, av, NULL, NULL, NULL);
  }
  if (a->db) {
    char dbs[16];
    snprintf(dbs, sizeof dbs, "%d", a->db);
    const char *sv[] = {"SELECT", dbs};
    send_cmd(a, 2, sv, NULL, NULL, NULL);
  }
  return 0;
}

wgg_redis_async *wgg_redis_async_new(uv_loop_t *loop, const wgg_redisconn *cfg) {
  wgg_redis_async *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->loop = loop;
  snprintf(a->host, sizeof a->host, "%s", cfg->host);
  a->port = cfg->port;
  a->db = cfg->db;
  a->dial_ms = (uint64_t)cfg->dial.tv_sec * 1000 + (uint64_t)cfg->dial.tv_usec / 1000;
  a->rw_ms = (uint64_t)cfg->rw.tv_sec * 1000 + (uint64_t)cfg->rw.tv_usec / 1000;
  if (!a->rw_ms) a->rw_ms = 3000;
  if (!a->dial_ms) a->dial_ms = 5000;
  if ((cfg->password && *cfg->password && !(a->password = strdup(cfg->password))) ||
      (cfg->username && *cfg->username && !(a->username = strdup(cfg->username)))) {
    free(a->password);
    free(a);
    return NULL;
  }
  uv_timer_init(loop, &a->timer);
  uv_unref((uv_handle_t *)&a->timer);
  a->timer.data = a;
  return a;
}

int wgg_redis_async_cmd(wgg_redis_async *a, int argc, const char **argv, const size_t *lens, wgg_redis_async_cb cb,
                        void *user) {
  if (a->closing) return -1;
  char err[320];
  for (int attempt = 0; attempt < 2; attempt++) {
    if (!a->ac && connect_ctx(a, err, sizeof err)) {
      cb(user, NULL, err, false);
      return 0;
    }
    if (!send_cmd(a, argc, argv, lens, cb, user)) return 0;
    kill_ctx(a, "connection lost"); /* a context that refuses commands is on its way out */
  }
  snprintf(err, sizeof err, "redis %s:%d: cannot send the command", a->host, a->port);
  cb(user, NULL, err, false);
  return 0;
}

size_t wgg_redis_async_pending(const wgg_redis_async *a) {
  return a->pending;
}

static void timer_closed(uv_handle_t *h) {
  wgg_redis_async *a = h->data;
  free(a->password);
  free(a->username);
  free(a);
}

static void finish_close(wgg_redis_async *a) {
  if (uv_is_closing((uv_handle_t *)&a->timer)) return;
  kill_ctx(a, "shutting down"); /* only set-up commands can still be pending */
  uv_close((uv_handle_t *)&a->timer, timer_closed);
}

void wgg_redis_async_close(wgg_redis_async *a) {
  if (!a || a->closing) return;
  a->closing = true;
  if (!a->pending) finish_close(a);
  else if (wgg_loop_hooks_aborting()) kill_ctx(a, "shutting down"); /* the grace is over: the calls fail now,
                                                                      * and the last one's answer closes a */
}
