/*
 * resiliency.h: Dapr's Resiliency resource (docs
 * reference/resource-specs/resiliency-schema.md, operations/resiliency/
 * policies.md and targets.md; dapr pkg/apis/resiliency/v1alpha1/types.go,
 * pkg/resiliency/). Parses the named policies (timeouts, retries, circuit
 * breakers) and the targets (apps, components with inbound/outbound), and
 * answers "which policy applies to this call" with Dapr's default policy
 * names and precedence. Circuit breakers are stateful and shared by every
 * thread (one per policy and target, created on first use, under a mutex).
 *
 * Use:
 *   wgg_resiliency *r = wgg_resiliency_new();
 *   wgg_resiliency_add(r, doc, "file.yaml", &err);        // each Resiliency doc
 *   wgg_res_policy p; wgg_resiliency_for_app(r, "appB", &p);
 *   for (int attempt = 0;; attempt++) {
 *     if (p.breaker && !wgg_breaker_allow(p.breaker, now)) -> "circuit breaker is open"
 *     ... call with p.timeout_ms per attempt ...
 *     failure = transport error || wgg_retry_status_is_error(p.retry, status);
 *     if (p.breaker) wgg_breaker_record(p.breaker, !failure, now);
 *     if (!failure || !wgg_retry_more(p.retry, attempt)) break;
 *     wait wgg_retry_backoff_ms(p.retry, attempt, &state) ms
 *   }
 */
#ifndef WGG_CONFIG_RESILIENCY_H
#define WGG_CONFIG_RESILIENCY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "wggate.h"

/* An inclusive HTTP status range of matching.httpStatusCodes. */
typedef struct wgg_code_range {
  int lo, hi;
} wgg_code_range;

/* A retry policy (spec.policies.retries.<name>). */
typedef struct wgg_retry_policy {
  char *name;
  bool exponential;         /* policy: exponential (default constant) */
  uint64_t duration_ms;     /* constant interval, default 5 s */
  uint64_t max_interval_ms; /* exponential cap, default 60 s */
  int64_t max_retries;      /* -1 (default) = unlimited, 0 = no retries */
  uint64_t initial_ms;      /* exponential first interval: 500 ms (Go backoff's default) */
  /* matching.httpStatusCodes: ranges [lo, hi]; none = every HTTP error (>= 400) */
  wgg_code_range *codes;
  size_t n_codes;
} wgg_retry_policy;

/* Trip expression of a circuit breaker: comparisons joined by && and ||
 * (&& binds tighter), over requests, totalSuccesses, totalFailures,
 * consecutiveSuccesses, consecutiveFailures. */
typedef struct wgg_trip_term {
  int var; /* index into the counters */
  int op;  /* 0 >, 1 >=, 2 <, 3 <=, 4 ==, 5 != */
  int64_t value;
  bool or_next; /* joined to the next term with || (else &&) */
} wgg_trip_term;

typedef struct wgg_breaker_policy {
  char *name;
  uint32_t max_requests; /* half-open probe budget, default 1 */
  uint64_t interval_ms;  /* closed-state count reset, 0 = never */
  uint64_t timeout_ms;   /* open -> half-open, default 60 s */
  wgg_trip_term *terms;  /* default consecutiveFailures > 5 */
  size_t n_terms;
  char *trip;            /* the expression as written */
} wgg_breaker_policy;

typedef struct wgg_breaker wgg_breaker;
typedef struct wgg_resiliency wgg_resiliency;

/* The policies that apply to one call. Pointers are owned by the resiliency. */
typedef struct wgg_res_policy {
  uint64_t timeout_ms;           /* per attempt; 0 = none */
  const wgg_retry_policy *retry; /* NULL = no retries */
  wgg_breaker *breaker;          /* NULL = none */
  const char *timeout_name, *retry_name, *breaker_name; /* for logs; NULL when none */
} wgg_res_policy;

/* Component direction (targets.components.<name>.outbound / inbound). */
enum wgg_res_dir { WGG_RES_OUTBOUND = 0, WGG_RES_INBOUND = 1 };

/* An empty resiliency (no policies: every lookup gives none). NULL on OOM. */
wgg_resiliency *wgg_resiliency_new(void);

/* Adds one Resiliency document (the whole YAML document as JSON: apiVersion,
 * kind, metadata, spec; scalars may be strings or numbers). Policies and
 * targets from several documents are merged; a later duplicate name
 * replaces the earlier one with a warning. Errors (-1 + err, naming file and
 * the field): a duration that does not parse, an unknown retry policy kind,
 * a bad status code range, an unsupported trip expression, a target that
 * names a policy that does not exist. */
int wgg_resiliency_add(wgg_resiliency *r, json_t *doc, const char *file, wgg_err *err);

/* Frees the resiliency and its breakers. No call may be using it. */
void wgg_resiliency_free(wgg_resiliency *r);

/* Number of policies loaded (timeouts + retries + breakers), for logs. */
size_t wgg_resiliency_count(const wgg_resiliency *r);

/* Policies for service invocation of app_id. Precedence per policy kind:
 * targets.apps.<app_id> > DefaultApp{Timeout,Retry,CircuitBreaker}Policy >
 * Default{...}Policy. Breakers are per app ID. r may be NULL (none). */
void wgg_resiliency_for_app(wgg_resiliency *r, const char *app_id, wgg_res_policy *out);

/* Policies for component `name` of `type` ("state.redis") in direction dir:
 * targets.components.<name>.<dir> > Default<Type>Component<Dir>Policy
 * (Statestore, Pubsub, Binding, Secretstore, Configuration, Lock) >
 * DefaultComponent<Dir>Policy > DefaultComponentPolicy > Default...Policy.
 * r may be NULL (none). */
void wgg_resiliency_for_component(wgg_resiliency *r, const char *name, const char *type, int dir,
                                  wgg_res_policy *out);

/* The named retry policy (e.g. "DaprBuiltInServiceRetries" when the user
 * overrides it), or NULL. */
const wgg_retry_policy *wgg_resiliency_retry(wgg_resiliency *r, const char *name);

/* Whether another retry may follow `retries_done` retries (0 after the first
 * attempt). NULL policy: false. */
bool wgg_retry_more(const wgg_retry_policy *p, int64_t retries_done);

/* Wait before retry number retries_done+1, in ms. *state carries the
 * exponential interval between calls (start with 0). Exponential: Go
 * backoff's randomised interval (x [0.5, 1.5], x1.5 per step) capped at
 * max_interval_ms; constant: duration_ms. */
uint64_t wgg_retry_backoff_ms(const wgg_retry_policy *p, uint64_t *state);

/* Whether an HTTP status is an error that the policy retries: with
 * matching.httpStatusCodes, status in one of the ranges; without, any status
 * >= 400 (docs policies.md: "Retries on all HTTP errors"). NULL policy:
 * status >= 400. */
bool wgg_retry_status_is_error(const wgg_retry_policy *p, int status);

/* Parses "429,500-599" into ranges (malloc'd). 0, or -1 + err. */
int wgg_status_ranges_parse(const char *s, wgg_code_range **out, size_t *n, wgg_err *err);

/* Breaker state: 0 closed, 1 half-open, 2 open. */
enum wgg_breaker_state { WGG_BREAKER_CLOSED = 0, WGG_BREAKER_HALF_OPEN = 1, WGG_BREAKER_OPEN = 2 };

/* Whether a call may go through now (now_ms: a monotonic clock). Open: false
 * until timeout_ms passed, then half-open: at most max_requests calls in
 * flight. A true answer must be followed by one wgg_breaker_record. */
bool wgg_breaker_allow(wgg_breaker *b, uint64_t now_ms);

/* Records the outcome of an allowed call: a failure while half-open re-opens,
 * max_requests successes while half-open close; in closed state the trip
 * expression is evaluated after each failure. */
void wgg_breaker_record(wgg_breaker *b, bool success, uint64_t now_ms);

/* The breaker's current state (enum wgg_breaker_state) at now_ms. */
int wgg_breaker_state_at(wgg_breaker *b, uint64_t now_ms);

/* The breaker's policy name and target, for logs. */
const char *wgg_breaker_name(const wgg_breaker *b);

/* A monotonic clock in ms (uv_hrtime based). */
uint64_t wgg_res_now_ms(void);

#endif
