/*
 * postgres.c: configuration.postgresql (docs reference/components-reference/
 * supported-configuration-stores/postgresql-configuration-store.md;
 * components-contrib configuration/postgres). Items are rows of `table`
 * (required; lower-case letters, digits, '.', '/', '_'), columns key, value,
 * version (and metadata, not read), created by the user. Get reads the rows
 * of the keys (keys of letters, digits, '.', '/', '_' only: else "invalid
 * key"); several rows of one key: the highest numeric version wins.
 *
 * Subscriptions: PostgreSQL LISTEN/NOTIFY. The user's trigger on the table
 * sends pg_notify(channel, payload) with the changed row under "data"
 * ({"data": {"key": ..., "value": ..., "version": ...}}, field names in any
 * case), as components-contrib expects; the channel is the component's
 * `notifyChannel` (alias `pgNotifyChannel`; contrib also takes it from the
 * subscribe request's metadata, which wasmgate's subscribe does not pass).
 * One watcher thread with its own connection LISTENs (before the first
 * subscribe returns) and notifies the subscriptions that cover the key; a
 * lost connection is re-established every second, LISTEN included.
 * Blocking: get runs on the store's executor with one connection under a
 * mutex.
 */
#include <ctype.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "components/configuration/configuration.h"
#include "components/configuration/subs.h"
#include "components/state/pqload.h"
#include "util/log.h"
#include "wggate.h"

typedef struct pstore {
  wgg_config_store base;
  pthread_mutex_t mu; /* conn */
  PGconn *conn;
  char *conninfo;
  char table[72], channel[72];
  uint64_t timeout_ms;
  wgg_conf_subs subs;
  PGconn *listen; /* the watcher's (created by the first subscribe, then the watcher's) */
  pthread_t thread;
  bool running;
  int stop; /* atomic */
} pstore;

/* contrib's allowedTableNameChars (notifyChannel too) and allowedChars (keys). */
static bool ident_ok(const char *s, bool upper) {
  if (!s || strlen(s) > 64) return false;
  for (; *s; s++)
    if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '.' || *s == '/' || *s == '_' ||
          (upper && isupper((unsigned char)*s))))
      return false;
  return true;
}

static void trim_msg(char *m) {
  for (char *p = m + strlen(m); p > m && (p[-1] == '\n' || p[-1] == ' '); p--) p[-1] = '\0';
}

static PGconn *connect_db(pstore *st, wgg_err *err) {
  PGconn *c = PQconnectdb(st->conninfo);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s", c ? PQerrorMessage(c) : "out of memory");
    trim_msg(msg);
    wgg_err_set(err, "configuration.postgresql: connection error: %s", msg);
    if (c) PQfinish(c);
    return NULL;
  }
  char sql[96];
  snprintf(sql, sizeof sql, "SET statement_timeout = %llu", (unsigned long long)st->timeout_ms);
  PQclear(PQexec(c, sql));
  return c;
}

/* Numeric version of s, -1 when not a number (contrib getNumericVersion). */
static long long num_version(const char *s) {
  char *end;
  long long v = strtoll(s, &end, 10);
  return *s && !*end ? v : -1;
}

static int p_get(wgg_config_store *s, const char *const *keys, size_t n, wgg_conf_items *out, wgg_err *err) {
  pstore *st = (pstore *)s;
  for (size_t i = 0; i < n; i++)
    if (!ident_ok(keys[i], true)) return wgg_err_set(err, "invalid key : '%s'", keys[i]);
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT key, value, version FROM %s%s", st->table, n ? " WHERE key = ANY($1::text[])" : "");
  /* the keys as one text[] literal: {"a","b"} (keys hold no quotes or backslashes, checked above) */
  size_t len = 3;
  for (size_t i = 0; i < n; i++) len += strlen(keys[i]) + 3;
  char *arr = malloc(len);
  if (!arr) return wgg_err_set(err, "out of memory");
  char *p = arr;
  *p++ = '{';
  for (size_t i = 0; i < n; i++) p += sprintf(p, "%s\"%s\"", i ? "," : "", keys[i]);
  *p++ = '}';
  *p = '\0';
  const char *params[] = {arr};
  pthread_mutex_lock(&st->mu);
  int rc = -1;
  for (int attempt = 0; attempt < 2 && rc; attempt++) { /* a read: retried once on a fresh connection */
    if (!st->conn && !(st->conn = connect_db(st, err))) break;
    PGresult *r = PQexecParams(st->conn, sql, n ? 1 : 0, NULL, n ? params : NULL, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      char msg[400];
      snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(st->conn));
      trim_msg(msg);
      wgg_err_set(err, "error in querying configuration store: '%s'", msg);
      PQclear(r);
      if (PQstatus(st->conn) != CONNECTION_OK) {
        PQfinish(st->conn);
        st->conn = NULL;
        continue;
      }
      break;
    }
    rc = 0;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && !rc; i++) {
      const char *k = PQgetvalue(r, i, 0), *v = PQgetvalue(r, i, 1), *ver = PQgetvalue(r, i, 2);
      size_t j = 0;
      while (j < out->n && strcmp(out->items[j].key, k)) j++;
      if (j == out->n) {
        if (wgg_conf_items_add(out, k, v, ver)) rc = wgg_err_set(err, "out of memory");
      } else if (num_version(ver) > num_version(out->items[j].version)) { /* the highest numeric version wins */
        char *nv = strdup(v), *nver = strdup(ver);
        if (!nv || !nver) {
          free(nv), free(nver);
          rc = wgg_err_set(err, "out of memory");
        } else {
          free(out->items[j].value), free(out->items[j].version);
          out->items[j].value = nv, out->items[j].version = nver;
        }
      }
    }
    PQclear(r);
  }
  pthread_mutex_unlock(&st->mu);
  free(arr);
  if (rc) wgg_conf_items_free(out);
  return rc;
}

/* ---- subscriptions ---- */

typedef struct change {
  const char *value, *version;
} change;

static int read_change(const char *key, wgg_conf_items *items, void *ctx) {
  change *c = ctx;
  return wgg_conf_items_add(items, key, c->value, c->version);
}

/* One notification's payload: {"data": {"key", "value", "version"}}. */
static void on_payload(pstore *st, const char *payload) {
  json_error_t je;
  json_t *doc = json_loads(payload, 0, &je), *data = json_object_get(doc, "data");
  if (!json_is_object(data)) {
    wgg_error("configuration.postgresql %s: a notification without a \"data\" object: %.200s", st->channel, payload);
    json_decref(doc);
    return;
  }
  const char *key = NULL;
  change c = {"", ""};
  const char *k;
  json_t *v;
  json_object_foreach(data, k, v) {
    const char *s = json_string_value(v);
    if (!strcasecmp(k, "key")) key = s;
    else if (!strcasecmp(k, "value") && s) c.value = s;
    else if (!strcasecmp(k, "version") && s) c.version = s;
  }
  if (key) wgg_conf_subs_changed(&st->subs, key, read_change, &c);
  json_decref(doc);
}

static PGconn *listen_conn(pstore *st, wgg_err *err) {
  PGconn *c = connect_db(st, err);
  if (!c) return NULL;
  char sql[96];
  snprintf(sql, sizeof sql, "LISTEN %s", st->channel);
  PGresult *r = PQexec(c, sql);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
    trim_msg(msg);
    wgg_err_set(err, "error listening to channel: %s", msg);
  }
  PQclear(r);
  if (!ok) PQfinish(c);
  return ok ? c : NULL;
}

static void *watcher(void *p) {
  pstore *st = p;
  PGconn *c = st->listen;
  time_t last_try = 0;
  while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
    if (!c) {
      struct timespec ts = {0, 200 * 1000000L};
      nanosleep(&ts, NULL);
      if (time(NULL) - last_try < 1) continue;
      last_try = time(NULL);
      wgg_err e;
      if (!(c = listen_conn(st, &e))) continue;
      wgg_info("configuration.postgresql: listening on %s again", st->channel);
    }
    struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
    if (poll(&pfd, 1, 200) <= 0) continue;
    if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
      wgg_warn("configuration.postgresql: the LISTEN connection is lost; reconnecting");
      PQfinish(c);
      c = NULL;
      continue;
    }
    PGnotify *n;
    while ((n = PQnotifies(c))) {
      if (n->extra) on_payload(st, n->extra);
      PQfreemem(n);
    }
  }
  if (c) PQfinish(c);
  return NULL;
}

static int p_subscribe(wgg_config_store *s, const char *id, const char *const *keys, size_t n, wgg_conf_notify_fn fn,
                       void *user, wgg_err *err) {
  pstore *st = (pstore *)s;
  if (!*st->channel)
    return wgg_err_set(err, "unable to subscribe to \"%s\". notifyChannel must be set in component metadata or "
                            "request metadata", st->table);
  pthread_mutex_lock(&st->mu);
  int rc = 0;
  if (!st->running) { /* LISTEN before the first subscribe returns: no change after it is missed */
    if (!(st->listen = listen_conn(st, err))) rc = -1;
    else if (pthread_create(&st->thread, NULL, watcher, st)) {
      PQfinish(st->listen);
      st->listen = NULL;
      rc = wgg_err_set(err, "cannot start the watcher thread");
    } else {
      st->running = true;
    }
  }
  pthread_mutex_unlock(&st->mu);
  if (rc == 0 && wgg_conf_subs_add(&st->subs, id, keys, n, fn, user)) rc = wgg_err_set(err, "out of memory");
  return rc;
}

static int p_unsubscribe(wgg_config_store *s, const char *id, wgg_err *err) {
  pstore *st = (pstore *)s;
  if (wgg_conf_subs_remove(&st->subs, id)) return wgg_err_set(err, "unable to find subscription with ID : %s", id);
  return 0;
}

static void p_destroy(wgg_config_store *s) {
  pstore *st = (pstore *)s;
  if (st->running) {
    __atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
    pthread_join(st->thread, NULL);
  }
  wgg_conf_subs_free(&st->subs);
  if (st->conn) PQfinish(st->conn);
  pthread_mutex_destroy(&st->mu);
  free(st->conninfo);
  free(st);
}

static const wgg_config_ops pg_ops = {p_get, p_subscribe, p_unsubscribe, p_destroy};

wgg_config_store *wgg_config_postgres_new(const wgg_component *c, wgg_err *err) {
  const char *cs = wgg_component_meta(c, "connectionString");
  const char *table = wgg_component_meta(c, "table");
  const char *ch = wgg_component_meta(c, "notifyChannel");
  if (!ch || !*ch) ch = wgg_component_meta(c, "pgNotifyChannel");
  const char *to = wgg_component_meta(c, "timeout");
  if (!to || !*to) to = wgg_component_meta(c, "timeoutInSeconds");
  if (!cs || !*cs) return wgg_err_set(err, "configuration.postgresql: missing connection string"), NULL;
  if (!table || !*table) return wgg_err_set(err, "missing postgreSQL configuration table name"), NULL;
  if (!ident_ok(table, false))
    return wgg_err_set(err, "invalid table name '%s'. non-alphanumerics or upper cased table names are not supported",
                       table),
           NULL;
  if (ch && *ch && !ident_ok(ch, false))
    return wgg_err_set(err, "invalid notifyChannel name \"%s\". non-alphanumerics or upper cased names are not supported",
                       ch),
           NULL;
  uint64_t timeout_ms = 20000;
  wgg_err e;
  if (to && *to) {
    char *end;
    long secs = strtol(to, &end, 10);
    if (!*end && secs > 0) timeout_ms = (uint64_t)secs * 1000; /* timeoutInSeconds: a bare number */
    else if (wgg_parse_duration_ms(to, &timeout_ms, &e)) return wgg_err_set(err, "configuration.postgresql: %s", e.msg), NULL;
    if (timeout_ms < 1000) return wgg_err_set(err, "invalid value for 'timeout': must be greater than 1s"), NULL;
  }
  if (wgg_pq_load(err)) return NULL;
  pstore *st = calloc(1, sizeof *st);
  if (!st || !(st->conninfo = strdup(cs))) {
    free(st);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  pthread_mutex_init(&st->mu, NULL);
  wgg_conf_subs_init(&st->subs);
  st->base.ops = &pg_ops;
  st->base.blocking = true;
  snprintf(st->table, sizeof st->table, "%s", table);
  snprintf(st->channel, sizeof st->channel, "%s", ch ? ch : "");
  st->timeout_ms = timeout_ms;
  if (!(st->conn = connect_db(st, err))) goto fail;
  const char *params[] = {st->table};
  PGresult *r = PQexecParams(st->conn, "SELECT EXISTS (SELECT FROM pg_tables where tablename = $1)", 1, NULL, params,
                             NULL, NULL, 0);
  bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  bool exists = ok && !strcmp(PQgetvalue(r, 0, 0), "t");
  if (!ok) wgg_err_set(err, "error in checking if configtable '%s' exists: '%s'", st->table, PQresultErrorMessage(r));
  else if (!exists) wgg_err_set(err, "postgreSQL configuration table '%s' does not exist", st->table);
  PQclear(r);
  if (!exists) goto fail;
  return &st->base;
fail:
  p_destroy(&st->base);
  return NULL;
}
