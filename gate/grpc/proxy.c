/*
 * proxy.c: gRPC proxying as daprd does it (dapr pkg/api/grpc/proxy): a call
 * to the sidecar for a method outside the Dapr service, carrying the
 * `dapr-app-id` metadata, is relayed to that app: to the app's sidecar when
 * the ID is another app's (its gRPC address from name resolution, the
 * caller's app ID, namespace and API token added as for an HTTP hop, marked
 * `wasmgate-hop`), or to this sidecar's own app when it speaks gRPC
 * (`--app-protocol grpc`/`h2c`: the app channel's address and port).
 *
 * A relayed call is a streaming call on the server side (grpc/server.h,
 * wgg_grpc_stream_*) and a request on an HTTP/2 client session of its own
 * (nghttp2 over a uv_tcp_t, h2c with prior knowledge) on the other: each
 * client message is framed onto the upstream request as it comes, the
 * client's half-close ends the request, each upstream message is sent back
 * as it comes, and the upstream's response metadata, grpc-status,
 * grpc-message and grpc-status-details-bin are passed back unchanged. So
 * unary and streaming methods go the same way. A caller that goes away
 * resets the upstream stream; an upstream that goes away ends the call with
 * UNAVAILABLE. One connection per call (no pooling yet).
 */
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/invoke_path.h"
#include "api/mesh.h"
#include "components/nameres/nameres.h"
#include "grpc/dapr_internal.h"
#include "util/buf.h"
#include "util/log.h"

enum { MAX_FWD_HEADERS = 48, OUT_LIMIT = 64 << 20 };

typedef struct relay {
  wgg_api *api;
  wgg_grpc_call *call; /* NULL once finished */
  uv_loop_t *loop;
  char app_id[256];
  char *path;
  char *hname[MAX_FWD_HEADERS], *hvalue[MAX_FWD_HEADERS];
  size_t nh;
  char addr[200], host[160], authority[200];
  int port;
  wgg_err rerr;
  int rrc;
  uv_tcp_t tcp;
  uv_connect_t creq;
  bool tcp_init, tcp_closed, connected;
  nghttp2_session *h2;
  int32_t sid;
  wgg_buf out; /* framed request messages not yet taken by nghttp2 */
  size_t out_off;
  bool out_eof, deferred, submitted;
  wgg_buf in;  /* response DATA not yet cut into messages */
  int status;  /* grpc-status seen, or -1 */
  char *message;
  bool waiting_resolve;
} relay;

static void relay_maybe_free(relay *r) {
  if (r->call || (r->tcp_init && !r->tcp_closed) || r->waiting_resolve) return;
  for (size_t i = 0; i < r->nh; i++) free(r->hname[i]), free(r->hvalue[i]);
  if (r->h2) nghttp2_session_del(r->h2);
  wgg_buf_free(&r->out);
  wgg_buf_free(&r->in);
  free(r->message);
  free(r->path);
  free(r);
}

static void tcp_closed(uv_handle_t *h) {
  relay *r = h->data;
  r->tcp_closed = true;
  relay_maybe_free(r);
}

static void close_upstream(relay *r) {
  if (r->tcp_init && !uv_is_closing((uv_handle_t *)&r->tcp)) uv_close((uv_handle_t *)&r->tcp, tcp_closed);
}

/* Ends the caller's call (once) with code and msg, and the upstream side. */
static void finish(relay *r, int code, const char *msg) {
  wgg_grpc_call *call = r->call;
  r->call = NULL;
  if (call) {
    wgg_grpc_stream_set(call, NULL, NULL, NULL);
    wgg_grpc_stream_finish(call, code, "%s", msg ? msg : "");
  }
  close_upstream(r);
  relay_maybe_free(r);
}

static void fail(relay *r, int code, const char *fmt, const char *a, const char *b) {
  char m[700];
  snprintf(m, sizeof m, fmt, a, b);
  finish(r, code, m);
}

/* ---- the upstream HTTP/2 session ---- */

typedef struct wreq {
  uv_write_t w;
  relay *r;
  char data[];
} wreq;

static void on_written(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

static void flush(relay *r) {
  if (!r->h2 || !r->connected || uv_is_closing((uv_handle_t *)&r->tcp)) return;
  for (;;) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(r->h2, &data);
    if (n <= 0) {
      if (n < 0) fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: %s%s", nghttp2_strerror((int)n), "");
      return;
    }
    wreq *w = malloc(sizeof *w + (size_t)n);
    if (!w) {
      fail(r, WGG_GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: %s%s", "out of memory", "");
      return;
    }
    memcpy(w->data, data, (size_t)n);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->w, (uv_stream_t *)&r->tcp, &b, 1, on_written)) {
      free(w);
      fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: %s%s", "write failed", "");
      return;
    }
  }
}

static ssize_t read_out(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *user) {
  (void)h2, (void)sid, (void)user;
  relay *r = src->ptr;
  size_t n = r->out.len - r->out_off;
  if (n > len) n = len;
  if (n) memcpy(buf, r->out.data + r->out_off, n);
  r->out_off += n;
  if (r->out_off == r->out.len) {
    r->out.len = r->out_off = 0;
    if (r->out_eof) *flags |= NGHTTP2_DATA_FLAG_EOF;
    else if (!n) {
      r->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
  }
  return (ssize_t)n;
}

static void kick(relay *r) {
  if (r->submitted && r->deferred) {
    r->deferred = false;
    nghttp2_session_resume_data(r->h2, r->sid);
  }
  flush(r);
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t nl, const uint8_t *value,
                     size_t vl, uint8_t flags, void *user) {
  (void)h2, (void)flags;
  relay *r = user;
  if (f->hd.type != NGHTTP2_HEADERS || f->hd.stream_id != r->sid || !r->call) return 0;
  char n[128], *v = strndup((const char *)value, vl);
  if (!v) return NGHTTP2_ERR_CALLBACK_FAILURE;
  snprintf(n, sizeof n, "%.*s", (int)nl, (const char *)name);
  if (!strcmp(n, "grpc-status")) {
    r->status = atoi(v);
  } else if (!strcmp(n, "grpc-message")) {
    size_t dl;
    free(r->message);
    r->message = wgg_pct_decode(v, vl, false, &dl);
  } else if (!strcmp(n, "grpc-status-details-bin")) {
    wgg_grpc_call_set_details_b64(r->call, v);
  } else if (n[0] != ':' && strcmp(n, "content-type") && strncmp(n, "grpc-", 5)) {
    /* the app's metadata: response headers (at most 16), trailers (at most 8); a Trailers-Only
     * answer's go with its status, as trailers */
    bool trailer = f->headers.cat != NGHTTP2_HCAT_RESPONSE || (f->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (trailer) wgg_grpc_call_add_trailer(r->call, n, v);
    else wgg_grpc_call_add_header(r->call, n, v);
  }
  free(v);
  return 0;
}

static int on_data(nghttp2_session *h2, uint8_t flags, int32_t sid, const uint8_t *data, size_t len, void *user) {
  (void)h2, (void)flags;
  relay *r = user;
  if (sid != r->sid || !r->call) return 0;
  if (wgg_buf_append(&r->in, data, len)) return NGHTTP2_ERR_CALLBACK_FAILURE;
  size_t off = 0;
  while (r->call && r->in.len - off >= 5) {
    const uint8_t *b = (const uint8_t *)r->in.data + off;
    size_t ml = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
    if (r->in.len - off - 5 < ml) break;
    if (b[0] & 1) {
      finish(r, WGG_GRPC_INTERNAL, "failed to proxy request: the upstream sent a compressed message");
      return 0;
    }
    wgg_grpc_stream_send_raw(r->call, b + 5, ml); /* a failure: the caller is going away */
    off += 5 + ml;
    if (r->call && wgg_grpc_stream_queued(r->call) > OUT_LIMIT) { /* the caller does not read: no unbounded queue */
      finish(r, WGG_GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: the caller does not take the messages");
      return 0;
    }
  }
  if (off) {
    memmove(r->in.data, r->in.data + off, r->in.len - off);
    r->in.len -= off;
  }
  return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t sid, uint32_t code, void *user) {
  (void)h2;
  relay *r = user;
  if (sid != r->sid) return 0;
  if (r->status >= 0) {
    finish(r, r->status, r->message ? r->message : "");
  } else {
    char why[64];
    snprintf(why, sizeof why, "stream closed with HTTP/2 error %u", code);
    fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: the upstream %s%s", why, "");
  }
  return 0;
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)h, (void)hint;
  static __thread char buf[65536];
  *b = uv_buf_init(buf, sizeof buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  relay *r = s->data;
  if (n == 0) return;
  if (n < 0) {
    if (r->status >= 0) finish(r, r->status, r->message ? r->message : "");
    else fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: connection to %s closed: %s", r->addr, uv_strerror((int)n));
    return;
  }
  ssize_t rv = nghttp2_session_mem_recv(r->h2, (const uint8_t *)b->base, (size_t)n);
  if (rv < 0) {
    fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: %s: %s", r->addr, nghttp2_strerror((int)rv));
    return;
  }
  flush(r);
}

static void on_connect(uv_connect_t *c, int status) {
  relay *r = c->data;
  if (!r->call) { /* the caller went away meanwhile */
    close_upstream(r);
    return;
  }
  if (status < 0) {
    fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: cannot reach %s: %s", r->addr, uv_strerror(status));
    return;
  }
  r->connected = true;
  uv_tcp_nodelay(&r->tcp, 1);
  nghttp2_session_callbacks *cb;
  if (nghttp2_session_callbacks_new(&cb)) {
    finish(r, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  int rc = nghttp2_session_client_new(&r->h2, cb, r);
  nghttp2_session_callbacks_del(cb);
  if (rc) {
    finish(r, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}, {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
  nghttp2_submit_settings(r->h2, NGHTTP2_FLAG_NONE, iv, 2);
  nghttp2_nv nv[5 + MAX_FWD_HEADERS];
  size_t n = 0;
#define NVS(a, b) (nghttp2_nv){(uint8_t *)(a), (uint8_t *)(b), strlen(a), strlen(b), NGHTTP2_NV_FLAG_NONE}
  nv[n++] = NVS(":method", "POST");
  nv[n++] = NVS(":scheme", "http");
  nv[n++] = NVS(":path", r->path);
  nv[n++] = NVS(":authority", r->authority);
  for (size_t i = 0; i < r->nh; i++) nv[n++] = NVS(r->hname[i], r->hvalue[i]);
#undef NVS
  nghttp2_data_provider dp = {.source.ptr = r, .read_callback = read_out};
  r->sid = nghttp2_submit_request(r->h2, NULL, nv, n, &dp, r);
  if (r->sid < 0) {
    fail(r, WGG_GRPC_INTERNAL, "failed to proxy request: %s%s", nghttp2_strerror(r->sid), "");
    return;
  }
  r->submitted = true;
  uv_read_start((uv_stream_t *)&r->tcp, alloc_cb, on_read);
  kick(r);
}

/* Connects to r->addr ("host:port", "[v6]:port"; numeric). */
static void connect_to(relay *r) {
  const char *colon = strrchr(r->addr, ':');
  const char *h = r->addr;
  size_t hl = colon ? (size_t)(colon - h) : 0;
  if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') h++, hl -= 2;
  struct sockaddr_storage ss;
  if (!colon || hl >= sizeof r->host) {
    fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: invalid address %s%s", r->addr, "");
    return;
  }
  memcpy(r->host, h, hl);
  r->host[hl] = '\0';
  r->port = atoi(colon + 1);
  snprintf(r->authority, sizeof r->authority, "%s", r->addr);
  int rc = strchr(r->host, ':') ? uv_ip6_addr(r->host, r->port, (struct sockaddr_in6 *)&ss)
                                : uv_ip4_addr(r->host, r->port, (struct sockaddr_in *)&ss);
  if (rc || r->port <= 0 || r->port > 65535) {
    fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: invalid address %s%s", r->addr, "");
    return;
  }
  uv_tcp_init(r->loop, &r->tcp);
  r->tcp.data = r;
  r->tcp_init = true;
  r->creq.data = r;
  if ((rc = uv_tcp_connect(&r->creq, &r->tcp, (struct sockaddr *)&ss, on_connect)))
    fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: cannot reach %s: %s", r->addr, uv_strerror(rc));
}

static void resolve_work(void *p) {
  relay *r = p;
  r->rrc = wgg_nameres_resolve_grpc(r->api->nameres, r->app_id, r->addr, sizeof r->addr, &r->rerr);
}

static void resolve_done(void *p) {
  relay *r = p;
  r->waiting_resolve = false;
  if (!r->call) {
    relay_maybe_free(r);
    return;
  }
  if (r->rrc) {
    char m[600];
    snprintf(m, sizeof m, "%.200s (name resolution %s: %.300s)", r->app_id, wgg_nameres_kind(r->api->nameres),
             r->rerr.msg);
    fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: couldn't find service: %s%s", m, "");
    return;
  }
  connect_to(r);
}

/* ---- the caller's side ---- */

static void on_msg(wgg_grpc_call *call, const uint8_t *msg, size_t len, void *ctx) {
  (void)call;
  relay *r = ctx;
  uint8_t pre[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  if (r->out.len + len + 5 > OUT_LIMIT || wgg_buf_append(&r->out, pre, 5) || wgg_buf_append(&r->out, msg, len)) {
    finish(r, WGG_GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: the upstream does not take the messages");
    return;
  }
  kick(r);
}

static void on_end(wgg_grpc_call *call, bool gone, void *ctx) {
  (void)call;
  relay *r = ctx;
  if (!gone) { /* the caller's half-close ends the upstream request */
    r->out_eof = true;
    kick(r);
    return;
  }
  if (r->h2 && r->submitted) {
    nghttp2_submit_rst_stream(r->h2, NGHTTP2_FLAG_NONE, r->sid, NGHTTP2_CANCEL);
    flush(r);
  }
  finish(r, WGG_GRPC_CANCELLED, "context canceled");
}

bool wgg_grpc_proxy_wanted(const wgg_grpc_call *call) {
  const char *path = wgg_grpc_call_path(call);
  if (!strncmp(path, "/dapr.proto.runtime.v1.Dapr/", 28) || !strncmp(path, "/grpc.health.v1.Health/", 23) ||
      wgg_grpc_is_reflection(path)) /* daprd proxies unknown services only */
    return false;
  const char *id = wgg_grpc_call_header(call, "dapr-app-id");
  return id && *id;
}

/* Metadata not forwarded: HTTP/2 pseudo-headers and connection-level
 * ones, what the sidecar sets itself, and the caller's compression (its
 * messages arrive decompressed and go on plain, and the upstream is to
 * answer plain: the server compresses the answers for a gzip caller). */
static bool dropped(const char *name) {
  static const char *const names[] = {"dapr-api-token", WGG_HOP_HEADER, "dapr-caller-app-id", "dapr-callee-app-id",
                                      "dapr-caller-namespace", "dapr-caller-trust-domain", "connection", "host",
                                      "keep-alive", "transfer-encoding", "upgrade", "proxy-connection",
                                      "grpc-encoding", "grpc-accept-encoding"};
  if (name[0] == ':') return true;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcasecmp(name, names[i])) return true;
  return false;
}

static int add_header(relay *r, const char *name, const char *value) {
  if (r->nh >= MAX_FWD_HEADERS) return 0; /* the rest is dropped */
  if (!(r->hname[r->nh] = strdup(name)) || !(r->hvalue[r->nh] = strdup(value))) {
    free(r->hname[r->nh]);
    return -1;
  }
  r->nh++;
  return 0;
}

void wgg_grpc_proxy(wgg_api *api, wgg_grpc_call *call) {
  const wgg_options *o = api->opts;
  relay *r = calloc(1, sizeof *r);
  if (!r || !(r->path = strdup(wgg_grpc_call_path(call)))) {
    free(r);
    wgg_grpc_stream_finish(call, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  r->api = api;
  r->call = call;
  r->loop = wgg_grpc_call_loop(call);
  r->status = -1;
  snprintf(r->app_id, sizeof r->app_id, "%s", wgg_grpc_call_header(call, "dapr-app-id"));
  wgg_grpc_stream_set(call, on_msg, on_end, r);
  bool hop = wgg_grpc_call_header(call, WGG_HOP_HEADER) != NULL;
  bool own = !strcmp(r->app_id, o->app_id ? o->app_id : "");
  /* the caller's metadata, then the sidecar's own */
  int rc = 0;
  for (size_t i = 0; rc == 0; i++) {
    const char *name, *value;
    if (wgg_grpc_call_header_at(call, i, &name, &value)) break;
    if (!dropped(name)) rc = add_header(r, name, value);
  }
  if (!own) {
    const char *ns = getenv("NAMESPACE");
    rc |= add_header(r, WGG_HOP_HEADER, "1");
    if (o->app_id && *o->app_id) rc |= add_header(r, "dapr-caller-app-id", o->app_id);
    rc |= add_header(r, "dapr-callee-app-id", r->app_id);
    rc |= add_header(r, "dapr-caller-namespace", ns && *ns ? ns : "default");
    if (o->api_token && *o->api_token) rc |= add_header(r, "dapr-api-token", o->api_token);
  } else if (hop) { /* the app sees who called, as over HTTP */
    const char *caller = wgg_grpc_call_header(call, "dapr-caller-app-id");
    if (caller) rc |= add_header(r, "dapr-caller-app-id", caller);
  }
  if (rc) {
    finish(r, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  if (own) {
    const char *proto = o->app_protocol ? o->app_protocol : "http";
    if (!wgg_options_has_app(o) || (strcmp(proto, "grpc") && strcmp(proto, "h2c"))) {
      fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: the app %s does not serve gRPC (--app-protocol %s)",
           r->app_id, wgg_options_has_app(o) ? proto : "none");
      return;
    }
    bool v6 = strchr(o->app_channel_address, ':') != NULL;
    snprintf(r->addr, sizeof r->addr, v6 ? "[%s]:%d" : "%s:%d", o->app_channel_address, o->app_port);
    connect_to(r);
    return;
  }
  if (hop) { /* a stale registration sent another app's call here */
    fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: the call for app %s reached the sidecar of app %s",
         r->app_id, o->app_id && *o->app_id ? o->app_id : "(none)");
    return;
  }
  if (!api->nameres) {
    fail(r, WGG_GRPC_UNAVAILABLE, "failed to proxy request: couldn't find service: %s%s", r->app_id, "");
    return;
  }
  r->waiting_resolve = true;
  if (wgg_api_submit(r->loop, true, r, resolve_work, resolve_done)) {
    r->waiting_resolve = false;
    finish(r, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
  }
}
