/*
 * postgres_internal.h: what postgres.c (the store, its synchronous
 * connection) and postgres_async.c (the asynchronous form: a small pool of
 * non-blocking libpq connections per loop thread) share.
 */
#ifndef WGG_STATE_POSTGRES_INTERNAL_H
#define WGG_STATE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <uv.h>

#include "components/state/store.h"

typedef struct pgloop pgloop;

typedef struct pgstore {
  wgg_state_store base;
  pthread_mutex_t mu; /* the synchronous connection */
  PGconn *conn;
  char *conninfo;
  char table[64], mtable[64];
  uint64_t timeout_ms, cleanup_ms;
  time_t last_used, last_cleanup;
  pthread_mutex_t loops_mu;
  pgloop *loops; /* under loops_mu: one per loop thread that used the asynchronous form */
  int pool;      /* asynchronous connections per loop thread */
} pgstore;

/* One SQL statement with its parameters (params point into the statement or
 * at the op's strings, which must outlive it). */
typedef struct pgstmt {
  char sql[700];
  const char *params[4];
  int n;
  char *value; /* owned */
  char ttl[24];
} pgstmt;

/* The SELECT of a get ($1 = key; columns value, xmin, expiry epoch). */
void wgg_pg_get_sql(const pgstore *st, char *sql, size_t cap);

/* Reads a get's result into out (zeroed first). Returns a status. */
int wgg_pg_get_row(const PGresult *r, wgg_state_got *out, wgg_err *err);

/* An ETag that is not an xid makes the whole apply WGG_ST_ETAG_INVALID. */
int wgg_pg_check_etags(const wgg_state_op *ops, size_t n, wgg_err *err);

/* Builds op's statement into s. Returns WGG_ST_OK or WGG_ST_ERROR (OOM). */
int wgg_pg_op_stmt(const pgstore *st, const wgg_state_op *op, pgstmt *s, wgg_err *err);

/* Frees what wgg_pg_op_stmt allocated. */
void wgg_pg_stmt_free(pgstmt *s);

/* The status of op once its statement changed `changed` rows. */
int wgg_pg_op_changed(const wgg_state_op *op, long changed, wgg_err *err);

/* The "DELETE expired rows" statement when the cleanup interval has passed
 * (updates st->last_cleanup under st->mu), else false. */
bool wgg_pg_cleanup_due(pgstore *st, char *sql, size_t cap);

/* postgres_async.c: the store's `start` (store.h), and the release of the
 * per-loop records once the loops have ended (the connections were closed by
 * the loops' hooks). */
int wgg_pg_start(wgg_state_store *s, uv_loop_t *loop, wgg_state_call *c);
void wgg_pg_async_free(pgstore *st);

#endif
