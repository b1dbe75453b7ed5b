/*
 * input_bindings.h: input bindings (docs reference/api/bindings_api.md,
 * "Invoking service code through input bindings"; dapr
 * pkg/runtime/processor/binding/send.go). Once the app channel is ready, each
 * input binding's route (/{name}, or the component's `route` metadata) is
 * probed with OPTIONS: 404 means the app does not want it, 2xx or 405 that it
 * does (no probe when `direction` names input explicitly; none at all when
 * `direction` is set without input). Events are POSTed to the route with
 * Content-Type application/json, the event's data as the body and its
 * metadata as headers; only 2xx is success, failures are retried by the
 * component's inbound Resiliency policy (targets.components.<name>.inbound,
 * DefaultBindingComponentInboundRetryPolicy, ...). A 2xx reply body may ask
 * for state to be saved and data to be sent to output bindings
 * (input_reply.c). Everything runs on one loop (the sidecar's main loop) with
 * its own pooled client.
 *
 * The first input binding is bindings.cron (metadata `schedule`; see
 * components/bindings/cron.h): events carry no data and the metadata
 * timeZone ("Local") and readTimeUTC (Go's time.String() of the UTC time), as
 * contrib bindings/cron.
 */
#ifndef WGG_API_INPUT_BINDINGS_H
#define WGG_API_INPUT_BINDINGS_H

#include <stdbool.h>
#include <uv.h>

#include "api/api.h"

typedef struct wgg_inputs wgg_inputs;

/* Whether type is an input binding this build implements ("bindings.cron"). */
bool wgg_input_binding_type_supported(const char *type);

/* Creates the input bindings of api's components on loop and starts waiting
 * for the app. Returns the set (possibly with no binding), or NULL with err:
 * an invalid component (bad schedule, missing schedule, bad direction), with
 * file:line. Without an app port no binding starts (a warning each). */
wgg_inputs *wgg_inputs_start(uv_loop_t *loop, wgg_api *api, wgg_err *err);

/* Acts on an app's reply to an event of input binding `binding` (body, len:
 * the 2xx response body, copied): saves its `state` to `storeName` and sends
 * its `data` to the output bindings of `to`, on loop's thread pool. Bodies
 * without state or to are ignored. */
void wgg_input_reply(uv_loop_t *loop, wgg_api *api, const char *binding, const char *body, size_t len);

/* Stops timers and deliveries; frees itself once its handles are closed
 * (deliveries in flight complete into the void). Runs on the loop. */
void wgg_inputs_stop(wgg_inputs *in);

#endif
