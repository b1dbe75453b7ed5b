/*
 * server_write.c: the HTTP server's write side (see server_internal.h): one
 * queue of pending writes per connection (written at once when nothing is
 * queued), the back-pressure mark that pauses parsing or a streamed answer,
 * and the answers themselves: wgg_http_respond and wgg_http_stream_*.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/server_internal.h"
#include "util/buf.h"
#include "util/log.h"

typedef struct write_req {
  uv_write_t w;
  wgg_http_conn *c;
  char *data;
  size_t len;
  bool close_after;
} write_req;

bool wgg_hs_write_backlogged(const wgg_http_conn *c) {
  return c->queued_bytes >= WRITE_HIGH_BYTES || c->pending_writes >= WRITE_HIGH_COUNT;
}

static void on_written(uv_write_t *w, int status) {
  write_req *wr = (write_req *)w;
  wgg_http_conn *c = wr->c;
  free(wr->data);
  c->pending_writes--;
  c->queued_bytes -= wr->len;
  bool close_after = wr->close_after;
  free(wr);
  if (c->closing) return;
  if (status < 0 || close_after || (c->close_when_written && !c->pending_writes)) {
    wgg_hs_conn_close(c);
    return;
  }
  if (c->lingering) {
    wgg_hs_linger_written(c);
    return;
  }
  if (c->streaming && c->drain_fn) { /* a streamed answer waits for the client to read */
    if (c->queued_bytes < WRITE_HIGH_BYTES / 2 && c->pending_writes < WRITE_HIGH_COUNT / 2) {
      void (*fn)(void *) = c->drain_fn;
      c->drain_fn = NULL;
      wgg_hs_arm(c, T_NONE, 0);
      fn(c->drain_user);
    } else {
      wgg_hs_arm(c, T_WRITE, c->srv->cfg.write_timeout_ms);
    }
    return;
  }
  if (!c->write_paused) return;
  /* the client reads again: resume parsing below half the bound, else give it
   * another write timeout from this progress */
  if (c->queued_bytes < WRITE_HIGH_BYTES / 2 && c->pending_writes < WRITE_HIGH_COUNT / 2) {
    c->write_paused = false;
    wgg_hs_arm(c, T_NONE, 0);
    wgg_hs_drive(c);
  } else {
    wgg_hs_arm(c, T_WRITE, c->srv->cfg.write_timeout_ms);
  }
}

int wgg_hs_send(wgg_http_conn *c, char *data, size_t len, bool close_after) {
  /* Fast path: nothing queued, so write now. A completed uv_write costs an
   * epoll_ctl in libuv (the watcher is re-armed); uv_try_write does not. */
  if (!close_after && !c->pending_writes && len) {
    uv_buf_t t = uv_buf_init(data, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &t, 1);
    if (n == (int)len) {
      free(data);
      return 0;
    }
    if (n > 0) { /* the rest goes through uv_write, in order */
      memmove(data, data + n, len - (size_t)n);
      len -= (size_t)n;
    }
  }
  write_req *wr = calloc(1, sizeof *wr);
  if (!wr) {
    free(data);
    wgg_hs_conn_close(c);
    return -1;
  }
  wr->c = c;
  wr->data = data;
  wr->len = len;
  wr->close_after = close_after;
  uv_buf_t b = uv_buf_init(data, (unsigned)len);
  if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
    free(data);
    free(wr);
    wgg_hs_conn_close(c);
    return -1;
  }
  c->pending_writes++;
  c->queued_bytes += len;
  return 0;
}

int wgg_hs_send_copy(wgg_http_conn *c, const char *data, size_t len) {
  size_t off = 0;
  if (!c->pending_writes && len) {
    uv_buf_t t = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &t, 1);
    if (n == (int)len) return 0;
    if (n > 0) off = (size_t)n;
  }
  char *rest = malloc(len - off + 1);
  if (!rest) {
    wgg_hs_conn_close(c);
    return -1;
  }
  memcpy(rest, data + off, len - off);
  return wgg_hs_send(c, rest, len - off, false);
}

/* Closes c once every queued response has been written. */
void wgg_hs_conn_finish(wgg_http_conn *c) {
  if (c->pending_writes) c->close_when_written = true;
  else wgg_hs_conn_close(c);
}

/* ---- responses ---- */

/* The in-flight request req was answered with status: observed (metrics)
 * and released. Returns false when c is closing (it is then freed when it
 * can be): nothing more is sent. */
static bool req_answered(wgg_http_conn *c, wgg_http_req *req, int status) {
  if (c->srv->cfg.observe) c->srv->cfg.observe(req->tag, req->method, status, uv_hrtime() - req->start_ns, c->srv->cfg.user);
  wgg_hs_req_free(req);
  c->inflight = NULL;
  if (c->closing) {
    wgg_hs_conn_maybe_free(c);
    return false;
  }
  return true;
}

/* Starts an answer's head in b: the status line; a draining server or a
 * client that half-closed gets "Connection: close". Returns 0 or -1 (OOM). */
static int head_begin(wgg_buf *b, wgg_http_conn *c, int status) {
  if (c->srv->draining || c->eof) c->want_close = true;
  return wgg_buf_printf(b, "HTTP/1.1 %d %s\r\n", status, wgg_http_reason(status));
}

/* Ends an answer's head in b: the extra headers, "Connection: close" when c
 * closes after it, the empty line. Returns 0 or -1 (OOM). */
static int head_end(wgg_buf *b, const wgg_http_conn *c, const wgg_http_header *headers, size_t n) {
  int rc = 0;
  for (size_t i = 0; i < n; i++) rc |= wgg_buf_printf(b, "%s: %s\r\n", headers[i].name, headers[i].value);
  if (c->want_close) rc |= wgg_buf_printf(b, "Connection: close\r\n");
  return rc | wgg_buf_append(b, "\r\n", 2);
}

static char *put(char *w, const char *p, size_t n) {
  memcpy(w, p, n);
  return w + n;
}

/* The size of a whole answer as head_begin + head_end would write it, with
 * "Content-Length: length" unless length < 0, "Content-Type" when
 * content_type is set, then length bytes of body when body is set (sets
 * c->want_close first, as head_begin). answer_write writes it into out
 * (size + 1 bytes: NUL-terminated) without a format (once per request). */
static size_t answer_size(wgg_http_conn *c, int status, const char *content_type, const wgg_http_header *headers,
                          size_t n, int64_t length, const char *body) {
  if (c->srv->draining || c->eof) c->want_close = true;
  char d[24];
  size_t size = sizeof "HTTP/1.1 " - 1 + wgg_str_dec(d, status < 0 ? 0u : (unsigned)status) + 1 + strlen(wgg_http_reason(status)) + 2;
  if (length >= 0) size += sizeof "Content-Length: " - 1 + wgg_str_dec(d, (unsigned long long)length) + 2;
  if (content_type) size += sizeof "Content-Type: " - 1 + strlen(content_type) + 2;
  for (size_t i = 0; i < n; i++) size += strlen(headers[i].name) + 2 + strlen(headers[i].value) + 2;
  if (c->want_close) size += sizeof "Connection: close\r\n" - 1;
  return size + 2 + (body && length > 0 ? (size_t)length : 0);
}

static void answer_write(const wgg_http_conn *c, char *out, int status, const char *content_type,
                         const wgg_http_header *headers, size_t n, int64_t length, const char *body) {
  static const char v11[] = "HTTP/1.1 ", cl[] = "Content-Length: ", ct[] = "Content-Type: ",
                    close[] = "Connection: close\r\n";
  char sd[24], ld[24];
  const char *reason = wgg_http_reason(status);
  size_t sdl = wgg_str_dec(sd, status < 0 ? 0u : (unsigned)status);
  char *w = put(put(put(put(put(out, v11, sizeof v11 - 1), sd, sdl), " ", 1), reason, strlen(reason)), "\r\n", 2);
  if (length >= 0) w = put(put(put(w, cl, sizeof cl - 1), ld, wgg_str_dec(ld, (unsigned long long)length)), "\r\n", 2);
  if (content_type) w = put(put(put(w, ct, sizeof ct - 1), content_type, strlen(content_type)), "\r\n", 2);
  for (size_t i = 0; i < n; i++) {
    w = put(put(w, headers[i].name, strlen(headers[i].name)), ": ", 2);
    w = put(put(w, headers[i].value, strlen(headers[i].value)), "\r\n", 2);
  }
  if (c->want_close) w = put(w, close, sizeof close - 1);
  w = put(w, "\r\n", 2);
  if (body && length > 0) w = put(w, body, (size_t)length);
  *w = '\0';
}

/* An answer is queued: the connection goes on with the next request, or
 * reads no more when it closes after the answer. */
static void next_request(wgg_http_conn *c) {
  if (c->want_close) {
    wgg_hs_stop_reading(c);
    return;
  }
  wgg_hs_arm(c, T_NONE, 0);
  wgg_hs_drive(c);
}

void wgg_http_respond(wgg_http_req *req, int status, const char *content_type, const wgg_http_header *headers,
                      size_t n, const char *body, size_t len) {
  if (req->respond_hook) {
    wgg_http_respond_hook hook = req->respond_hook;
    req->respond_hook = NULL;
    hook(req, status, content_type, headers, n, body, len);
    return;
  }
  wgg_http_conn *c = req->conn;
  bool head = req->method == HTTP_HEAD;
  if (c->closing) { /* nothing more is sent */
    req_answered(c, req, status);
    return;
  }
  bool unread = wgg_hs_body_abandon(c);
  bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
  const char *ct = no_body ? NULL : content_type, *bd = !no_body && !head ? body : NULL;
  int64_t length = no_body ? -1 : (int64_t)len;
  size_t size = answer_size(c, status, ct, headers, n, length, bd);
  /* most answers are written at once from the stack (no allocation): nothing queued
   * before them, no close after them, and small */
  char stack[4096];
  bool direct = !unread && !c->want_close && !c->pending_writes && size < sizeof stack;
  char *out = direct ? stack : malloc(size + 1);
  if (out) answer_write(c, out, status, ct, headers, n, length, bd);
  /* released only now: headers and body may point into req (an echo of its URL or body) */
  req_answered(c, req, status);
  if (!out) {
    wgg_hs_conn_close(c);
    return;
  }
  if (direct) {
    if (wgg_hs_send_copy(c, out, size)) return;
    next_request(c);
    return;
  }
  if (unread) {
    wgg_hs_linger_after(c, out, size);
    return;
  }
  if (wgg_hs_send(c, out, size, c->want_close)) return;
  next_request(c);
}

int wgg_http_stream_begin(wgg_http_req *req, int status, const wgg_http_header *headers, size_t n, int64_t length) {
  wgg_http_conn *c = req->conn;
  if (req->respond_hook || c->streaming || c->closing || req->method == HTTP_HEAD || status < 200 || status == 204 ||
      status == 304)
    return -1;
  wgg_buf b = {0};
  int rc = head_begin(&b, c, status);
  if (length >= 0) rc |= wgg_buf_printf(&b, "Content-Length: %lld\r\n", (long long)length);
  else rc |= wgg_buf_printf(&b, "Transfer-Encoding: chunked\r\n");
  rc |= head_end(&b, c, headers, n);
  if (rc) {
    wgg_buf_free(&b);
    return -1;
  }
  c->streaming = true;
  c->stream_chunked = length < 0;
  c->stream_left = length;
  c->stream_status = status;
  c->drain_fn = NULL;
  wgg_hs_arm(c, T_NONE, 0);
  return wgg_hs_send(c, b.data, b.len, false);
}

int wgg_http_stream_write(wgg_http_req *req, const char *data, size_t len) {
  wgg_http_conn *c = req->conn;
  if (!c->streaming || c->closing) return -1;
  if (!len) return wgg_hs_write_backlogged(c) ? 1 : 0;
  if (!c->stream_chunked && (uint64_t)len > (uint64_t)c->stream_left) return -1;
  char pre[24];
  int pl = c->stream_chunked ? snprintf(pre, sizeof pre, "%zx\r\n", len) : 0;
  size_t total = (size_t)pl + len + (c->stream_chunked ? 2 : 0);
  char *out = malloc(total);
  if (!out) return -1;
  memcpy(out, pre, (size_t)pl);
  memcpy(out + pl, data, len);
  if (c->stream_chunked) memcpy(out + pl + len, "\r\n", 2);
  else c->stream_left -= (int64_t)len;
  if (wgg_hs_send(c, out, total, false)) return -1;
  return wgg_hs_write_backlogged(c) ? 1 : 0;
}

void wgg_http_stream_on_drain(wgg_http_req *req, void (*fn)(void *), void *user) {
  wgg_http_conn *c = req->conn;
  if (c->closing || !c->streaming) return;
  c->drain_fn = fn;
  c->drain_user = user;
  if (!wgg_hs_write_backlogged(c)) { /* already below the mark: the next write completion calls it */
    if (!c->pending_writes) {
      c->drain_fn = NULL;
      fn(user);
    }
    return;
  }
  wgg_hs_arm(c, T_WRITE, c->srv->cfg.write_timeout_ms); /* no progress for this long: the client is gone */
}

void wgg_http_stream_end(wgg_http_req *req, bool ok) {
  wgg_http_conn *c = req->conn;
  bool begun = c->streaming;
  c->streaming = false;
  c->drain_fn = NULL;
  if (!req_answered(c, req, begun ? c->stream_status : 500)) return;
  bool unread = wgg_hs_body_abandon(c);
  if (!begun || !ok || (!c->stream_chunked && c->stream_left != 0)) { /* cut off: never complete-looking */
    c->want_close = true;
    wgg_hs_stop_reading(c);
    wgg_hs_arm(c, T_NONE, 0);
    wgg_hs_conn_finish(c);
    return;
  }
  if (c->stream_chunked) {
    char *z = strdup("0\r\n\r\n");
    if (!z) {
      wgg_hs_conn_close(c);
      return;
    }
    if (unread) {
      wgg_hs_linger_after(c, z, 5);
      return;
    }
    if (wgg_hs_send(c, z, 5, c->want_close)) return;
  } else if (unread) {
    wgg_hs_linger_after(c, NULL, 0);
    return;
  } else if (c->want_close) {
    wgg_hs_conn_finish(c);
  }
  next_request(c);
}

const char *wgg_http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}
