/*
 * server_linger.c: the HTTP server's lingering close (see server_internal.h).
 * After an error answer (413 to a client still sending its body, 400, 408,
 * 431) or an answer given before the request body was read, the answer is
 * written, then the write side is shut down and input is read and discarded
 * for at most LINGER_MS / LINGER_MAX_BYTES, so the client reads the answer
 * instead of a reset (nginx's lingering_close).
 */
#include <string.h>

#include "http/server_internal.h"

#define LINGER_MS 5000
#define LINGER_MAX_BYTES (256u << 20)

static void on_shut_down(uv_shutdown_t *req, int status) {
  wgg_http_conn *c = req->handle->data;
  if (status < 0 && status != UV_ECANCELED && !c->closing) wgg_hs_conn_close(c);
}

/* Answers a request that failed to parse (400/408/413/431) and closes. */
void wgg_hs_fail_conn(wgg_http_conn *c, int status, const char *msg) {
  if (c->closing) return;
  wgg_buf b = {0};
  size_t ml = strlen(msg);
  if (wgg_buf_printf(&b,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, wgg_http_reason(status), ml, msg)) {
    wgg_hs_conn_close(c);
    return;
  }
  c->want_close = true;
  wgg_hs_linger_after(c, b.data, b.len);
}

/* Sends data (owned) and closes lingeringly: the client may still be sending
 * the body we did not read. */
void wgg_hs_linger_after(wgg_http_conn *c, char *data, size_t len) {
  if (c->eof) { /* the client has stopped sending: nothing to linger for */
    wgg_hs_stop_reading(c);
    wgg_hs_arm(c, T_NONE, 0);
    if (data) wgg_hs_send(c, data, len, true);
    else wgg_hs_conn_finish(c);
    return;
  }
  /* the answer, then shutdown(SHUT_WR) once it is written (here or in
   * wgg_hs_linger_written), reading and discarding until EOF or the bound */
  c->lingering = true;
  c->in_off = c->in_len = 0;
  wgg_hs_arm(c, T_LINGER, LINGER_MS);
  if (data && wgg_hs_send(c, data, len, false)) return;
  wgg_hs_start_reading(c);
  if (!c->closing) wgg_hs_linger_written(c);
}

void wgg_hs_linger_written(wgg_http_conn *c) {
  if (!c->pending_writes && !c->shut_down) {
    c->shut_down = true;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shut_down)) wgg_hs_conn_close(c);
  }
}

void wgg_hs_linger_read(wgg_http_conn *c, ssize_t n) {
  c->in_len = 0;
  if (n < 0 || n == UV_ENOBUFS || (c->linger_bytes += (size_t)n) > LINGER_MAX_BYTES) wgg_hs_conn_close(c);
}
