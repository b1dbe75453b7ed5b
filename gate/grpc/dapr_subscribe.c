/*
 * dapr_subscribe.c: SubscribeTopicEventsAlpha1, streaming subscriptions, as
 * daprd 1.16 serves it (pkg/api/grpc/subscribe.go, pkg/runtime/pubsub/
 * streamer): the client's first message is the initial request (pubsub,
 * topic, metadata, dead-letter topic); the server answers with the initial
 * response, then sends each delivered event as a TopicEventRequest; the
 * client answers each with an event-processed message (id and SUCCESS /
 * RETRY / DROP) that the pub/sub runtime applies as it does an HTTP app's
 * answer. The stream is a subscriber of the runtime (pubsub/runtime.h) with
 * a lane on this loop: events are sent and their answers applied here, on
 * the stream's own thread.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "google/protobuf/struct.pb-c.h"
#include "grpc/dapr_internal.h"
#include "grpc/topic_event.h"
#include "pubsub/runtime.h"
#include "util/log.h"

typedef struct pend { /* an event sent, waiting for the client's answer */
  char *id;
  uint64_t token;
  struct pend *next;
} pend;

typedef struct sstream {
  wgg_api *api;
  wgg_grpc_call *call; /* NULL once finished */
  pend *pending;
  wgg_ps_lane *lane; /* attached to the runtime while non-NULL */
  bool initial;     /* the initial request was taken */
  char *pubsub, *topic; /* of the initial request (set before attaching) */
} sstream;

/* Packs ce as a SubscribeTopicEventsResponseAlpha1 event message into *out. Returns 0 or -1. */
static int pack_event(sstream *ss, json_t *ce, const char *pubsub, const char *topic, uint8_t **out, size_t *len) {
  (void)ss;
  Dapr__Proto__Runtime__V1__TopicEventRequest ev;
  wgg_topic_event_scratch sc;
  if (wgg_grpc_topic_event(ce, pubsub, topic, "/", &ev, &sc)) return -1; /* daprd: a retriable error */
  Dapr__Proto__Runtime__V1__SubscribeTopicEventsResponseAlpha1 r =
      DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_TOPIC_EVENTS_RESPONSE_ALPHA1__INIT;
  r.subscribe_topic_events_response_type_case =
      DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_TOPIC_EVENTS_RESPONSE_ALPHA1__SUBSCRIBE_TOPIC_EVENTS_RESPONSE_TYPE_EVENT_MESSAGE;
  r.event_message = &ev;
  int rc = -1;
  *len = protobuf_c_message_get_packed_size(&r.base);
  *out = malloc(*len ? *len : 1);
  if (*out) {
    protobuf_c_message_pack(&r.base, *out);
    rc = 0;
  }
  wgg_grpc_topic_event_free(&sc);
  return rc;
}

/* The runtime's send of one attempt (on this stream's loop). A failed write
 * may close the connection and so end this stream (ss freed) before the send
 * returns: ss is not touched after it. */
static int sink_send(void *ctx, json_t *ce, uint64_t token) {
  sstream *ss = ctx;
  uint8_t *bytes = NULL;
  size_t len = 0;
  pend *p = calloc(1, sizeof *p);
  if (!ss->call || !p || !(p->id = strdup(wgg_ce_str(ce, "id"))) ||
      pack_event(ss, ce, ss->pubsub, ss->topic, &bytes, &len)) {
    if (p) free(p->id);
    free(p);
    return -1;
  }
  p->token = token;
  p->next = ss->pending; /* a failed send leaves a stale entry: its token is then unknown */
  ss->pending = p;
  int rc = wgg_grpc_stream_send_raw(ss->call, bytes, len);
  free(bytes);
  return rc;
}

static void ss_free(sstream *ss) {
  while (ss->pending) {
    pend *p = ss->pending;
    ss->pending = p->next;
    free(p->id);
    free(p);
  }
  free(ss->pubsub);
  free(ss->topic);
  free(ss);
}

/* Unsubscribes (attempts waiting for an answer are retried by the runtime),
 * ends the call with code/msg (st instead when non-NULL) and frees ss. */
static void ss_end(sstream *ss, int code, const char *msg, const wgg_api_status *st) {
  wgg_psrt_stream_detach(ss->lane); /* what it holds unanswered goes to another stream or back to the broker */
  ss->lane = NULL;
  wgg_grpc_call *call = ss->call;
  ss->call = NULL;
  if (call) {
    wgg_grpc_stream_set(call, NULL, NULL, NULL);
    if (st) wgg_grpc_fail_status(call, st);
    else wgg_grpc_stream_finish(call, code, "%s", msg);
  }
  ss_free(ss);
}

static void initial(sstream *ss, Dapr__Proto__Runtime__V1__SubscribeTopicEventsRequestInitialAlpha1 *in) {
  if (!in->pubsub_name || !*in->pubsub_name) {
    ss_end(ss, WGG_GRPC_UNKNOWN, "pubsubName is required", NULL);
    return;
  }
  if (!in->topic || !*in->topic) {
    ss_end(ss, WGG_GRPC_UNKNOWN, "topic is required", NULL);
    return;
  }
  wgg_api *api = ss->api;
  bool known = false;
  for (size_t i = 0; i < api->n_pubsubs && !known; i++) known = !strcmp(api->pubsubs[i].comp->name, in->pubsub_name);
  if (!known || !api->psrt) { /* daprd: apierrors.PubSub(name).NotFound() */
    wgg_api_status st;
    wgg_api_fail(&st, 404, WGG_GRPC_INVALID_ARGUMENT, "ERR_PUBSUB_NOT_FOUND", "pubsub %s is not found", in->pubsub_name);
    ss_end(ss, 0, NULL, &st);
    return;
  }
  json_t *md = wgg_pb_map_json(in->metadata, in->n_metadata);
  const char *dl = in->_dead_letter_topic_case ==
                           DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_TOPIC_EVENTS_REQUEST_INITIAL_ALPHA1___DEAD_LETTER_TOPIC_DEAD_LETTER_TOPIC
                       ? in->dead_letter_topic
                       : NULL;
  wgg_ps_sink sink = {sink_send, ss};
  wgg_err err;
  ss->pubsub = strdup(in->pubsub_name);
  ss->topic = strdup(in->topic);
  if (!ss->pubsub || !ss->topic) {
    json_decref(md);
    ss_end(ss, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory", NULL);
    return;
  }
  ss->lane = wgg_psrt_stream_attach(api->psrt, in->pubsub_name, in->topic, md, dl, wgg_grpc_call_loop(ss->call), &sink,
                                    &err);
  json_decref(md);
  if (!ss->lane) {
    ss_end(ss, WGG_GRPC_UNKNOWN, err.msg, NULL);
    return;
  }
  ss->initial = true;
  Dapr__Proto__Runtime__V1__SubscribeTopicEventsResponseInitialAlpha1 ir =
      DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_TOPIC_EVENTS_RESPONSE_INITIAL_ALPHA1__INIT;
  Dapr__Proto__Runtime__V1__SubscribeTopicEventsResponseAlpha1 r =
      DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_TOPIC_EVENTS_RESPONSE_ALPHA1__INIT;
  r.subscribe_topic_events_response_type_case =
      DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_TOPIC_EVENTS_RESPONSE_ALPHA1__SUBSCRIBE_TOPIC_EVENTS_RESPONSE_TYPE_INITIAL_RESPONSE;
  r.initial_response = &ir;
  if (wgg_grpc_stream_send(ss->call, &r.base)) ss_end(ss, WGG_GRPC_INTERNAL, "out of memory", NULL);
}

static void processed(sstream *ss, Dapr__Proto__Runtime__V1__SubscribeTopicEventsRequestProcessedAlpha1 *pr) {
  const char *id = pr->id ? pr->id : "";
  int outcome = pr->status ? (int)pr->status->status : WGG_PS_SUCCESS; /* an absent status is SUCCESS, as daprd */
  pend **pp = &ss->pending, *p = NULL;
  while (*pp && strcmp((*pp)->id, id)) pp = &(*pp)->next;
  if (*pp) {
    p = *pp;
    *pp = p->next;
  }
  if (!p) {
    wgg_debug("streaming subscription: answer for unknown event id %s ignored", id);
    return;
  }
  wgg_psrt_stream_verdict(ss->lane, p->token, outcome);
  free(p->id);
  free(p);
}

static void on_msg(wgg_grpc_call *call, const uint8_t *data, size_t len, void *ctx) {
  (void)call;
  sstream *ss = ctx;
  Dapr__Proto__Runtime__V1__SubscribeTopicEventsRequestAlpha1 *m =
      dapr__proto__runtime__v1__subscribe_topic_events_request_alpha1__unpack(NULL, len, data);
  if (!m) {
    ss_end(ss, WGG_GRPC_INTERNAL,
           "grpc: error unmarshalling request: invalid dapr.proto.runtime.v1.SubscribeTopicEventsRequestAlpha1 message",
           NULL);
    return;
  }
  bool is_initial = m->subscribe_topic_events_request_type_case ==
                    DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_TOPIC_EVENTS_REQUEST_ALPHA1__SUBSCRIBE_TOPIC_EVENTS_REQUEST_TYPE_INITIAL_REQUEST;
  bool is_processed =
      m->subscribe_topic_events_request_type_case ==
      DAPR__PROTO__RUNTIME__V1__SUBSCRIBE_TOPIC_EVENTS_REQUEST_ALPHA1__SUBSCRIBE_TOPIC_EVENTS_REQUEST_TYPE_EVENT_PROCESSED;
  if (!ss->initial) {
    if (is_initial) initial(ss, m->initial_request);
    else ss_end(ss, WGG_GRPC_UNKNOWN, "initial request is required", NULL);
  } else if (is_processed) {
    processed(ss, m->event_processed);
  } else {
    ss_end(ss, WGG_GRPC_UNKNOWN, "duplicate initial request received", NULL);
  }
  dapr__proto__runtime__v1__subscribe_topic_events_request_alpha1__free_unpacked(m, NULL);
}

static void on_end(wgg_grpc_call *call, bool gone, void *ctx) {
  (void)call;
  sstream *ss = ctx;
  if (!gone && ss->initial) wgg_info("Unsubscribed: the client closed its side of the stream");
  /* grpc-go's answer when the handler returns io.EOF; nothing is sent when the stream is gone */
  ss_end(ss, WGG_GRPC_UNKNOWN, "EOF", NULL);
}

bool wgg_grpc_dapr_streaming(const wgg_grpc_call *call, void *user) {
  (void)user;
  const char *path = wgg_grpc_call_path(call);
  static const char pre[] = "/dapr.proto.runtime.v1.Dapr/";
  if (!strncmp(path, pre, sizeof pre - 1)) { /* the common case first: never proxied; its streams start with S */
    path += sizeof pre - 1;
    return path[0] == 'S' && (!strcmp(path, "SubscribeTopicEventsAlpha1") || !strcmp(path, "SubscribeConfiguration") ||
                              !strcmp(path, "SubscribeConfigurationAlpha1"));
  }
  if (wgg_grpc_proxy_wanted(call)) return true;
  return !strcmp(path, "/grpc.health.v1.Health/Watch") || wgg_grpc_is_reflection(path);
}

void wgg_grpc_subscribe_topic_events(wgg_api *api, wgg_grpc_call *call) {
  sstream *ss = calloc(1, sizeof *ss);
  if (!ss) {
    wgg_grpc_stream_finish(call, WGG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  ss->api = api;
  ss->call = call;
  wgg_grpc_stream_set(call, on_msg, on_end, ss);
}
