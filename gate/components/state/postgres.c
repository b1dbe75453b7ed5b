/*
 * postgres.c: state.postgresql v1 (docs reference/components-reference/
 * supported-state-stores/setup-postgresql-v1.md; table layout of
 * components-contrib state/postgresql v1: key, value jsonb, isbinary,
 * insertdate, updatedate, expiredate). The ETag is the row's xmin (a 32-bit
 * transaction id, so any other ETag is invalid). A save of several items and
 * a transaction run in one SQL transaction.
 *
 * The API's calls use the asynchronous form (postgres_async.c: a few
 * non-blocking connections per loop thread, no thread waiting on the
 * server); queries and callers off the loops use one synchronous connection
 * under a mutex (hence the store is also `blocking`). A lost connection is
 * re-established on the next call, so the store recovers by itself when
 * PostgreSQL comes back.
 */
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "components/state/pqload.h"
#include "components/state/postgres_internal.h"
#include "components/state/postgres_query.h"
#include "components/state/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"


#define LIVE "(expiredate IS NULL OR expiredate > now())"
#define EXPIRY "CASE WHEN $3::bigint > 0 THEN now() + $3::bigint * interval '1 second' END"

static bool valid_ident(const char *s) {
  if (!s || !*s || strlen(s) > 60) return false;
  for (const char *p = s; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.') return false;
  return true;
}

static void drop(pgstore *st) {
  if (st->conn) PQfinish(st->conn);
  st->conn = NULL;
}

/* Runs sql with params; returns the result (caller PQclear) or NULL with err.
 * A broken connection is dropped so that the next call reconnects. */
static PGresult *run(pgstore *st, const char *sql, int n, const char *const *params, wgg_err *err) {
  PGresult *r = PQexecParams(st->conn, sql, n, NULL, params, NULL, NULL, 0);
  ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return r;
  char msg[400];
  snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(st->conn));
  for (char *p = msg + strlen(msg); p > msg && (p[-1] == '\n' || p[-1] == ' '); p--) p[-1] = '\0';
  wgg_err_set(err, "postgresql: %s", msg);
  PQclear(r);
  if (PQstatus(st->conn) != CONNECTION_OK) drop(st);
  return NULL;
}

static int exec0(pgstore *st, const char *sql, wgg_err *err) {
  PGresult *r = run(st, sql, 0, NULL, err);
  PQclear(r);
  return r ? 0 : -1;
}

/* Connects if needed (checking an idle connection first: the server may have restarted). */
static int ensure(pgstore *st, wgg_err *err) {
  time_t now = time(NULL);
  if (st->conn && now - st->last_used >= 1) {
    wgg_err ignored;
    exec0(st, "SELECT 1", &ignored);
  }
  st->last_used = now;
  if (st->conn) return 0;
  st->conn = PQconnectdb(st->conninfo);
  if (!st->conn || PQstatus(st->conn) != CONNECTION_OK) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s", st->conn ? PQerrorMessage(st->conn) : "out of memory");
    for (char *p = msg + strlen(msg); p > msg && p[-1] == '\n'; p--) p[-1] = '\0';
    wgg_err_set(err, "postgresql: cannot connect: %s", msg);
    drop(st);
    return -1;
  }
  char sql[96];
  snprintf(sql, sizeof sql, "SET statement_timeout = %llu", (unsigned long long)st->timeout_ms);
  return exec0(st, sql, err);
}

void wgg_pg_get_sql(const pgstore *st, char *sql, size_t cap) {
  snprintf(sql, cap,
           "SELECT value::text, xmin::text, COALESCE(extract(epoch FROM expiredate)::bigint, 0) FROM %s "
           "WHERE key = $1 AND " LIVE,
           st->table);
}

int wgg_pg_get_row(const PGresult *r, wgg_state_got *out, wgg_err *err) {
  memset(out, 0, sizeof *out);
  if (PQntuples(r) != 1) return WGG_ST_OK;
  out->value = wgg_strndup(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
  out->value_len = (size_t)PQgetlength(r, 0, 0);
  out->etag = strdup(PQgetvalue(r, 0, 1));
  out->expire_unix = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
  out->found = true;
  if (!out->value || !out->etag) {
    wgg_state_got_free(out);
    return wgg_err_set(err, "out of memory"), WGG_ST_ERROR;
  }
  return WGG_ST_OK;
}

static int pg_get(wgg_state_store *s, const char *key, wgg_state_got *out, wgg_err *err) {
  pgstore *st = (pgstore *)s;
  memset(out, 0, sizeof *out);
  char sql[300];
  wgg_pg_get_sql(st, sql, sizeof sql);
  pthread_mutex_lock(&st->mu);
  int status = WGG_ST_ERROR;
  for (int attempt = 0; attempt < 2 && status == WGG_ST_ERROR; attempt++) { /* reads are safe to retry */
    if (ensure(st, err)) continue;
    const char *params[] = {key};
    PGresult *r = run(st, sql, 1, params, err);
    if (!r) continue;
    status = wgg_pg_get_row(r, out, err);
    PQclear(r);
  }
  pthread_mutex_unlock(&st->mu);
  return status;
}

static bool valid_xid(const char *s) {
  if (!*s || strlen(s) > 10) return false;
  for (const char *p = s; *p; p++)
    if (!isdigit((unsigned char)*p)) return false;
  return strtoull(s, NULL, 10) <= 0xffffffffULL;
}

int wgg_pg_op_stmt(const pgstore *st, const wgg_state_op *op, pgstmt *s, wgg_err *err) {
  memset(s, 0, sizeof *s);
  bool has_etag = op->etag && *op->etag;
  snprintf(s->ttl, sizeof s->ttl, "%lld", (long long)(op->ttl_seconds > 0 ? op->ttl_seconds : 0));
  s->params[0] = op->key;
  if (op->is_delete) {
    if (has_etag) {
      snprintf(s->sql, sizeof s->sql, "DELETE FROM %s WHERE key = $1 AND xmin = $2::text::xid AND " LIVE, st->table);
      s->params[1] = op->etag;
      s->n = 2;
    } else {
      snprintf(s->sql, sizeof s->sql, "DELETE FROM %s WHERE key = $1", st->table);
      s->n = 1;
    }
    return WGG_ST_OK;
  }
  if (!(s->value = wgg_strndup(op->value, op->value_len))) return wgg_err_set(err, "out of memory"), WGG_ST_ERROR;
  s->params[1] = s->value;
  s->params[2] = s->ttl;
  s->n = 3;
  if (has_etag) {
    snprintf(s->sql, sizeof s->sql,
             "UPDATE %s SET value = $2::jsonb, isbinary = false, updatedate = now(), expiredate = " EXPIRY
             " WHERE key = $1 AND xmin = $4::text::xid AND " LIVE,
             st->table);
    s->params[3] = op->etag;
    s->n = 4;
  } else {
    snprintf(s->sql, sizeof s->sql,
             "INSERT INTO %s AS t (key, value, isbinary, expiredate) VALUES ($1, $2::jsonb, false, " EXPIRY
             ") ON CONFLICT (key) DO UPDATE SET value = excluded.value, isbinary = false, updatedate = now(), "
             "expiredate = excluded.expiredate%s",
             st->table, op->first_write ? " WHERE t.expiredate IS NOT NULL AND t.expiredate <= now()" : "");
  }
  return WGG_ST_OK;
}

void wgg_pg_stmt_free(pgstmt *s) {
  free(s->value);
  s->value = NULL;
}

int wgg_pg_op_changed(const wgg_state_op *op, long changed, wgg_err *err) {
  bool has_etag = op->etag && *op->etag;
  if (changed == 0 && (has_etag || (!op->is_delete && op->first_write)))
    return wgg_err_set(err, "%s", wgg_state_mismatch_msg(op)), WGG_ST_ETAG_MISMATCH;
  return WGG_ST_OK;
}

int wgg_pg_check_etags(const wgg_state_op *ops, size_t n, wgg_err *err) {
  for (size_t i = 0; i < n; i++)
    if (ops[i].etag && *ops[i].etag && !valid_xid(ops[i].etag))
      return wgg_err_set(err, "invalid etag value: %s", ops[i].etag), WGG_ST_ETAG_INVALID;
  return WGG_ST_OK;
}

bool wgg_pg_cleanup_due(pgstore *st, char *sql, size_t cap) {
  time_t now = time(NULL);
  pthread_mutex_lock(&st->loops_mu);
  bool due = st->cleanup_ms && (uint64_t)(now - st->last_cleanup) * 1000 >= st->cleanup_ms;
  if (due) st->last_cleanup = now;
  pthread_mutex_unlock(&st->loops_mu);
  if (due) snprintf(sql, cap, "DELETE FROM %s WHERE expiredate IS NOT NULL AND expiredate <= now()", st->table);
  return due;
}

static int apply_one(pgstore *st, const wgg_state_op *op, wgg_err *err) {
  pgstmt s;
  if (wgg_pg_op_stmt(st, op, &s, err) != WGG_ST_OK) return WGG_ST_ERROR;
  PGresult *r = run(st, s.sql, s.n, s.params, err);
  wgg_pg_stmt_free(&s);
  if (!r) return WGG_ST_ERROR;
  long changed = strtol(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return wgg_pg_op_changed(op, changed, err);
}

static int pg_apply(wgg_state_store *s, const wgg_state_op *ops, size_t n, wgg_err *err) {
  pgstore *st = (pgstore *)s;
  int bad = wgg_pg_check_etags(ops, n, err);
  if (bad != WGG_ST_OK) return bad;
  pthread_mutex_lock(&st->mu);
  int status = WGG_ST_ERROR;
  if (ensure(st, err) || exec0(st, "BEGIN", err)) goto out;
  status = WGG_ST_OK;
  for (size_t i = 0; i < n && status == WGG_ST_OK; i++) status = apply_one(st, &ops[i], err);
  if (status == WGG_ST_OK && exec0(st, "COMMIT", err)) status = WGG_ST_ERROR;
  if (status != WGG_ST_OK) {
    wgg_err ignored;
    if (st->conn) exec0(st, "ROLLBACK", &ignored);
    goto out;
  }
  char sql[200];
  if (wgg_pg_cleanup_due(st, sql, sizeof sql)) {
    wgg_err e;
    if (exec0(st, sql, &e)) wgg_warn("state.postgresql cleanup: %s", e.msg);
  }
out:
  pthread_mutex_unlock(&st->mu);
  return status;
}

static void pg_destroy(wgg_state_store *s) {
  pgstore *st = (pgstore *)s;
  drop(st);
  wgg_pg_async_free(st);
  free(st->conninfo);
  pthread_mutex_destroy(&st->mu);
  pthread_mutex_destroy(&st->loops_mu);
  free(st);
}

/* The query API: one SELECT built by postgres_query.c (every key path and
 * value a parameter), retried once on a broken connection as reads are. */
static int pg_query(wgg_state_store *s, const wgg_query *q, wgg_qresult *out, wgg_err *err) {
  pgstore *st = (pgstore *)s;
  wgg_buf sql = {0};
  char **params;
  int n;
  if (wgg_pg_query_sql(st->table, q, &sql, &params, &n, err)) return WGG_ST_BAD_REQUEST;
  pthread_mutex_lock(&st->mu);
  int status = WGG_ST_ERROR;
  for (int attempt = 0; attempt < 2 && status == WGG_ST_ERROR; attempt++) {
    if (ensure(st, err)) continue;
    PGresult *r = run(st, sql.data, n, (const char *const *)params, err);
    if (!r) continue;
    status = WGG_ST_OK;
    for (int i = 0; i < PQntuples(r) && status == WGG_ST_OK; i++)
      if (wgg_qresult_add(out, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1),
                          PQgetvalue(r, i, 2)))
        status = wgg_err_set(err, "out of memory");
    PQclear(r);
  }
  pthread_mutex_unlock(&st->mu);
  for (int i = 0; i < n; i++) free(params[i]);
  free(params);
  wgg_buf_free(&sql);
  if (status != WGG_ST_OK) wgg_qresult_free(out);
  return status;
}

static const wgg_state_store_ops pg_ops = {pg_get, pg_apply, pg_destroy, pg_query, wgg_pg_start};

wgg_state_store *wgg_state_postgres_new(const wgg_component *c, wgg_err *err) {
  if (c->version && *c->version && strcmp(c->version, "v1"))
    return wgg_err_set(err, "couldn't find state store %s/%s (only v1)", c->type, c->version), NULL;
  const char *cs = wgg_component_meta(c, "connectionString");
  if (!cs || !*cs) return wgg_err_set(err, "state.postgresql: missing connection string"), NULL;
  const char *table = wgg_component_meta(c, "tableName"), *mtable = wgg_component_meta(c, "metadataTableName");
  if (!table || !*table) table = "state";
  if (!mtable || !*mtable) mtable = "dapr_metadata";
  if (!valid_ident(table) || !valid_ident(mtable))
    return wgg_err_set(err, "state.postgresql: invalid table name (letters, digits, _ and . only)"), NULL;
  if (wgg_pq_load(err)) return NULL;
  pgstore *st = calloc(1, sizeof *st);
  if (!st) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_init(&st->mu, NULL);
  pthread_mutex_init(&st->loops_mu, NULL);
  st->pool = 4;
  st->base.ops = &pg_ops;
  st->base.features = WGG_FEAT_ETAG | WGG_FEAT_TRANSACTIONAL | WGG_FEAT_TTL | WGG_FEAT_QUERY;
  st->base.blocking = true;
  snprintf(st->table, sizeof st->table, "%s", table);
  snprintf(st->mtable, sizeof st->mtable, "%s", mtable);
  st->last_cleanup = time(NULL);
  wgg_err e;
  const char *to = wgg_component_meta(c, "timeout"), *ci = wgg_component_meta(c, "cleanupInterval");
  if (wgg_parse_duration_ms(to && *to ? to : "20s", &st->timeout_ms, &e) ||
      wgg_parse_duration_ms(ci && *ci ? ci : "1h", &st->cleanup_ms, &e)) {
    wgg_err_set(err, "state.postgresql: %s", e.msg);
    goto fail;
  }
  if (!(st->conninfo = strdup(cs))) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  if (ensure(st, &e)) {
    wgg_err_set(err, "state.postgresql: %s", e.msg);
    goto fail;
  }
  char sql[900];
  snprintf(sql, sizeof sql,
           "CREATE TABLE IF NOT EXISTS %s (key text NOT NULL PRIMARY KEY, value text NOT NULL);"
           "CREATE TABLE IF NOT EXISTS %s (key text NOT NULL PRIMARY KEY, value jsonb NOT NULL, isbinary boolean NOT NULL,"
           " insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(), updatedate TIMESTAMP WITH TIME ZONE NULL,"
           " expiredate TIMESTAMP WITH TIME ZONE NULL);",
           st->mtable, st->table);
  PGresult *r = PQexec(st->conn, sql); /* several statements: simple query protocol */
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    wgg_err_set(err, "state.postgresql: creating tables: %s", PQresultErrorMessage(r));
    PQclear(r);
    goto fail;
  }
  PQclear(r);
  return &st->base;
fail:
  pg_destroy(&st->base);
  return NULL;
}
