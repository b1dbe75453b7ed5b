/*
 * server_body.c: request bodies streamed after dispatch (see server.h,
 * wgg_http_server_config.stream_body and wgg_http_req_body_*): the decision
 * at the end of a head (dispatch_early, with stream_body_min), handing the
 * parsed pieces to the reader between parser steps, pause and resume,
 * failures (413, 400, 499), abandoning an unread body when the request is
 * answered, and wgg_http_req_body_buffer on top of the streamed reader.
 */
#include <stdlib.h>
#include <string.h>

#include "http/server_internal.h"

/* Whether the in-flight request's body may be parsed now. */
bool wgg_hs_body_parse_ok(const wgg_http_conn *c) {
  return c->body_streaming && c->bcb.on_end && !c->body_paused;
}

/* Detaches the body reader and returns whether there was one. */
static bool body_detach(wgg_http_conn *c, wgg_http_body_cbs *cbs, void **user) {
  bool had = c->bcb.on_end != NULL;
  *cbs = c->bcb;
  *user = c->buser;
  memset(&c->bcb, 0, sizeof c->bcb);
  c->buser = NULL;
  return had;
}

/* The streamed body failed (status as wgg_http_body_cbs.on_end): nothing
 * more is parsed on this connection; its reader, if any, is told. */
void wgg_hs_body_fail(wgg_http_conn *c, int status, const char *msg) {
  if (!c->body_streaming) return;
  c->body_streaming = false;
  c->body_paused = false;
  c->pend.len = 0;
  c->want_close = true;
  c->in_off = c->in_len;
  wgg_http_body_cbs cbs;
  void *user;
  if (body_detach(c, &cbs, &user)) cbs.on_end(user, status, msg);
}

/* Hands the body bytes parsed in the last step to the reader, then its end
 * when the parser reached it. */
void wgg_hs_body_flush(wgg_http_conn *c) {
  if (c->pend.len && c->bcb.on_data) {
    size_t n = c->pend.len;
    c->pend.len = 0;
    if (c->bcb.on_data(c->buser, c->pend.data, n) == 1 && c->body_streaming) c->body_paused = true;
  }
  if (c->body_msg_done && c->body_streaming && c->bcb.on_end) {
    c->body_msg_done = false;
    c->body_streaming = false;
    c->body_paused = false;
    c->msg_base = c->fed;
    wgg_http_body_cbs cbs;
    void *user;
    body_detach(c, &cbs, &user);
    cbs.on_end(user, 0, NULL);
    if (c->eof) wgg_hs_notify_gone(c); /* the client half-closed after its body (deferred until the body was read) */
  }
}

/* At the end of a head with a body: dispatches the request now when the
 * server's stream_body says so. Returns whether it did. */
bool wgg_hs_dispatch_early(wgg_http_conn *c) {
  bool later = c->stream_now;
  c->stream_now = false;
  if (!later && (!c->head_has_body || !c->srv->cfg.stream_body)) return false;
  c->head_has_body = false;
  http_parser *p = &c->parser;
  int64_t length = (p->flags & F_CHUNKED) ? -1 : (int64_t)p->content_length;
  if (!later && length >= 0 && (uint64_t)length <= c->srv->cfg.stream_body_min) return false;
  wgg_buf prefix = c->body; /* a chunked body read so far (stream_later): the reader's first piece */
  memset(&c->body, 0, sizeof c->body);
  wgg_http_req *r = wgg_hs_build_req(c, p);
  if (!r) { /* parsing goes on; on_message_complete fails the same way */
    c->body = prefix;
    return false;
  }
  r->body_streams = true;
  r->body_length = length;
  bool refused = !later && !c->srv->cfg.stream_body(r, c->srv->cfg.user);
  if (refused || (length < 0 && !later && c->srv->cfg.stream_body_min)) {
    /* not now: refused (the body is read whole), or chunked and wanted, but
     * only once it passes stream_body_min (on_body sets stream_now). The
     * request is built again later (from c->url and the head, still there). */
    wgg_hs_req_free(r);
    if (!refused) c->stream_later = true;
    return false;
  }
  wgg_hs_reset_parse_state(c);
  c->body_streaming = true;
  c->body_paused = false;
  c->body_msg_done = false;
  wgg_buf_free(&c->pend);
  c->pend = prefix;
  c->body_seen = prefix.len;
  c->ready = r;
  wgg_hs_arm(c, T_NONE, 0);
  wgg_hs_dispatch(c);
  return true;
}

/* The in-flight request was answered: a streamed body not read to its end
 * is abandoned (its reader detached) and the connection must close after the
 * answer. Returns whether that is so. */
bool wgg_hs_body_abandon(wgg_http_conn *c) {
  if (!c->body_streaming) return false;
  c->body_streaming = false;
  c->body_paused = c->body_msg_done = false;
  c->pend.len = 0;
  memset(&c->bcb, 0, sizeof c->bcb);
  c->buser = NULL;
  c->want_close = true;
  return true;
}

int wgg_http_req_body_read(wgg_http_req *req, const wgg_http_body_cbs *cbs, void *user) {
  wgg_http_conn *c = req->conn;
  if (!req->body_streams || c->inflight != req || c->bcb.on_end || !cbs->on_end) return -1;
  req->body_streams = false; /* read once */
  c->bcb = *cbs;
  c->buser = user;
  if (c->closing || !c->body_streaming) { /* gone before the reader came */
    wgg_http_body_cbs k;
    void *u;
    body_detach(c, &k, &u);
    k.on_end(u, 499, "the client closed the connection before sending the whole body");
    return 0;
  }
  if (c->pend.len || c->body_msg_done) wgg_hs_body_flush(c);
  if (c->inflight == req && c->body_streaming && !c->driving) wgg_hs_drive(c);
  return 0;
}

void wgg_http_req_body_pause(wgg_http_req *req) {
  wgg_http_conn *c = req->conn;
  if (c->inflight == req && c->body_streaming && c->bcb.on_end) c->body_paused = true;
}

void wgg_http_req_body_resume(wgg_http_req *req) {
  wgg_http_conn *c = req->conn;
  if (c->inflight != req || !c->body_paused) return;
  c->body_paused = false;
  if (!c->driving) wgg_hs_drive(c);
}

typedef struct body_buffering {
  wgg_http_req *req;
  wgg_buf b;
  void (*done)(wgg_http_req *, int, const char *, void *);
  void *user;
} body_buffering;

static int buffer_data(void *user, const char *data, size_t len) {
  body_buffering *bb = user;
  if (wgg_buf_append(&bb->b, data, len)) { /* out of memory: the body cannot be whole */
    wgg_http_conn *c = bb->req->conn;
    c->body_msg_done = false;
    wgg_hs_body_fail(c, 413, "out of memory while reading the request body");
    return 0;
  }
  return 0;
}

static void buffer_end(void *user, int status, const char *errmsg) {
  body_buffering *bb = user;
  wgg_http_req *req = bb->req;
  if (!status) {
    if (!bb->b.data && wgg_buf_append(&bb->b, "", 0)) status = 413, errmsg = "out of memory";
  }
  if (!status) {
    wgg_http_req_free_part(req, req->body);
    req->body = bb->b.data;
    req->body_len = bb->b.len;
  } else {
    wgg_buf_free(&bb->b);
  }
  void (*done)(wgg_http_req *, int, const char *, void *) = bb->done;
  void *u = bb->user;
  free(bb);
  done(req, status, errmsg, u);
}

int wgg_http_req_body_buffer(wgg_http_req *req, void (*done)(wgg_http_req *, int, const char *, void *), void *user) {
  if (!req->body_streams) {
    done(req, 0, NULL, user);
    return 0;
  }
  body_buffering *bb = calloc(1, sizeof *bb);
  if (!bb) return -1;
  bb->req = req;
  bb->done = done;
  bb->user = user;
  static const wgg_http_body_cbs cbs = {buffer_data, buffer_end};
  if (wgg_http_req_body_read(req, &cbs, bb)) {
    free(bb);
    return -1;
  }
  return 0;
}
