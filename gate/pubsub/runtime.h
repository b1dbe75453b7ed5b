/*
 * runtime.h: the subscriber side of pub/sub (dapr pkg/runtime/subscription/,
 * pkg/runtime/subscription/postman/http/http.go). One delivery thread with
 * its own libuv loop and outbound HTTP client to the app: it reads the app's
 * GET /dapr/subscribe once the app port accepts connections, subscribes every
 * programmatic and declarative subscription on its component, and POSTs each
 * received CloudEvent to the route its rules pick, reading the answer as Dapr
 * does (see docs/pubsub.md). Retries follow the component's backOff*
 * metadata (Dapr's retry defaults); messages still failing go to the
 * deadLetterTopic when set, else back to the broker (not acknowledged).
 * In-flight deliveries are bounded per subscription (the component's
 * `concurrency`); with 1, delivery keeps the broker's order. gRPC streaming
 * subscriptions are subscribers of the same runtime (wgg_psrt_stream_*); the
 * thread runs without an app port for them.
 */
#ifndef WGG_PUBSUB_RUNTIME_H
#define WGG_PUBSUB_RUNTIME_H

#include <jansson.h>
#include <uv.h>

#include "components/pubsub/pubsub.h"
#include "config/component.h"
#include "pubsub/subscription.h"
#include "http/client.h"
#include "wggate.h"

/* A loaded pub/sub component and where it came from. */
typedef struct wgg_pubsub_entry {
  const wgg_component *comp; /* borrowed */
  wgg_pubsub *ps;            /* owned by the API */
} wgg_pubsub_entry;

typedef struct wgg_psrt wgg_psrt;

/* A delivery retry policy (dapr/kit retry.Config, or a Resiliency retry). */
typedef struct wgg_ps_retry {
  bool exponential;
  uint64_t duration_ms; /* constant: the wait between attempts */
  uint64_t initial_ms;  /* exponential: the first wait */
  uint64_t max_interval_ms;
  long max_retries;     /* -1 = unlimited, 0 = none */
} wgg_ps_retry;

/* Default time bound of one delivery attempt to the app, in ms (Dapr has
 * none without a Resiliency timeout; a generous one keeps a stuck app from
 * holding an in-flight slot forever). */
#define WGG_PS_DELIVERY_TIMEOUT_MS 60000

/* How often a delivery paused by an unhealthy app looks again, in ms. */
#define WGG_PS_UNHEALTHY_WAIT_MS 250

/* Creates the runtime for the given components (borrowed; they must outlive
 * it) and declarative subscriptions (ownership of *decl moves in; it is
 * emptied). Nothing runs until wgg_psrt_start. Returns NULL with err on OOM. */
wgg_psrt *wgg_psrt_new(const wgg_options *opts, wgg_pubsub_entry *pubsubs, size_t n, wgg_sub_spec *decl, size_t n_decl,
                       wgg_err *err);

/* Overrides, for the subscriptions of pubsub, the retry policy read from the
 * component's backOff* metadata (retry non-NULL; copied) and the time bound
 * of one delivery attempt (timeout_ms > 0), and sets a circuit breaker
 * (config/resiliency.h; borrowed, thread-safe; NULL for none): while it is
 * open, single deliveries pause without spending retries, and each attempt's
 * outcome is recorded (an answer asking for a retry or no answer is a
 * failure). Bulk deliveries do not use the breaker. The integration point for the
 * Resiliency resource's inbound policy of the component (targets.components.
 * <pubsub>.inbound, DefaultPubsubComponentInboundPolicy ...). Call before
 * wgg_psrt_start. Returns 0, or -1 when there is no such pubsub. */
struct wgg_breaker;
int wgg_psrt_set_policy(wgg_psrt *rt, const char *pubsub, const wgg_ps_retry *retry, uint64_t timeout_ms,
                        struct wgg_breaker *breaker);

/* Sets how the runtime calls the app (/dapr/subscribe and deliveries): the
 * sidecar's app channel (api/appchannel.h: health, --app-max-concurrency,
 * APP_API_TOKEN, appHttpPipeline). Required; call before wgg_psrt_start. */
void wgg_psrt_set_app_channel(wgg_psrt *rt, const wgg_app_channel *ch);

/* Where deliveries are counted (dapr_component_pubsub_ingress_count, observe/metrics.h): the app
 * ID's metrics (borrowed; must outlive rt), NULL = not counted. Call before wgg_psrt_start. */
struct wgg_metrics;
void wgg_psrt_set_metrics(wgg_psrt *rt, struct wgg_metrics *m);

/* ---- streaming subscribers (SubscribeTopicEventsAlpha1) ----
 * A stream is one more kind of subscriber: its messages go through the same
 * delivery path (CloudEvent parsing, expiry, retries by the policy, dead
 * letters, the broker ack) with the stream's verdict in place of the app's
 * HTTP answer. The first stream on a pubsub/topic subscribes the component
 * (kept for later streams: components cannot unsubscribe); while no stream is
 * attached, messages are handed back to the broker unacknowledged. Several
 * streams on one topic take its messages in turn.
 *
 * Each stream has a lane on its own loop: a message handed to the stream is
 * delivered there (sends, verdicts, ack timeouts, retries, dead letters), not
 * on the runtime's delivery thread, so an event costs no thread crossing once
 * handed over, and none at all when it was published on the stream's loop. */

enum { WGG_PS_SUCCESS = 0, WGG_PS_RETRY = 1, WGG_PS_DROP = 2 };

typedef struct wgg_ps_lane wgg_ps_lane;

typedef struct wgg_ps_sink {
  /* Called on the stream's loop thread (the loop given to attach), with no
   * runtime lock held, for each attempt: ce is the CloudEvent (borrowed),
   * token names the attempt for wgg_psrt_stream_verdict. Must not call
   * wgg_psrt_stream_detach. Returns 0, or -1 (the attempt failed: retried by
   * the policy). */
  int (*send)(void *ctx, json_t *ce, uint64_t token);
  void *ctx;
} wgg_ps_sink;

/* Attaches a stream running on loop (call on loop's thread) to pubsub/topic
 * with metadata (object of strings, borrowed; rawPayload applies) and
 * dead_letter (NULL for none). Returns the stream's lane (owned by the
 * runtime until wgg_psrt_stream_detach), or NULL with err: no such pubsub, a
 * topic the subscription scopes forbid, a topic already subscribed by the app
 * (programmatic or declarative), the component's subscribe error, the
 * runtime stopping, OOM. */
wgg_ps_lane *wgg_psrt_stream_attach(wgg_psrt *rt, const char *pubsub, const char *topic, json_t *metadata,
                                    const char *dead_letter, uv_loop_t *loop, const wgg_ps_sink *sink, wgg_err *err);

/* Detaches the stream of lane (on its loop's thread; NULL is ignored): no
 * send runs once this returns, and the messages it holds unanswered (sent,
 * waiting for a retry or queued) go, in order and without spending a retry,
 * to another stream on the topic, else back to the broker unacknowledged.
 * The lane is freed by the runtime afterwards. */
void wgg_psrt_stream_detach(wgg_ps_lane *lane);

/* The stream's verdict (WGG_PS_*) on attempt token, on lane's loop thread.
 * Unknown or stale tokens are ignored. */
void wgg_psrt_stream_verdict(wgg_ps_lane *lane, uint64_t token, int outcome);

/* Starts the delivery thread. When there is no app port, nothing is
 * delivered (as in Dapr: no app channel, no subscriptions). app_ready points
 * to the sidecar's atomic flag set once the app accepts connections.
 * Returns 0 or -1 with err. */
int wgg_psrt_start(wgg_psrt *rt, const int *app_ready, wgg_err *err);

/* The `subscriptions` array of GET /v1.0/metadata (a new reference). Thread-safe. */
json_t *wgg_psrt_subscriptions(wgg_psrt *rt);

/* Stops the delivery thread, waiting at most wait_ms for deliveries in
 * flight to the app; queued messages and messages that arrive later are handed
 * back to their broker unacknowledged. Call before destroying the components. */
void wgg_psrt_stop(wgg_psrt *rt, uint64_t wait_ms);

/* Frees the runtime; after wgg_psrt_stop and after the components are gone.
 * NULL is a no-op. */
void wgg_psrt_free(wgg_psrt *rt);

#endif
