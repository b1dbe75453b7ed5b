/*
 * http.c: the bindings.http output binding (docs reference/components-
 * reference/supported-bindings/http.md; contrib bindings/http) over libcurl,
 * called on the libuv thread pool. Operations create (= post), get, head,
 * post, put, patch, delete, options, trace (lower case, as daprd checks the
 * operation against this list before the binding sees it). Request metadata:
 * `path` is appended to the url; `errorIfNot2XX` overrides the component's;
 * keys starting with a capital letter are request headers; traceparent,
 * tracestate and baggage are sent as headers. Response metadata: statusCode,
 * status ("200 OK") and every response header (Go's canonical name, values
 * joined with ", "), also when the call fails on a non-2xx status.
 *
 * Component metadata: url (required), responseTimeout (none by default),
 * maxResponseBodySize (100Mi; the body is cut there, as Go's LimitReader),
 * errorIfNot2XX (true), securityToken + securityTokenHeader, MTLSRootCA,
 * MTLSClientCert, MTLSClientKey (PEM text or a file path). Connections are
 * kept alive in a small pool of curl handles shared by the pool threads.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "components/lazy_curl.h"
#include "components/bindings/binding.h"
#include "util/buf.h"
#include "util/err.h"

enum { POOL = 8 };

typedef struct http_binding {
  wgg_binding base;
  char *url;
  uint64_t timeout_ms;
  size_t max_body;
  bool error_if_not_2xx;
  char *token_header; /* "Header: token" or NULL */
  char *ca, *cert, *key;
  bool ca_pem, cert_pem, key_pem;
  pthread_mutex_t mu;
  CURL *idle[POOL];
  int n_idle;
} http_binding;

static const char *const operations[] = {"create", "get", "head", "post", "put", "patch", "delete", "options", "trace",
                                         NULL};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool truthy(const char *v) {
  return v && (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
               !strcasecmp(v, "y"));
}

/* ---- one call ---- */

typedef struct call {
  http_binding *b;
  wgg_buf body;
  size_t kept;
  json_t *headers; /* canonical name -> joined values */
  char status_line[128];
  int status;
} call;

static size_t on_body(char *p, size_t sz, size_t n, void *user) {
  call *c = user;
  size_t len = sz * n, room = c->b->max_body > c->kept ? c->b->max_body - c->kept : 0;
  size_t take = len < room ? len : room;
  if (take && wgg_buf_append(&c->body, p, take)) return 0; /* OOM: abort */
  c->kept += take;
  return len; /* past the limit: read and drop */
}

/* Go's http.CanonicalHeaderKey: "content-type" -> "Content-Type". */
static void canonical(char *s) {
  bool up = true;
  for (; *s; s++) {
    *s = (char)(up ? toupper((unsigned char)*s) : tolower((unsigned char)*s));
    up = *s == '-';
  }
}

static size_t on_header(char *p, size_t sz, size_t n, void *user) {
  call *c = user;
  size_t len = sz * n;
  if (len >= 5 && !strncmp(p, "HTTP/", 5)) { /* a new response (after 100 Continue or a redirect) */
    json_object_clear(c->headers);
    const char *sp = memchr(p, ' ', len);
    size_t l = sp ? len - (size_t)(sp + 1 - p) : 0;
    while (l && (sp[l] == '\r' || sp[l] == '\n' || sp[l] == '\0')) l--;
    if (sp) snprintf(c->status_line, sizeof c->status_line, "%.*s", (int)l, sp + 1);
    size_t e = strlen(c->status_line);
    while (e && (c->status_line[e - 1] == '\r' || c->status_line[e - 1] == '\n')) c->status_line[--e] = '\0';
    return len;
  }
  const char *colon = memchr(p, ':', len);
  if (!colon || colon == p) return len;
  char name[256];
  size_t nl = (size_t)(colon - p);
  if (nl >= sizeof name) return len;
  memcpy(name, p, nl);
  name[nl] = '\0';
  canonical(name);
  const char *v = colon + 1, *end = p + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
  char *val = strndup(v, (size_t)(end - v));
  if (!val) return 0;
  const char *old = json_string_value(json_object_get(c->headers, name));
  if (old) {
    char *joined = NULL;
    if (asprintf(&joined, "%s, %s", old, val) >= 0) json_object_set_new(c->headers, name, json_string(joined));
    free(joined);
  } else {
    json_object_set_new(c->headers, name, json_string(val));
  }
  free(val);
  return len;
}

static CURL *take_handle(http_binding *b) {
  CURL *h = NULL;
  pthread_mutex_lock(&b->mu);
  if (b->n_idle) h = b->idle[--b->n_idle];
  pthread_mutex_unlock(&b->mu);
  if (h) curl_easy_reset(h);
  else h = curl_easy_init();
  return h;
}

static void give_handle(http_binding *b, CURL *h) {
  pthread_mutex_lock(&b->mu);
  if (b->n_idle < POOL) b->idle[b->n_idle++] = h, h = NULL;
  pthread_mutex_unlock(&b->mu);
  if (h) curl_easy_cleanup(h);
}

/* A metadata value as text (strings; numbers and bools formatted). */
static const char *meta_str(json_t *v, char *tmp, size_t n) {
  if (json_is_string(v)) return json_string_value(v);
  if (json_is_integer(v)) return snprintf(tmp, n, "%lld", (long long)json_integer_value(v)), tmp;
  if (json_is_boolean(v)) return json_is_true(v) ? "true" : "false";
  return NULL;
}

static void set_tls(http_binding *b, CURL *h) {
  if (b->ca) {
    if (b->ca_pem) {
      struct curl_blob blob = {b->ca, strlen(b->ca), CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    } else {
      curl_easy_setopt(h, CURLOPT_CAINFO, b->ca);
    }
  }
  if (b->cert) {
    if (b->cert_pem) {
      struct curl_blob blob = {b->cert, strlen(b->cert), CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
    } else {
      curl_easy_setopt(h, CURLOPT_SSLCERT, b->cert);
    }
  }
  if (b->key) {
    if (b->key_pem) {
      struct curl_blob blob = {b->key, strlen(b->key), CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
    } else {
      curl_easy_setopt(h, CURLOPT_SSLKEY, b->key);
    }
  }
}

static int http_invoke(wgg_binding *base, const char *operation, const char *data, size_t len, json_t *metadata,
                       wgg_cancel *cancel, wgg_binding_result *out, wgg_err *err) {
  (void)cancel; /* bounded by the component's own timeout */
  http_binding *b = (http_binding *)base;
  memset(out, 0, sizeof *out);
  char method[16];
  snprintf(method, sizeof method, "%s", operation ? operation : "");
  for (char *p = method; *p; p++) *p = (char)toupper((unsigned char)*p);
  if (!strcmp(method, "CREATE")) strcpy(method, "POST");
  bool has_body = !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH");
  if (!has_body && strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "DELETE") &&
      strcmp(method, "OPTIONS") && strcmp(method, "TRACE"))
    return wgg_err_set(err, "invalid operation: %s", operation ? operation : "");
  char tmp[64];
  wgg_buf url = {0};
  const char *path = meta_str(json_object_get(metadata, "path"), tmp, sizeof tmp);
  int rc = 0;
  if (path && *path) {
    size_t ul = strlen(b->url);
    while (ul && b->url[ul - 1] == '/') ul--;
    while (*path == '/') path++;
    rc = wgg_buf_printf(&url, "%.*s/%s", (int)ul, b->url, path);
  } else {
    rc = wgg_buf_printf(&url, "%s", b->url);
  }
  bool error_if = b->error_if_not_2xx;
  const char *eif = meta_str(json_object_get(metadata, "errorIfNot2XX"), tmp, sizeof tmp);
  if (eif && *eif) error_if = truthy(eif);

  struct curl_slist *hl = NULL;
  bool has_ct = json_object_get(metadata, "Content-Type") != NULL, has_accept = json_object_get(metadata, "Accept");
  if (has_body && !has_ct) hl = curl_slist_append(hl, "Content-Type: application/json; charset=utf-8");
  if (!has_accept) hl = curl_slist_append(hl, "Accept: application/json; charset=utf-8");
  if (b->token_header) hl = curl_slist_append(hl, b->token_header);
  hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
  const char *k;
  json_t *v;
  json_object_foreach(metadata, k, v) {
    bool trace = !strcmp(k, "traceparent") || !strcmp(k, "tracestate") || !strcmp(k, "baggage");
    const char *s = meta_str(v, tmp, sizeof tmp);
    if (!s || (!trace && !(k[0] >= 'A' && k[0] <= 'Z'))) continue;
    char *line = NULL;
    if (asprintf(&line, *s ? "%s: %s" : "%s;", k, s) >= 0) hl = curl_slist_append(hl, line);
    free(line);
  }
  call c = {.b = b, .headers = json_object()};
  CURL *h = take_handle(b);
  if (rc || !h || !c.headers) {
    if (h) give_handle(b, h);
    curl_slist_free_all(hl);
    wgg_buf_free(&url);
    json_decref(c.headers);
    return wgg_err_set(err, "out of memory");
  }
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, url.data);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (b->timeout_ms) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)b->timeout_ms);
  set_tls(b, h);
  if (!strcmp(method, "HEAD")) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  else if (strcmp(method, "GET")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  if (has_body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, data ? data : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
  CURLcode cc = curl_easy_perform(h);
  int ret = 0;
  if (cc != CURLE_OK) {
    ret = wgg_err_set(err, "%s %s: %s", method, url.data, *ebuf ? ebuf : curl_easy_strerror(cc));
    json_decref(c.headers);
    wgg_buf_free(&c.body);
  } else {
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    json_object_set_new(c.headers, "statusCode", json_sprintf("%ld", code));
    json_object_set_new(c.headers, "status", json_string(c.status_line));
    out->metadata = c.headers;
    out->data = c.body.data;
    out->len = c.body.len;
    if (error_if && code / 100 != 2) ret = wgg_err_set(err, "received status code %ld", code);
  }
  give_handle(b, h);
  curl_slist_free_all(hl);
  wgg_buf_free(&url);
  return ret;
}

static void http_destroy(wgg_binding *base) {
  http_binding *b = (http_binding *)base;
  for (int i = 0; i < b->n_idle; i++) curl_easy_cleanup(b->idle[i]);
  pthread_mutex_destroy(&b->mu);
  free(b->url);
  free(b->token_header);
  free(b->ca);
  free(b->cert);
  free(b->key);
  free(b);
}

static const wgg_binding_ops http_ops = {.invoke = http_invoke, .destroy = http_destroy};

/* A PEM value is kept as text; anything else is a file path (as contrib's getPemBytes). */
static int pem_or_path(const wgg_component *c, const char *name, char **out, bool *pem, wgg_err *err) {
  const char *v = wgg_component_meta(c, name);
  if (!v || !*v) return 0;
  *pem = strstr(v, "-----BEGIN ") != NULL;
  if (!(*out = strdup(v))) return wgg_err_set(err, "out of memory");
  return 0;
}

wgg_binding *wgg_binding_http_new(const wgg_component *c, const wgg_binding_opts *opts, wgg_err *err) {
  (void)opts;
  if (wgg_curl_load(err)) return NULL; /* libcurl is loaded on first use (components/lazy_curl.h) */
  pthread_once(&curl_once, curl_init_once);
  const char *url = wgg_component_meta(c, "url");
  if (!url || !*url) return wgg_err_set(err, "missing required metadata field url"), NULL;
  if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
    return wgg_err_set(err, "url must be an http:// or https:// URL: %s", url), NULL;
  http_binding *b = calloc(1, sizeof *b);
  if (!b) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_init(&b->mu, NULL);
  b->base.ops = &http_ops;
  b->base.operations = operations;
  b->max_body = 100u << 20;
  b->error_if_not_2xx = true;
  const char *v;
  wgg_err e;
  if (!(b->url = strdup(url))) goto oom;
  if ((v = wgg_component_meta(c, "responseTimeout")) && *v && wgg_parse_duration_ms(v, &b->timeout_ms, &e)) {
    wgg_err_set(err, "responseTimeout: %s", e.msg);
    goto fail;
  }
  if ((v = wgg_component_meta(c, "maxResponseBodySize")) && *v && wgg_parse_quantity(v, &b->max_body, &e)) {
    wgg_err_set(err, "maxResponseBodySize: %s", e.msg);
    goto fail;
  }
  if ((v = wgg_component_meta(c, "errorIfNot2XX")) && *v) b->error_if_not_2xx = truthy(v);
  const char *tok = wgg_component_meta(c, "securityToken"), *toh = wgg_component_meta(c, "securityTokenHeader");
  if (tok && *tok && toh && *toh && asprintf(&b->token_header, "%s: %s", toh, tok) < 0) {
    b->token_header = NULL;
    goto oom;
  }
  if (pem_or_path(c, "MTLSRootCA", &b->ca, &b->ca_pem, err) || pem_or_path(c, "MTLSClientCert", &b->cert, &b->cert_pem, err) ||
      pem_or_path(c, "MTLSClientKey", &b->key, &b->key_pem, err))
    goto fail;
  if (!b->cert != !b->key) {
    wgg_err_set(err, "MTLSClientCert and MTLSClientKey must be set together");
    goto fail;
  }
  return &b->base;
oom:
  wgg_err_set(err, "out of memory");
fail:
  http_destroy(&b->base);
  return NULL;
}
