/*
 * sqlite.c: configuration.sqlite, a wasmgate addition (daprd has no
 * configuration store that needs no server): the embedded default
 * configuration store. Items are rows of a table (tableName, default
 * "configuration") key TEXT PRIMARY KEY, value TEXT, version TEXT, written
 * by any program with SQLite (the sqlite3 shell, another process):
 *
 *   INSERT OR REPLACE INTO configuration (key, value, version) VALUES ('a', '1', 'v1');
 *
 * Triggers on that table append each changed key to <table>_changes
 * (seq, key, at); subscriptions are served by one watcher thread, started
 * with the first subscription, that reads the new rows every pollInterval
 * (default 500ms) and notifies the keys' current items (a deleted key: an
 * empty item); rows older than ten minutes are pruned. One connection per
 * thread, WAL journal, busyTimeout (default 2s). Blocking: get runs on the
 * store's executor.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "components/configuration/configuration.h"
#include "components/configuration/subs.h"
#include "util/log.h"
#include "wggate.h"

typedef struct qstore {
  wgg_config_store base;
  pthread_mutex_t mu; /* db */
  sqlite3 *db;
  char *path;
  char table[72];
  int busy_ms;
  uint64_t poll_ms;
  wgg_conf_subs subs;
  pthread_t thread;
  bool running;
  int stop; /* atomic */
  sqlite3_int64 seen; /* the watcher's last change seq (watcher thread) */
} qstore;

static bool valid_ident(const char *s) {
  if (!s || !*s || strlen(s) > 48) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
  return true;
}

static int open_db(qstore *st, sqlite3 **db, wgg_err *err) {
  if (sqlite3_open_v2(st->path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    wgg_err_set(err, "configuration.sqlite: cannot open %s: %s", st->path, *db ? sqlite3_errmsg(*db) : "out of memory");
    sqlite3_close(*db);
    *db = NULL;
    return -1;
  }
  sqlite3_busy_timeout(*db, st->busy_ms);
  return 0;
}

/* The rows of keys (n 0: all) into out; db is the caller's connection. */
static int get_rows(qstore *st, sqlite3 *db, const char *const *keys, size_t n, wgg_conf_items *out, wgg_err *err) {
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT key, value, version FROM %s%s", st->table, n ? " WHERE key = ?1" : " ORDER BY key");
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
    return wgg_err_set(err, "configuration.sqlite: %s", sqlite3_errmsg(db));
  int rc = 0;
  for (size_t i = 0; i < (n ? n : 1) && rc == 0; i++) {
    if (n) {
      sqlite3_reset(q);
      sqlite3_bind_text(q, 1, keys[i], -1, SQLITE_STATIC);
    }
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
      const char *k = (const char *)sqlite3_column_text(q, 0), *v = (const char *)sqlite3_column_text(q, 1),
                 *ver = (const char *)sqlite3_column_text(q, 2);
      if (k && v && *v && wgg_conf_items_add(out, k, v, ver ? ver : "")) {
        rc = wgg_err_set(err, "out of memory");
        break;
      }
    }
    if (rc == 0 && s != SQLITE_DONE) rc = wgg_err_set(err, "configuration.sqlite: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(q);
  return rc;
}

static int q_get(wgg_config_store *s, const char *const *keys, size_t n, wgg_conf_items *out, wgg_err *err) {
  qstore *st = (qstore *)s;
  pthread_mutex_lock(&st->mu);
  int rc = get_rows(st, st->db, keys, n, out, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) wgg_conf_items_free(out);
  return rc;
}

typedef struct watch_ctx {
  qstore *st;
  sqlite3 *db;
} watch_ctx;

static int read_key(const char *key, wgg_conf_items *items, void *ctx) {
  watch_ctx *w = ctx;
  wgg_err err;
  const char *keys[] = {key};
  if (get_rows(w->st, w->db, keys, 1, items, &err)) {
    wgg_warn("%s", err.msg);
    wgg_conf_items_free(items);
    return -1;
  }
  return 0;
}

static sqlite3_int64 max_seq(qstore *st, sqlite3 *db) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(seq), 0) FROM %s_changes", st->table);
  sqlite3_stmt *q = NULL;
  sqlite3_int64 v = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

static void *watcher(void *p) {
  qstore *st = p;
  wgg_err err;
  watch_ctx w = {st, NULL};
  char sql[200], prune[200];
  snprintf(sql, sizeof sql, "SELECT seq, key FROM %s_changes WHERE seq > ?1 ORDER BY seq", st->table);
  snprintf(prune, sizeof prune, "DELETE FROM %s_changes WHERE at < julianday('now') - 600.0/86400", st->table);
  time_t last_prune = 0;
  while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
    if (!w.db && open_db(st, &w.db, &err)) wgg_warn("%s", err.msg);
    sqlite3_stmt *q = NULL;
    if (w.db && sqlite3_prepare_v2(w.db, sql, -1, &q, NULL) == SQLITE_OK) {
      sqlite3_bind_int64(q, 1, st->seen);
      while (sqlite3_step(q) == SQLITE_ROW) {
        st->seen = sqlite3_column_int64(q, 0);
        const char *key = (const char *)sqlite3_column_text(q, 1);
        if (key) {
          char *k = strdup(key);
          if (k) wgg_conf_subs_changed(&st->subs, k, read_key, &w);
          free(k);
        }
      }
    }
    sqlite3_finalize(q);
    if (w.db && time(NULL) - last_prune >= 60) {
      sqlite3_exec(w.db, prune, NULL, NULL, NULL);
      last_prune = time(NULL);
    }
    for (uint64_t slept = 0; slept < st->poll_ms && !__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE); slept += 50) {
      struct timespec ts = {0, 50 * 1000000};
      nanosleep(&ts, NULL);
    }
  }
  sqlite3_close(w.db);
  return NULL;
}

static int q_subscribe(wgg_config_store *s, const char *id, const char *const *keys, size_t n, wgg_conf_notify_fn fn,
                       void *user, wgg_err *err) {
  qstore *st = (qstore *)s;
  pthread_mutex_lock(&st->mu);
  int rc = 0;
  if (!st->running) { /* the watcher starts with the first subscription, from the changes made after it */
    st->seen = max_seq(st, st->db);
    if (pthread_create(&st->thread, NULL, watcher, st)) rc = wgg_err_set(err, "cannot start the watcher thread");
    else st->running = true;
  }
  pthread_mutex_unlock(&st->mu);
  if (rc == 0 && wgg_conf_subs_add(&st->subs, id, keys, n, fn, user)) rc = wgg_err_set(err, "out of memory");
  return rc;
}

static int q_unsubscribe(wgg_config_store *s, const char *id, wgg_err *err) {
  qstore *st = (qstore *)s;
  if (wgg_conf_subs_remove(&st->subs, id)) return wgg_err_set(err, "subscription with id %s does not exist", id);
  return 0;
}

static void q_destroy(wgg_config_store *s) {
  qstore *st = (qstore *)s;
  if (st->running) {
    __atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
    pthread_join(st->thread, NULL);
  }
  wgg_conf_subs_free(&st->subs);
  sqlite3_close(st->db);
  pthread_mutex_destroy(&st->mu);
  free(st->path);
  free(st);
}

static const wgg_config_ops sqlite_ops = {q_get, q_subscribe, q_unsubscribe, q_destroy};

static int duration(const wgg_component *c, const char *name, const char *def, uint64_t *ms, wgg_err *err) {
  const char *v = wgg_component_meta(c, name);
  wgg_err e;
  if (wgg_parse_duration_ms(v && *v ? v : def, ms, &e)) return wgg_err_set(err, "configuration.sqlite: %s: %s", name, e.msg);
  return 0;
}

wgg_config_store *wgg_config_sqlite_new(const wgg_component *c, wgg_err *err) {
  const char *conn = wgg_component_meta(c, "connectionString");
  if (!conn || !*conn) return wgg_err_set(err, "configuration.sqlite: missing connection string"), NULL;
  const char *table = wgg_component_meta(c, "tableName");
  if (!table || !*table) table = "configuration";
  if (!valid_ident(table))
    return wgg_err_set(err, "configuration.sqlite: invalid table name '%s' (letters, digits and _ only)", table), NULL;
  uint64_t busy_ms, poll_ms;
  if (duration(c, "busyTimeout", "2s", &busy_ms, err) || duration(c, "pollInterval", "500ms", &poll_ms, err)) return NULL;
  qstore *st = calloc(1, sizeof *st);
  if (!st || !(st->path = strdup(conn))) {
    free(st);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  snprintf(st->table, sizeof st->table, "%s", table);
  st->busy_ms = (int)(busy_ms > 3600000 ? 3600000 : busy_ms);
  st->poll_ms = poll_ms ? poll_ms : 50;
  pthread_mutex_init(&st->mu, NULL);
  wgg_conf_subs_init(&st->subs);
  st->base.ops = &sqlite_ops;
  st->base.blocking = true;
  if (open_db(st, &st->db, err)) {
    q_destroy(&st->base);
    return NULL;
  }
  char sql[2048];
  const char *t = st->table;
  snprintf(sql, sizeof sql,
           "PRAGMA journal_mode=WAL;"
           "CREATE TABLE IF NOT EXISTS %s (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL,"
           " version TEXT NOT NULL DEFAULT '');"
           "CREATE TABLE IF NOT EXISTS %s_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL,"
           " at REAL NOT NULL DEFAULT (julianday('now')));"
           "CREATE TRIGGER IF NOT EXISTS %s_ins AFTER INSERT ON %s BEGIN INSERT INTO %s_changes (key) VALUES (NEW.key); END;"
           "CREATE TRIGGER IF NOT EXISTS %s_upd AFTER UPDATE ON %s BEGIN INSERT INTO %s_changes (key) VALUES (NEW.key);"
           " INSERT INTO %s_changes (key) SELECT OLD.key WHERE OLD.key <> NEW.key; END;"
           "CREATE TRIGGER IF NOT EXISTS %s_del AFTER DELETE ON %s BEGIN INSERT INTO %s_changes (key) VALUES (OLD.key); END;",
           t, t, t, t, t, t, t, t, t, t, t, t);
  char *msg = NULL;
  if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    wgg_err_set(err, "configuration.sqlite: %s: %s", conn, msg ? msg : "cannot create the tables");
    sqlite3_free(msg);
    q_destroy(&st->base);
    return NULL;
  }
  return &st->base;
}
