/*
 * server_stream.c: streaming calls (see server.h, wgg_grpc_stream_*): any
 * number of length-prefixed messages each way on one HTTP/2 stream
 * (grpc/doc/PROTOCOL-HTTP2.md). Output is queued per call and given to
 * nghttp2 through a data source that defers while the queue is empty, so the
 * client's flow-control window paces it; the trailers follow once finished.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/server_internal.h"
#include "grpc/wire.h"
#include "util/log.h"

/* The data source of a streaming response: queued messages as nghttp2's
 * flow control lets them out, then (once finished) the trailers. */
static ssize_t read_stream_out(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                               nghttp2_data_source *src, void *user) {
  (void)user;
  wgg_grpc_call *k = src->ptr;
  size_t n = k->sout.len - k->sout_off;
  if (n > len) n = len;
  if (n) memcpy(buf, k->sout.data + k->sout_off, n);
  k->sout_off += n;
  if (k->sout_off == k->sout.len) {
    k->sout.len = k->sout_off = 0;
    if (!k->fin) {
      if (n == 0) {
        k->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
      return (ssize_t)n;
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    nghttp2_nv tr[3 + 8];
    size_t t = 0;
    snprintf(k->status, sizeof k->status, "%d", k->fin_code);
    tr[t++] = (nghttp2_nv){(uint8_t *)"grpc-status", (uint8_t *)k->status, 11, strlen(k->status), NGHTTP2_NV_FLAG_NONE};
    if (k->fin_code && k->message)
      tr[t++] = (nghttp2_nv){(uint8_t *)"grpc-message", (uint8_t *)k->message, 12, strlen(k->message), NGHTTP2_NV_FLAG_NONE};
    if (k->fin_code && k->details)
      tr[t++] = (nghttp2_nv){(uint8_t *)"grpc-status-details-bin", (uint8_t *)k->details, 23, strlen(k->details),
                             NGHTTP2_NV_FLAG_NONE};
    t += wgg_grpcs_custom_trailers(k, tr + t);
    if (nghttp2_submit_trailer(h2, sid, tr, t)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return (ssize_t)n;
}

/* Lets a streaming response's queued output go: submits the headers with
 * read_stream_out as the data source the first time, later resumes that
 * source if it deferred. Returns nghttp2_submit_response's result, else 0. */
int wgg_grpcs_stream_out_kick(conn *c, wgg_grpc_call *k) {
  if (!k->head_sent) {
    k->head_sent = true;
    nghttp2_nv nv[3 + 16];
    size_t n = wgg_grpcs_response_head(k, nv);
    nghttp2_data_provider dp = {.source.ptr = k, .read_callback = read_stream_out};
    return nghttp2_submit_response(c->h2, k->stream_id, nv, n, &dp);
  }
  if (k->deferred) {
    k->deferred = false;
    nghttp2_session_resume_data(c->h2, k->stream_id);
  }
  return 0;
}

/* ---- streaming calls ---- */

void wgg_grpc_stream_set(wgg_grpc_call *k, wgg_grpc_stream_msg_fn on_msg, wgg_grpc_stream_end_fn on_end, void *ctx) {
  k->on_msg = on_msg;
  k->on_end = on_end;
  k->sctx = ctx;
}

/* Tells the handler's owner, once, that no more messages come (half-close or stream gone). */
void wgg_grpcs_stream_peer_done(wgg_grpc_call *k, bool gone) {
  /* once for the half-close, and once more should the stream then go away before it is finished */
  if (!k->streaming || k->gone_told || (k->peer_done && !gone)) return;
  k->peer_done = true;
  k->gone_told = gone;
  if (k->on_end) k->on_end(k, gone, k->sctx);
}

/* Hands every complete message buffered in k->in to the handler's on_msg. */
void wgg_grpcs_stream_messages(wgg_grpc_call *k) {
  size_t off = 0;
  while (!k->answered && k->in.len - off >= 5) {
    const uint8_t *b = (const uint8_t *)k->in.data + off;
    size_t len = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
    if (k->in.len - off - 5 < len) break;
    const uint8_t *msg;
    size_t mlen;
    if (wgg_grpcs_message(k, b, len, &msg, &mlen)) break;
    off += 5 + len;
    if (k->on_msg) k->on_msg(k, msg, mlen, k->sctx);
  }
  if (k->answered) {
    wgg_grpcs_drop_input(k);
    return;
  }
  if (off) {
    memmove(k->in.data, k->in.data + off, k->in.len - off);
    k->in.len -= off;
    if (k->c) k->c->in_held -= off;
  }
}

/* A streaming method's HEADERS arrived: the handler gets the call now. */
void wgg_grpcs_dispatch_stream(wgg_grpc_call *k) {
  if (!wgg_grpcs_check_grpc(k)) return;
  k->streaming = true;
  k->dispatched = true;
  k->start_ns = uv_hrtime();
  const char *t = wgg_grpc_call_header(k, "grpc-timeout");
  int64_t ms = t ? wgg_grpc_parse_timeout(t) : -1;
  if (ms >= 0) wgg_grpcs_arm_timer(k, ms ? (uint64_t)ms : 1);
  else if (k->timer_on) uv_timer_stop(&k->deadline); /* no read timeout on a stream */
  k->refs++; /* the handler's */
  k->c->srv->cfg.handler(k, k->c->srv->cfg.user);
}

int wgg_grpc_stream_send(wgg_grpc_call *k, const ProtobufCMessage *msg) {
  size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *tmp = malloc(len ? len : 1);
  if (!tmp) return -1;
  protobuf_c_message_pack(msg, tmp);
  int rc = wgg_grpc_stream_send_raw(k, tmp, len);
  free(tmp);
  return rc;
}

int wgg_grpc_stream_send_raw(wgg_grpc_call *k, const uint8_t *msg, size_t len) {
  if (!k->streaming || k->answered || !k->c || !k->stream_open || k->c->closing) return -1;
  conn *c = k->c;
  if (wgg_grpcs_frame(k, msg, len, &k->sout)) return -1;
  if (wgg_grpcs_stream_out_kick(c, k)) return -1;
  wgg_grpcs_conn_flush(c);
  return 0;
}

size_t wgg_grpc_stream_queued(const wgg_grpc_call *k) {
  return k->sout.len - k->sout_off;
}

void wgg_grpc_stream_finish(wgg_grpc_call *k, int code, const char *fmt, ...) {
  k->on_msg = NULL;
  k->on_end = NULL;
  if (!k->answered) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(k->message);
    k->message = code ? wgg_grpc_percent_encode(msg) : NULL;
    wgg_grpcs_submit_answer(k, code);
  }
  wgg_grpcs_call_unref(k);
}
