/*
 * server_internal.h: internal to the HTTP server (gate/http/server_*.c; the
 * public API is server.h). The connection and server structures and the
 * functions the server's files call across each other:
 *   server.c        the server, connections (accept, read, the request
 *                   state machine `wgg_hs_drive`, timers, close)
 *   server_parse.c  http-parser callbacks: the request head, framing checks,
 *                   building wgg_http_req
 *   server_write.c  the write queue and answers (wgg_http_respond,
 *                   wgg_http_stream_*)
 *   server_body.c   request bodies streamed after dispatch (stream_body,
 *                   wgg_http_req_body_*)
 *   server_linger.c the lingering close after error answers
 * Everything here runs on the server's loop thread.
 */
#ifndef WGG_HTTP_SERVER_INTERNAL_H
#define WGG_HTTP_SERVER_INTERNAL_H

#include <http_parser.h>

#include "http/server.h"
#include "util/acceptor.h"
#include "util/buf.h"

enum timer_mode { T_NONE, T_IDLE, T_HEAD, T_BODY, T_WRITE, T_LINGER };

/* Responses queued for a connection (written by libuv as the client reads)
 * above which the next pipelined request is not parsed: a client that
 * pipelines and never reads holds at most this much, not every answer. */
#define WRITE_HIGH_BYTES (1u << 20)
#define WRITE_HIGH_COUNT 64

/* A listening socket (util/acceptor.h: accepts with an EMFILE back-off). */
typedef struct listener {
  wgg_acceptor *acc;
  struct listener *next;
} listener;

struct wgg_http_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  struct wgg_http_server *srv;
  wgg_http_conn *prev, *next;
  http_parser parser;
  char *in;
  size_t in_len, in_off, in_cap;
  /* the request being parsed */
  wgg_buf url, body;
  bool in_field, in_value; /* a header field's name / value is being read into hdrs */
  size_t fstart, vstart;   /* where in hdrs its name / value begins */
  size_t head_bytes;
  wgg_buf hdrs; /* name\0value\0 pairs (the last one may be unfinished: in_field) */
  size_t n_hdrs;
  int n_host, n_te; /* Host and Transfer-Encoding fields seen */
  int fail_status;    /* 400 / 413 / 431 / 501 / 505 set by a callback before failing the parse */
  const char *fail_msg; /* its text (static), NULL for the reason phrase */
  wgg_http_req *ready; /* parsed, waiting for dispatch */
  wgg_http_req *inflight;
  uint64_t msg_start; /* uv_now when the current request began */
  uint64_t fed;       /* bytes of input the parser has consumed on this connection */
  uint64_t msg_base;  /* fed when the current request began (after the previous one) */
  bool in_head;       /* between the first byte of a request and the end of its head */
  bool head_pause;    /* the parser paused at the end of a head (drive checks its size) */
  bool expect_continue; /* answer "100 Continue" once the head is accepted */
  char peer[64];      /* the client's "ip:port" */
  int timer_mode;
  uint64_t deadline;  /* uv_now when timer_mode's timeout passes, 0: none (wgg_hs_arm) */
  uint64_t timer_due; /* uv_now when the libuv timer fires, 0: not started */
  int open_handles; /* tcp + timer */
  int pending_writes;
  size_t queued_bytes; /* bytes of the pending writes */
  bool write_paused;   /* parsing stopped until the queue drains (see drive) */
  bool close_when_written;
  bool lingering, shut_down; /* lingering close (fail_conn) and its write-side shutdown sent */
  size_t linger_bytes;       /* input discarded while lingering */
  uv_shutdown_t shutdown_req;
  bool closing, want_close, eof, driving, reading;
  /* a streamed answer (wgg_http_stream_begin ... _end) */
  bool streaming, stream_chunked;
  int stream_status;
  int64_t stream_left; /* bytes still due under a Content-Length */
  void (*drain_fn)(void *);
  void *drain_user;
  /* a request body streamed after dispatch (cfg.stream_body; wgg_http_req_body_read) */
  bool head_has_body;   /* the head just parsed announces a body */
  bool stream_later;    /* a chunked body the handler wants streamed, once it passes stream_body_min */
  bool stream_now;      /* ... it did: drive dispatches it (the prefix becomes the first piece) */
  bool body_streaming;  /* the in-flight request's body is still being parsed */
  bool body_paused;     /* its reader asked for a pause */
  bool body_msg_done;   /* the parser reached its end (delivered by drive) */
  wgg_http_body_cbs bcb; /* its reader; on_end == NULL while none */
  void *buser;
  size_t body_seen;     /* body bytes parsed (against max_body) */
  wgg_buf pend;         /* body bytes parsed in this drive step, handed over after it */
};

struct wgg_http_server {
  uv_loop_t *loop;
  wgg_http_server_config cfg;
  listener *listeners;
  wgg_http_conn *conns;
  size_t n_conns;
  bool draining;
  void (*on_drained)(void *);
  void *drained_user;
};

/* ---- server.c ---- */

/* Sets c's timer to mode, firing after ms (T_NONE or 0: stopped). */
void wgg_hs_arm(wgg_http_conn *c, int mode, uint64_t ms);
/* Parses buffered input and dispatches requests while none is in flight
 * (and, while one is, the rest of its streamed body when it has a reader). */
void wgg_hs_drive(wgg_http_conn *c);
/* Hands c->ready to the server's handler (it becomes c->inflight). */
void wgg_hs_dispatch(wgg_http_conn *c);
/* Reads from the socket again (no-op while closing, at EOF or reading). */
void wgg_hs_start_reading(wgg_http_conn *c);
/* Stops reading from the socket (no-op when not reading). */
void wgg_hs_stop_reading(wgg_http_conn *c);
/* Tells the in-flight request's handler that its client went away (once). */
void wgg_hs_notify_gone(wgg_http_conn *c);
/* Closes c now: its streamed body's reader and in-flight handler are told;
 * c is freed once its handles are closed and no request is in flight. */
void wgg_hs_conn_close(wgg_http_conn *c);
/* Frees c when its handles are closed and no request is in flight. */
void wgg_hs_conn_maybe_free(wgg_http_conn *c);

/* ---- server_parse.c ---- */

extern const http_parser_settings wgg_hs_parser_settings;
/* Frees a request (NULL: no-op). */
void wgg_hs_req_free(wgg_http_req *r);
/* Forgets the head being parsed (url, header and body buffers, counters;
 * small header buffers are kept for the next request). */
void wgg_hs_reset_parse_state(wgg_http_conn *c);
/* Builds the request of the head just parsed (url, headers) with the body
 * buffered so far (moved). Returns NULL on OOM. */
wgg_http_req *wgg_hs_build_req(wgg_http_conn *c, http_parser *p);

/* ---- server_write.c ---- */

/* Whether c's queued answers are at the back-pressure mark (WRITE_HIGH_*). */
bool wgg_hs_write_backlogged(const wgg_http_conn *c);
/* Writes data (len bytes, owned: freed when written) after what is queued;
 * close_after closes c once it is written. Returns 0, or -1 when c was
 * closed (out of memory, the socket failed). */
int wgg_hs_send(wgg_http_conn *c, char *data, size_t len, bool close_after);
/* wgg_hs_send of bytes the caller keeps (e.g. on its stack): written now
 * when nothing is queued, only what the socket did not take is copied and
 * queued. Returns as wgg_hs_send. */
int wgg_hs_send_copy(wgg_http_conn *c, const char *data, size_t len);
/* Closes c once every queued response has been written. */
void wgg_hs_conn_finish(wgg_http_conn *c);

/* ---- server_body.c ---- */

/* Whether the in-flight request's body may be parsed now. */
bool wgg_hs_body_parse_ok(const wgg_http_conn *c);
/* The streamed body failed (status as wgg_http_body_cbs.on_end): nothing
 * more is parsed on this connection; its reader, if any, is told. */
void wgg_hs_body_fail(wgg_http_conn *c, int status, const char *msg);
/* Hands the body bytes parsed in the last step to the reader, then its end
 * when the parser reached it. */
void wgg_hs_body_flush(wgg_http_conn *c);
/* At the end of a head with a body: dispatches the request now when the
 * server's stream_body says so. Returns whether it did. */
bool wgg_hs_dispatch_early(wgg_http_conn *c);
/* The in-flight request was answered: a streamed body not read to its end
 * is abandoned (its reader detached) and the connection must close after the
 * answer. Returns whether that is so. */
bool wgg_hs_body_abandon(wgg_http_conn *c);

/* ---- server_linger.c ---- */

/* Answers a request that failed to parse (400/408/413/431) with msg as a
 * text/plain body and closes (lingeringly). */
void wgg_hs_fail_conn(wgg_http_conn *c, int status, const char *msg);
/* Sends data (owned; NULL: nothing) and closes lingeringly: the client may
 * still be sending the body we did not read. */
void wgg_hs_linger_after(wgg_http_conn *c, char *data, size_t len);
/* A lingering connection's answers were all written: shuts down its write
 * side. */
void wgg_hs_linger_written(wgg_http_conn *c);
/* Input read (n: as uv_read_cb) while lingering: discarded; closes c at EOF,
 * on an error or past the linger bound. */
void wgg_hs_linger_read(wgg_http_conn *c, ssize_t n);

#endif
