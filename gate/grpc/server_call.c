/*
 * server_call.c: a gRPC call's life on the server (see server.h and
 * server_internal.h): its metadata, the unary answer (one message, then the
 * trailers; or Trailers-Only for an error), deadlines, the check and dispatch
 * of a complete request, and the nghttp2 callbacks that build calls from
 * frames.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/gzip.h"
#include "grpc/server_internal.h"
#include "grpc/wire.h"
#include "util/log.h"

/* ---- calls ---- */

void wgg_grpcs_call_unref(wgg_grpc_call *k) {
  if (--k->refs > 0) return;
  wgg_buf_free(&k->hbuf);
  for (size_t i = 0; i < k->n_resp_hdrs; i++) {
    free(k->resp_hdrs[i].name);
    free(k->resp_hdrs[i].value);
  }
  for (size_t i = 0; i < k->n_resp_trls; i++) {
    free(k->resp_trls[i].name);
    free(k->resp_trls[i].value);
  }
  wgg_buf_free(&k->in);
  wgg_buf_free(&k->plain);
  wgg_buf_free(&k->sout);
  free(k->out);
  free(k->message);
  free(k->details);
  free(k);
}

/* Releases the request bytes of k (after its handler ran, or when it ends early). */
void wgg_grpcs_drop_input(wgg_grpc_call *k) {
  if (k->c) k->c->in_held -= k->in.len;
  wgg_buf_free(&k->in);
  wgg_buf_free(&k->plain);
  k->decompressed = false;
}

static void timer_closed(uv_handle_t *h) {
  wgg_grpcs_call_unref(h->data);
}

static void stop_timer(wgg_grpc_call *k) {
  if (!k->timer_on) return;
  k->timer_on = false;
  uv_close((uv_handle_t *)&k->deadline, timer_closed);
}

const char *wgg_grpc_call_path(const wgg_grpc_call *k) {
  const char *p = wgg_grpc_call_header(k, ":path");
  return p ? p : "";
}

/* The WGG_KH_* slot of the header name/nl, or -1. */
static int known_header(const char *name, size_t nl) {
  switch (nl) {
    case 5: return memcmp(name, ":path", 5) ? -1 : WGG_KH_PATH;
    case 7: return memcmp(name, ":method", 7) ? -1 : WGG_KH_METHOD;
    case 10: return memcmp(name, "tracestate", 10) ? -1 : WGG_KH_TRACESTATE;
    case 11: return !memcmp(name, "dapr-app-id", 11) ? WGG_KH_APPID : !memcmp(name, "traceparent", 11) ? WGG_KH_TRACEPARENT : -1;
    case 12: return !memcmp(name, "content-type", 12) ? WGG_KH_CT : !memcmp(name, "grpc-timeout", 12) ? WGG_KH_TIMEOUT : -1;
    case 13: return memcmp(name, "grpc-encoding", 13) ? -1 : WGG_KH_ENC;
    case 14: return memcmp(name, "dapr-api-token", 14) ? -1 : WGG_KH_TOKEN;
    default: return -1;
  }
}

const char *wgg_grpc_call_header(const wgg_grpc_call *k, const char *name) {
  int slot = known_header(name, strlen(name));
  if (slot >= 0) return k->known[slot] ? k->hbuf.data + k->hoff[k->known[slot] - 1][1] : NULL;
  for (size_t i = 0; i < k->n_hdrs; i++)
    if (!strcmp(k->hbuf.data + k->hoff[i][0], name)) return k->hbuf.data + k->hoff[i][1];
  return NULL;
}

int wgg_grpc_call_header_at(const wgg_grpc_call *k, size_t i, const char **name, const char **value) {
  if (i >= k->n_hdrs) return -1;
  *name = k->hbuf.data + k->hoff[i][0];
  *value = k->hbuf.data + k->hoff[i][1];
  return 0;
}

const uint8_t *wgg_grpc_call_msg(const wgg_grpc_call *k, size_t *len) {
  if (k->decompressed) { /* it came compressed */
    *len = k->plain.len;
    return (const uint8_t *)k->plain.data;
  }
  *len = k->in.len >= 5 ? k->in.len - 5 : 0;
  return k->in.len >= 5 ? (const uint8_t *)k->in.data + 5 : (const uint8_t *)"";
}

uv_loop_t *wgg_grpc_call_loop(const wgg_grpc_call *k) {
  return k->c ? k->c->srv->loop : NULL;
}

const char *wgg_grpc_call_peer(const wgg_grpc_call *k) {
  return k->c ? k->c->peer : "";
}

bool wgg_grpc_call_streaming(const wgg_grpc_call *k) {
  return k->streaming;
}

bool wgg_grpc_call_cancelled(const wgg_grpc_call *k) {
  return !k->c || !k->stream_open || k->answered;
}

int wgg_grpc_call_add_header(wgg_grpc_call *k, const char *name, const char *value) {
  if (k->n_resp_hdrs >= sizeof k->resp_hdrs / sizeof k->resp_hdrs[0]) return -1;
  hdr *h = &k->resp_hdrs[k->n_resp_hdrs];
  if (!(h->name = strdup(name)) || !(h->value = strdup(value))) {
    free(h->name);
    return -1;
  }
  k->n_resp_hdrs++;
  return 0;
}

int wgg_grpc_call_add_trailer(wgg_grpc_call *k, const char *name, const char *value) {
  if (k->n_resp_trls >= sizeof k->resp_trls / sizeof k->resp_trls[0]) return -1;
  hdr *h = &k->resp_trls[k->n_resp_trls];
  if (!(h->name = strdup(name)) || !(h->value = strdup(value))) {
    free(h->name);
    return -1;
  }
  k->n_resp_trls++;
  return 0;
}

size_t wgg_grpcs_custom_trailers(const wgg_grpc_call *k, nghttp2_nv *nv) {
  for (size_t i = 0; i < k->n_resp_trls; i++)
    nv[i] = (nghttp2_nv)NV(k->resp_trls[i].name, k->resp_trls[i].value, strlen(k->resp_trls[i].value));
  return k->n_resp_trls;
}

int wgg_grpc_call_set_details_b64(wgg_grpc_call *k, const char *b64) {
  char *out = strdup(b64);
  if (!out) return -1;
  free(k->details);
  k->details = out;
  return 0;
}

int wgg_grpc_call_set_details(wgg_grpc_call *k, const uint8_t *status, size_t len) {
  char *out = wgg_grpc_base64(status, len);
  if (!out) return -1;
  free(k->details);
  k->details = out;
  return 0;
}

/* The data source of a response: the message, then the trailers. */
static ssize_t read_out(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *user) {
  (void)user;
  wgg_grpc_call *k = src->ptr;
  size_t n = k->out_len - k->out_off;
  if (n > len) n = len;
  if (n) memcpy(buf, k->out + k->out_off, n);
  k->out_off += n;
  if (k->out_off == k->out_len) {
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    nghttp2_nv tr[3 + 8] = {{(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE}};
    size_t t = 1;
    if (k->status[0]) { /* an error after response headers of its own */
      tr[0] = (nghttp2_nv)NV("grpc-status", k->status, strlen(k->status));
      if (k->message) tr[t++] = (nghttp2_nv)NV("grpc-message", k->message, strlen(k->message));
      if (k->details) tr[t++] = (nghttp2_nv)NV("grpc-status-details-bin", k->details, strlen(k->details));
    }
    t += wgg_grpcs_custom_trailers(k, tr + t);
    if (nghttp2_submit_trailer(h2, sid, tr, t)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return (ssize_t)n;
}

/* Fills nv with the response headers of k (:status 200, content-type,
 * grpc-encoding gzip when the request was, then k's own, at most 16);
 * returns how many. */
size_t wgg_grpcs_response_head(const wgg_grpc_call *k, nghttp2_nv *nv) {
  size_t n = 0;
  nv[n++] = (nghttp2_nv)NV(":status", "200", 3);
  nv[n++] = (nghttp2_nv)NV("content-type", "application/grpc", 16);
  if (k->gzip) nv[n++] = (nghttp2_nv)NV("grpc-encoding", "gzip", 4);
  for (size_t i = 0; i < k->n_resp_hdrs; i++)
    nv[n++] = (nghttp2_nv)NV(k->resp_hdrs[i].name, k->resp_hdrs[i].value, strlen(k->resp_hdrs[i].value));
  return n;
}

/* Submits the response of k: status 0 with k->out as the message, or an
 * error: Trailers-Only (grpc-status, grpc-message, details, k's trailers),
 * or, when k has response headers of its own, those headers and then the
 * status as trailers, as grpc-go sends them. */
void wgg_grpcs_submit_answer(wgg_grpc_call *k, int code) {
  conn *c = k->c;
  k->answered = true;
  stop_timer(k);
  if (k->dispatched && c && c->srv->cfg.observe) {
    uint64_t rx = k->streaming ? 0 : k->decompressed ? k->plain.len : k->in.len > 5 ? k->in.len - 5 : 0;
    uint64_t tx = !k->streaming && code == 0 && k->out_len > 5 ? k->out_len - 5 : 0;
    c->srv->cfg.observe(wgg_grpc_call_path(k), code, uv_hrtime() - k->start_ns, rx, tx, c->srv->cfg.user);
  }
  if (!c || !k->stream_open || c->closing) return;
  if (k->streaming && (k->head_sent || code == 0)) { /* trailers after what is queued */
    k->fin = true;
    k->fin_code = code;
    /* the trailers come from the data source (OK without a message: headers first) */
    wgg_grpcs_stream_out_kick(c, k);
    wgg_grpcs_conn_flush(c);
    return;
  }
  nghttp2_nv nv[6 + 16 + 8];
  size_t n = wgg_grpcs_response_head(k, nv);
  if (code == 0) {
    nghttp2_data_provider dp = {.source.ptr = k, .read_callback = read_out};
    nghttp2_submit_response(c->h2, k->stream_id, nv, n, &dp);
  } else if (k->n_resp_hdrs) { /* headers of its own: sent apart, then the status as trailers (grpc-go) */
    snprintf(k->status, sizeof k->status, "%d", code);
    k->out_len = k->out_off = 0;
    nghttp2_data_provider dp = {.source.ptr = k, .read_callback = read_out};
    nghttp2_submit_response(c->h2, k->stream_id, nv, n, &dp);
  } else {
    snprintf(k->status, sizeof k->status, "%d", code);
    nv[n++] = (nghttp2_nv)NV("grpc-status", k->status, strlen(k->status));
    if (k->message) nv[n++] = (nghttp2_nv)NV("grpc-message", k->message, strlen(k->message));
    if (k->details) nv[n++] = (nghttp2_nv)NV("grpc-status-details-bin", k->details, strlen(k->details));
    n += wgg_grpcs_custom_trailers(k, nv + n);
    /* a request refused before its end (size limit) may still be arriving: the rest is read and
     * dropped (an RST_STREAM here makes grpc-core clients report it instead of our status) */
    nghttp2_submit_response(c->h2, k->stream_id, nv, n, NULL);
  }
  wgg_grpcs_conn_flush(c);
}

void wgg_grpcs_fail_now(wgg_grpc_call *k, int code, const char *msg) {
  free(k->message);
  k->message = wgg_grpc_percent_encode(msg);
  wgg_grpcs_submit_answer(k, code);
  wgg_grpcs_stream_peer_done(k, true);
}

void wgg_grpc_reply(wgg_grpc_call *k, const ProtobufCMessage *msg) {
  if (!k->answered) {
    size_t len = protobuf_c_message_get_packed_size(msg);
    if (k->gzip) { /* packed, then compressed into its frame */
      uint8_t *tmp = malloc(len ? len : 1);
      wgg_buf f = {0};
      if (tmp) protobuf_c_message_pack(msg, tmp);
      if (!tmp || wgg_grpcs_frame(k, tmp, len, &f)) {
        wgg_buf_free(&f);
        wgg_grpcs_fail_now(k, 13, "out of memory");
      } else {
        k->out = (uint8_t *)f.data;
        k->out_len = f.len;
        wgg_grpcs_submit_answer(k, 0);
      }
      free(tmp);
      wgg_grpcs_call_unref(k);
      return;
    }
    k->out = malloc(len + 5);
    if (!k->out) {
      wgg_grpcs_fail_now(k, 13, "out of memory");
    } else {
      k->out[0] = 0;
      k->out[1] = (uint8_t)(len >> 24);
      k->out[2] = (uint8_t)(len >> 16);
      k->out[3] = (uint8_t)(len >> 8);
      k->out[4] = (uint8_t)len;
      protobuf_c_message_pack(msg, k->out + 5);
      k->out_len = len + 5;
      wgg_grpcs_submit_answer(k, 0);
    }
  }
  wgg_grpcs_call_unref(k);
}

void wgg_grpc_fail(wgg_grpc_call *k, int code, const char *fmt, ...) {
  if (!k->answered) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wgg_grpcs_fail_now(k, code ? code : 2, msg);
  }
  wgg_grpcs_call_unref(k);
}

/* The call's timer: before the request ended, the read timeout (the stream is
 * reset, as the HTTP server drops a request that takes too long to arrive);
 * after, the grpc-timeout deadline. */
static void on_deadline(uv_timer_t *t) {
  wgg_grpc_call *k = t->data;
  if (k->answered) return;
  if (!k->dispatched) {
    k->answered = true;
    if (k->c && k->stream_open && !k->c->closing) {
      nghttp2_submit_rst_stream(k->c->h2, NGHTTP2_FLAG_NONE, k->stream_id, NGHTTP2_CANCEL);
      wgg_grpcs_conn_flush(k->c);
    }
    return;
  }
  wgg_grpcs_fail_now(k, 4, "context deadline exceeded");
}

void wgg_grpcs_arm_reads(conn *c) {
  uint64_t ms = c->srv->cfg.read_timeout_ms;
  if (!ms) return;
  for (wgg_grpc_call *k = c->calls; k; k = k->next)
    if (!k->dispatched && !k->answered && !k->timer_on) wgg_grpcs_arm_timer(k, ms);
}

/* Arms the call's timer for ms (opening it the first time). */
void wgg_grpcs_arm_timer(wgg_grpc_call *k, uint64_t ms) {
  if (!k->timer_on) {
    uv_timer_init(k->c->srv->loop, &k->deadline);
    k->deadline.data = k;
    k->timer_on = true;
    k->refs++;
  }
  uv_timer_start(&k->deadline, on_deadline, ms, 0);
}

/* Whether k's headers make a gRPC request (else it is answered with 415/405). */
bool wgg_grpcs_check_grpc(wgg_grpc_call *k) {
  const char *ct = wgg_grpc_call_header(k, "content-type");
  const char *method = wgg_grpc_call_header(k, ":method");
  if (!method || strcmp(method, "POST") || !ct || strncmp(ct, "application/grpc", 16) ||
      (ct[16] && ct[16] != '+' && ct[16] != ';')) {
    k->answered = true; /* not gRPC: a plain HTTP answer, as grpc-go's 415 */
    nghttp2_nv nv[] = {NV(":status", method && !strcmp(method, "POST") ? "415" : "405", 3)};
    nghttp2_submit_response(k->c->h2, k->stream_id, nv, 1, NULL);
    wgg_grpcs_conn_flush(k->c);
    return false;
  }
  const char *enc = wgg_grpc_call_header(k, "grpc-encoding");
  k->gzip = enc && !strcmp(enc, "gzip");
  return true;
}

int wgg_grpcs_message(wgg_grpc_call *k, const uint8_t *b, size_t len, const uint8_t **msg, size_t *mlen) {
  *msg = b + 5;
  *mlen = len;
  if (!(b[0] & 1)) return 0;
  const char *enc = wgg_grpc_call_header(k, "grpc-encoding");
  if (!k->gzip) {
    if (enc && strcmp(enc, "identity")) {
      char m[200];
      snprintf(m, sizeof m, "grpc: Decompressor is not installed for grpc-encoding \"%.100s\"", enc);
      wgg_grpc_call_add_trailer(k, "grpc-accept-encoding", "gzip"); /* what we take (compression.md) */
      wgg_grpcs_fail_now(k, 12, m);
    } else {
      wgg_grpcs_fail_now(k, 13, "grpc: compressed flag set with identity or empty encoding");
    }
    return -1;
  }
  k->plain.len = 0;
  size_t max = k->c ? k->c->srv->cfg.max_msg : 0;
  int rc = wgg_grpc_gunzip(b + 5, len, max, &k->plain);
  if (rc) {
    char m[160];
    if (rc == -2) snprintf(m, sizeof m, "grpc: received message after decompression larger than max %zu", max);
    else snprintf(m, sizeof m, "%s", rc == -3 ? "out of memory" : "grpc: failed to decompress the received message: gzip: invalid header");
    wgg_grpcs_fail_now(k, rc == -2 ? 8 : 13, m);
    return -1;
  }
  k->decompressed = true;
  *msg = k->plain.data ? (const uint8_t *)k->plain.data : (const uint8_t *)"";
  *mlen = k->plain.len;
  return 0;
}

int wgg_grpcs_frame(const wgg_grpc_call *k, const uint8_t *msg, size_t len, wgg_buf *out) {
  size_t at = out->len;
  uint8_t pre[5] = {0};
  if (wgg_buf_append(out, pre, 5)) return -1;
  if (k->gzip ? wgg_grpc_gzip(msg, len, out) : wgg_buf_append(out, msg, len)) {
    out->len = at;
    return -1;
  }
  size_t n = out->len - at - 5;
  uint8_t *p = (uint8_t *)out->data + at;
  p[0] = k->gzip ? 1 : 0;
  p[1] = (uint8_t)(n >> 24);
  p[2] = (uint8_t)(n >> 16);
  p[3] = (uint8_t)(n >> 8);
  p[4] = (uint8_t)n;
  return 0;
}

/* The request is complete: check its framing and hand it to the handler. */
static void dispatch(wgg_grpc_call *k) {
  if (!wgg_grpcs_check_grpc(k)) return;
  const uint8_t *b = (const uint8_t *)k->in.data;
  if (k->in.len < 5) {
    wgg_grpcs_fail_now(k, 13, "grpc: the request has no message");
    return;
  }
  size_t len = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
  if (len != k->in.len - 5) {
    wgg_grpcs_fail_now(k, 13, len > k->in.len - 5 ? "grpc: the message is incomplete" : "grpc: more than one message in a unary call");
    return;
  }
  const uint8_t *msg;
  size_t mlen;
  if (wgg_grpcs_message(k, b, len, &msg, &mlen)) return;
  k->dispatched = true;
  k->start_ns = uv_hrtime();
  k->refs++; /* the handler's */
  k->c->srv->cfg.handler(k, k->c->srv->cfg.user);
  wgg_grpcs_drop_input(k); /* the handler has decoded what it needs */
}

/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
  conn *c = user;
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  wgg_grpc_call *k = calloc(1, sizeof *k);
  if (!k) return NGHTTP2_ERR_CALLBACK_FAILURE;
  k->c = c;
  k->stream_id = f->hd.stream_id;
  k->refs = 1; /* the stream's */
  k->stream_open = true;
  k->next = c->calls;
  if (c->calls) c->calls->prev = k;
  c->calls = k;
  nghttp2_session_set_stream_user_data(h2, f->hd.stream_id, k);
  uv_timer_stop(&c->idle);
  return 0; /* the read timeout is armed only if the request is still incomplete after this read (wgg_grpcs_arm_reads) */
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *user) {
  (void)flags;
  conn *c = user;
  wgg_grpc_call *k = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
  if (!k || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0; /* trailers: ignored */
  k->head_bytes += nl + vl + 32;
  if (k->head_bytes > c->srv->cfg.max_head || k->n_hdrs >= MAX_HEADERS) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  k->hoff[k->n_hdrs][0] = k->hbuf.len;
  k->hoff[k->n_hdrs][1] = k->hbuf.len + nl + 1;
  char small[256]; /* "name\0value\0" in one append when it fits (the common case) */
  if (nl + vl + 2 <= sizeof small) {
    memcpy(small, name, nl);
    small[nl] = '\0';
    memcpy(small + nl + 1, value, vl);
    small[nl + 1 + vl] = '\0';
    if (wgg_buf_append(&k->hbuf, small, nl + vl + 2)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  } else if (wgg_buf_append(&k->hbuf, name, nl) || wgg_buf_append(&k->hbuf, "", 1) ||
             wgg_buf_append(&k->hbuf, value, vl) || wgg_buf_append(&k->hbuf, "", 1)) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  int slot = known_header((const char *)name, nl);
  if (slot >= 0 && !k->known[slot]) k->known[slot] = (uint8_t)(k->n_hdrs + 1); /* the first one, as a scan finds */
  k->n_hdrs++;
  return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t sid, const uint8_t *data, size_t len,
                         void *user) {
  (void)flags;
  conn *c = user;
  wgg_grpc_call *k = nghttp2_session_get_stream_user_data(h2, sid);
  if (!k || k->answered) return 0;
  size_t max = c->srv->cfg.max_msg;
  /* every stream may buffer up to max, and the window updates keep coming: bound the sum per connection */
  size_t budget = max * 16 > (64u << 20) ? max * 16 : (64u << 20);
  if (c->in_held + len > budget) {
    k->failed_early = true;
    wgg_grpcs_drop_input(k);
    wgg_grpcs_fail_now(k, 8, "grpc: too many request bytes in flight on this connection");
    return 0;
  }
  if (wgg_buf_append(&k->in, data, len)) {
    wgg_grpcs_drop_input(k);
    wgg_grpcs_fail_now(k, 8, "out of memory");
    return 0;
  }
  c->in_held += len;
  if (k->in.len >= 5) {
    const uint8_t *b = (const uint8_t *)k->in.data;
    size_t mlen = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
    if (mlen > max) {
      char m[160];
      snprintf(m, sizeof m, "grpc: received message larger than max (%zu vs. %zu)", mlen, max);
      k->failed_early = true;
      wgg_grpcs_fail_now(k, 8, m);
      wgg_grpcs_drop_input(k);
    } else if (k->streaming) {
      wgg_grpcs_stream_messages(k);
    } else if (k->in.len > mlen + 5 + 5 + max) { /* a stream of messages on a unary method */
      k->failed_early = true;
      wgg_grpcs_fail_now(k, 13, "grpc: more than one message in a unary call");
      wgg_grpcs_drop_input(k);
    }
  }
  return 0;
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
  conn *c = user;
  if (f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) return 0;
  wgg_grpc_call *k = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
  if (k && !k->dispatched && !k->answered && f->hd.type == NGHTTP2_HEADERS &&
      f->headers.cat == NGHTTP2_HCAT_REQUEST && c->srv->cfg.streaming &&
      c->srv->cfg.streaming(k, c->srv->cfg.user)) {
    wgg_grpcs_dispatch_stream(k);
  }
  if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
  if (k && k->streaming) {
    wgg_grpcs_stream_peer_done(k, false);
    return 0;
  }
  if (!k || k->answered || k->dispatched) return 0;
  const char *t = wgg_grpc_call_header(k, "grpc-timeout");
  int64_t ms = t ? wgg_grpc_parse_timeout(t) : -1;
  if (ms >= 0) {
    if (ms == 0) {
      wgg_grpcs_fail_now(k, 4, "context deadline exceeded");
      return 0;
    }
    wgg_grpcs_arm_timer(k, (uint64_t)ms);
  } else if (k->timer_on) {
    uv_timer_stop(&k->deadline); /* the read timeout is over; the handle closes with the call */
  }
  dispatch(k);
  return 0;
}

/* The stream of k is gone (closed, reset, or its connection ended). */
void wgg_grpcs_stream_gone(conn *c, wgg_grpc_call *k) {
  if (k->prev) k->prev->next = k->next;
  else c->calls = k->next;
  if (k->next) k->next->prev = k->prev;
  k->prev = k->next = NULL;
  k->stream_open = false;
  wgg_grpcs_drop_input(k);
  stop_timer(k);
  wgg_grpcs_stream_peer_done(k, true);
  wgg_grpcs_call_unref(k);
}

static int on_stream_close(nghttp2_session *h2, int32_t sid, uint32_t code, void *user) {
  (void)code;
  conn *c = user;
  wgg_grpc_call *k = nghttp2_session_get_stream_user_data(h2, sid);
  if (k) {
    nghttp2_session_set_stream_user_data(h2, sid, NULL);
    wgg_grpcs_stream_gone(c, k);
  }
  return 0;
}

void wgg_grpcs_set_callbacks(nghttp2_session_callbacks *cb) {
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
}
