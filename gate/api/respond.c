/*
 * respond.c: response helpers (Dapr error bodies, JSON), URL decoding and the
 * thread-pool hop shared by the routes.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/invoke_path.h"
#include "api/executor.h"
#include "util/buf.h"
#include "util/log.h"

void wgg_api_json(wgg_http_req *req, int status, json_t *j) {
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  json_decref(j);
  if (!s) {
    static const char oom[] = "{\"errorCode\":\"ERR_INTERNAL\",\"message\":\"out of memory\"}";
    wgg_http_respond(req, 500, "application/json", NULL, 0, oom, sizeof oom - 1);
    return;
  }
  wgg_http_respond(req, status, "application/json", NULL, 0, s, strlen(s));
  free(s);
}

/* Replaces every byte that is not part of valid UTF-8 with '?', in place, so
 * that user input quoted in a message (a key or store name from the URL)
 * cannot make the JSON error body unencodable. */
static void scrub_utf8(char *s) {
  unsigned char *p = (unsigned char *)s;
  while (*p) {
    int n = *p < 0x80 ? 1 : (*p >> 5) == 0x6 ? 2 : (*p >> 4) == 0xe ? 3 : (*p >> 3) == 0x1e ? 4 : 0;
    int ok = n > 0;
    for (int i = 1; ok && i < n; i++) ok = (p[i] & 0xc0) == 0x80;
    if (ok && n == 2) ok = *p >= 0xc2;                                       /* overlong */
    if (ok && n == 3) ok = !(*p == 0xe0 && p[1] < 0xa0) && !(*p == 0xed && p[1] >= 0xa0); /* overlong, surrogates */
    if (ok && n == 4) ok = !(*p == 0xf0 && p[1] < 0x90) && *p <= 0xf4 && !(*p == 0xf4 && p[1] >= 0x90);
    if (!ok) {
      *p++ = '?';
      continue;
    }
    p += n;
  }
}

void wgg_api_error(wgg_http_req *req, int status, const char *code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  scrub_utf8(msg);
  wgg_debug("%s %s -> %d %s: %s", req->method_name, req->path, status, code, msg);
  wgg_api_json(req, status, json_pack("{s:s,s:s}", "errorCode", code, "message", msg));
}

void wgg_api_empty(wgg_http_req *req) {
  wgg_http_respond(req, 204, NULL, NULL, 0, NULL, 0);
}

void wgg_api_not_found(wgg_http_req *req) {
  static const char nf[] = "404 page not found\n";
  wgg_http_respond(req, 404, "text/plain; charset=utf-8", NULL, 0, nf, sizeof nf - 1);
}

void wgg_api_method_not_allowed(wgg_http_req *req) {
  wgg_http_respond(req, 405, NULL, NULL, 0, NULL, 0);
}

char *wgg_url_decode(const char *s, size_t n, bool plus) {
  size_t len;
  char *out = wgg_pct_decode(s, n, plus, &len);
  if (out && memchr(out, '\0', len)) { /* %00: the result is a C string, which a NUL would silently cut */
    free(out);
    return NULL;
  }
  return out;
}

/* Calls fn(key, value, user) with each decoded parameter of query (value ""
 * when there is no '='; parameters that do not decode are skipped) until fn
 * returns true. Returns whether one did. */
static bool query_each(const char *query, bool (*fn)(const char *k, const char *v, void *user), void *user) {
  bool stop = false;
  for (const char *p = query; p && *p && !stop;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    char *k = wgg_url_decode(p, klen, true);
    char *v = eq ? wgg_url_decode(eq + 1, len - klen - 1, true) : strdup("");
    if (k && v) stop = fn(k, v, user);
    free(k);
    free(v);
    p = amp ? amp + 1 : NULL;
  }
  return stop;
}

typedef struct query_find {
  const char *name;
  char *value;
} query_find;

static bool find_one(const char *k, const char *v, void *user) {
  query_find *f = user;
  if (strcmp(k, f->name)) return false;
  f->value = strdup(v);
  return true;
}

char *wgg_query_get(const char *query, const char *name) {
  query_find f = {name, NULL};
  query_each(query, find_one, &f);
  return f.value;
}

static bool add_metadata(const char *k, const char *v, void *user) {
  if (!strncmp(k, "metadata.", 9) && k[9]) json_object_set_new(user, k + 9, json_string(v));
  return false;
}

json_t *wgg_query_metadata(const char *query) {
  json_t *md = json_object();
  if (md) query_each(query, add_metadata, md);
  return md;
}

typedef struct work {
  uv_work_t w;
  void *job;
  void (*work)(void *);
  void (*done)(void *);
} work;

static void work_run(uv_work_t *w) {
  work *k = (work *)w;
  k->work(k->job);
}

static void work_done(uv_work_t *w, int status) {
  (void)status; /* never cancelled: uv_cancel is not used */
  work *k = (work *)w;
  k->done(k->job);
  free(k);
}

int wgg_api_submit(uv_loop_t *loop, bool blocking, void *job, void (*fn)(void *), void (*done)(void *)) {
  if (!blocking || !loop) {
    fn(job);
    done(job);
    return 0;
  }
  work *k = calloc(1, sizeof *k);
  if (!k) return -1;
  k->job = job;
  k->work = fn;
  k->done = done;
  if (uv_queue_work(loop, &k->w, work_run, work_done)) {
    free(k);
    return -1;
  }
  return 0;
}

int wgg_api_submit_store(uv_loop_t *loop, const wgg_store_entry *se, void *job, void (*fn)(void *),
                         void (*done)(void *)) {
  if (!se->store->blocking) return wgg_api_submit(loop, false, job, fn, done);
  return wgg_exec_submit(se->exec, loop, job, fn, done);
}

json_t *wgg_json_field(json_t *obj, const char *name) {
  json_t *exact = json_object_get(obj, name), *fold = NULL;
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) if (!strcasecmp(k, name)) fold = v; /* the last case-insensitive match wins */
  return fold ? fold : exact;
}
