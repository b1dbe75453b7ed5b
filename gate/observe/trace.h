/*
 * trace.h: W3C Trace Context (https://www.w3.org/TR/trace-context/) as daprd
 * propagates it on service invocation: the call to the app carries a
 * `traceparent` for a new span, a child of the caller's when the request had
 * a valid one (same trace ID, its sampled flag), otherwise the root of a new
 * trace sampled at the Configuration's spec.tracing.samplingRate.
 */
#ifndef WGG_OBSERVE_TRACE_H
#define WGG_OBSERVE_TRACE_H

#include <stdbool.h>

enum { WGG_TRACEPARENT_LEN = 55 }; /* "00-" 32 hex "-" 16 hex "-" 2 hex */

/* True when s is a valid version-00 traceparent (lower-case hex, non-zero
 * trace and parent IDs). */
bool wgg_traceparent_valid(const char *s);

/* Writes into out the traceparent of a new span: a child of incoming when it
 * is valid, else a new trace, sampled with probability sampling_rate (0..1).
 * Random IDs come from getrandom(2). Thread-safe. */
void wgg_traceparent_child(const char *incoming, double sampling_rate, char out[WGG_TRACEPARENT_LEN + 1]);

#endif
