/*
 * server_internal.h: shared by the gRPC server's files: server.c
 * (connections, listening, drain), server_call.c (a call's life, unary
 * answers, the nghttp2 callbacks) and server_stream.c (streaming calls).
 * A call lives from its HEADERS frame until both the stream is closed and its
 * handler has answered (two references; a third while its timer is open).
 */
#ifndef WGG_GRPC_SERVER_INTERNAL_H
#define WGG_GRPC_SERVER_INTERNAL_H

#include <nghttp2/nghttp2.h>

#include "grpc/server.h"
#include "util/acceptor.h"
#include "util/buf.h"

enum { MAX_STREAMS = 100, MAX_HEADERS = 64, OUT_HIGH_WATER = 1 << 20 };

/* The request headers looked up on every call (wgg_grpc_call_header finds them
 * without a scan of the call's headers). */
enum { WGG_KH_PATH, WGG_KH_METHOD, WGG_KH_CT, WGG_KH_ENC, WGG_KH_TIMEOUT, WGG_KH_APPID, WGG_KH_TOKEN,
       WGG_KH_TRACEPARENT, WGG_KH_TRACESTATE, WGG_KH_N };

typedef struct conn conn;

typedef struct hdr {
  char *name, *value;
} hdr;

struct wgg_grpc_call {
  conn *c;           /* NULL once the connection is gone */
  wgg_grpc_call *prev, *next; /* in c->calls while the stream is open */
  int32_t stream_id;
  int refs;          /* stream + handler (+ timer while open) */
  bool dispatched;   /* the handler has it */
  bool answered;     /* a response was submitted (or the stream is gone) */
  bool stream_open;
  bool failed_early; /* answered before the request ended (size limit...) */
  size_t hoff[MAX_HEADERS][2]; /* offsets of name and value in hbuf (NUL-terminated) */
  size_t n_hdrs, head_bytes;
  uint8_t known[WGG_KH_N]; /* the headers every call looks up: 1 + their index, 0 when absent */
  wgg_buf hbuf;
  wgg_buf in;        /* the request body: prefix + message */
  wgg_buf plain;     /* the message decompressed, when it came compressed */
  bool gzip;         /* grpc-encoding gzip: compressed messages in, and out */
  bool decompressed; /* the unary request's message is in plain */
  uint8_t *out;      /* the response: prefix + message */
  size_t out_len, out_off;
  char status[4];
  char *message;     /* grpc-message, percent-encoded */
  char *details;     /* grpc-status-details-bin, base64, or NULL */
  hdr resp_hdrs[16];
  size_t n_resp_hdrs;
  hdr resp_trls[8]; /* custom trailers (wgg_grpc_call_add_trailer) */
  size_t n_resp_trls;
  uv_timer_t deadline;
  bool timer_on;
  uint64_t start_ns; /* uv_hrtime() at dispatch */
  /* streaming (wgg_grpc_stream_*) */
  bool streaming;       /* dispatched at its HEADERS; messages both ways */
  bool head_sent;       /* the response HEADERS and its data source are submitted */
  bool deferred;        /* the data source waits for more output */
  bool fin;             /* wgg_grpc_stream_finish called: trailers after the output */
  bool peer_done;       /* the client half-closed (or the stream is gone): on_end was called */
  bool gone_told;       /* on_end was called with gone true */
  wgg_buf sout;         /* output messages not yet taken by nghttp2 */
  size_t sout_off;
  int fin_code;
  wgg_grpc_stream_msg_fn on_msg;
  wgg_grpc_stream_end_fn on_end;
  void *sctx;
};

struct conn {
  wgg_grpc_server *srv;
  uv_tcp_t tcp;
  nghttp2_session *h2;
  uv_timer_t idle;
  conn *prev, *next;
  wgg_grpc_call *calls; /* calls whose stream is open */
  wgg_buf scratch;      /* output being collected by wgg_grpcs_conn_flush */
  size_t out_queued; /* bytes handed to uv_write, not yet written */
  size_t in_held;    /* request bytes buffered by this connection's calls */
  bool reading, closing;
  bool in_recv; /* inside nghttp2_session_mem_recv: on_read flushes once after it */
  bool dead;    /* GOAWAY sent after an error: reading and dropping until EOF, then closed */
  char peer[64];
};

typedef struct listener {
  wgg_acceptor *acc;
  struct listener *next;
} listener;

struct wgg_grpc_server {
  uv_loop_t *loop;
  wgg_grpc_server_config cfg;
  listener *listeners;
  conn *conns;
  bool draining;
};

#define NV(n, v, vl) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), (vl), NGHTTP2_NV_FLAG_NONE}

/* server_call.c */
/* Drops one reference of k; frees it at zero. */
void wgg_grpcs_call_unref(wgg_grpc_call *k);
/* Releases the request bytes of k (after its handler ran, or when it ends early). */
void wgg_grpcs_drop_input(wgg_grpc_call *k);
/* Arms the call's timer for ms (opening it the first time). */
void wgg_grpcs_arm_timer(wgg_grpc_call *k, uint64_t ms);

/* Arms the read timeout (read_timeout_ms) of every call of c whose request is
 * still incomplete after a read: a request that arrives whole in one read (the
 * common unary call) never opens a timer. */
void wgg_grpcs_arm_reads(conn *c);
/* Whether k's headers make a gRPC request (else it is answered with 415/405). */
bool wgg_grpcs_check_grpc(wgg_grpc_call *k);

/* The message of one length-prefixed frame b (its 5-byte prefix included,
 * len the message's length): as it is, or decompressed into k->plain when
 * its compressed flag is set and the call's grpc-encoding is gzip
 * (grpc/doc/compression.md). 0 with msg and mlen set, or -1 after failing the
 * call as grpc-go does (UNIMPLEMENTED for an encoding we lack, INTERNAL for
 * a flag without encoding or a corrupt stream, RESOURCE_EXHAUSTED beyond
 * max_msg once decompressed). */
int wgg_grpcs_message(wgg_grpc_call *k, const uint8_t *b, size_t len, const uint8_t **msg, size_t *mlen);

/* Appends msg as one length-prefixed frame to out, gzip-compressed (flag
 * set) when the call's request was. 0, or -1 on OOM. */
int wgg_grpcs_frame(const wgg_grpc_call *k, const uint8_t *msg, size_t len, wgg_buf *out);
/* Submits the answer of k with status code (see server_call.c). */
void wgg_grpcs_submit_answer(wgg_grpc_call *k, int code);
/* Answers k with code and msg (not yet encoded) now, and ends its stream part. */
void wgg_grpcs_fail_now(wgg_grpc_call *k, int code, const char *msg);
/* Fills nv with the response headers of k (:status 200, content-type, then
 * k's own, at most 16); returns how many. */
size_t wgg_grpcs_response_head(const wgg_grpc_call *k, nghttp2_nv *nv);
/* Fills nv with k's custom trailers (at most 8); returns how many. */
size_t wgg_grpcs_custom_trailers(const wgg_grpc_call *k, nghttp2_nv *nv);
/* The stream of k is gone (closed, reset, or its connection ended). */
void wgg_grpcs_stream_gone(conn *c, wgg_grpc_call *k);
/* Sets the nghttp2 callbacks of a server session (user data: the conn). */
void wgg_grpcs_set_callbacks(nghttp2_session_callbacks *cb);

/* server_stream.c */
/* Lets a streaming response's queued output go (see server_stream.c). */
int wgg_grpcs_stream_out_kick(conn *c, wgg_grpc_call *k);
/* Tells the handler's owner, once, that no more messages come. */
void wgg_grpcs_stream_peer_done(wgg_grpc_call *k, bool gone);
/* Hands every complete message buffered in k->in to the handler's on_msg. */
void wgg_grpcs_stream_messages(wgg_grpc_call *k);
/* A streaming method's HEADERS arrived: the handler gets the call now. */
void wgg_grpcs_dispatch_stream(wgg_grpc_call *k);

/* server.c */
/* Writes what nghttp2 has to send; closes the connection when the session is over. */
void wgg_grpcs_conn_flush(conn *c);
/* Closes c now (its calls' answers go nowhere). */
void wgg_grpcs_conn_close(conn *c);

#endif
