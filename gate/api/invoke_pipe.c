/*
 * invoke_pipe.c: see invoke_pipe.h. The caller's body is read with the
 * server's body reader and written with the client's body writer; each side
 * pauses the other at its mark. The answer's head, pieces and end go through
 * the server's streamed-response calls.
 */
#include "api/invoke_pipe.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/mesh.h"
#include "util/log.h"

/* ---- the caller's body to the app ---- */

static int body_data(void *user, const char *data, size_t len) {
  wgg_invoke_pipe *p = user;
  p->took_body = true;
  if (!p->s) { /* not expected (paused while no request takes it): the body is spent */
    p->spent = true;
    return 1;
  }
  int rc = wgg_http_client_body_write(p->s, data, len);
  return rc == 0 ? 0 : 1; /* -1: the client failed the request (p may be gone): pause */
}

static void body_end(void *user, int status, const char *errmsg) {
  wgg_invoke_pipe *p = user;
  p->reading = false;
  if (!status) {
    p->body_done = true;
    if (p->s) wgg_http_client_body_end(p->s);
    return;
  }
  wgg_debug("invoke %s: the caller's request body failed (%d): %s", p->app_id, status, errmsg);
  p->body_status = status;
  if (p->s) wgg_http_client_stream_abort(p->s); /* the completion answers the caller */
}

static const wgg_http_body_cbs body_cbs = {body_data, body_end};

static void pipe_want(void *user, wgg_http_client_stream *s) {
  wgg_invoke_pipe *p = user;
  p->s = s;
  if (p->gone || p->body_status) {
    wgg_http_client_stream_abort(s);
    return;
  }
  if (p->spent) { /* an earlier attempt took part of the body: it cannot be sent again */
    wgg_http_client_stream_abort(s);
    return;
  }
  if (p->body_done) { /* a repeated attempt of a body that ended empty */
    wgg_http_client_body_end(s);
    return;
  }
  if (!p->reading && !p->took_body) {
    p->reading = true;
    if (wgg_http_req_body_read(p->req, &body_cbs, p)) {
      p->reading = false;
      wgg_http_client_stream_abort(s);
    }
    return;
  }
  wgg_http_req_body_resume(p->req);
}

static void pipe_over(void *user) {
  wgg_invoke_pipe *p = user;
  p->s = NULL; /* the app request is over: nothing more is written to it */
  if (p->took_body) p->spent = true;
  /* and nothing more is taken from the caller until another attempt wants it (a retry) */
  if (p->reading) wgg_http_req_body_pause(p->req);
}

/* ---- the app's answer to the caller ---- */

static void on_drained(void *user) {
  wgg_invoke_pipe *p = user;
  if (p->s) wgg_http_client_stream_resume(p->s);
}

static void on_caller_gone(wgg_http_req *req, void *user) {
  wgg_invoke_pipe *p = user;
  (void)req;
  p->gone = true;
  if (p->s) wgg_http_client_stream_abort(p->s); /* the completion or on_end releases req */
}

static int on_head(void *user, wgg_http_client_stream *s, const wgg_http_response *resp, int64_t length) {
  wgg_invoke_pipe *p = user;
  wgg_http_req *req = p->req;
  /* small answers of known length are buffered: all or nothing reaches the caller, in one write */
  if (req->respond_hook || (length >= 0 && length <= WGG_INVOKE_STREAM_MIN) || resp->status == 204 ||
      resp->status == 304)
    return 0;
  if (p->may_stream && !p->may_stream(p, resp->status)) return 0;
  wgg_http_header *h = calloc(resp->n_headers ? resp->n_headers : 1, sizeof *h);
  size_t n = 0;
  for (size_t i = 0; h && i < resp->n_headers; i++)
    if (!wgg_http_hop_header(resp->headers[i].name) && !wgg_invoke_internal_header(resp->headers[i].name))
      h[n++] = resp->headers[i];
  int rc = h ? wgg_http_stream_begin(req, resp->status, h, n, length) : -1;
  free(h);
  p->s = s;
  if (rc) return -1; /* the caller is gone (or out of memory): the app connection is closed */
  return 1;
}

static int on_chunk(void *user, const char *data, size_t len) {
  wgg_invoke_pipe *p = user;
  int rc = wgg_http_stream_write(p->req, data, len);
  if (rc == 1) wgg_http_stream_on_drain(p->req, on_drained, p);
  return rc;
}

static void on_end(void *user, const char *errmsg) {
  wgg_invoke_pipe *p = user;
  p->req->on_gone = NULL;
  p->s = NULL;
  if (errmsg && !p->gone)
    wgg_warn("invoke %s: the app's response was cut off after its head was sent: %s", p->app_id, errmsg);
  wgg_http_stream_end(p->req, errmsg == NULL);
  p->released(p);
}

const wgg_http_stream_cbs wgg_invoke_pipe_stream = {on_head, on_chunk, on_end};

/* ---- the owner's side ---- */

void wgg_invoke_pipe_init(wgg_invoke_pipe *p, wgg_http_req *req, const char *app_id, bool upload,
                          void (*released)(wgg_invoke_pipe *p)) {
  memset(p, 0, sizeof *p);
  p->req = req;
  p->app_id = app_id;
  p->released = released;
  p->upload = upload && req->body_streams;
  p->src = (wgg_http_body_source){.length = req->body_length, .on_want = pipe_want, .on_over = pipe_over, .user = p};
  req->on_gone = on_caller_gone;
  req->gone_user = p;
}

const wgg_http_body_source *wgg_invoke_pipe_source(wgg_invoke_pipe *p) {
  return p->upload ? &p->src : NULL;
}

bool wgg_invoke_pipe_completed(wgg_invoke_pipe *p) {
  p->s = NULL;
  if (!p->body_status) return false;
  wgg_http_req *req = p->req;
  req->on_gone = NULL;
  if (p->body_status == 413) {
    static const char msg[] = "Request Entity Too Large";
    wgg_http_respond(req, 413, "text/plain; charset=utf-8", NULL, 0, msg, sizeof msg - 1);
  } else {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed to read the request body");
  }
  return true;
}

bool wgg_invoke_pipe_can_retry(const wgg_invoke_pipe *p) {
  return !p->took_body && !p->gone && !p->body_status;
}

void wgg_invoke_pipe_detach(wgg_invoke_pipe *p) {
  if (p->req && p->req->on_gone == on_caller_gone) p->req->on_gone = NULL;
}
