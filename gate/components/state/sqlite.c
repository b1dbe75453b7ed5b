/*
 * sqlite.c: state.sqlite (docs reference/components-reference/
 * supported-state-stores/setup-sqlite.md; table layout of components-contrib
 * state/sqlite/sqlite_migrations.go). One connection under a mutex, WAL
 * journal unless disableWAL, synchronous=FULL so an acknowledged write
 * survives a crash of the process. Blocking: called from the thread pool only.
 */
#include <ctype.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "components/state/sqlite_query.h"
#include "components/state/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/uuid.h"

enum { Q_GET, Q_UPSERT, Q_INSERT_FIRST, Q_UPDATE_ETAG, Q_DELETE, Q_DELETE_ETAG, Q_CLEANUP, Q_COUNT };

typedef struct sqlstore {
  wgg_state_store base;
  pthread_mutex_t mu;
  sqlite3 *db;
  sqlite3_stmt *q[Q_COUNT];
  uint64_t cleanup_ms; /* 0 = no garbage collection of expired rows */
  int64_t last_cleanup;
  char table[65]; /* the state table (a validated identifier) */
} sqlstore;

/* Expiry times are UTC text with milliseconds, so a 1 s TTL lasts 1 s and not "until the next full second". */
#define NOW "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'now')"
#define LIVE "(expiration_time IS NULL OR expiration_time > " NOW ")"
#define EXPIRY "CASE WHEN ?4 > 0 THEN STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '+' || ?4 || ' seconds') ELSE NULL END"

static bool valid_ident(const char *s) {
  if (!s || !*s || strlen(s) > 64) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_') return false;
  return true;
}

static int exec(sqlstore *st, const char *sql, wgg_err *err) {
  char *msg = NULL;
  if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
  wgg_err_set(err, "sqlite: %s", msg ? msg : sqlite3_errmsg(st->db));
  sqlite3_free(msg);
  return -1;
}

static int sql_get(wgg_state_store *s, const char *key, wgg_state_got *out, wgg_err *err) {
  sqlstore *st = (sqlstore *)s;
  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&st->mu);
  sqlite3_stmt *q = st->q[Q_GET];
  sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(q), status = WGG_ST_OK;
  if (rc == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_blob(q, 0);
    size_t vlen = (size_t)sqlite3_column_bytes(q, 0);
    out->value = wgg_strndup(v ? v : "", vlen);
    out->value_len = vlen;
    out->etag = strdup((const char *)sqlite3_column_text(q, 1));
    out->expire_unix = sqlite3_column_int64(q, 2);
    out->found = true;
    if (!out->value || !out->etag) {
      wgg_state_got_free(out);
      status = wgg_err_set(err, "out of memory");
    }
  } else if (rc != SQLITE_DONE) {
    status = wgg_err_set(err, "sqlite: %s", sqlite3_errmsg(st->db));
  }
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  pthread_mutex_unlock(&st->mu);
  return status;
}

/* Runs one statement that changes at most one row; *changed gets the count. */
static int step_change(sqlstore *st, sqlite3_stmt *q, int *changed, wgg_err *err) {
  int rc = sqlite3_step(q);
  int ok = rc == SQLITE_DONE;
  if (ok) *changed = sqlite3_changes(st->db);
  else wgg_err_set(err, "sqlite: %s", sqlite3_errmsg(st->db));
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  return ok ? 0 : -1;
}

static int apply_one(sqlstore *st, const wgg_state_op *op, wgg_err *err) {
  bool has_etag = op->etag && *op->etag;
  if (has_etag && !wgg_uuid_valid(op->etag)) return wgg_err_set(err, "invalid etag value: %s", op->etag), WGG_ST_ETAG_INVALID;
  sqlite3_stmt *q;
  char etag[37];
  if (op->is_delete) {
    q = st->q[has_etag ? Q_DELETE_ETAG : Q_DELETE];
    sqlite3_bind_text(q, 1, op->key, -1, SQLITE_STATIC);
    if (has_etag) sqlite3_bind_text(q, 2, op->etag, -1, SQLITE_STATIC);
  } else {
    q = st->q[has_etag ? Q_UPDATE_ETAG : op->first_write ? Q_INSERT_FIRST : Q_UPSERT];
    wgg_uuid_new(etag);
    sqlite3_bind_text(q, 1, op->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, op->value, (int)op->value_len, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, etag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, op->ttl_seconds > 0 ? op->ttl_seconds : 0);
    if (has_etag) sqlite3_bind_text(q, 5, op->etag, -1, SQLITE_STATIC);
  }
  int changed = 0;
  if (step_change(st, q, &changed, err)) return WGG_ST_ERROR;
  if (changed == 0 && (has_etag || (!op->is_delete && op->first_write)))
    return wgg_err_set(err, "%s", wgg_state_mismatch_msg(op)), WGG_ST_ETAG_MISMATCH;
  return WGG_ST_OK;
}

static int sql_apply(wgg_state_store *s, const wgg_state_op *ops, size_t n, wgg_err *err) {
  sqlstore *st = (sqlstore *)s;
  for (size_t i = 0; i < n; i++)
    if (ops[i].value_len > 1000000000) return wgg_err_set(err, "value too large"), WGG_ST_BAD_REQUEST;
  pthread_mutex_lock(&st->mu);
  int status = WGG_ST_OK;
  if (exec(st, "BEGIN IMMEDIATE", err)) {
    status = WGG_ST_ERROR;
    goto out;
  }
  for (size_t i = 0; i < n && status == WGG_ST_OK; i++) status = apply_one(st, &ops[i], err);
  if (status == WGG_ST_OK && exec(st, "COMMIT", err)) status = WGG_ST_ERROR;
  if (status != WGG_ST_OK) {
    wgg_err tmp;
    if (!sqlite3_get_autocommit(st->db)) exec(st, "ROLLBACK", &tmp);
    goto out;
  }
  if (st->cleanup_ms) {
    int64_t now = (int64_t)time(NULL);
    if ((uint64_t)(now - st->last_cleanup) * 1000 >= st->cleanup_ms) {
      int changed;
      wgg_err tmp;
      st->last_cleanup = now;
      if (step_change(st, st->q[Q_CLEANUP], &changed, &tmp)) wgg_warn("state.sqlite cleanup: %s", tmp.msg);
    }
  }
out:
  pthread_mutex_unlock(&st->mu);
  return status;
}

static void sql_destroy(wgg_state_store *s) {
  sqlstore *st = (sqlstore *)s;
  for (int i = 0; i < Q_COUNT; i++) sqlite3_finalize(st->q[i]);
  if (st->db) sqlite3_close(st->db);
  pthread_mutex_destroy(&st->mu);
  free(st);
}

static int sql_query(wgg_state_store *s, const wgg_query *q, wgg_qresult *out, wgg_err *err) {
  sqlstore *st = (sqlstore *)s;
  pthread_mutex_lock(&st->mu);
  int status = wgg_sqlite_query(st->db, st->table, q, out, err);
  pthread_mutex_unlock(&st->mu);
  return status;
}

static const wgg_state_store_ops sql_ops = {sql_get, sql_apply, sql_destroy, sql_query, NULL};

static int prepare(sqlstore *st, const char *table, wgg_err *err) {
  char sql[Q_COUNT][600];
  snprintf(sql[Q_GET], sizeof sql[0],
           "SELECT value, etag, CAST(strftime('%%s', expiration_time) AS INTEGER) FROM %s WHERE key = ?1 AND " LIVE,
           table);
  snprintf(sql[Q_UPSERT], sizeof sql[0],
           "INSERT INTO %s (key, value, is_binary, etag, expiration_time, update_time) "
           "VALUES (?1, ?2, 0, ?3, " EXPIRY ", CURRENT_TIMESTAMP) ON CONFLICT (key) DO UPDATE SET "
           "value = excluded.value, is_binary = 0, etag = excluded.etag, expiration_time = excluded.expiration_time, "
           "update_time = CURRENT_TIMESTAMP",
           table);
  snprintf(sql[Q_INSERT_FIRST], sizeof sql[0],
           "INSERT INTO %s (key, value, is_binary, etag, expiration_time, update_time) "
           "VALUES (?1, ?2, 0, ?3, " EXPIRY ", CURRENT_TIMESTAMP) ON CONFLICT (key) DO UPDATE SET "
           "value = excluded.value, is_binary = 0, etag = excluded.etag, expiration_time = excluded.expiration_time, "
           "update_time = CURRENT_TIMESTAMP WHERE NOT " LIVE,
           table);
  snprintf(sql[Q_UPDATE_ETAG], sizeof sql[0],
           "UPDATE %s SET value = ?2, is_binary = 0, etag = ?3, expiration_time = " EXPIRY
           ", update_time = CURRENT_TIMESTAMP WHERE key = ?1 AND etag = ?5 AND " LIVE,
           table);
  snprintf(sql[Q_DELETE], sizeof sql[0], "DELETE FROM %s WHERE key = ?1", table);
  snprintf(sql[Q_DELETE_ETAG], sizeof sql[0], "DELETE FROM %s WHERE key = ?1 AND etag = ?2 AND " LIVE, table);
  snprintf(sql[Q_CLEANUP], sizeof sql[0],
           "DELETE FROM %s WHERE expiration_time IS NOT NULL AND expiration_time <= " NOW, table);
  for (int i = 0; i < Q_COUNT; i++)
    if (sqlite3_prepare_v3(st->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->q[i], NULL) != SQLITE_OK)
      return wgg_err_set(err, "sqlite: %s", sqlite3_errmsg(st->db));
  return 0;
}

static int opt_duration(const wgg_component *c, const char *name, const char *def, uint64_t *out, wgg_err *err) {
  const char *v = wgg_component_meta(c, name);
  wgg_err e;
  if (wgg_parse_duration_ms(v && *v ? v : def, out, &e))
    return wgg_err_set(err, "state.sqlite: metadata %s: %s", name, e.msg);
  return 0;
}

wgg_state_store *wgg_state_sqlite_new(const wgg_component *c, wgg_err *err) {
  const char *conn = wgg_component_meta(c, "connectionString");
  if (!conn || !*conn) return wgg_err_set(err, "state.sqlite: missing connection string"), NULL;
  const char *table = wgg_component_meta(c, "tableName");
  const char *mtable = wgg_component_meta(c, "metadataTableName");
  if (!table || !*table) table = "state";
  if (!mtable || !*mtable) mtable = "metadata";
  if (!valid_ident(table) || !valid_ident(mtable))
    return wgg_err_set(err, "state.sqlite: invalid table name '%s' (letters, digits and _ only)",
                       valid_ident(table) ? mtable : table), NULL;
  uint64_t busy_ms, cleanup_ms, timeout_ms;
  if (opt_duration(c, "busyTimeout", "2s", &busy_ms, err) || opt_duration(c, "cleanupInterval", "0s", &cleanup_ms, err) ||
      opt_duration(c, "timeout", "20s", &timeout_ms, err))
    return NULL;
  const char *nowal = wgg_component_meta(c, "disableWAL");
  bool wal = !(nowal && (!strcasecmp(nowal, "true") || !strcmp(nowal, "1")));

  sqlstore *st = calloc(1, sizeof *st);
  if (!st) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_init(&st->mu, NULL);
  st->base.ops = &sql_ops;
  st->base.features = WGG_FEAT_ETAG | WGG_FEAT_TRANSACTIONAL | WGG_FEAT_TTL | WGG_FEAT_QUERY;
  st->base.blocking = true;
  snprintf(st->table, sizeof st->table, "%s", table);
  st->cleanup_ms = cleanup_ms;
  st->last_cleanup = (int64_t)time(NULL);
  if (sqlite3_open_v2(conn, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    wgg_err_set(err, "state.sqlite: cannot open %s: %s", conn, st->db ? sqlite3_errmsg(st->db) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(st->db, (int)(busy_ms > 3600000 ? 3600000 : busy_ms));
  char sql[1200];
  snprintf(sql, sizeof sql,
           "PRAGMA journal_mode=%s; PRAGMA synchronous=FULL;"
           "CREATE TABLE IF NOT EXISTS %s (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);"
           "INSERT OR IGNORE INTO %s (key, value) VALUES ('migrations', '1');"
           "CREATE TABLE IF NOT EXISTS %s (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL, is_binary BOOLEAN NOT NULL,"
           " etag TEXT NOT NULL, expiration_time TIMESTAMP DEFAULT NULL, update_time TIMESTAMP DEFAULT NULL);"
           "CREATE INDEX IF NOT EXISTS %s_expiration_time ON %s (expiration_time);",
           wal ? "WAL" : "DELETE", mtable, mtable, table, table, table);
  wgg_err e;
  if (exec(st, sql, &e)) {
    wgg_err_set(err, "state.sqlite: %s: %s", conn, e.msg);
    goto fail;
  }
  if (prepare(st, table, &e)) {
    wgg_err_set(err, "state.sqlite: %s: %s", conn, e.msg);
    goto fail;
  }
  return &st->base;
fail:
  sql_destroy(&st->base);
  return NULL;
}
