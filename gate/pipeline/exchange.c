/* exchange.c: see exchange.h. */
#include "pipeline/exchange.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int wgg_hdrs_add(wgg_hdrs *h, const char *name, size_t nlen, const char *value, size_t vlen) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 16;
    wgg_hdr *v = realloc(h->v, cap * sizeof *v);
    if (!v) return -1;
    h->v = v;
    h->cap = cap;
  }
  char *n = wgg_strndup(name, nlen), *val = wgg_strndup(value ? value : "", value ? vlen : 0);
  if (!n || !val) {
    free(n);
    free(val);
    return -1;
  }
  h->v[h->n++] = (wgg_hdr){n, val};
  return 0;
}

static bool name_is(const wgg_hdr *f, const char *name, size_t nlen) {
  return strlen(f->name) == nlen && !strncasecmp(f->name, name, nlen);
}

void wgg_hdrs_remove(wgg_hdrs *h, const char *name, size_t nlen) {
  size_t k = 0;
  for (size_t i = 0; i < h->n; i++) {
    if (name_is(&h->v[i], name, nlen)) {
      free(h->v[i].name);
      free(h->v[i].value);
    } else {
      h->v[k++] = h->v[i];
    }
  }
  h->n = k;
}

int wgg_hdrs_set(wgg_hdrs *h, const char *name, size_t nlen, const char *value, size_t vlen) {
  for (size_t i = 0; i < h->n; i++) /* replace in place: keep the field's position */
    if (name_is(&h->v[i], name, nlen)) {
      char *val = wgg_strndup(value ? value : "", value ? vlen : 0);
      if (!val) return -1;
      free(h->v[i].value);
      h->v[i].value = val;
      for (size_t j = h->n; j-- > i + 1;)
        if (name_is(&h->v[j], name, nlen)) {
          free(h->v[j].name);
          free(h->v[j].value);
          memmove(&h->v[j], &h->v[j + 1], (h->n - j - 1) * sizeof *h->v);
          h->n--;
        }
      return 0;
    }
  return wgg_hdrs_add(h, name, nlen, value, vlen);
}

const char *wgg_hdrs_get(const wgg_hdrs *h, const char *name) {
  for (size_t i = 0; i < h->n; i++)
    if (!strcasecmp(h->v[i].name, name)) return h->v[i].value;
  return NULL;
}

void wgg_hdrs_free(wgg_hdrs *h) {
  for (size_t i = 0; i < h->n; i++) {
    free(h->v[i].name);
    free(h->v[i].value);
  }
  free(h->v);
  memset(h, 0, sizeof *h);
}

int wgg_exchange_from_req(wgg_exchange *ex, wgg_http_req *req) {
  memset(ex, 0, sizeof *ex);
  ex->method = strdup(req->method_name ? req->method_name : "GET");
  ex->uri = strdup(req->url && *req->url ? req->url : "/");
  ex->protocol = req->http_major == 1 && req->http_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  snprintf(ex->source_addr, sizeof ex->source_addr, "%s", req->remote_addr);
  int rc = !ex->method || !ex->uri ? -1 : 0;
  for (size_t i = 0; !rc && i < req->n_headers; i++) {
    if (!strcasecmp(req->headers[i].name, "transfer-encoding")) continue; /* Go keeps it out of r.Header too */
    rc = wgg_hdrs_add(&ex->req_headers, req->headers[i].name, strlen(req->headers[i].name), req->headers[i].value,
                      strlen(req->headers[i].value));
  }
  if (rc) {
    wgg_exchange_free(ex);
    return rc;
  }
  /* the body moves (no copy of up to --max-body-size bytes); wgg_exchange_to_req gives it back */
  ex->req_body = wgg_http_req_in_block(req, req->body) ? (wgg_buf){0} /* the empty body kept in req's block */
                                                       : (wgg_buf){req->body, req->body_len, req->body_len + 1};
  req->body = NULL;
  req->body_len = 0;
  return 0;
}

int wgg_exchange_to_req(wgg_exchange *ex, wgg_http_req *req) {
  if (!ex->req_changed) { /* the request as it came: only the body moves back */
    if (!ex->req_body.data && wgg_buf_append(&ex->req_body, "", 0)) return -1;
    req->body = ex->req_body.data;
    req->body_len = ex->req_body.len;
    ex->req_body = (wgg_buf){0};
    return 0;
  }
  const char *uri = ex->uri && *ex->uri ? ex->uri : "/";
  const char *q = strchr(uri, '?');
  char *url = strdup(uri), *path = wgg_strndup(uri, q ? (size_t)(q - uri) : strlen(uri));
  char *body = ex->req_body.data ? ex->req_body.data : strdup("");
  /* headers: the array, then the name\0value\0 strings, in one block (server.c frees r->headers) */
  size_t n = ex->req_headers.n, strings = 0;
  char clen[32];
  snprintf(clen, sizeof clen, "%zu", ex->req_body.len);
  for (size_t i = 0; i < n; i++) {
    const wgg_hdr *f = &ex->req_headers.v[i];
    strings += strlen(f->name) + 1 + (strcasecmp(f->name, "content-length") ? strlen(f->value) : strlen(clen)) + 1;
  }
  size_t arr = (n ? n : 1) * sizeof(wgg_http_header);
  wgg_http_header *h = malloc(arr + strings + 1);
  if (!url || !path || !body || !h) {
    free(url);
    free(path);
    if (body != ex->req_body.data) free(body);
    free(h);
    return -1;
  }
  char *blk = (char *)h + arr;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const wgg_hdr *f = &ex->req_headers.v[i];
    if (!strcasecmp(f->name, "transfer-encoding")) continue; /* the body is whole now */
    const char *v = strcasecmp(f->name, "content-length") ? f->value : clen;
    size_t nl = strlen(f->name) + 1, vl = strlen(v) + 1;
    memcpy(blk, f->name, nl);
    h[k].name = blk;
    blk += nl;
    memcpy(blk, v, vl);
    h[k++].value = blk;
    blk += vl;
  }
  wgg_http_req_free_part(req, req->url);
  wgg_http_req_free_part(req, req->path);
  wgg_http_req_free_part(req, req->headers);
  wgg_http_req_free_part(req, req->body);
  req->url = url;
  req->path = path;
  req->query = q ? url + (q - uri) + 1 : url + strlen(url);
  req->headers = h;
  req->n_headers = k;
  req->body = body;
  req->body_len = ex->req_body.len;
  ex->req_body = (wgg_buf){0}; /* moved */
  int m = wgg_http_method_number(ex->method);
  req->method = m;
  req->method_name = m >= 0 ? http_method_str((enum http_method)m) : ex->method;
  return 0;
}

void wgg_exchange_fail(wgg_exchange *ex, int status, const char *msg) {
  wgg_hdrs_free(&ex->resp_headers);
  wgg_hdrs_free(&ex->resp_trailers);
  ex->resp_body.len = 0;
  if (ex->resp_body.data) ex->resp_body.data[0] = '\0';
  ex->status = status;
  ex->resp_committed = false; /* the pipeline answers in place of whatever was under way */
  static const char ct[] = "text/plain; charset=utf-8";
  wgg_hdrs_add(&ex->resp_headers, "Content-Type", 12, ct, sizeof ct - 1);
  wgg_buf_append(&ex->resp_body, msg, strlen(msg));
}

void wgg_exchange_free(wgg_exchange *ex) {
  free(ex->method);
  free(ex->uri);
  wgg_hdrs_free(&ex->req_headers);
  wgg_buf_free(&ex->req_body);
  wgg_hdrs_free(&ex->resp_headers);
  wgg_buf_free(&ex->resp_body);
  wgg_hdrs_free(&ex->req_trailers);
  wgg_hdrs_free(&ex->resp_trailers);
  ex->method = ex->uri = NULL;
}
