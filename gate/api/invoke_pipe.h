/*
 * invoke_pipe.h: the streaming plumbing of one service invocation (issue
 * 18.3), shared by calls to this sidecar's own app (invoke.c) and to other
 * sidecars (invoke_remote.c). Both ways:
 *   - the caller's request body (wgg_http_req.body_streams) flows to the app
 *     request as the app connection takes it (http/client.h
 *     wgg_http_body_source): reading from the caller pauses while the app
 *     connection's write queue is at its 1 MiB mark;
 *   - a 2xx/3xx answer with a body (chunked, or over WGG_INVOKE_STREAM_MIN) flows back as it arrives (the server's
 *     wgg_http_stream_* calls): reading from the app pauses while the
 *     caller's queue is at its mark.
 * A caller that goes away aborts the app request; a caller whose body fails
 * (past --max-body-size: 413; malformed chunking: 400) aborts it and gets
 * that status; an app that fails mid-upload gives the caller 500
 * ERR_DIRECT_INVOKE with the client's reason; an app that fails mid-answer
 * cuts the caller's answer off (the head is sent by then, as in daprd).
 *
 * The owner embeds a wgg_invoke_pipe as the first member of its call,
 * passes the pipe as the user pointer of the client call (its buffered
 * completion callback, wgg_invoke_pipe_stream, wgg_invoke_pipe_source) and
 * sets the hooks.
 */
#ifndef WGG_API_INVOKE_PIPE_H
#define WGG_API_INVOKE_PIPE_H

#include "http/client.h"
#include "http/server.h"

/* Bodies of known length up to this many bytes are passed whole, not streamed
 * (requests: api/router.c wgg_api_stream_body; answers: here). */
#define WGG_INVOKE_STREAM_MIN (64u << 10)

typedef struct wgg_invoke_pipe wgg_invoke_pipe;

struct wgg_invoke_pipe {
  wgg_http_req *req;
  const char *app_id;         /* for messages; owned by the owner */
  wgg_http_client_stream *s;  /* the current app request, while it takes the body or streams the answer */
  wgg_http_body_source src;   /* what wgg_invoke_pipe_source returns */
  bool upload;                /* the caller's body streams to the app */
  bool reading;               /* the caller's body reader is attached */
  bool body_done;             /* the caller's body has been read to its end */
  bool took_body;             /* some of it has been passed on: a new attempt cannot send it again */
  bool spent;                 /* ... and the request that took it is over */
  bool gone;                  /* the caller went away */
  int body_status;            /* the caller's body failed: 413, 400 or 499 (0: no) */
  /* Optional: whether a 2xx/3xx answer with status may stream (false: it is
   * buffered and goes to the completion callback). Called once per head. */
  bool (*may_stream)(wgg_invoke_pipe *p, int status);
  /* Called after a streamed answer ended and req was answered: frees the owner. */
  void (*released)(wgg_invoke_pipe *p);
};

/* Sets p up for req (upload when req->body_streams and upload is true; the
 * caller's hang-up is watched through req->on_gone). */
void wgg_invoke_pipe_init(wgg_invoke_pipe *p, wgg_http_req *req, const char *app_id, bool upload,
                          void (*released)(wgg_invoke_pipe *p));

/* The body source for the client call (NULL when the body does not stream). */
const wgg_http_body_source *wgg_invoke_pipe_source(wgg_invoke_pipe *p);

/* Stream callbacks for the client call (user: the pipe). */
extern const wgg_http_stream_cbs wgg_invoke_pipe_stream;

/* To be called first in the owner's buffered completion callback: the app
 * request is over. Returns true when the caller's body failed, after
 * answering req with its status (413 / 400, or anything for a caller that is
 * gone): the owner then only frees its call. */
bool wgg_invoke_pipe_completed(wgg_invoke_pipe *p);

/* Whether a failed attempt may be repeated (no body byte was passed on). */
bool wgg_invoke_pipe_can_retry(const wgg_invoke_pipe *p);

/* Stops watching the caller (before the owner answers req itself). */
void wgg_invoke_pipe_detach(wgg_invoke_pipe *p);

#endif
