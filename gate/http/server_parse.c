/*
 * server_parse.c: the HTTP server's http-parser callbacks (see
 * server_internal.h): the request head (exact size against max_head, 431), RFC
 * 9112 framing checks (400/501/505), Expect: 100-continue, the body when it
 * is buffered (413 past max_body), and building the wgg_http_req that is
 * dispatched. The parser is paused at the end of each head and message so
 * that wgg_hs_drive (server.c) decides what happens next.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/server_internal.h"

/* ---- request objects ---- */

void wgg_hs_req_free(wgg_http_req *r) {
  if (!r) return;
  wgg_http_req_free_part(r, r->url);
  wgg_http_req_free_part(r, r->path);
  wgg_http_req_free_part(r, r->headers);
  wgg_http_req_free_part(r, r->body);
  free(r);
}


/* Buffers of the head kept from one request to the next up to this size
 * (most heads fit): an allocation per connection, not three per request. */
#define KEEP_HEAD_BUF 4096

static void buf_recycle(wgg_buf *b) {
  if (b->cap > KEEP_HEAD_BUF) {
    wgg_buf_free(b);
    return;
  }
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void wgg_hs_reset_parse_state(wgg_http_conn *c) {
  buf_recycle(&c->url); /* copied into each request */
  wgg_buf_free(&c->body);
  buf_recycle(&c->hdrs);
  c->n_hdrs = 0;
  c->n_host = c->n_te = 0;
  c->fail_msg = NULL;
  c->in_field = c->in_value = false;
  c->head_bytes = 0;
  c->stream_later = c->stream_now = false;
}

/* ---- parser callbacks ---- */

static int count_head(wgg_http_conn *c, size_t n) {
  c->head_bytes += n;
  if (c->head_bytes > c->srv->cfg.max_head) {
    c->fail_status = 431;
    return -1;
  }
  return 0;
}

/* Fails the parse with status and msg (a static string). Returns -1. */
static int reject(wgg_http_conn *c, int status, const char *msg) {
  c->fail_status = status;
  c->fail_msg = msg;
  return -1;
}

/* RFC 9110 §5.6.2 tchar, as a table (every byte of every header name). */
static const bool tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1,
    ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* Ends the header field being read, if any (its name and value were written
 * into c->hdrs as the parser handed them over, from c->fstart): checks the
 * name is a token (RFC 9112 §5.1: no whitespace before the colon, which
 * http-parser lets through as part of the name), turns obs-fold line breaks
 * in the value into spaces (§5.2), counts Host and Transfer-Encoding, and
 * ends the name\0value\0 pair. */
static int push_header(wgg_http_conn *c) {
  if (!c->in_field) return 0;
  c->in_field = false;
  if (!c->in_value) { /* no value: the name's NUL, an empty value */
    if (wgg_buf_append(&c->hdrs, "", 1)) return -1;
    c->vstart = c->hdrs.len;
  }
  c->in_value = false;
  size_t nl = c->vstart - 1 - c->fstart, vl = c->hdrs.len - c->vstart;
  if (!nl) { /* a value without a name: dropped */
    c->hdrs.len = c->fstart;
    c->hdrs.data[c->hdrs.len] = '\0';
    return 0;
  }
  const char *name = c->hdrs.data + c->fstart;
  char *value = c->hdrs.data + c->vstart;
  for (size_t i = 0; i < nl; i++)
    if (!tchar[(unsigned char)name[i]])
      return reject(c, 400, "malformed MIME header: invalid character in a header field name");
  for (size_t i = 0; i < vl; i++) {
    if (value[i] == '\r' || value[i] == '\n') value[i] = ' ';
    else if (!value[i]) return reject(c, 400, "malformed MIME header: NUL in a header field value");
  }
  if (nl == 4 && !strncasecmp(name, "host", 4)) c->n_host++;
  if (nl == 17 && !strncasecmp(name, "transfer-encoding", 17)) {
    c->n_te++;
    /* chunked is the only coding we decode (Go answers 501 to the others) */
    size_t a = 0, b = vl;
    while (a < b && (value[a] == ' ' || value[a] == '\t')) a++;
    while (b > a && (value[b - 1] == ' ' || value[b - 1] == '\t')) b--;
    if (b - a != 7 || strncasecmp(value + a, "chunked", 7)) return reject(c, 501, "Unsupported transfer encoding");
  }
  if (wgg_buf_append(&c->hdrs, "", 1)) return -1; /* the value's NUL */
  c->n_hdrs++;
  return 0;
}

static int on_message_begin(http_parser *p) {
  wgg_http_conn *c = p->data;
  wgg_hs_reset_parse_state(c);
  c->msg_start = uv_now(c->srv->loop);
  c->in_head = true;
  wgg_hs_arm(c, T_HEAD, c->srv->cfg.header_timeout_ms);
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  wgg_http_conn *c = p->data;
  if (count_head(c, n)) return -1;
  return wgg_buf_append(&c->url, at, n);
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
  wgg_http_conn *c = p->data;
  if (count_head(c, n + 4)) return -1;
  if (c->in_value && push_header(c)) return -1;
  if (!c->in_field) {
    c->in_field = true;
    c->fstart = c->hdrs.len;
  }
  return wgg_buf_append(&c->hdrs, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  wgg_http_conn *c = p->data;
  if (count_head(c, n)) return -1;
  if (!c->in_field) { /* a value without a name (http-parser does not make them): dropped */
    c->in_field = true;
    c->fstart = c->hdrs.len;
  }
  if (!c->in_value) { /* the name's NUL */
    if (wgg_buf_append(&c->hdrs, "", 1)) return -1;
    c->vstart = c->hdrs.len;
    c->in_value = true;
  }
  return wgg_buf_append(&c->hdrs, at, n);
}

static int on_headers_complete(http_parser *p) {
  wgg_http_conn *c = p->data;
  if (push_header(c)) return -1;
  /* request framing, RFC 9112 §2.3 (version), §3.2 (Host), §6.1 (Transfer-Encoding) */
  if (p->http_major != 1 || p->http_minor > 1) return reject(c, 505, "HTTP Version Not Supported");
  if (p->http_minor == 1 && c->n_host == 0) return reject(c, 400, "missing required Host header");
  if (c->n_host > 1) return reject(c, 400, "too many Host headers");
  if (c->n_te > 1) return reject(c, 400, "too many transfer encodings");
  if (c->n_te && p->http_minor == 0) return reject(c, 400, "Transfer-Encoding in an HTTP/1.0 request");
  if (c->n_te && (p->flags & F_CONTENTLENGTH))
    return reject(c, 400, "both Transfer-Encoding and Content-Length");
  if (p->content_length != ULLONG_MAX && p->content_length > c->srv->cfg.max_body) {
    c->fail_status = 413;
    return -1;
  }
  /* curl and others wait for "100 Continue" before sending a body of more than 1 KB */
  if (p->http_major == 1 && p->http_minor >= 1 && !(p->flags & F_SKIPBODY) &&
      (p->content_length != ULLONG_MAX ? p->content_length > 0 : (p->flags & F_CHUNKED) != 0)) {
    const char *blk = c->hdrs.data;
    for (size_t i = 0, off = 0; blk && i < c->n_hdrs; i++) {
      const char *name = blk + off;
      off += strlen(name) + 1;
      const char *value = blk + off;
      off += strlen(value) + 1;
      if (!strcasecmp(name, "Expect") && !strcasecmp(value, "100-continue")) c->expect_continue = true;
    }
  }
  c->head_has_body = !(p->flags & F_SKIPBODY) &&
                     ((p->flags & F_CHUNKED) || (p->content_length != ULLONG_MAX && p->content_length > 0));
  /* pause here so that drive knows where the head ends and checks its exact
   * size (the callbacks see only parts of it) */
  c->in_head = false;
  c->head_pause = true;
  http_parser_pause(p, 1);
  uint64_t elapsed = uv_now(c->srv->loop) - c->msg_start;
  uint64_t rt = c->srv->cfg.read_timeout_ms;
  wgg_hs_arm(c, T_BODY, rt ? (rt > elapsed ? rt - elapsed : 1) : 0);
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  wgg_http_conn *c = p->data;
  if (c->body_streaming) { /* kept for this drive step, handed to the reader after it (outside the parser) */
    if (n > c->srv->cfg.max_body - c->body_seen) {
      c->fail_status = 413;
      return -1;
    }
    c->body_seen += n;
    return wgg_buf_append(&c->pend, at, n);
  }
  if (c->body.len + n > c->srv->cfg.max_body) {
    c->fail_status = 413;
    return -1;
  }
  if (wgg_buf_append(&c->body, at, n)) return -1;
  if (c->stream_later && c->body.len > c->srv->cfg.stream_body_min) { /* long enough: stream from here */
    c->stream_later = false;
    c->stream_now = true;
    http_parser_pause(p, 1);
  }
  return 0;
}

/* Builds the request of the head just parsed (url, headers) with the body
 * buffered so far (moved). Returns NULL on OOM. */
wgg_http_req *wgg_hs_build_req(wgg_http_conn *c, http_parser *p) {
  /* one block (once per request): the request, its header array and
   * strings, its URL and path, and the empty body of a request without one;
   * a body read whole is moved in (wgg_http_req_free_part frees either) */
  const char *url = c->url.len ? c->url.data : "/";
  size_t ul = c->url.len ? c->url.len : 1;
  const char *qm = memchr(url, '?', ul);
  size_t pl = qm ? (size_t)(qm - url) : ul;
  size_t arr = (c->n_hdrs ? c->n_hdrs : 1) * sizeof(wgg_http_header);
  bool own_body = c->body.data != NULL;
  size_t size = sizeof(wgg_http_req) + arr + c->hdrs.len + 1 + ul + 1 + pl + 1 + (own_body ? 0 : 1);
  wgg_http_req *r = malloc(size);
  if (!r) return NULL;
  memset(r, 0, sizeof *r);
  r->own_size = size;
  r->method = (int)p->method;
  r->method_name = http_method_str((enum http_method)p->method);
  r->keep_alive = http_should_keep_alive(p) != 0;
  r->loop = c->srv->loop;
  r->conn = c;
  r->http_major = p->http_major;
  r->http_minor = p->http_minor;
  memcpy(r->remote_addr, c->peer, sizeof r->remote_addr);
  r->headers = (wgg_http_header *)(r + 1);
  char *blk = (char *)r->headers + arr, *tail = blk + c->hdrs.len + 1;
  if (c->hdrs.len) memcpy(blk, c->hdrs.data, c->hdrs.len);
  blk[c->hdrs.len] = '\0';
  r->url = memcpy(tail, url, ul);
  r->url[ul] = '\0';
  r->path = memcpy(tail + ul + 1, url, pl);
  r->path[pl] = '\0';
  if (own_body) {
    r->body = c->body.data;
    r->body_len = c->body.len;
    c->body.data = NULL;
    c->body.len = c->body.cap = 0;
  } else {
    r->body = r->path + pl + 1;
    r->body[0] = '\0';
  }
  char *q = qm ? r->url + (qm - url) : NULL;
  r->query = q ? q + 1 : r->url + ul;
  wgg_http_header *h = r->headers;
  /* Transfer-Encoding is ours: the body is decoded now, so nothing after us
   * (pipeline guests, the app) may see it (RFC 9112 §6.1; Go keeps it out of
   * Request.Header too) */
  size_t kept = 0;
  for (size_t i = 0, off = 0; i < c->n_hdrs; i++) {
    const char *name = blk + off;
    off += strlen(blk + off) + 1;
    const char *value = blk + off;
    off += strlen(blk + off) + 1;
    if ((size_t)(value - name) == sizeof "transfer-encoding" && !strcasecmp(name, "transfer-encoding")) continue;
    h[kept].name = name;
    h[kept++].value = value;
  }
  r->n_headers = kept;
  return r;
}

static int on_message_complete(http_parser *p) {
  wgg_http_conn *c = p->data;
  if (c->body_streaming) { /* the end of a streamed body: drive tells its reader */
    wgg_hs_reset_parse_state(c);
    c->body_msg_done = true;
    http_parser_pause(p, 1);
    return 0;
  }
  wgg_http_req *r = wgg_hs_build_req(c, p);
  if (!r) return -1;
  wgg_hs_reset_parse_state(c);
  c->ready = r;
  wgg_hs_arm(c, T_NONE, 0);
  http_parser_pause(p, 1);
  return 0;
}

const http_parser_settings wgg_hs_parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

const char *wgg_http_req_header(const wgg_http_req *req, const char *name) {
  for (size_t i = 0; i < req->n_headers; i++)
    if (!strcasecmp(req->headers[i].name, name)) return req->headers[i].value;
  return NULL;
}
