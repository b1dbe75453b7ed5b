/*
 * resiliency.c: parsing of Resiliency documents, policy lookup with Dapr's
 * default names and precedence, retry back-off and circuit breakers (see
 * resiliency.h; dapr pkg/resiliency/policy.go, retry.go, breaker.go; the
 * breaker follows sony/gobreaker's state machine as Dapr uses it).
 */
#include "config/resiliency.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "util/err.h"
#include "util/log.h"

typedef struct timeout_policy {
  char *name;
  uint64_t ms;
} timeout_policy;

enum { P_TIMEOUT = 0, P_RETRY = 1, P_BREAKER = 2 };

/* A target: an app or a component; names of its policies per direction. */
typedef struct target {
  char *name;
  bool component;
  char *pol[2][3]; /* [dir][P_*] */
} target;

enum { C_REQUESTS, C_TOTAL_SUCC, C_TOTAL_FAIL, C_CONSEC_SUCC, C_CONSEC_FAIL, C_N };
static const char *const counter_names[C_N] = {"requests", "totalSuccesses", "totalFailures", "consecutiveSuccesses",
                                               "consecutiveFailures"};

struct wgg_breaker {
  const wgg_breaker_policy *p;
  char *key; /* "<policy>/<target>" */
  pthread_mutex_t mu;
  int state;
  int64_t c[C_N];
  uint64_t expiry_ms; /* open: when to go half-open; closed: when counts reset (0 = never) */
  uint32_t half_open_inflight;
  struct wgg_breaker *next;
};

struct wgg_resiliency {
  timeout_policy *timeouts;
  size_t n_timeouts;
  wgg_retry_policy *retries;
  size_t n_retries;
  wgg_breaker_policy *breakers;
  size_t n_breakers;
  target *targets;
  size_t n_targets;
  pthread_mutex_t mu; /* guards the breaker list */
  wgg_breaker *live;
};

uint64_t wgg_res_now_ms(void) {
  return uv_hrtime() / 1000000u;
}

wgg_resiliency *wgg_resiliency_new(void) {
  wgg_resiliency *r = calloc(1, sizeof *r);
  if (r) pthread_mutex_init(&r->mu, NULL);
  return r;
}

static void retry_clear(wgg_retry_policy *p) {
  free(p->name);
  free(p->codes);
}

static void breaker_policy_clear(wgg_breaker_policy *p) {
  free(p->name);
  free(p->terms);
  free(p->trip);
}

void wgg_resiliency_free(wgg_resiliency *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n_timeouts; i++) free(r->timeouts[i].name);
  for (size_t i = 0; i < r->n_retries; i++) retry_clear(&r->retries[i]);
  for (size_t i = 0; i < r->n_breakers; i++) breaker_policy_clear(&r->breakers[i]);
  for (size_t i = 0; i < r->n_targets; i++) {
    free(r->targets[i].name);
    for (int d = 0; d < 2; d++)
      for (int k = 0; k < 3; k++) free(r->targets[i].pol[d][k]);
  }
  free(r->timeouts);
  free(r->retries);
  free(r->breakers);
  free(r->targets);
  for (wgg_breaker *b = r->live, *n; b; b = n) {
    n = b->next;
    pthread_mutex_destroy(&b->mu);
    free(b->key);
    free(b);
  }
  pthread_mutex_destroy(&r->mu);
  free(r);
}

size_t wgg_resiliency_count(const wgg_resiliency *r) {
  return r ? r->n_timeouts + r->n_retries + r->n_breakers : 0;
}

/* ---- parsing ---- */

/* A scalar as text: strings as is, integers and reals formatted. NULL otherwise. */
static const char *scalar(json_t *v, char *tmp, size_t n) {
  if (json_is_string(v)) return json_string_value(v);
  if (json_is_integer(v)) return snprintf(tmp, n, "%lld", (long long)json_integer_value(v)), tmp;
  if (json_is_real(v)) return snprintf(tmp, n, "%g", json_real_value(v)), tmp;
  return NULL;
}

static int duration_field(json_t *obj, const char *key, uint64_t *out, const char *what, const char *file,
                          wgg_err *err) {
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return 0;
  char tmp[64];
  const char *s = scalar(v, tmp, sizeof tmp);
  wgg_err e;
  if (!s || wgg_parse_duration_ms(s, out, &e))
    return wgg_err_set(err, "%s: Resiliency %s.%s: invalid duration %s", file, what, key, s ? s : "(not a scalar)");
  return 0;
}

static int int_field(json_t *obj, const char *key, int64_t *out, const char *what, const char *file, wgg_err *err) {
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return 0;
  char tmp[64], *end;
  const char *s = scalar(v, tmp, sizeof tmp);
  long long n = s ? strtoll(s, &end, 10) : 0;
  if (!s || !*s || *end) return wgg_err_set(err, "%s: Resiliency %s.%s: not an integer", file, what, key);
  *out = n;
  return 0;
}

int wgg_status_ranges_parse(const char *s, wgg_code_range **out, size_t *n, wgg_err *err) {
  *out = NULL;
  *n = 0;
  size_t cap = 1;
  for (const char *p = s; *p; p++) cap += *p == ',';
  wgg_code_range *r = calloc(cap, sizeof *r);
  if (!r) return wgg_err_set(err, "out of memory");
  const char *p = s;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    char *end;
    long lo = strtol(p, &end, 10), hi = lo;
    if (end == p) goto bad;
    p = end;
    while (*p == ' ') p++;
    if (*p == '-') {
      p++;
      hi = strtol(p, &end, 10);
      if (end == p) goto bad;
      p = end;
    }
    while (*p == ' ') p++;
    if (*p == ',') p++;
    else if (*p) goto bad;
    if (lo < 100 || hi > 599 || lo > hi) goto bad;
    r[(*n)++] = (wgg_code_range){(int)lo, (int)hi};
  }
  *out = r;
  return 0;
bad:
  free(r);
  *n = 0;
  return wgg_err_set(err, "invalid status codes '%s' (want codes or ranges 100-599, e.g. \"429,500-599\")", s);
}

/* Parses a trip expression ("consecutiveFailures > 5 && requests >= 10"). */
static int parse_trip(const char *s, wgg_breaker_policy *p, wgg_err *err) {
  size_t cap = 1;
  for (const char *q = s; *q; q++) cap += *q == '&' || *q == '|';
  p->terms = calloc(cap, sizeof *p->terms);
  if (!p->terms) return wgg_err_set(err, "out of memory");
  const char *q = s;
  for (;;) {
    while (isspace((unsigned char)*q)) q++;
    const char *w = q;
    while (isalnum((unsigned char)*q)) q++;
    int var = -1;
    for (int i = 0; i < C_N; i++)
      if ((size_t)(q - w) == strlen(counter_names[i]) && !strncmp(w, counter_names[i], (size_t)(q - w))) var = i;
    if (var < 0) goto bad;
    while (isspace((unsigned char)*q)) q++;
    static const char *const ops[] = {">=", "<=", "==", "!=", ">", "<"};
    static const int op_codes[] = {1, 3, 4, 5, 0, 2};
    int op = -1;
    for (int i = 0; i < 6 && op < 0; i++)
      if (!strncmp(q, ops[i], strlen(ops[i]))) {
        op = op_codes[i];
        q += strlen(ops[i]);
      }
    if (op < 0) goto bad;
    while (isspace((unsigned char)*q)) q++;
    char *end;
    long long v = strtoll(q, &end, 10);
    if (end == q) goto bad;
    q = end;
    wgg_trip_term *t = &p->terms[p->n_terms++];
    *t = (wgg_trip_term){.var = var, .op = op, .value = v};
    while (isspace((unsigned char)*q)) q++;
    if (!*q) break;
    if (!strncmp(q, "&&", 2)) t->or_next = false;
    else if (!strncmp(q, "||", 2)) t->or_next = true;
    else goto bad;
    q += 2;
    if (p->n_terms >= cap) goto bad;
  }
  return 0;
bad:
  return wgg_err_set(err,
                     "unsupported trip expression '%s': wasmgate supports comparisons (> >= < <= == !=) of "
                     "requests, totalSuccesses, totalFailures, consecutiveSuccesses, consecutiveFailures with an "
                     "integer, joined by && and ||",
                     s);
}

/* Finds or appends a slot named name in an array of structs whose first member is `char *name`. */
static void *slot(void **arr, size_t *n, size_t size, const char *name, const char *kind, const char *file) {
  char *base = *arr;
  for (size_t i = 0; i < *n; i++) {
    char **nm = (char **)(base + i * size);
    if (!strcmp(*nm, name)) {
      wgg_warn("%s: Resiliency %s policy %s defined twice; the later one wins", file, kind, name);
      return base + i * size;
    }
  }
  char *grown = realloc(base, (*n + 1) * size);
  if (!grown) return NULL;
  *arr = grown;
  char *s = grown + (*n)++ * size;
  memset(s, 0, size);
  return s;
}

static int add_retry(wgg_resiliency *r, const char *name, json_t *v, const char *file, wgg_err *err) {
  wgg_retry_policy p = {.duration_ms = 5000, .max_interval_ms = 60000, .max_retries = -1, .initial_ms = 500};
  char what[300];
  snprintf(what, sizeof what, "spec.policies.retries.%s", name);
  if (!json_is_object(v)) return wgg_err_set(err, "%s: Resiliency %s: not a mapping", file, what);
  json_t *pol = json_object_get(v, "policy");
  if (pol && !json_is_null(pol)) {
    const char *ps = json_string_value(pol);
    if (ps && !strcmp(ps, "exponential")) p.exponential = true;
    else if (!ps || strcmp(ps, "constant"))
      return wgg_err_set(err, "%s: Resiliency %s.policy: '%s' is not constant or exponential", file, what,
                         ps ? ps : "(not a string)");
  }
  if (duration_field(v, "duration", &p.duration_ms, what, file, err) ||
      duration_field(v, "maxInterval", &p.max_interval_ms, what, file, err) ||
      int_field(v, "maxRetries", &p.max_retries, what, file, err))
    return -1;
  json_t *m = json_object_get(v, "matching");
  json_t *codes = json_is_object(m) ? json_object_get(m, "httpStatusCodes") : NULL;
  char tmp[64];
  const char *cs = codes ? scalar(codes, tmp, sizeof tmp) : NULL;
  if (cs && *cs) {
    wgg_err e;
    if (wgg_status_ranges_parse(cs, &p.codes, &p.n_codes, &e))
      return wgg_err_set(err, "%s: Resiliency %s.matching.httpStatusCodes: %s", file, what, e.msg);
  }
  wgg_retry_policy *s = slot((void **)&r->retries, &r->n_retries, sizeof *s, name, "retry", file);
  if (!s || !(p.name = strdup(name))) {
    free(p.codes);
    return wgg_err_set(err, "out of memory");
  }
  retry_clear(s);
  *s = p;
  return 0;
}

static int add_breaker(wgg_resiliency *r, const char *name, json_t *v, const char *file, wgg_err *err) {
  wgg_breaker_policy p = {.max_requests = 1, .timeout_ms = 60000};
  char what[300];
  snprintf(what, sizeof what, "spec.policies.circuitBreakers.%s", name);
  if (!json_is_object(v)) return wgg_err_set(err, "%s: Resiliency %s: not a mapping", file, what);
  int64_t maxr = 1;
  if (int_field(v, "maxRequests", &maxr, what, file, err) ||
      duration_field(v, "interval", &p.interval_ms, what, file, err) ||
      duration_field(v, "timeout", &p.timeout_ms, what, file, err))
    return -1;
  p.max_requests = maxr <= 0 ? 1 : (uint32_t)maxr;
  json_t *trip = json_object_get(v, "trip");
  const char *ts = json_is_string(trip) && *json_string_value(trip) ? json_string_value(trip) : "consecutiveFailures > 5";
  wgg_err e;
  if (!(p.trip = strdup(ts)) || parse_trip(ts, &p, &e)) {
    breaker_policy_clear(&p);
    return p.trip ? wgg_err_set(err, "%s: Resiliency %s.trip: %s", file, what, e.msg) : wgg_err_set(err, "out of memory");
  }
  wgg_breaker_policy *s = slot((void **)&r->breakers, &r->n_breakers, sizeof *s, name, "circuit breaker", file);
  if (!s || !(p.name = strdup(name))) {
    breaker_policy_clear(&p);
    return wgg_err_set(err, "out of memory");
  }
  breaker_policy_clear(s);
  *s = p;
  return 0;
}

static bool policy_exists(const wgg_resiliency *r, int kind, const char *name) {
  if (kind == P_TIMEOUT) {
    for (size_t i = 0; i < r->n_timeouts; i++)
      if (!strcmp(r->timeouts[i].name, name)) return true;
    uint64_t ms;
    return wgg_parse_duration_ms(name, &ms, NULL) == 0; /* Dapr also takes a literal duration */
  }
  if (kind == P_RETRY) {
    for (size_t i = 0; i < r->n_retries; i++)
      if (!strcmp(r->retries[i].name, name)) return true;
    return false;
  }
  for (size_t i = 0; i < r->n_breakers; i++)
    if (!strcmp(r->breakers[i].name, name)) return true;
  return false;
}

static const char *const field_names[3] = {"timeout", "retry", "circuitBreaker"};

/* Reads {timeout, retry, circuitBreaker} of one target direction into names. */
static int target_policies(json_t *v, char *names[3], const char *what, const char *file, wgg_err *err) {
  if (!v || json_is_null(v)) return 0;
  if (!json_is_object(v)) return wgg_err_set(err, "%s: Resiliency %s: not a mapping", file, what);
  for (int k = 0; k < 3; k++) {
    json_t *f = json_object_get(v, field_names[k]);
    if (!f || json_is_null(f)) continue;
    char tmp[64];
    const char *s = scalar(f, tmp, sizeof tmp);
    if (!s) return wgg_err_set(err, "%s: Resiliency %s.%s: not a policy name", file, what, field_names[k]);
    free(names[k]);
    if (!(names[k] = strdup(s))) return wgg_err_set(err, "out of memory");
  }
  return 0;
}

static int add_targets(wgg_resiliency *r, json_t *obj, bool component, const char *file, wgg_err *err) {
  if (!obj || json_is_null(obj)) return 0;
  const char *section = component ? "components" : "apps";
  if (!json_is_object(obj)) return wgg_err_set(err, "%s: Resiliency spec.targets.%s: not a mapping", file, section);
  const char *name;
  json_t *v;
  json_object_foreach(obj, name, v) {
    target *t = NULL;
    for (size_t i = 0; i < r->n_targets; i++)
      if (r->targets[i].component == component && !strcmp(r->targets[i].name, name)) t = &r->targets[i];
    if (!t) {
      target *grown = realloc(r->targets, (r->n_targets + 1) * sizeof *grown);
      if (!grown) return wgg_err_set(err, "out of memory");
      r->targets = grown;
      t = &grown[r->n_targets];
      memset(t, 0, sizeof *t);
      if (!(t->name = strdup(name))) return wgg_err_set(err, "out of memory");
      t->component = component;
      r->n_targets++;
    }
    char what[300];
    if (component) {
      snprintf(what, sizeof what, "spec.targets.components.%s.outbound", name);
      if (target_policies(json_object_get(v, "outbound"), t->pol[WGG_RES_OUTBOUND], what, file, err)) return -1;
      snprintf(what, sizeof what, "spec.targets.components.%s.inbound", name);
      if (target_policies(json_object_get(v, "inbound"), t->pol[WGG_RES_INBOUND], what, file, err)) return -1;
    } else {
      snprintf(what, sizeof what, "spec.targets.apps.%s", name);
      if (target_policies(v, t->pol[0], what, file, err)) return -1;
    }
  }
  return 0;
}

int wgg_resiliency_add(wgg_resiliency *r, json_t *doc, const char *file, wgg_err *err) {
  file = file ? file : "(resiliency)";
  json_t *spec = json_object_get(doc, "spec");
  if (!json_is_object(spec)) return wgg_err_set(err, "%s: Resiliency: spec is missing or not a mapping", file);
  json_t *pol = json_object_get(spec, "policies");
  const char *name;
  json_t *v;
  json_t *to = json_is_object(pol) ? json_object_get(pol, "timeouts") : NULL;
  json_object_foreach(to, name, v) {
    char tmp[64];
    const char *s = scalar(v, tmp, sizeof tmp);
    uint64_t ms;
    if (!s || wgg_parse_duration_ms(s, &ms, NULL))
      return wgg_err_set(err, "%s: Resiliency spec.policies.timeouts.%s: invalid duration %s", file, name,
                         s ? s : "(not a scalar)");
    timeout_policy *t = slot((void **)&r->timeouts, &r->n_timeouts, sizeof *t, name, "timeout", file);
    if (!t) return wgg_err_set(err, "out of memory");
    if (!t->name && !(t->name = strdup(name))) return wgg_err_set(err, "out of memory");
    t->ms = ms;
  }
  json_t *re = json_is_object(pol) ? json_object_get(pol, "retries") : NULL;
  json_object_foreach(re, name, v) if (add_retry(r, name, v, file, err)) return -1;
  json_t *cb = json_is_object(pol) ? json_object_get(pol, "circuitBreakers") : NULL;
  json_object_foreach(cb, name, v) if (add_breaker(r, name, v, file, err)) return -1;
  json_t *tg = json_object_get(spec, "targets");
  if (json_is_object(tg)) {
    if (add_targets(r, json_object_get(tg, "apps"), false, file, err) ||
        add_targets(r, json_object_get(tg, "components"), true, file, err))
      return -1;
    if (json_object_get(tg, "actors")) wgg_warn("%s: Resiliency targets.actors ignored (no actors in wasmgate)", file);
  }
  for (size_t i = 0; i < r->n_targets; i++)
    for (int d = 0; d < 2; d++)
      for (int k = 0; k < 3; k++) {
        const char *pn = r->targets[i].pol[d][k];
        if (pn && !policy_exists(r, k, pn))
          return wgg_err_set(err, "%s: Resiliency target %s %s: %s policy '%s' is not defined", file,
                             r->targets[i].component ? "component" : "app", r->targets[i].name, field_names[k], pn);
      }
  return 0;
}

/* ---- lookup ---- */

static const wgg_retry_policy *find_retry(wgg_resiliency *r, const char *name) {
  for (size_t i = 0; r && name && i < r->n_retries; i++)
    if (!strcmp(r->retries[i].name, name)) return &r->retries[i];
  return NULL;
}

const wgg_retry_policy *wgg_resiliency_retry(wgg_resiliency *r, const char *name) {
  return find_retry(r, name);
}

static const wgg_breaker_policy *find_breaker(wgg_resiliency *r, const char *name) {
  for (size_t i = 0; r && name && i < r->n_breakers; i++)
    if (!strcmp(r->breakers[i].name, name)) return &r->breakers[i];
  return NULL;
}

/* A named timeout, or a literal duration used as a name (as Dapr allows). */
static bool find_timeout(wgg_resiliency *r, const char *name, uint64_t *ms, const char **owned) {
  for (size_t i = 0; r && name && i < r->n_timeouts; i++)
    if (!strcmp(r->timeouts[i].name, name)) return *ms = r->timeouts[i].ms, *owned = r->timeouts[i].name, true;
  return *owned = "(literal duration)", name && wgg_parse_duration_ms(name, ms, NULL) == 0;
}

/* The live breaker of policy p for target key (created on first use). */
static wgg_breaker *breaker_for(wgg_resiliency *r, const wgg_breaker_policy *p, const char *target_key) {
  char key[512];
  snprintf(key, sizeof key, "%s/%s", p->name, target_key);
  pthread_mutex_lock(&r->mu);
  wgg_breaker *b = r->live;
  while (b && strcmp(b->key, key)) b = b->next;
  if (!b && (b = calloc(1, sizeof *b))) {
    if (!(b->key = strdup(key))) {
      free(b);
      b = NULL;
    } else {
      b->p = p;
      pthread_mutex_init(&b->mu, NULL);
      b->next = r->live;
      r->live = b;
    }
  }
  pthread_mutex_unlock(&r->mu);
  return b;
}

/* Fills out from the named policies, trying candidates in order per kind. */
static void resolve(wgg_resiliency *r, const char *const cand[3][8], const char *target_key, wgg_res_policy *out) {
  memset(out, 0, sizeof *out);
  if (!r) return;
  for (int i = 0; i < 8 && cand[P_TIMEOUT][i]; i++)
    if (find_timeout(r, cand[P_TIMEOUT][i], &out->timeout_ms, &out->timeout_name)) break;
  if (!out->timeout_ms) out->timeout_name = NULL;
  for (int i = 0; i < 8 && cand[P_RETRY][i] && !out->retry; i++)
    if ((out->retry = find_retry(r, cand[P_RETRY][i]))) out->retry_name = out->retry->name;
  for (int i = 0; i < 8 && cand[P_BREAKER][i]; i++) {
    const wgg_breaker_policy *bp = find_breaker(r, cand[P_BREAKER][i]);
    if (bp) {
      out->breaker = breaker_for(r, bp, target_key);
      out->breaker_name = bp->name;
      break;
    }
  }
}

static const target *find_target(wgg_resiliency *r, bool component, const char *name) {
  for (size_t i = 0; r && i < r->n_targets; i++)
    if (r->targets[i].component == component && !strcmp(r->targets[i].name, name)) return &r->targets[i];
  return NULL;
}

void wgg_resiliency_for_app(wgg_resiliency *r, const char *app_id, wgg_res_policy *out) {
  const target *t = find_target(r, false, app_id);
  static const char *const defaults[3][2] = {{"DefaultAppTimeoutPolicy", "DefaultTimeoutPolicy"},
                                              {"DefaultAppRetryPolicy", "DefaultRetryPolicy"},
                                              {"DefaultAppCircuitBreakerPolicy", "DefaultCircuitBreakerPolicy"}};
  const char *cand[3][8] = {{0}};
  for (int k = 0; k < 3; k++) {
    int j = 0;
    if (t && t->pol[0][k]) cand[k][j++] = t->pol[0][k];
    cand[k][j++] = defaults[k][0];
    cand[k][j] = defaults[k][1];
  }
  char key[300];
  snprintf(key, sizeof key, "app:%s", app_id);
  resolve(r, (const char *const(*)[8])cand, key, out);
}

/* Dapr's component-type prefix of the default policy names. */
static const char *type_word(const char *type) {
  static const struct {
    const char *block, *word;
  } m[] = {{"state.", "Statestore"},       {"pubsub.", "Pubsub"},   {"bindings.", "Binding"},
           {"secretstores.", "Secretstore"}, {"configuration.", "Configuration"}, {"lock.", "Lock"}};
  for (size_t i = 0; type && i < sizeof m / sizeof m[0]; i++)
    if (!strncmp(type, m[i].block, strlen(m[i].block))) return m[i].word;
  return NULL;
}

void wgg_resiliency_for_component(wgg_resiliency *r, const char *name, const char *type, int dir,
                                  wgg_res_policy *out) {
  const target *t = find_target(r, true, name);
  static const char *const kinds[3] = {"Timeout", "Retry", "CircuitBreaker"};
  const char *dword = dir == WGG_RES_INBOUND ? "Inbound" : "Outbound";
  const char *tw = type_word(type);
  char names[3][4][96];
  const char *cand[3][8] = {{0}};
  for (int k = 0; k < 3; k++) {
    int j = 0;
    if (t && t->pol[dir][k]) cand[k][j++] = t->pol[dir][k];
    if (tw) snprintf(names[k][0], sizeof names[k][0], "Default%sComponent%s%sPolicy", tw, dword, kinds[k]),
        cand[k][j++] = names[k][0];
    snprintf(names[k][1], sizeof names[k][1], "DefaultComponent%s%sPolicy", dword, kinds[k]);
    snprintf(names[k][2], sizeof names[k][2], "DefaultComponent%sPolicy", kinds[k]);
    snprintf(names[k][3], sizeof names[k][3], "Default%sPolicy", kinds[k]);
    for (int i = 1; i < 4; i++) cand[k][j++] = names[k][i];
  }
  char key[300];
  snprintf(key, sizeof key, "component:%s:%s", name, dword);
  resolve(r, (const char *const(*)[8])cand, key, out);
}

/* ---- retries ---- */

bool wgg_retry_more(const wgg_retry_policy *p, int64_t retries_done) {
  if (!p) return false;
  return p->max_retries < 0 || retries_done < p->max_retries;
}

uint64_t wgg_retry_backoff_ms(const wgg_retry_policy *p, uint64_t *state) {
  if (!p) return 0;
  if (!p->exponential) return p->duration_ms;
  uint64_t cur = *state ? *state : p->initial_ms;
  if (cur > p->max_interval_ms) cur = p->max_interval_ms;
  double f = 0.5 + (double)(rand() % 1001) / 1000.0; /* [0.5, 1.5] */
  uint64_t wait = (uint64_t)((double)cur * f);
  if (wait > p->max_interval_ms) wait = p->max_interval_ms;
  uint64_t next = cur + cur / 2;
  *state = next > p->max_interval_ms ? p->max_interval_ms : next;
  return wait;
}

bool wgg_retry_status_is_error(const wgg_retry_policy *p, int status) {
  if (!p || !p->n_codes) return status >= 400;
  for (size_t i = 0; i < p->n_codes; i++)
    if (status >= p->codes[i].lo && status <= p->codes[i].hi) return true;
  return false;
}

/* ---- circuit breakers ---- */

static bool term_true(const wgg_trip_term *t, const int64_t *c) {
  int64_t v = c[t->var];
  switch (t->op) {
    case 0: return v > t->value;
    case 1: return v >= t->value;
    case 2: return v < t->value;
    case 3: return v <= t->value;
    case 4: return v == t->value;
    default: return v != t->value;
  }
}

/* Evaluates the terms: || of &&-groups. */
static bool trips(const wgg_breaker_policy *p, const int64_t *c) {
  bool any = false, group = true;
  for (size_t i = 0; i < p->n_terms; i++) {
    group = group && term_true(&p->terms[i], c);
    if (p->terms[i].or_next || i + 1 == p->n_terms) {
      any = any || group;
      group = true;
    }
  }
  return any;
}

static void to_state(wgg_breaker *b, int state, uint64_t now) {
  if (b->state != state)
    wgg_info("circuit breaker %s: %s", b->key,
             state == WGG_BREAKER_OPEN ? "open" : state == WGG_BREAKER_HALF_OPEN ? "half-open" : "closed");
  b->state = state;
  memset(b->c, 0, sizeof b->c);
  b->half_open_inflight = 0;
  if (state == WGG_BREAKER_OPEN) b->expiry_ms = now + b->p->timeout_ms;
  else if (state == WGG_BREAKER_CLOSED) b->expiry_ms = b->p->interval_ms ? now + b->p->interval_ms : 0;
  else b->expiry_ms = 0;
}

/* Time-driven transitions (under b->mu). */
static void tick(wgg_breaker *b, uint64_t now) {
  if (b->state == WGG_BREAKER_OPEN && now >= b->expiry_ms) to_state(b, WGG_BREAKER_HALF_OPEN, now);
  else if (b->state == WGG_BREAKER_CLOSED && b->expiry_ms && now >= b->expiry_ms) to_state(b, WGG_BREAKER_CLOSED, now);
}

bool wgg_breaker_allow(wgg_breaker *b, uint64_t now_ms) {
  pthread_mutex_lock(&b->mu);
  tick(b, now_ms);
  bool ok = true;
  if (b->state == WGG_BREAKER_OPEN) ok = false;
  else if (b->state == WGG_BREAKER_HALF_OPEN && b->half_open_inflight >= b->p->max_requests) ok = false;
  if (ok) {
    b->c[C_REQUESTS]++;
    if (b->state == WGG_BREAKER_HALF_OPEN) b->half_open_inflight++;
  }
  pthread_mutex_unlock(&b->mu);
  return ok;
}

void wgg_breaker_record(wgg_breaker *b, bool success, uint64_t now_ms) {
  pthread_mutex_lock(&b->mu);
  tick(b, now_ms);
  if (success) {
    b->c[C_TOTAL_SUCC]++;
    b->c[C_CONSEC_SUCC]++;
    b->c[C_CONSEC_FAIL] = 0;
    if (b->state == WGG_BREAKER_HALF_OPEN && b->c[C_CONSEC_SUCC] >= (int64_t)b->p->max_requests)
      to_state(b, WGG_BREAKER_CLOSED, now_ms);
  } else {
    b->c[C_TOTAL_FAIL]++;
    b->c[C_CONSEC_FAIL]++;
    b->c[C_CONSEC_SUCC] = 0;
    if (b->state == WGG_BREAKER_HALF_OPEN) to_state(b, WGG_BREAKER_OPEN, now_ms);
    else if (b->state == WGG_BREAKER_CLOSED && trips(b->p, b->c)) to_state(b, WGG_BREAKER_OPEN, now_ms);
  }
  pthread_mutex_unlock(&b->mu);
}

int wgg_breaker_state_at(wgg_breaker *b, uint64_t now_ms) {
  pthread_mutex_lock(&b->mu);
  tick(b, now_ms);
  int s = b->state;
  pthread_mutex_unlock(&b->mu);
  return s;
}

const char *wgg_breaker_name(const wgg_breaker *b) {
  return b->key;
}
