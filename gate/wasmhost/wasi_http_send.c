/*
 * wasi_http_send.c: the outbound request of the legacy wasi-http `handle`
 * (wasi_http_internal.h), over libcurl, as Go's http.DefaultClient sends
 * what the Go host builds: URL = scheme "://" authority path query; the
 * guest's headers as given (a Host header is ignored, as Go does); a
 * "User-Agent: Go-http-client/1.1" and transparent gzip unless the guest
 * set its own; up to 10 redirects; response header names in Go's canonical
 * form. Blocks the calling thread (a thread-pool thread); bounded by the
 * run's deadline (30 s to connect at most), its cancel token (checked by
 * curl's progress callback) and its body budget.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "components/lazy_curl.h"
#include "util/err.h"
#include "wasmhost/wasi_http_internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_loaded = -1;
static wgg_err curl_err;

static void load_curl(void) {
  curl_loaded = wgg_curl_load(&curl_err);
  if (!curl_loaded) curl_global_init(CURL_GLOBAL_DEFAULT);
}

int wgg_wasi_http_legacy_init(wgg_err *err) {
  pthread_once(&curl_once, load_curl);
  if (curl_loaded) return wgg_err_set(err, "wasm: wasi-http needs libcurl: %s", curl_err.msg);
  return 0;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

typedef struct send_ctx {
  wgg_wasi_http *h;
  lh_response *res;
  bool too_big;
} send_ctx;

static size_t on_body(char *p, size_t size, size_t n, void *user) {
  send_ctx *c = user;
  size_t len = size * n;
  if (!c->res->body) {
    if (!(c->res->body = calloc(1, sizeof *c->res->body))) return 0;
    c->res->body->refs = 1;
  }
  if (!wgg_lh_spend(c->h, len)) {
    c->too_big = true;
    return 0;
  }
  return wgg_buf_append(&c->res->body->buf, p, len) ? 0 : len;
}

/* Go's textproto.CanonicalMIMEHeaderKey: upper-case the first letter and
 * each one after '-', lower-case the rest; names with a byte that is not a
 * token character stay as they are. */
static void canonical(char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (!(isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch)) || ch == 0) return;
  }
  bool up = true;
  for (size_t i = 0; i < n; i++) {
    s[i] = (char)(up ? toupper((unsigned char)s[i]) : tolower((unsigned char)s[i]));
    up = s[i] == '-';
  }
}

static size_t on_header(char *p, size_t size, size_t n, void *user) {
  send_ctx *c = user;
  size_t len = size * n;
  if (len >= 5 && !memcmp(p, "HTTP/", 5)) { /* a new response (after a redirect or 1xx): start over */
    wgg_lh_fields_free(c->res->headers);
    c->res->headers = wgg_lh_fields_new();
    return c->res->headers ? len : 0;
  }
  const char *colon = memchr(p, ':', len);
  if (!colon || !c->res->headers) return len;
  size_t nlen = (size_t)(colon - p);
  const char *v = colon + 1, *end = p + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
  char name[256];
  if (!nlen || nlen >= sizeof name) return len;
  memcpy(name, p, nlen);
  canonical(name, nlen);
  if (nlen == 17 && !memcmp(name, "Transfer-Encoding", 17)) return len; /* Go keeps it out of Header */
  return wgg_lh_fields_add(c->res->headers, name, nlen, v, (size_t)(end - v)) ? 0 : len;
}

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  (void)dt, (void)dn, (void)ut, (void)un;
  send_ctx *c = user;
  return wgg_cancel_requested(c->h->cancel) ? 1 : 0;
}

static bool has(const lh_fields *f, const char *name) {
  for (size_t i = 0; f && i < f->n; i++)
    if (!strcasecmp(f->names[i], name)) return true;
  return false;
}

int wgg_lh_send(wgg_wasi_http *h, const lh_request *r, const lh_fields *hdr, lh_response *res, wgg_err *err) {
  if (wgg_wasi_http_legacy_init(err)) return -1;
  wgg_buf url = {0};
  if (wgg_buf_printf(&url, "%s://%s%s%s", r->scheme, r->authority, r->path, r->query))
    return wgg_err_set(err, "out of memory");
  long timeout = 0;
  if (h->deadline_ms) {
    uint64_t now = now_ms();
    if (now >= h->deadline_ms) {
      wgg_buf_free(&url);
      return wgg_err_set(err, "%s \"%s\": context deadline exceeded", r->method, url.data);
    }
    timeout = (long)(h->deadline_ms - now);
  }
  CURL *c = curl_easy_init();
  struct curl_slist *hl = NULL;
  bool oom = !c;
  for (size_t i = 0; !oom && hdr && i < hdr->n; i++) {
    if (!strcasecmp(hdr->names[i], "Host")) continue;
    char *line;
    if (asprintf(&line, *hdr->values[i] ? "%s: %s" : "%s;", hdr->names[i], hdr->values[i]) < 0) {
      oom = true;
      break;
    }
    struct curl_slist *n = curl_slist_append(hl, line);
    free(line);
    if (!n) oom = true;
    else hl = n;
  }
  static const char *const defaults[][2] = {
      {"User-Agent", "User-Agent: Go-http-client/1.1"}, {"Accept", "Accept:"}, {"Expect", "Expect:"}};
  for (size_t i = 0; !oom && i < 3; i++)
    if (!has(hdr, defaults[i][0])) {
      struct curl_slist *n = curl_slist_append(hl, defaults[i][1]);
      if (!n) oom = true;
      else hl = n;
    }
  if (oom) {
    if (c) curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    wgg_buf_free(&url);
    return wgg_err_set(err, "out of memory");
  }
  send_ctx ctx = {.h = h, .res = res};
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url.data);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &ctx);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &ctx);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  if (timeout) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
  bool gzip = !has(hdr, "Accept-Encoding") && !has(hdr, "Range");
  if (gzip) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  bool with_body = r->body || !strcmp(r->method, "POST") || !strcmp(r->method, "PUT") || !strcmp(r->method, "PATCH");
  if (!strcmp(r->method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  else if (strcmp(r->method, "GET") || with_body) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
  if (with_body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body->buf.len : 0));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body && r->body->buf.data ? r->body->buf.data : "");
  }
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  curl_slist_free_all(hl);
  int out = 0;
  if (ctx.too_big) out = wgg_err_set(err, "%s \"%s\": response bodies larger than %u bytes", r->method, url.data,
                                     WGG_WASI_HTTP_MAX_BYTES);
  else if (rc == CURLE_ABORTED_BY_CALLBACK) out = wgg_err_set(err, "%s \"%s\": context canceled", r->method, url.data);
  else if (rc == CURLE_OPERATION_TIMEDOUT)
    out = wgg_err_set(err, "%s \"%s\": context deadline exceeded", r->method, url.data);
  else if (rc) out = wgg_err_set(err, "%s \"%s\": %s", r->method, url.data, *ebuf ? ebuf : curl_easy_strerror(rc));
  wgg_buf_free(&url);
  if (out) return out;
  res->status = (int32_t)status;
  if (!res->body) {
    if (!(res->body = calloc(1, sizeof *res->body))) return wgg_err_set(err, "out of memory");
    res->body->refs = 1;
  }
  if (gzip && res->headers) { /* Go's transparent gzip hides the encoding and the encoded length */
    lh_fields *f = res->headers;
    bool gz = false;
    for (size_t i = 0; i < f->n; i++) gz |= !strcmp(f->names[i], "Content-Encoding") && !strcasecmp(f->values[i], "gzip");
    for (size_t i = 0; gz && i < f->n;) {
      if (!strcmp(f->names[i], "Content-Encoding") || !strcmp(f->names[i], "Content-Length")) {
        free(f->names[i]);
        free(f->values[i]);
        memmove(f->names + i, f->names + i + 1, (f->n - i - 1) * sizeof *f->names);
        memmove(f->values + i, f->values + i + 1, (f->n - i - 1) * sizeof *f->values);
        f->n--;
      } else {
        i++;
      }
    }
  }
  return 0;
}
