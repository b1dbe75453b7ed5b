/*
 * runtime_internal.h: state shared by runtime.c (thread, startup,
 * subscriptions) and deliver.c (one message to the app).
 */
#ifndef WGG_PUBSUB_RUNTIME_INTERNAL_H
#define WGG_PUBSUB_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>

#include "http/client.h"
#include "pubsub/runtime.h"

typedef struct psitem {
  struct psub *sub;
  wgg_pubsub_msg *msg;
  struct psitem *next;
} psitem;

/* A live subscription (touched on the delivery loop only, except `spec`,
 * which is immutable once registered). */
typedef struct psub {
  wgg_sub_spec spec;
  wgg_pubsub_entry *ps;
  struct wgg_psrt *rt;
  psitem *qhead, *qtail; /* waiting for an in-flight slot */
  int inflight, max_inflight; /* bulk: batches (one at a time) */
  wgg_ps_retry retry;
  uint64_t timeout_ms;    /* per delivery attempt */
  struct wgg_breaker *breaker; /* the Resiliency inbound circuit breaker of the pubsub, or NULL */
  uv_timer_t *bulk_timer; /* bulk: maxAwaitDurationMs (bulk.c) */
  /* WGG_SUB_STREAMING: the attached streams (under rt->mu), picked in turn */
  struct wgg_ps_lane **sinks;
  size_t n_sinks, rr;
} psub;

typedef struct delivery {
  psub *s;
  wgg_pubsub_msg *msg;
  json_t *ce;
  char *path;
  char *body;
  int attempt;
  uint64_t backoff_ms;
  bool waiting; /* a retry timer is armed */
  bool allowed; /* the circuit breaker let the attempt in flight through (one record owed) */
  bool awaiting; /* streaming: sent as attempt `token`, waiting for its verdict */
  bool in_dlq;   /* its dead-letter publish is running on the thread pool */
  uint64_t token;
  struct wgg_ps_lane *lane; /* streaming: the stream's lane it runs on; NULL: the delivery loop */
  uv_timer_t timer;
  uv_work_t work; /* dead-letter publish on the thread pool */
  int work_rc;
  struct delivery *prev, *next;
} delivery;

struct wgg_psrt {
  const wgg_options *opts;
  wgg_pubsub_entry *pubsubs;
  size_t n_pubsubs;
  struct ps_override { /* wgg_psrt_set_policy, per pubsub (index as pubsubs) */
    bool has_retry;
    wgg_ps_retry retry;
    uint64_t timeout_ms;
    struct wgg_breaker *breaker;
  } *overrides;
  pthread_mutex_t mu; /* guards subs/n_subs, inbox, stopping */
  psub **subs;
  size_t n_subs;
  psitem *inbox_head, *inbox_tail;
  bool stopping;
  wgg_sub_spec *decl;
  size_t n_decl;
  const int *app_ready;
  /* delivery loop */
  uv_thread_t thread;
  bool started;
  uv_loop_t loop;
  uv_async_t wake;
  uv_timer_t ready_timer;
  int subscribe_attempts;
  wgg_http_client *client;
  wgg_app_channel app; /* every call to the app (wgg_psrt_set_app_channel) */
  struct wgg_metrics *metrics; /* wgg_psrt_set_metrics: the app ID's, NULL = none */
  delivery *active; /* every delivery in progress */
  pthread_mutex_t attach_mu; /* serialises stream attaches (stream.c) */
  uint64_t next_sink_id; /* under mu */
  pthread_cond_t exited_cv;
  bool exited;
};

/* The component's deliver callback (user is the psub). Any thread. */
void wgg_psrt_on_message(void *user, wgg_pubsub_msg *m);

/* Fills s's policy fields (retry, timeout, breaker, concurrency) for pubsub
 * e, and s->ps, s->rt. Returns 0. */
int wgg_psrt_sub_init(struct wgg_psrt *rt, psub *s, wgg_pubsub_entry *e);

/* A stream's lane (stream.c): the messages a streaming subscription hands to
 * one stream are delivered on that stream's own loop, sends and verdicts
 * alike, so an event costs no thread crossing once it reaches the lane (and
 * none at all when it was published on that loop). Owned by the runtime;
 * touched on `loop`'s thread only, except the inbox (under mu). */
struct wgg_ps_lane {
  struct wgg_psrt *rt;
  psub *s;
  uint64_t id;       /* for the logs */
  wgg_ps_sink sink;
  char *dead_letter; /* the stream's own, or NULL */
  uv_loop_t *loop;
  uv_thread_t owner; /* the thread running loop */
  uv_async_t async;  /* a message arrived from another thread */
  uv_idle_t idle;    /* a message arrived on the owner: drained in the same loop turn */
  pthread_mutex_t mu; /* inbox */
  psitem *inbox_head, *inbox_tail;
  psitem *qhead, *qtail; /* waiting for an in-flight slot */
  int inflight;
  delivery *active; /* deliveries in progress on this lane */
  uint64_t next_token;
  bool detached;
  int open_handles; /* async + idle until closed: the lane is freed after them and its last delivery */
};

/* Applies outcome (WGG_PS_SUCCESS / RETRY / DROP) to l's delivery waiting for
 * the verdict of attempt token, if it still waits. l's thread (deliver.c). */
void wgg_psrt_lane_outcome(struct wgg_ps_lane *l, uint64_t token, int outcome);

/* Moves l's queued messages into free in-flight slots. l's thread (stream.c). */
void wgg_psrt_lane_pump(struct wgg_ps_lane *l);

/* Takes d (of a detached lane) off the lane without a verdict and returns its
 * message, or NULL when d cannot be taken (its dead-letter publish runs).
 * l's thread (deliver.c). */
wgg_pubsub_msg *wgg_psrt_lane_take(delivery *d);

/* Hands m, a message of the streaming subscription s, to one of its streams'
 * lanes, in turn (any thread; never delivers from inside the call). Returns
 * false, m untouched, when no stream is attached, the runtime stops, or OOM. */
bool wgg_psrt_stream_take(psub *s, wgg_pubsub_msg *m);

/* Frees l once it is detached, its handles closed and its last delivery
 * done. l's thread (stream.c). */
void wgg_psrt_lane_release(struct wgg_ps_lane *l);

/* Starts delivering msg to the app (a slot is taken) on lane (NULL: the
 * delivery loop's thread, else lane's). */
void wgg_psrt_deliver(psub *s, struct wgg_ps_lane *lane, wgg_pubsub_msg *msg);

/* Hands every delivery waiting for a retry back to its broker. Loop thread. */
void wgg_psrt_abort_waiting(struct wgg_psrt *rt);

/* Moves queued messages of s into free in-flight slots. Loop thread. */
void wgg_psrt_pump(psub *s);

/* Whether wgg_psrt_stop has begun (reads rt->stopping under rt->mu). */
bool wgg_psrt_stopping(struct wgg_psrt *rt);

/* Bulk subscriptions (bulk.c): starts a batch when enough messages wait or
 * arms the maxAwaitDurationMs timer; closes that timer at stop. Loop thread. */
void wgg_psrt_bulk_pump(psub *s);
void wgg_psrt_bulk_close(psub *s);

#endif
