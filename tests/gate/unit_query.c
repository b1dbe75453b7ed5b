/* unit_query.c: the state query language's parser (components/state/
 * query.c), the SQL it becomes for PostgreSQL (postgres_query.c: Go's %v
 * printing of values, parameters only), and the time formats of the jobs
 * store (components/jobs/jobstore.c: RFC 3339, Go and ISO 8601 durations)
 * plus a job's life in a real SQLite file (schedule, due, retries, repeats). */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "components/jobs/jobstore.h"
#include "components/state/postgres_query.h"
#include "components/state/query.h"

static char *sprint(const char *json) {
  json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
  char *s = v ? wgg_go_sprint(v) : NULL;
  json_decref(v);
  return s;
}

#define CHECK_SPRINT(json, want)    \
  do {                              \
    char *s_ = sprint(json);        \
    CHECK_STR(s_, want);            \
    free(s_);                       \
  } while (0)

static int parse_err(const char *body, const char *want) {
  wgg_query q;
  wgg_err e = {0};
  int rc = wgg_query_parse(body, strlen(body), &q, &e);
  if (!rc) {
    wgg_query_free(&q);
    return 0;
  }
  if (strstr(e.msg, want)) return 1;
  fprintf(stderr, "error for %s: %s\n", body, e.msg);
  return 0;
}

int main(void) {
  /* Go's fmt %v of the float64 encoding/json decodes */
  CHECK_SPRINT("1036", "1036");
  CHECK_SPRINT("123456", "123456");
  CHECK_SPRINT("1000000", "1e+06");
  CHECK_SPRINT("1234567", "1.234567e+06");
  CHECK_SPRINT("1.5", "1.5");
  CHECK_SPRINT("0.1", "0.1");
  CHECK_SPRINT("0.0001", "0.0001");
  CHECK_SPRINT("0.00001", "1e-05");
  CHECK_SPRINT("-2.25", "-2.25");
  CHECK_SPRINT("0", "0");
  CHECK_SPRINT("true", "true");
  CHECK_SPRINT("null", "<nil>");
  CHECK_SPRINT("\"x y\"", "x y");
  CHECK_SPRINT("[1, \"a\", [true]]", "[1 a [true]]");
  CHECK_SPRINT("{\"b\": 1, \"a\": {\"c\": null}}", "map[a:map[c:<nil>] b:1]");

  /* the parser */
  wgg_query q;
  wgg_err e;
  const char *ok = "{\"Filter\":{\"OR\":[{\"EQ\":{\"a.b\":1}},{\"IN\":{\"c\":[\"x\",\"y\"]}}]},"
                   "\"sort\":[{\"key\":\"a.b\",\"order\":\"desc\"},{\"key\":\"c\"}],\"page\":{\"limit\":3,\"token\":\"6\"}}";
  CHECK(wgg_query_parse(ok, strlen(ok), &q, &e) == 0);
  CHECK(q.filter && q.filter->op == WGG_Q_OR && q.filter->n_kids == 2);
  CHECK(q.filter && q.filter->kids[1].op == WGG_Q_IN && !strcmp(q.filter->kids[1].key, "c"));
  CHECK(q.n_sort == 2 && q.sort[0].desc && !q.sort[1].desc && q.limit == 3 && q.offset == 6);
  /* PostgreSQL: key path segments and values are parameters, never SQL text */
  wgg_buf sql = {0};
  char **params;
  int n;
  CHECK(wgg_pg_query_sql("state", &q, &sql, &params, &n, &e) == 0);
  CHECK(sql.data && !strcmp(sql.data,
                            "SELECT key, value::text, xmin::text FROM state WHERE (expiredate IS NULL OR expiredate > now())"
                            " AND (jsonb_extract_path_text(value, $1::text, $2::text)=$3::text OR"
                            " (jsonb_extract_path_text(value, $4::text)=$5::text OR"
                            " jsonb_extract_path_text(value, $6::text)=$7::text)) ORDER BY"
                            " jsonb_extract_path_text(value, $8::text, $9::text) DESC,"
                            " jsonb_extract_path_text(value, $10::text) ASC, key LIMIT 3 OFFSET 6"));
  CHECK(n == 10 && !strcmp(params[0], "a") && !strcmp(params[1], "b") && !strcmp(params[2], "1") &&
        !strcmp(params[4], "x") && !strcmp(params[6], "y"));
  for (int i = 0; i < n; i++) free(params[i]);
  free(params);
  wgg_buf_free(&sql);
  wgg_query_free(&q);
  const char *gt = "{\"filter\":{\"GT\":{\"a\":\"x\"}}}";
  CHECK(wgg_query_parse(gt, strlen(gt), &q, &e) == 0);
  CHECK(wgg_pg_query_sql("state", &q, &sql, &params, &n, &e) == -1 &&
        strstr(e.msg, "unsupported type of value x; string type not permitted"));
  wgg_query_free(&q);

  CHECK(wgg_query_parse("", 0, &q, &e) == -1);
  CHECK(parse_err("[]", "cannot unmarshal array into Go value of type query.Query"));
  CHECK(parse_err("{\"filter\":{\"LIKE\":{\"a\":1}}}", "unsupported filter \"LIKE\""));
  CHECK(parse_err("{\"filter\":{\"EQ\":{}}}", "EQ filter must contain a single key/value pair"));
  CHECK(parse_err("{\"filter\":{\"AND\":[]}}", "AND filter must contain at least two entries"));
  CHECK(parse_err("{\"filter\":{\"OR\":[{\"EQ\":{\"a\":1}},3]}}", "filter unit must be a map"));
  CHECK(parse_err("{\"page\":{\"limit\":1.5}}", "cannot unmarshal number into Go struct field Pagination.page.limit"));
  CHECK(parse_err("{\"page\":{\"token\":\"12x\"}}", "strconv.ParseInt: parsing \"12x\": invalid syntax"));
  CHECK(parse_err("{\"sort\":{}}", "cannot unmarshal object into Go struct field QueryFields.sort"));
  CHECK(parse_err("{\"sort\":[{\"order\":\"ASC\"}]}", "sort key must not be empty"));
  const char *empty = "{\"filter\":{}}";
  CHECK(wgg_query_parse(empty, strlen(empty), &q, &e) == 0 && !q.filter); /* contrib: no filter at all */
  wgg_query_free(&q);

  /* the jobs' time formats */
  int64_t now = 1700000000000LL, t;
  CHECK(wgg_job_time("10s", now, &t, &e) == 0 && t == now + 10000);
  CHECK(wgg_job_time("1m30s", now, &t, &e) == 0 && t == now + 90000);
  CHECK(wgg_job_time("PT1H30M", now, &t, &e) == 0 && t == now + 5400000);
  CHECK(wgg_job_time("P1DT2S", now, &t, &e) == 0 && t == now + 86402000);
  CHECK(wgg_job_time("P1W", now, &t, &e) == 0 && t == now + 604800000);
  CHECK(wgg_job_time("2023-11-14T22:13:20Z", now, &t, &e) == 0 && t == 1700000000000LL);
  CHECK(wgg_job_time("2023-11-14T23:13:20.5+01:00", now, &t, &e) == 0 && t == 1700000000500LL);
  CHECK(wgg_job_time("PT", now, &t, &e) == -1);
  CHECK(wgg_job_time("P1H", now, &t, &e) == -1); /* hours belong after T */
  CHECK(wgg_job_time("2023-11-14T22:13:20", now, &t, &e) == -1); /* no zone */
  CHECK(wgg_job_time("tomorrow", now, &t, &e) == -1 && strstr(e.msg, "unsupported time/duration format"));

  /* a job's life in a real file */
  char path[] = "/tmp/wgg-unit-jobs-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd >= 0) close(fd);
  wgg_jobstore *js = wgg_jobstore_open(path, "app", &e);
  CHECK(js != NULL);
  if (js) {
    wgg_job_spec s = {.name = "j", .schedule = "@every 10s", .repeats = 2, .data = "{\"a\":1}"};
    CHECK(wgg_jobstore_put(js, &s, false, now, &e) == WGG_JOB_OK);
    CHECK(wgg_jobstore_put(js, &s, false, now, &e) == WGG_JOB_EXISTS && strstr(e.msg, "job already exists: 'j'"));
    wgg_job_spec bad = {.name = "b", .schedule = "@every", .repeats = -1};
    CHECK(wgg_jobstore_put(js, &bad, false, now, &e) == WGG_JOB_INVALID);
    wgg_job_due *d;
    size_t nd;
    CHECK(wgg_jobstore_due(js, now + 9999, 8, &d, &nd, &e) == 0 && nd == 0);
    wgg_job_due_free(d, nd);
    CHECK(wgg_jobstore_due(js, now + 10000, 8, &d, &nd, &e) == 0 && nd == 1 && !strcmp(d[0].data, "{\"a\":1}"));
    if (nd == 1) {
      /* a failed delivery is retried after retry_ms, as many times as allowed */
      CHECK(wgg_jobstore_done(js, &d[0], false, now + 10000, 1000, 1, &e) == 0);
      wgg_job_due *r;
      size_t nr;
      CHECK(wgg_jobstore_due(js, now + 10999, 8, &r, &nr, &e) == 0 && nr == 0);
      wgg_job_due_free(r, nr);
      CHECK(wgg_jobstore_due(js, now + 11000, 8, &r, &nr, &e) == 0 && nr == 1 && r[0].attempts == 1);
      if (nr == 1) CHECK(wgg_jobstore_done(js, &r[0], true, now + 11000, 1000, 1, &e) == 0);
      wgg_job_due_free(r, nr);
      /* the next activation follows the schedule from when the first was due */
      CHECK(wgg_jobstore_due(js, now + 19999, 8, &r, &nr, &e) == 0 && nr == 0);
      wgg_job_due_free(r, nr);
      CHECK(wgg_jobstore_due(js, now + 20000, 8, &r, &nr, &e) == 0 && nr == 1 && r[0].attempts == 0);
      if (nr == 1) CHECK(wgg_jobstore_done(js, &r[0], true, now + 20000, 1000, 1, &e) == 0);
      wgg_job_due_free(r, nr);
      json_t *got;
      CHECK(wgg_jobstore_get(js, "j", &got, &e) == WGG_JOB_NOT_FOUND); /* repeats 2: gone */
      /* an outdated generation changes nothing */
      wgg_job_spec s2 = {.name = "j", .due_time = "1s", .repeats = -1};
      CHECK(wgg_jobstore_put(js, &s2, true, now, &e) == WGG_JOB_OK);
      CHECK(wgg_jobstore_done(js, &d[0], true, now, 1000, 1, &e) == 0);
      CHECK(wgg_jobstore_get(js, "j", &got, &e) == WGG_JOB_OK);
      CHECK_STR(json_string_value(json_object_get(got, "dueTime")), "1s");
      json_decref(got);
      CHECK(wgg_jobstore_delete(js, "j", &e) == 0 && wgg_jobstore_get(js, "j", &got, &e) == WGG_JOB_NOT_FOUND);
    }
    wgg_job_due_free(d, nd);
    wgg_jobstore_close(js);
  }
  unlink(path);
  char aux[64];
  snprintf(aux, sizeof aux, "%s-wal", path);
  unlink(aux);
  snprintf(aux, sizeof aux, "%s-shm", path);
  unlink(aux);

  printf("%d checks, %d failures\n", check_count, check_failures);
  return check_failures != 0;
}
