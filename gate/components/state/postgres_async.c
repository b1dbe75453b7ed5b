/*
 * postgres_async.c: state.postgresql's asynchronous form (store.h `start`).
 * Each loop thread gets a small pool of non-blocking libpq connections
 * (PQconnectStart/PQconnectPoll, PQsendQueryParams, PQconsumeInput/PQisBusy
 * on a uv_poll_t of PQsocket): a call takes an idle connection (or waits in
 * the loop's queue), runs its statements one after the other on it (a get:
 * the SELECT; an apply: BEGIN, one statement per op, COMMIT, or ROLLBACK at
 * the first failure), and completes on the loop. No thread waits on the
 * server. Every call has a deadline of the component's `timeout` plus a
 * second (the server's statement_timeout is `timeout`): a server that does
 * not answer by then has its connection dropped and the call fails. An idle
 * connection that the server closed is noticed (it stays polled) and
 * dropped; the next call reconnects. A get whose connection broke is tried
 * once more on a fresh one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/state/pqload.h"
#include "components/state/postgres_internal.h"
#include "util/err.h"
#include "util/log.h"
#include "util/loophooks.h"

typedef struct pgop pgop;
typedef struct pgc pgc;

struct pgop {
  pgop *next;
  wgg_state_call *c;
  int step;     /* get: 0; apply: 0 BEGIN, 1..n the ops, n+1 COMMIT, n+2 the expired-rows cleanup */
  int status;   /* apply: the first failure, answered after the ROLLBACK */
  bool rollback;
  int attempt;
  pgstmt stmt;
};

typedef struct pgpoll {
  uv_poll_t h;
  int fd;
} pgpoll;

enum { PC_NONE, PC_CONNECTING, PC_SETUP, PC_IDLE, PC_BUSY };

struct pgc {
  pgloop *home;
  PGconn *conn;
  int state;
  pgpoll *poll;
  int events;
  bool flushing;
  PGresult *res; /* the first result of the statement in flight */
  pgop *op;      /* the call it serves (CONNECTING, SETUP, BUSY) */
  uv_timer_t timer;
};

struct pgloop {
  pgloop *next;
  pgstore *st;
  uv_loop_t *loop;
  pgc *conns;
  int n;
  pgop *qhead, *qtail;
  bool closing, closed;
};

static void on_poll(uv_poll_t *h, int status, int events);
static void dispatch(pgloop *pl);
static void op_send(pgc *pc);

/* ---- the socket ---- */

static void poll_closed(uv_handle_t *h) {
  free(h->data);
}

static void unwatch(pgc *pc) {
  if (!pc->poll) return;
  pc->poll->h.data = pc->poll;
  uv_close((uv_handle_t *)&pc->poll->h, poll_closed);
  pc->poll = NULL;
  pc->events = 0;
}

/* Polls PQsocket for events (a new handle when the socket changed). */
static int watch(pgc *pc, int events) {
  int fd = PQsocket(pc->conn);
  if (fd < 0) return -1;
  if (pc->poll && pc->poll->fd != fd) unwatch(pc);
  if (!pc->poll) {
    pgpoll *p = calloc(1, sizeof *p);
    if (!p || uv_poll_init(pc->home->loop, &p->h, fd)) return free(p), -1;
    p->fd = fd;
    p->h.data = pc;
    uv_unref((uv_handle_t *)&p->h);
    pc->poll = p;
    pc->events = 0;
  }
  if (pc->events == events) return 0;
  pc->events = events;
  return uv_poll_start(&pc->poll->h, events, on_poll) ? -1 : 0;
}

static void conn_drop(pgc *pc) {
  unwatch(pc);
  if (pc->res) PQclear(pc->res);
  pc->res = NULL;
  if (pc->conn) PQfinish(pc->conn);
  pc->conn = NULL;
  pc->state = PC_NONE;
  pc->flushing = false;
  uv_timer_stop(&pc->timer);
}

static void msg_of(char *out, size_t cap, const char *m) {
  snprintf(out, cap, "%s", m && *m ? m : "connection lost");
  for (char *p = out + strlen(out); p > out && (p[-1] == '\n' || p[-1] == ' '); p--) p[-1] = '\0';
}

/* ---- calls ---- */

static void op_free(pgop *op) {
  wgg_pg_stmt_free(&op->stmt);
  free(op);
}

static void maybe_finalize(pgloop *pl);

/* Completes pc's call with status (err already set) and frees pc for the next. */
static void op_finish(pgc *pc, int status) {
  pgop *op = pc->op;
  pgloop *pl = pc->home;
  pc->op = NULL;
  uv_timer_stop(&pc->timer);
  if (pc->state == PC_BUSY) {
    pc->state = PC_IDLE;
    if (watch(pc, UV_READABLE)) conn_drop(pc); /* idle connections stay polled: a close by the server is seen */
  }
  wgg_state_call *c = op->c;
  c->status = status;
  op_free(op);
  c->done(c);
  dispatch(pl);
  maybe_finalize(pl);
}

/* The connection broke or hung (timeout: true): dropped; its call fails, or
 * a get is tried again once on a fresh connection. */
static void conn_broken(pgc *pc, const char *why, bool timeout) {
  char msg[400];
  msg_of(msg, sizeof msg, why);
  pgop *op = pc->op;
  conn_drop(pc);
  if (!op) return;
  pgloop *pl = pc->home;
  if (op->c->got && !timeout && op->attempt++ == 0) { /* reads are safe to retry */
    pc->op = NULL;
    op->next = pl->qhead;
    pl->qhead = op;
    if (!pl->qtail) pl->qtail = op;
    dispatch(pl);
    return;
  }
  wgg_err_set(op->c->err, "postgresql: %s", timeout ? "timeout: the server did not answer in time" : msg);
  op_finish(pc, WGG_ST_ERROR);
}

static void on_timer(uv_timer_t *t) {
  pgc *pc = t->data;
  if (pc->op) conn_broken(pc, NULL, true);
}

/* Sends one statement; the answer arrives through on_poll. */
static void send_sql(pgc *pc, const char *sql, int n, const char *const *params) {
  if (!PQsendQueryParams(pc->conn, sql, n, NULL, params, NULL, NULL, 0)) {
    conn_broken(pc, PQerrorMessage(pc->conn), false);
    return;
  }
  int f = PQflush(pc->conn);
  pc->flushing = f == 1;
  if (f < 0 || watch(pc, pc->flushing ? UV_READABLE | UV_WRITABLE : UV_READABLE))
    conn_broken(pc, PQerrorMessage(pc->conn), false);
}

/* Sends the current step of pc's call. */
static void op_send(pgc *pc) {
  pgop *op = pc->op;
  wgg_state_call *c = op->c;
  pgstore *st = pc->home->st;
  if (op->rollback) {
    send_sql(pc, "ROLLBACK", 0, NULL);
  } else if (c->got) {
    char sql[300];
    wgg_pg_get_sql(st, sql, sizeof sql);
    const char *params[] = {c->key};
    send_sql(pc, sql, 1, params);
  } else if (op->step == 0) {
    send_sql(pc, "BEGIN", 0, NULL);
  } else if ((size_t)op->step <= c->n) {
    wgg_pg_stmt_free(&op->stmt);
    if (wgg_pg_op_stmt(st, &c->ops[op->step - 1], &op->stmt, c->err) != WGG_ST_OK) {
      op->status = WGG_ST_ERROR;
      op->rollback = true;
      send_sql(pc, "ROLLBACK", 0, NULL);
      return;
    }
    send_sql(pc, op->stmt.sql, op->stmt.n, op->stmt.params);
  } else if ((size_t)op->step == c->n + 1) {
    send_sql(pc, "COMMIT", 0, NULL);
  } else {
    char sql[200];
    if (!wgg_pg_cleanup_due(st, sql, sizeof sql)) {
      op_finish(pc, WGG_ST_OK);
      return;
    }
    send_sql(pc, sql, 0, NULL);
  }
}

/* A statement of pc's call answered with r (ok: it succeeded). */
static void op_result(pgc *pc, PGresult *r, bool ok) {
  pgop *op = pc->op;
  wgg_state_call *c = op->c;
  char msg[400];
  if (!ok) msg_of(msg, sizeof msg, r ? PQresultErrorMessage(r) : PQerrorMessage(pc->conn));
  if (op->rollback) {
    op_finish(pc, op->status);
  } else if (c->got) {
    int status = ok ? wgg_pg_get_row(r, c->got, c->err) : (wgg_err_set(c->err, "postgresql: %s", msg), WGG_ST_ERROR);
    op_finish(pc, status);
  } else if ((size_t)op->step == c->n + 2) { /* the cleanup: its failure is only logged */
    if (!ok) wgg_warn("state.postgresql cleanup: %s", msg);
    op_finish(pc, WGG_ST_OK);
  } else {
    int status = !ok ? (wgg_err_set(c->err, "postgresql: %s", msg), WGG_ST_ERROR)
                 : op->step >= 1 && (size_t)op->step <= c->n
                     ? wgg_pg_op_changed(&c->ops[op->step - 1], strtol(PQcmdTuples(r), NULL, 10), c->err)
                     : WGG_ST_OK;
    if (status != WGG_ST_OK) {
      op->status = status;
      op->rollback = true;
    } else {
      op->step++;
    }
    op_send(pc);
  }
}

/* ---- the connection's events ---- */

static void connect_step(pgc *pc) {
  switch (PQconnectPoll(pc->conn)) {
    case PGRES_POLLING_READING:
      if (watch(pc, UV_READABLE)) conn_broken(pc, "cannot poll the socket", false);
      return;
    case PGRES_POLLING_WRITING:
      if (watch(pc, UV_WRITABLE)) conn_broken(pc, "cannot poll the socket", false);
      return;
    case PGRES_POLLING_OK: {
      pc->state = PC_SETUP;
      char sql[96];
      snprintf(sql, sizeof sql, "SET statement_timeout = %llu", (unsigned long long)pc->home->st->timeout_ms);
      send_sql(pc, sql, 0, NULL);
      return;
    }
    default: {
      char msg[400];
      msg_of(msg, sizeof msg, PQerrorMessage(pc->conn));
      pgop *op = pc->op;
      conn_drop(pc);
      if (op) { /* a refused connection fails the call at once (no retry: it would be refused again) */
        wgg_err_set(op->c->err, "postgresql: cannot connect: %s", msg);
        op_finish(pc, WGG_ST_ERROR);
      }
    }
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  pgc *pc = h->data;
  if (pc->state == PC_CONNECTING) {
    connect_step(pc);
    return;
  }
  if (status < 0) {
    conn_broken(pc, uv_strerror(status), false);
    return;
  }
  if ((events & UV_WRITABLE) && pc->flushing) {
    int f = PQflush(pc->conn);
    pc->flushing = f == 1;
    if (f < 0 || (!pc->flushing && watch(pc, UV_READABLE))) {
      conn_broken(pc, f < 0 ? PQerrorMessage(pc->conn) : "cannot poll the socket", false);
      return;
    }
  }
  if (!(events & UV_READABLE)) return;
  if (!PQconsumeInput(pc->conn) || PQstatus(pc->conn) != CONNECTION_OK) {
    if (pc->state == PC_IDLE) conn_drop(pc); /* closed by the server while idle */
    else conn_broken(pc, PQerrorMessage(pc->conn), false);
    return;
  }
  if (pc->state == PC_IDLE) { /* nothing expected: drain notices */
    PGresult *r;
    while (!PQisBusy(pc->conn) && (r = PQgetResult(pc->conn))) PQclear(r);
    return;
  }
  while (!PQisBusy(pc->conn)) {
    PGresult *r = PQgetResult(pc->conn);
    if (r) {
      if (!pc->res) pc->res = r;
      else PQclear(r);
      continue;
    }
    r = pc->res; /* the statement is complete */
    pc->res = NULL;
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (pc->state == PC_SETUP) {
      if (!ok) {
        char msg[400];
        msg_of(msg, sizeof msg, r ? PQresultErrorMessage(r) : PQerrorMessage(pc->conn));
        PQclear(r);
        conn_broken(pc, msg, false);
        return;
      }
      PQclear(r);
      pc->state = PC_BUSY;
      op_send(pc);
    } else {
      op_result(pc, r, ok);
      PQclear(r);
    }
    return;
  }
}

/* ---- the loop's pool ---- */

static void start_on(pgc *pc, pgop *op) {
  pgloop *pl = pc->home;
  pc->op = op;
  uv_timer_start(&pc->timer, on_timer, pl->st->timeout_ms + 1000, 0);
  if (pc->state == PC_IDLE) {
    pc->state = PC_BUSY;
    op_send(pc);
    return;
  }
  pc->conn = PQconnectStart(pl->st->conninfo);
  if (!pc->conn || PQstatus(pc->conn) == CONNECTION_BAD || PQsetnonblocking(pc->conn, 1)) {
    char msg[400];
    msg_of(msg, sizeof msg, pc->conn ? PQerrorMessage(pc->conn) : "out of memory");
    conn_drop(pc);
    pc->op = op;
    wgg_err_set(op->c->err, "postgresql: cannot connect: %s", msg);
    op_finish(pc, WGG_ST_ERROR);
    return;
  }
  pc->state = PC_CONNECTING;
  connect_step(pc);
}

static void dispatch(pgloop *pl) {
  while (pl->qhead) {
    pgc *free_pc = NULL;
    for (int i = 0; i < pl->n && !free_pc; i++)
      if (pl->conns[i].state == PC_IDLE) free_pc = &pl->conns[i];
    for (int i = 0; i < pl->n && !free_pc; i++)
      if (pl->conns[i].state == PC_NONE) free_pc = &pl->conns[i];
    if (!free_pc) return;
    pgop *op = pl->qhead;
    pl->qhead = op->next;
    if (!pl->qhead) pl->qtail = NULL;
    op->next = NULL;
    start_on(free_pc, op);
  }
}

static void maybe_finalize(pgloop *pl) {
  if (!pl->closing || pl->closed || pl->qhead) return;
  for (int i = 0; i < pl->n; i++)
    if (pl->conns[i].op) return;
  pl->closed = true;
  for (int i = 0; i < pl->n; i++) {
    conn_drop(&pl->conns[i]);
    uv_close((uv_handle_t *)&pl->conns[i].timer, NULL); /* pl is freed after the loops end */
  }
}

/* Shutdown's hard close (util/loophooks.h wgg_loop_hooks_aborting): the queued calls and those in
 * flight fail now, their connections dropped. */
static void abort_calls(pgloop *pl) {
  while (pl->qhead) {
    pgop *op = pl->qhead;
    pl->qhead = op->next;
    if (!pl->qhead) pl->qtail = NULL;
    wgg_state_call *c = op->c;
    wgg_err_set(c->err, "postgresql: shutting down");
    c->status = WGG_ST_ERROR;
    op_free(op);
    c->done(c);
  }
  for (int i = 0; i < pl->n; i++) {
    pgc *pc = &pl->conns[i];
    if (!pc->op) continue;
    conn_drop(pc);
    wgg_err_set(pc->op->c->err, "postgresql: shutting down");
    op_finish(pc, WGG_ST_ERROR);
  }
}

static void loop_closing(void *p) { /* util/loophooks.h: the loop drains */
  pgloop *pl = p;
  pl->closing = true;
  if (wgg_loop_hooks_aborting()) abort_calls(pl);
  maybe_finalize(pl);
}

static pgloop *loop_pool(pgstore *st, uv_loop_t *loop) {
  pthread_mutex_lock(&st->loops_mu);
  pgloop *pl = st->loops;
  while (pl && pl->loop != loop) pl = pl->next;
  pthread_mutex_unlock(&st->loops_mu);
  if (pl) return pl->closing ? NULL : pl;
  if (!wgg_loop_hooks_active(loop)) return NULL;
  pl = calloc(1, sizeof *pl);
  if (!pl || !(pl->conns = calloc((size_t)st->pool, sizeof *pl->conns))) {
    free(pl);
    return NULL;
  }
  pl->st = st;
  pl->loop = loop;
  pl->n = st->pool;
  for (int i = 0; i < pl->n; i++) {
    pgc *pc = &pl->conns[i];
    pc->home = pl;
    uv_timer_init(loop, &pc->timer);
    uv_unref((uv_handle_t *)&pc->timer);
    pc->timer.data = pc;
  }
  if (wgg_loop_hooks_add(loop, loop_closing, pl)) {
    pl->closing = true;
    maybe_finalize(pl); /* closes the timers; pl stays listed (closed) until the store goes */
  }
  pthread_mutex_lock(&st->loops_mu);
  pl->next = st->loops;
  st->loops = pl;
  pthread_mutex_unlock(&st->loops_mu);
  return pl->closing ? NULL : pl;
}

int wgg_pg_start(wgg_state_store *s, uv_loop_t *loop, wgg_state_call *c) {
  pgstore *st = (pgstore *)s;
  pgloop *pl = loop_pool(st, loop);
  if (!pl) return WGG_STATE_START_SYNC;
  if (c->got) memset(c->got, 0, sizeof *c->got);
  if (!c->got && ((c->status = wgg_pg_check_etags(c->ops, c->n, c->err)) != WGG_ST_OK || c->n == 0)) {
    c->done(c);
    return 0;
  }
  pgop *op = calloc(1, sizeof *op);
  if (!op) return WGG_STATE_START_SYNC; /* the synchronous way reports the shortage */
  op->c = c;
  if (pl->qtail) pl->qtail->next = op;
  else pl->qhead = op;
  pl->qtail = op;
  dispatch(pl);
  return 0;
}

void wgg_pg_async_free(pgstore *st) {
  while (st->loops) {
    pgloop *pl = st->loops;
    st->loops = pl->next;
    free(pl->conns);
    free(pl);
  }
}
