/*
 * jobstore.c: jobs in SQLite (jobstore.h). One row per (app, job) with the
 * job as given, its next activation (next_ms), the activations so far
 * (count), the failed deliveries of the current one (attempts), the expiry
 * from ttl and a random generation that changes when the job is scheduled
 * again. next_ms is when to deliver (moved by retries), sched_ms the
 * activation it belongs to (the schedule continues from there). Every value is
 * a bound parameter.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "components/jobs/jobstore.h"

#include <ctype.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "components/bindings/cron.h"
#include "util/err.h"

struct wgg_jobstore {
  pthread_mutex_t mu;
  sqlite3 *db;
  char *app;
};

static int sqlerr(wgg_jobstore *js, wgg_err *err) {
  wgg_err_set(err, "sqlite: %s", sqlite3_errmsg(js->db));
  return WGG_JOB_ERROR;
}

wgg_jobstore *wgg_jobstore_open(const char *path, const char *app_id, wgg_err *err) {
  wgg_jobstore *js = calloc(1, sizeof *js);
  if (!js || !(js->app = strdup(app_id ? app_id : ""))) {
    free(js);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  pthread_mutex_init(&js->mu, NULL);
  if (sqlite3_open_v2(path, &js->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    wgg_err_set(err, "jobs: cannot open %s: %s", path, js->db ? sqlite3_errmsg(js->db) : "out of memory");
    wgg_jobstore_close(js);
    return NULL;
  }
  sqlite3_busy_timeout(js->db, 5000);
  char *msg = NULL;
  if (sqlite3_exec(js->db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "CREATE TABLE IF NOT EXISTS wasmgate_jobs (app_id TEXT NOT NULL, name TEXT NOT NULL,"
                   " schedule TEXT, due_time TEXT, repeats INTEGER, ttl TEXT, data TEXT,"
                   " next_ms INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
                   " expire_ms INTEGER NOT NULL DEFAULT 0, gen INTEGER NOT NULL, sched_ms INTEGER NOT NULL,"
                   " PRIMARY KEY (app_id, name));"
                   "CREATE INDEX IF NOT EXISTS wasmgate_jobs_next ON wasmgate_jobs (app_id, next_ms);",
                   NULL, NULL, &msg) != SQLITE_OK) {
    wgg_err_set(err, "jobs: %s: %s", path, msg ? msg : sqlite3_errmsg(js->db));
    sqlite3_free(msg);
    wgg_jobstore_close(js);
    return NULL;
  }
  return js;
}

void wgg_jobstore_close(wgg_jobstore *js) {
  if (!js) return;
  if (js->db) sqlite3_close(js->db);
  pthread_mutex_destroy(&js->mu);
  free(js->app);
  free(js);
}

/* ISO 8601 duration PnDTnHnMnS (weeks too; no years or months). */
static int iso_duration(const char *s, int64_t *ms) {
  if (*s++ != 'P' || !*s) return -1;
  bool in_time = false, any = false;
  double total = 0;
  while (*s) {
    if (*s == 'T') {
      if (in_time) return -1;
      in_time = true;
      s++;
      continue;
    }
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return -1;
    switch (*end) {
    case 'W': if (in_time) return -1; total += v * 604800; break;
    case 'D': if (in_time) return -1; total += v * 86400; break;
    case 'H': if (!in_time) return -1; total += v * 3600; break;
    case 'M': if (!in_time) return -1; total += v * 60; break;
    case 'S': if (!in_time) return -1; total += v; break;
    default: return -1;
    }
    any = true;
    s = end + 1;
  }
  if (!any || total > 1e10) return -1;
  *ms = (int64_t)(total * 1000);
  return 0;
}

/* RFC 3339: 2026-12-07T15:00:00[.fff](Z|+hh:mm|-hh:mm). */
static int rfc3339(const char *s, int64_t *ms) {
  struct tm tm = {0};
  const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p) return -1;
  double frac = 0;
  if (*p == '.') {
    char *end;
    frac = strtod(p, &end);
    p = end;
  }
  int off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int hh, mm, n = 0;
    if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5) return -1;
    off = (hh * 60 + mm) * 60 * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return -1;
  }
  if (*p) return -1;
  *ms = ((int64_t)timegm(&tm) - off) * 1000 + (int64_t)(frac * 1000);
  return 0;
}

int wgg_job_time(const char *s, int64_t now_ms, int64_t *out_ms, wgg_err *err) {
  int64_t d;
  uint64_t gd;
  wgg_err e;
  if (!s || !*s) return wgg_err_set(err, "empty value");
  if (isdigit((unsigned char)s[0]) && strlen(s) >= 20 && s[4] == '-' && !rfc3339(s, out_ms)) return 0;
  if (s[0] == 'P' && !iso_duration(s, &d)) return *out_ms = now_ms + d, 0;
  if (!wgg_parse_duration_ms(s, &gd, &e) && gd < (uint64_t)1e13) return *out_ms = now_ms + (int64_t)gd, 0;
  return wgg_err_set(err, "unsupported time/duration format \"%s\" (RFC 3339 time, Go or ISO 8601 duration)", s);
}

/* The activation of schedule strictly after after_ms (unix ms), 0 when none. */
static int64_t next_of(const char *schedule, int64_t after_ms) {
  wgg_cron c;
  wgg_err e;
  if (wgg_cron_parse(schedule, &c, &e)) return 0;
  time_t t = wgg_cron_next(&c, (time_t)(after_ms / 1000));
  return t > 0 ? (int64_t)t * 1000 : 0;
}

static void bind_opt(sqlite3_stmt *q, int i, const char *s) {
  if (s) sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
  else sqlite3_bind_null(q, i);
}

int wgg_jobstore_put(wgg_jobstore *js, const wgg_job_spec *job, bool overwrite, int64_t now_ms, wgg_err *err) {
  int64_t first = 0, expire = 0;
  wgg_err e;
  if (job->schedule) {
    wgg_cron c;
    if (wgg_cron_parse(job->schedule, &c, &e)) return wgg_err_set(err, "%s", e.msg), WGG_JOB_INVALID;
    first = next_of(job->schedule, now_ms);
    if (!first) return wgg_err_set(err, "schedule '%s' never fires", job->schedule), WGG_JOB_INVALID;
  }
  if (job->due_time) {
    if (wgg_job_time(job->due_time, now_ms, &first, &e))
      return wgg_err_set(err, "invalid dueTime: %s", e.msg), WGG_JOB_INVALID;
  }
  if (job->ttl) {
    if (wgg_job_time(job->ttl, now_ms, &expire, &e)) return wgg_err_set(err, "invalid ttl: %s", e.msg), WGG_JOB_INVALID;
    if (expire < first) return wgg_err_set(err, "ttl expires before the job's first activation"), WGG_JOB_INVALID;
  }
  if (job->repeats > (int64_t)UINT32_MAX) return wgg_err_set(err, "invalid repeats"), WGG_JOB_INVALID;
  pthread_mutex_lock(&js->mu);
  sqlite3_stmt *q = NULL;
  int rc = WGG_JOB_OK;
  const char *sql = overwrite
                        ? "INSERT OR REPLACE INTO wasmgate_jobs (app_id, name, schedule, due_time, repeats, ttl, data,"
                          " next_ms, count, attempts, expire_ms, gen, sched_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,0,0,?9,random(),?8)"
                        : "INSERT INTO wasmgate_jobs (app_id, name, schedule, due_time, repeats, ttl, data,"
                          " next_ms, count, attempts, expire_ms, gen, sched_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,0,0,?9,random(),?8)"
                          " ON CONFLICT (app_id, name) DO NOTHING";
  if (sqlite3_prepare_v2(js->db, sql, -1, &q, NULL) != SQLITE_OK) {
    rc = sqlerr(js, err);
    goto out;
  }
  sqlite3_bind_text(q, 1, js->app, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, job->name, -1, SQLITE_STATIC);
  bind_opt(q, 3, job->schedule);
  bind_opt(q, 4, job->due_time);
  if (job->repeats >= 0) sqlite3_bind_int64(q, 5, job->repeats);
  else sqlite3_bind_null(q, 5);
  bind_opt(q, 6, job->ttl);
  bind_opt(q, 7, job->data);
  sqlite3_bind_int64(q, 8, first);
  sqlite3_bind_int64(q, 9, expire);
  if (sqlite3_step(q) != SQLITE_DONE) rc = sqlerr(js, err);
  else if (!sqlite3_changes(js->db)) rc = WGG_JOB_EXISTS, wgg_err_set(err, "job already exists: '%s'", job->name);
out:
  sqlite3_finalize(q);
  pthread_mutex_unlock(&js->mu);
  return rc;
}

int wgg_jobstore_get(wgg_jobstore *js, const char *name, json_t **out, wgg_err *err) {
  *out = NULL;
  pthread_mutex_lock(&js->mu);
  sqlite3_stmt *q = NULL;
  int rc = WGG_JOB_NOT_FOUND;
  if (sqlite3_prepare_v2(js->db,
                         "SELECT schedule, repeats, due_time, ttl, data FROM wasmgate_jobs WHERE app_id = ?1 AND name = ?2",
                         -1, &q, NULL) != SQLITE_OK) {
    rc = sqlerr(js, err);
    goto out;
  }
  sqlite3_bind_text(q, 1, js->app, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
  int st = sqlite3_step(q);
  if (st == SQLITE_ROW) {
    json_t *j = json_pack("{s:s}", "name", name);
    if (!j) {
      rc = wgg_err_set(err, "out of memory");
      goto out;
    }
    if (sqlite3_column_type(q, 0) != SQLITE_NULL)
      json_object_set_new(j, "schedule", json_string((const char *)sqlite3_column_text(q, 0)));
    if (sqlite3_column_type(q, 1) != SQLITE_NULL) json_object_set_new(j, "repeats", json_integer(sqlite3_column_int64(q, 1)));
    if (sqlite3_column_type(q, 2) != SQLITE_NULL)
      json_object_set_new(j, "dueTime", json_string((const char *)sqlite3_column_text(q, 2)));
    if (sqlite3_column_type(q, 3) != SQLITE_NULL)
      json_object_set_new(j, "ttl", json_string((const char *)sqlite3_column_text(q, 3)));
    if (sqlite3_column_type(q, 4) != SQLITE_NULL) {
      json_t *v = json_loads((const char *)sqlite3_column_text(q, 4), JSON_DECODE_ANY, NULL);
      if (v)
        json_object_set_new(j, "data",
                            json_pack("{s:s, s:o}", "@type", "type.googleapis.com/google.protobuf.Value", "value", v));
    }
    *out = j;
    rc = WGG_JOB_OK;
  } else if (st != SQLITE_DONE) {
    rc = sqlerr(js, err);
  }
out:
  sqlite3_finalize(q);
  pthread_mutex_unlock(&js->mu);
  return rc;
}

static int exec_name(wgg_jobstore *js, const char *sql, const char *name, wgg_err *err) {
  pthread_mutex_lock(&js->mu);
  sqlite3_stmt *q = NULL;
  int rc = WGG_JOB_OK;
  if (sqlite3_prepare_v2(js->db, sql, -1, &q, NULL) != SQLITE_OK) {
    rc = sqlerr(js, err);
  } else {
    sqlite3_bind_text(q, 1, js->app, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) rc = sqlerr(js, err);
  }
  sqlite3_finalize(q);
  pthread_mutex_unlock(&js->mu);
  return rc;
}

int wgg_jobstore_delete(wgg_jobstore *js, const char *name, wgg_err *err) {
  return exec_name(js, "DELETE FROM wasmgate_jobs WHERE app_id = ?1 AND name = ?2", name, err);
}

int wgg_jobstore_due(wgg_jobstore *js, int64_t now_ms, size_t max, wgg_job_due **out, size_t *n, wgg_err *err) {
  *out = NULL;
  *n = 0;
  wgg_job_due *v = calloc(max ? max : 1, sizeof *v);
  if (!v) return wgg_err_set(err, "out of memory"), WGG_JOB_ERROR;
  pthread_mutex_lock(&js->mu);
  sqlite3_stmt *q = NULL;
  int rc = WGG_JOB_OK;
  if (sqlite3_prepare_v2(js->db,
                         "SELECT name, data, gen, sched_ms, attempts FROM wasmgate_jobs WHERE app_id = ?1 AND next_ms <= ?2"
                         " ORDER BY next_ms LIMIT ?3",
                         -1, &q, NULL) != SQLITE_OK) {
    rc = sqlerr(js, err);
    goto out;
  }
  sqlite3_bind_text(q, 1, js->app, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 2, now_ms);
  sqlite3_bind_int64(q, 3, (sqlite3_int64)max);
  int st;
  while ((st = sqlite3_step(q)) == SQLITE_ROW && *n < max) {
    wgg_job_due *d = &v[*n];
    d->name = strdup((const char *)sqlite3_column_text(q, 0));
    if (sqlite3_column_type(q, 1) != SQLITE_NULL) d->data = strdup((const char *)sqlite3_column_text(q, 1));
    d->gen = sqlite3_column_int64(q, 2);
    d->due_ms = sqlite3_column_int64(q, 3);
    d->attempts = sqlite3_column_int64(q, 4);
    (*n)++;
    if (!d->name || (sqlite3_column_type(q, 1) != SQLITE_NULL && !d->data)) {
      rc = wgg_err_set(err, "out of memory");
      break;
    }
  }
  if (rc == WGG_JOB_OK && st != SQLITE_DONE && st != SQLITE_ROW) rc = sqlerr(js, err);
out:
  sqlite3_finalize(q);
  pthread_mutex_unlock(&js->mu);
  if (rc != WGG_JOB_OK) {
    wgg_job_due_free(v, *n);
    *n = 0;
    v = NULL;
  }
  *out = v;
  return rc;
}

int wgg_jobstore_done(wgg_jobstore *js, const wgg_job_due *d, bool delivered, int64_t now_ms, int64_t retry_ms,
                      int64_t max_retries, wgg_err *err) {
  pthread_mutex_lock(&js->mu);
  sqlite3_stmt *q = NULL;
  int rc = WGG_JOB_OK;
  if (sqlite3_prepare_v2(js->db,
                         "SELECT schedule, repeats, count, expire_ms FROM wasmgate_jobs WHERE app_id = ?1 AND name = ?2"
                         " AND gen = ?3",
                         -1, &q, NULL) != SQLITE_OK) {
    rc = sqlerr(js, err);
    goto out;
  }
  sqlite3_bind_text(q, 1, js->app, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, d->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 3, d->gen);
  int st = sqlite3_step(q);
  if (st != SQLITE_ROW) {
    if (st != SQLITE_DONE) rc = sqlerr(js, err);
    goto out; /* deleted or rescheduled meanwhile */
  }
  char *schedule = sqlite3_column_type(q, 0) == SQLITE_NULL ? NULL : strdup((const char *)sqlite3_column_text(q, 0));
  int64_t repeats = sqlite3_column_type(q, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 1);
  int64_t count = sqlite3_column_int64(q, 2), expire = sqlite3_column_int64(q, 3);
  sqlite3_finalize(q);
  q = NULL;
  const char *sql;
  int64_t next = 0, attempts = 0;
  if (!delivered && d->attempts < max_retries) { /* retry this activation */
    sql = "UPDATE wasmgate_jobs SET next_ms = ?4, attempts = ?5 WHERE app_id = ?1 AND name = ?2 AND gen = ?3";
    next = now_ms + retry_ms;
    attempts = d->attempts + 1;
  } else {
    count++;
    if (schedule && (!repeats || count < repeats)) {
      next = next_of(schedule, d->due_ms);
      if (next && next <= now_ms) next = next_of(schedule, now_ms); /* missed activations are skipped */
    }
    if (!next || (expire && next > expire))
      sql = "DELETE FROM wasmgate_jobs WHERE app_id = ?1 AND name = ?2 AND gen = ?3";
    else
      sql = "UPDATE wasmgate_jobs SET next_ms = ?4, sched_ms = ?4, attempts = 0, count = ?6"
            " WHERE app_id = ?1 AND name = ?2 AND gen = ?3";
  }
  free(schedule);
  if (sqlite3_prepare_v2(js->db, sql, -1, &q, NULL) != SQLITE_OK) {
    rc = sqlerr(js, err);
    goto out;
  }
  sqlite3_bind_text(q, 1, js->app, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, d->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 3, d->gen);
  if (sqlite3_bind_parameter_count(q) >= 4) sqlite3_bind_int64(q, 4, next);
  if (sqlite3_bind_parameter_count(q) >= 5) sqlite3_bind_int64(q, 5, attempts);
  if (sqlite3_bind_parameter_count(q) >= 6) sqlite3_bind_int64(q, 6, count);
  if (sqlite3_step(q) != SQLITE_DONE) rc = sqlerr(js, err);
out:
  sqlite3_finalize(q);
  pthread_mutex_unlock(&js->mu);
  return rc;
}

void wgg_job_due_free(wgg_job_due *d, size_t n) {
  if (!d) return;
  for (size_t i = 0; i < n; i++) {
    free(d[i].name);
    free(d[i].data);
  }
  free(d);
}
