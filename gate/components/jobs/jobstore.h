/*
 * jobstore.h: the jobs of the Jobs API (docs reference/api/jobs_api.md;
 * dapr pkg/api/universal/jobs.go), kept in an SQLite file so they survive a
 * restart. daprd hands jobs to its external scheduler service; wasmgate
 * schedules them itself: this store holds each job and its next activation,
 * and the API's delivery thread (api/jobs.c) asks it what is due.
 *
 * Formats, as the Dapr docs give them:
 *   schedule: a cron expression or descriptor as bindings.cron reads them
 *             (components/bindings/cron.h: 6 or 5 fields, @every 10s, @daily, ...);
 *   dueTime, ttl: an RFC 3339 time ("2026-12-07T15:00:00Z"), a Go duration
 *             ("10s", "1m30s") or an ISO 8601 duration ("PT10S", "P1DT2H"),
 *             durations counted from when the job is scheduled;
 *   repeats:  how many times the job fires at most (0 = no limit).
 * A job without schedule fires once at its dueTime. A job with a schedule
 * first fires at dueTime when given, else at the schedule's first activation.
 * A job is removed after its last activation: repeats reached, ttl passed, or
 * a one-shot job delivered.
 *
 * Thread-safe (one connection under a mutex); calls block on disk.
 */
#ifndef WGG_JOBS_JOBSTORE_H
#define WGG_JOBS_JOBSTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "wggate.h"

typedef struct wgg_jobstore wgg_jobstore;

/* A job as scheduled (all strings borrowed; NULL = not given). */
typedef struct wgg_job_spec {
  const char *name;
  const char *schedule;
  const char *due_time;
  const char *ttl;
  int64_t repeats;  /* -1 = not given */
  const char *data; /* the JSON text of `data`, NULL when absent */
} wgg_job_spec;

/* A due activation (strings malloc'd; free with wgg_job_due_free). */
typedef struct wgg_job_due {
  char *name;
  char *data;       /* JSON text, NULL when the job has none */
  int64_t gen;      /* the job's generation: a rescheduled job has a new one */
  int64_t due_ms;   /* when the activation was due (unix ms; retries do not move it) */
  int64_t attempts; /* failed deliveries of this activation so far */
} wgg_job_due;

enum { WGG_JOB_OK = 0, WGG_JOB_ERROR = -1, WGG_JOB_EXISTS = -2, WGG_JOB_INVALID = -3, WGG_JOB_NOT_FOUND = -4 };

/* Opens (creating when needed) the table wasmgate_jobs in the SQLite file at
 * path, for the jobs of app_id. NULL with err on failure. */
wgg_jobstore *wgg_jobstore_open(const char *path, const char *app_id, wgg_err *err);

/* Closes the store. */
void wgg_jobstore_close(wgg_jobstore *js);

/* Schedules job (validated here) at now_ms. Returns WGG_JOB_OK,
 * WGG_JOB_INVALID (err: which field and why), WGG_JOB_EXISTS (a job of that
 * name exists and overwrite is false; err "job already exists: '<name>'") or
 * WGG_JOB_ERROR. */
int wgg_jobstore_put(wgg_jobstore *js, const wgg_job_spec *job, bool overwrite, int64_t now_ms, wgg_err *err);

/* The job as daprd's GET answers it: {"name","schedule","repeats","dueTime",
 * "ttl","data":{"@type":"type.googleapis.com/google.protobuf.Value","value":...}}
 * (fields not given left out). WGG_JOB_OK with *out (a new reference),
 * WGG_JOB_NOT_FOUND or WGG_JOB_ERROR. */
int wgg_jobstore_get(wgg_jobstore *js, const char *name, json_t **out, wgg_err *err);

/* Deletes the job (absent is fine). WGG_JOB_OK or WGG_JOB_ERROR. */
int wgg_jobstore_delete(wgg_jobstore *js, const char *name, wgg_err *err);

/* Up to max activations due at now_ms, earliest first, into *out (malloc'd
 * array, *n entries). WGG_JOB_OK or WGG_JOB_ERROR. */
int wgg_jobstore_due(wgg_jobstore *js, int64_t now_ms, size_t max, wgg_job_due **out, size_t *n, wgg_err *err);

/* Records the outcome of delivering d at now_ms. delivered: the activation
 * counts; the job moves to its next activation or is removed after its last.
 * Not delivered: retried after retry_ms, up to max_retries times, after which
 * the activation counts as done (daprd's default failure policy: constant,
 * 1 s, 3 retries). Nothing happens when the job was deleted or rescheduled
 * meanwhile (gen differs). WGG_JOB_OK or WGG_JOB_ERROR. */
int wgg_jobstore_done(wgg_jobstore *js, const wgg_job_due *d, bool delivered, int64_t now_ms, int64_t retry_ms,
                      int64_t max_retries, wgg_err *err);

/* Frees n activations and the array. */
void wgg_job_due_free(wgg_job_due *d, size_t n);

/* Parses a dueTime/ttl value at now_ms into unix ms (see above). 0, or -1 with err. */
int wgg_job_time(const char *s, int64_t now_ms, int64_t *out_ms, wgg_err *err);

#endif
