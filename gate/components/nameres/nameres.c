/*
 * nameres.c: the sqlite and static name resolvers (see nameres.h; Dapr's
 * components-contrib nameresolution/sqlite is the model for the table and
 * the staleness rule: a row counts while now - last_update < updateInterval).
 */
#include "components/nameres/nameres.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "util/err.h"
#include "util/log.h"
#include "util/uuid.h"

enum { CACHE_TTL_MS = 1000, CACHE_SLOTS = 64 };

typedef struct cache_entry {
  char app_id[128];
  char addr[128];
  uint64_t at_ms;
} cache_entry;

struct wgg_nameres {
  bool is_static;
  json_t *apps; /* static: app-id -> "host:port" or list (owned) */
  sqlite3 *db;  /* sqlite: one connection, serialized mode */
  char table[64];
  char path[1024];
  uint64_t update_ms;
  char reg_id[37];
  char self_app[128], self_addr[128];
  char self_grpc[128]; /* the gRPC API's "host:port", "" when none */
  bool registered;     /* the row was written (wgg_nameres_register): renewals and the deregistration apply */
  pthread_mutex_t mu; /* cache */
  cache_entry cache[CACHE_SLOTS];
};

static uint64_t now_ms(void) {
  return uv_hrtime() / 1000000u;
}

/* A configuration value as a string (strings, numbers). */
static const char *cfg_str(json_t *cfg, const char *key, char *tmp, size_t n) {
  json_t *v = json_object_get(cfg, key);
  if (json_is_string(v)) return json_string_value(v);
  if (json_is_integer(v)) return snprintf(tmp, n, "%lld", (long long)json_integer_value(v)), tmp;
  return NULL;
}

static int cfg_duration(json_t *cfg, const char *key, uint64_t def, uint64_t *out, wgg_err *err) {
  char tmp[64];
  const char *s = cfg_str(cfg, key, tmp, sizeof tmp);
  *out = def;
  if (!s) return 0;
  wgg_err e;
  if (wgg_parse_duration_ms(s, out, &e))
    return wgg_err_set(err, "nameResolution sqlite: configuration.%s: %s", key, e.msg);
  return 0;
}

static bool valid_ident(const char *s) {
  if (!*s || strlen(s) > 60) return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return true;
}

void wgg_nameres_self_addr(const char *listen_addresses, int port, char *out, size_t n) {
  const char *env = getenv("DAPR_HOST_IP");
  char host[128] = "127.0.0.1";
  if (env && *env) snprintf(host, sizeof host, "%s", env);
  else if (listen_addresses && *listen_addresses && !strchr(listen_addresses, ',') &&
           strcmp(listen_addresses, "0.0.0.0") && strcmp(listen_addresses, "::") && strcmp(listen_addresses, "[::]"))
    snprintf(host, sizeof host, "%s", listen_addresses);
  bool v6 = strchr(host, ':') && host[0] != '[';
  snprintf(out, n, v6 ? "[%s]:%d" : "%s:%d", host, port);
}

static int exec(wgg_nameres *nr, const char *sql, wgg_err *err) {
  char *msg = NULL;
  if (sqlite3_exec(nr->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    wgg_err_set(err, "nameResolution sqlite (%s): %s", nr->path, msg ? msg : sqlite3_errmsg(nr->db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

/* REPLACE INTO the table: this sidecar's row (unique per address). */
static int do_register(wgg_nameres *nr, wgg_err *err) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "REPLACE INTO %s (registration_id, address, app_id, namespace, last_update, grpc_address) "
           "VALUES (?, ?, ?, '', unixepoch(CURRENT_TIMESTAMP), ?)",
           nr->table);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(nr->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, nr->reg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, nr->self_addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, nr->self_app, -1, SQLITE_STATIC);
    if (nr->self_grpc[0]) sqlite3_bind_text(st, 4, nr->self_grpc, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 4);
    rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return wgg_err_set(err, "nameResolution sqlite (%s): registering %s: %s", nr->path, nr->self_app,
                       sqlite3_errmsg(nr->db));
  return 0;
}

static int open_sqlite(wgg_nameres *nr, json_t *cfg, const char *self_app_id, const char *self_addr,
                       const char *self_grpc, wgg_err *err) {
  char tmp[64];
  const char *conn = cfg_str(cfg, "connectionString", tmp, sizeof tmp);
  if (conn && *conn) {
    snprintf(nr->path, sizeof nr->path, "%s", conn);
  } else {
    const char *home = getenv("HOME");
    if (home && *home) {
      snprintf(nr->path, sizeof nr->path, "%s/.wasmgate", home);
      if (mkdir(nr->path, 0700) && errno != EEXIST)
        return wgg_err_set(err, "nameResolution sqlite: cannot create %s: %s", nr->path, strerror(errno));
      snprintf(nr->path, sizeof nr->path, "%s/.wasmgate/nameresolution.db", home);
    } else {
      snprintf(nr->path, sizeof nr->path, "/tmp/wasmgate-nameresolution.db");
    }
  }
  const char *table = cfg_str(cfg, "tableName", tmp, sizeof tmp);
  snprintf(nr->table, sizeof nr->table, "%s", table ? table : "hosts");
  if (!valid_ident(nr->table))
    return wgg_err_set(err, "nameResolution sqlite: configuration.tableName '%s' is not a plain identifier", nr->table);
  uint64_t timeout_ms, busy_ms, cleanup_ms;
  if (cfg_duration(cfg, "updateInterval", 5000, &nr->update_ms, err) ||
      cfg_duration(cfg, "timeout", 1000, &timeout_ms, err) || cfg_duration(cfg, "busyTimeout", 800, &busy_ms, err) ||
      cfg_duration(cfg, "cleanupInterval", 3600000, &cleanup_ms, err))
    return -1;
  nr->update_ms -= nr->update_ms % 1000; /* whole seconds, as Dapr */
  if (timeout_ms < 1000) return wgg_err_set(err, "nameResolution sqlite: configuration.timeout must be at least 1s");
  if (nr->update_ms < timeout_ms + 1000)
    return wgg_err_set(err, "nameResolution sqlite: configuration.updateInterval must be at least 1s greater than timeout");
  if (sqlite3_open_v2(nr->path, &nr->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
                                             SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
    return wgg_err_set(err, "nameResolution sqlite: cannot open %s: %s", nr->path,
                       nr->db ? sqlite3_errmsg(nr->db) : "out of memory");
  sqlite3_busy_timeout(nr->db, (int)(busy_ms > 60000 ? 60000 : busy_ms));
  json_t *wal = json_object_get(cfg, "disableWAL");
  bool no_wal = json_is_true(wal) || (json_is_string(wal) && !strcmp(json_string_value(wal), "true"));
  char sql[1024];
  snprintf(sql, sizeof sql,
           "PRAGMA journal_mode=%s;%s"
           "CREATE TABLE IF NOT EXISTS %s (registration_id TEXT NOT NULL PRIMARY KEY, address TEXT NOT NULL,"
           " app_id TEXT NOT NULL, namespace TEXT NOT NULL, last_update INTEGER NOT NULL);"
           /* one row per (address, app ID): a process hosting several wasm apps registers each of
            * its app IDs at its one address (docs/wasm-apps.md section 7); a registry made with
            * the older index on the address alone is migrated */
           "DROP INDEX IF EXISTS %s_address_idx;"
           "CREATE UNIQUE INDEX IF NOT EXISTS %s_address_app_idx ON %s (address, app_id);"
           "CREATE INDEX IF NOT EXISTS %s_last_update_idx ON %s (last_update);",
           no_wal ? "DELETE" : "WAL",
           /* WAL without an fsync per commit: still consistent after a crash (SQLite's WAL
            * guarantee); a power loss may forget the last registrations, which the sidecars renew
            * anyway. Every statement of a start is a commit, each an fsync of a few ms otherwise:
            * most of a wasm app's cold start (bench/README.md "Cold start"). */
           no_wal ? "" : "PRAGMA synchronous=NORMAL;", nr->table, nr->table, nr->table, nr->table, nr->table, nr->table);
  if (exec(nr, sql, err)) return -1;
  /* wasmgate's own column: the gRPC API's address beside the HTTP one (gRPC proxying forwards there);
   * added to a table made by an older wasmgate or another resolver (two sidecars may race: a
   * duplicate column is fine) */
  snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN grpc_address TEXT", nr->table);
  char *amsg = NULL;
  if (sqlite3_exec(nr->db, sql, NULL, NULL, &amsg) != SQLITE_OK && (!amsg || !strstr(amsg, "duplicate column"))) {
    wgg_err_set(err, "nameResolution sqlite (%s): %s", nr->path, amsg ? amsg : sqlite3_errmsg(nr->db));
    sqlite3_free(amsg);
    return -1;
  }
  sqlite3_free(amsg);
  /* stale rows (of sidecars that died without deregistering) go at each start */
  snprintf(sql, sizeof sql, "DELETE FROM %s WHERE unixepoch(CURRENT_TIMESTAMP) - last_update >= %llu", nr->table,
           (unsigned long long)(cleanup_ms / 1000 > nr->update_ms / 1000 ? cleanup_ms / 1000 : nr->update_ms / 1000));
  if (exec(nr, sql, err)) return -1;
  if (self_app_id && *self_app_id) {
    snprintf(nr->self_app, sizeof nr->self_app, "%s", self_app_id);
    snprintf(nr->self_addr, sizeof nr->self_addr, "%s", self_addr ? self_addr : "");
    snprintf(nr->self_grpc, sizeof nr->self_grpc, "%s", self_grpc ? self_grpc : "");
    wgg_uuid_new(nr->reg_id);
  } else {
    wgg_info("name resolution: sqlite (%s); no --app-id, not registering", nr->path);
  }
  return 0;
}

static int open_static(wgg_nameres *nr, json_t *cfg, wgg_err *err) {
  json_t *apps = json_object_get(cfg, "apps");
  if (!json_is_object(apps))
    return wgg_err_set(err, "nameResolution static: configuration.apps must map app IDs to \"host:port\" (or lists)");
  const char *k;
  json_t *v;
  json_object_foreach(apps, k, v) {
    bool ok = json_is_string(v) && strchr(json_string_value(v), ':');
    if (json_is_array(v) && json_array_size(v)) {
      ok = true;
      for (size_t i = 0; i < json_array_size(v); i++)
        ok = ok && json_is_string(json_array_get(v, i)) && strchr(json_string_value(json_array_get(v, i)), ':');
    }
    if (!ok) return wgg_err_set(err, "nameResolution static: configuration.apps.%s: want \"host:port\" or a list", k);
  }
  nr->apps = json_incref(apps);
  nr->is_static = true;
  wgg_info("name resolution: static table of %zu app(s)", json_object_size(apps));
  return 0;
}

int wgg_nameres_register(wgg_nameres *nr, wgg_err *err) {
  if (nr->is_static || !nr->reg_id[0] || nr->registered) return 0;
  if (do_register(nr, err)) return -1;
  nr->registered = true;
  wgg_info("name resolution: sqlite (%s): registered %s at %s", nr->path, nr->self_app, nr->self_addr);
  return 0;
}

wgg_nameres *wgg_nameres_new(json_t *spec, const char *self_app_id, const char *self_addr, wgg_err *err) {
  return wgg_nameres_new_grpc(spec, self_app_id, self_addr, NULL, err);
}

wgg_nameres *wgg_nameres_new_grpc(json_t *spec, const char *self_app_id, const char *self_addr, const char *self_grpc,
                                  wgg_err *err) {
  wgg_nameres *nr = wgg_nameres_new_unregistered(spec, self_app_id, self_addr, self_grpc, err);
  if (nr && wgg_nameres_register(nr, err)) {
    wgg_nameres_free(nr);
    return NULL;
  }
  return nr;
}

wgg_nameres *wgg_nameres_new_unregistered(json_t *spec, const char *self_app_id, const char *self_addr,
                                          const char *self_grpc, wgg_err *err) {
  const char *comp = "sqlite";
  json_t *cfg = NULL;
  if (json_is_object(spec)) {
    json_t *c = json_object_get(spec, "component");
    if (json_is_string(c) && *json_string_value(c)) comp = json_string_value(c);
    cfg = json_object_get(spec, "configuration");
  }
  wgg_nameres *nr = calloc(1, sizeof *nr);
  if (!nr) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_init(&nr->mu, NULL);
  int rc;
  if (!strcmp(comp, "sqlite")) rc = open_sqlite(nr, cfg, self_app_id, self_addr, self_grpc, err);
  else if (!strcmp(comp, "static")) rc = open_static(nr, cfg, err);
  else
    rc = wgg_err_set(err,
                     "nameResolution component '%s' is not supported: wasmgate has \"sqlite\" (the default) and "
                     "\"static\"",
                     comp);
  if (rc) {
    wgg_nameres_free(nr);
    return NULL;
  }
  return nr;
}

void wgg_nameres_free(wgg_nameres *nr) {
  if (!nr) return;
  if (nr->db && nr->registered) {
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE registration_id = ?", nr->table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(nr->db, sql, -1, &st, NULL) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, nr->reg_id, -1, SQLITE_STATIC);
      if (sqlite3_step(st) != SQLITE_DONE) wgg_warn("name resolution: deregistering: %s", sqlite3_errmsg(nr->db));
    }
    sqlite3_finalize(st);
  }
  if (nr->db) sqlite3_close(nr->db);
  json_decref(nr->apps);
  pthread_mutex_destroy(&nr->mu);
  free(nr);
}

const char *wgg_nameres_kind(const wgg_nameres *nr) {
  return nr->is_static ? "static" : "sqlite";
}

uint64_t wgg_nameres_renew_interval_ms(const wgg_nameres *nr) {
  if (nr->is_static || !nr->reg_id[0]) return 0;
  /* Dapr renews every updateInterval - timeout; but last_update has whole seconds, so with the
   * smallest interval (2 s) a renewal that lands just before a second boundary and runs a few ms
   * late (a busy thread pool) lets a live row look expired: renew at a third of the interval too. */
  uint64_t dapr = nr->update_ms > 2000 ? nr->update_ms - 1000 : 1000, third = nr->update_ms / 3;
  uint64_t every = third < dapr ? third : dapr;
  return every < 250 ? 250 : every;
}

int wgg_nameres_renew(wgg_nameres *nr, wgg_err *err) {
  if (nr->is_static || !nr->reg_id[0]) return 0;
  if (!nr->registered) return wgg_nameres_register(nr, err); /* the first registration failed */
  char sql[256];
  snprintf(sql, sizeof sql,
           "UPDATE %s SET last_update = unixepoch(CURRENT_TIMESTAMP) WHERE registration_id = ? AND address = ?",
           nr->table);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(nr->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, nr->reg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, nr->self_addr, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return wgg_err_set(err, "nameResolution sqlite: renewing the registration: %s", sqlite3_errmsg(nr->db));
  if (sqlite3_changes(nr->db) == 0) {
    wgg_warn("name resolution: the registration of %s at %s was lost; registering again", nr->self_app, nr->self_addr);
    return do_register(nr, err);
  }
  return 0;
}

static cache_entry *cache_slot(wgg_nameres *nr, const char *app_id) {
  for (int i = 0; i < CACHE_SLOTS; i++)
    if (nr->cache[i].at_ms && !strcmp(nr->cache[i].app_id, app_id)) return &nr->cache[i];
  return NULL;
}

int wgg_nameres_cached(wgg_nameres *nr, const char *app_id, char *addr, size_t n) {
  if (nr->is_static) return wgg_nameres_resolve(nr, app_id, addr, n, NULL); /* a table lookup: never blocks */
  int rc = -1;
  pthread_mutex_lock(&nr->mu);
  cache_entry *c = cache_slot(nr, app_id);
  if (c && now_ms() - c->at_ms < CACHE_TTL_MS) {
    snprintf(addr, n, "%s", c->addr);
    rc = 0;
  }
  pthread_mutex_unlock(&nr->mu);
  return rc;
}

void wgg_nameres_forget(wgg_nameres *nr, const char *app_id) {
  pthread_mutex_lock(&nr->mu);
  cache_entry *c = cache_slot(nr, app_id);
  if (c) c->at_ms = 0;
  pthread_mutex_unlock(&nr->mu);
}

static void cache_put(wgg_nameres *nr, const char *app_id, const char *addr) {
  if (strlen(app_id) >= sizeof nr->cache[0].app_id || strlen(addr) >= sizeof nr->cache[0].addr) return;
  pthread_mutex_lock(&nr->mu);
  cache_entry *c = cache_slot(nr, app_id);
  for (int i = 0; !c && i < CACHE_SLOTS; i++) /* a free slot, else the oldest */
    if (!c || nr->cache[i].at_ms < c->at_ms) c = &nr->cache[i];
  for (int i = 0; !c && i < CACHE_SLOTS; i++) c = &nr->cache[i];
  if (c) {
    snprintf(c->app_id, sizeof c->app_id, "%s", app_id);
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    c->at_ms = now_ms();
    if (!c->at_ms) c->at_ms = 1;
  }
  pthread_mutex_unlock(&nr->mu);
}

/* Picks one of app_id's fresh registrations at random from the registry
 * table: its column (address or grpc_address; where is an extra condition)
 * into addr (n bytes). Returns 1 when found, 0 when none is (err untouched),
 * -1 with err when the query failed. */
static int registry_pick(wgg_nameres *nr, const char *column, const char *where, const char *app_id, char *addr,
                         size_t n, wgg_err *err) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT %s FROM %s WHERE app_id = ? AND unixepoch(CURRENT_TIMESTAMP) - last_update < %llu "
           "%sORDER BY RANDOM() LIMIT 1",
           column, nr->table, (unsigned long long)(nr->update_ms / 1000), where);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(nr->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, app_id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
  }
  int out = 0;
  if (rc == SQLITE_ROW) {
    snprintf(addr, n, "%s", (const char *)sqlite3_column_text(st, 0));
    out = 1;
  } else if (rc != SQLITE_DONE) {
    out = wgg_err_set(err, "failed to look up address: %s", sqlite3_errmsg(nr->db));
  }
  sqlite3_finalize(st);
  return out;
}

int wgg_nameres_resolve(wgg_nameres *nr, const char *app_id, char *addr, size_t n, wgg_err *err) {
  if (nr->is_static) {
    json_t *v = json_object_get(nr->apps, app_id);
    if (json_is_array(v)) v = json_array_get(v, (size_t)rand() % json_array_size(v));
    if (!json_is_string(v)) return wgg_err_set(err, "no host found with the given ID");
    snprintf(addr, n, "%s", json_string_value(v));
    return 0;
  }
  int found = registry_pick(nr, "address", "", app_id, addr, n, err);
  if (found < 0) return -1;
  if (!found) return wgg_err_set(err, "no host found with the given ID");
  cache_put(nr, app_id, addr);
  return 0;
}

int wgg_nameres_resolve_grpc(wgg_nameres *nr, const char *app_id, char *addr, size_t n, wgg_err *err) {
  if (nr->is_static)
    return wgg_err_set(err, "no gRPC address for the given ID (the static table lists HTTP addresses)");
  int found = registry_pick(nr, "grpc_address", "AND grpc_address IS NOT NULL AND grpc_address != '' ", app_id, addr,
                            n, err);
  if (found < 0) return -1;
  if (!found) return wgg_err_set(err, "no host with a gRPC API found with the given ID");
  return 0;
}
