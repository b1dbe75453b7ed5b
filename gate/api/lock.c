/*
 * lock.c: the distributed lock API, POST /v1.0-alpha1/lock/{store} and
 * POST /v1.0-alpha1/unlock/{store} (docs reference/api/distributed_lock_api.md;
 * dapr pkg/api/http/lock.go, pkg/api/universal/lock.go, pkg/components/lock/
 * lock_config.go). Bodies are TryLockRequest / UnlockRequest decoded as
 * protojson does (field names exact, JSON or proto spelling, unknown fields
 * ignored); answers {"success": bool} and {"status": n} with daprd's
 * validation order, error codes and texts. The key given to the store is
 * "lock||<prefix>||<resourceId>" where the prefix follows the component's
 * keyPrefix metadata (appid, the default; name; none; or a fixed string),
 * so two apps sharing a Redis never share a lock unless they ask to.
 */
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/calls.h"
#include "api/executor.h"
#include "components/lock/lock.h"
#include "util/log.h"

int wgg_api_locks_init(wgg_api *api, wgg_err *err) {
  size_t n = 0;
  for (size_t i = 0; i < api->components.n; i++)
    if (!api->components.items[i].endpoint && !strncmp(api->components.items[i].type, "lock.", 5)) n++;
  if (!n) return 0;
  if (!(api->locks = calloc(n, sizeof *api->locks))) return wgg_err_set(err, "out of memory");
  for (size_t i = 0; i < api->components.n; i++) {
    const wgg_component *c = &api->components.items[i];
    if (c->endpoint || strncmp(c->type, "lock.", 5)) continue;
    const char *ver = *c->version ? c->version : "v1";
    wgg_err e = {0};
    wgg_lock_store *s = NULL;
    const char *kp = wgg_component_meta(c, "keyPrefix");
    char *prefix = strdup(kp && *kp ? kp : "appid");
    if (!prefix) {
      wgg_err_set(&e, "out of memory");
    } else {
      for (char *p = prefix; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
      if (strstr(prefix, "||")) wgg_err_set(&e, "input key/keyPrefix '%s' can't contain '||'", prefix);
      else if (!wgg_lock_type_supported(c->type)) wgg_err_set(&e, "couldn't find lock store %s/%s", c->type, ver);
      else s = wgg_lock_store_new(c, &e);
    }
    if (!s) {
      free(prefix);
      if (!c->ignore_errors)
        return wgg_err_set(err, "%s:%d: component %s (%s/%s): init error: %s", c->file, c->line, c->name, c->type, ver,
                           e.msg);
      wgg_warn("component %s (%s:%d): %s; skipped (ignoreErrors)", c->name, c->file, c->line, e.msg);
      continue;
    }
    wgg_lock_entry *le = &api->locks[api->n_locks++];
    *le = (wgg_lock_entry){.comp = c, .store = s, .key_prefix = prefix};
    if (s->blocking && !(le->exec = wgg_exec_new(c->name)))
      wgg_warn("component %s: no thread of its own; its calls use the libuv pool", c->name);
    wgg_info("component loaded: %s (%s/%s)", c->name, c->type, ver);
  }
  return 0;
}

void wgg_api_locks_free(wgg_api *api) {
  for (size_t i = 0; i < api->n_locks; i++) {
    wgg_exec_free(api->locks[i].exec);
    api->locks[i].store->ops->destroy(api->locks[i].store);
    free(api->locks[i].key_prefix);
  }
  free(api->locks);
  api->locks = NULL;
  api->n_locks = 0;
}

/* ---- the request body, as protojson decodes it ---- */

typedef struct lock_req {
  const char *resource, *owner; /* borrowed from the parsed body; "" when unset */
  int32_t expiry;
} lock_req;

/* Member json_name or proto_name of obj (protojson accepts both spellings,
 * exactly; null is unset). */
static json_t *member(json_t *obj, const char *json_name, const char *proto_name) {
  json_t *v = json_object_get(obj, json_name);
  if (!v || json_is_null(v)) v = json_object_get(obj, proto_name);
  return v && !json_is_null(v) ? v : NULL;
}

/* Fills r from body (NULL when the request had none). Returns NULL, or the
 * reason the body is malformed (for "failed deserializing HTTP body: %s"). */
static const char *decode(json_t *body, bool unlock, lock_req *r) {
  *r = (lock_req){"", "", 0};
  if (!body) return NULL;
  if (!json_is_object(body)) return "the body is not a JSON object";
  json_t *v = member(body, "resourceId", "resource_id");
  if (v && !json_is_string(v)) return "invalid value for string field resourceId";
  if (v) r->resource = json_string_value(v);
  v = member(body, "lockOwner", "lock_owner");
  if (v && !json_is_string(v)) return "invalid value for string field lockOwner";
  if (v) r->owner = json_string_value(v);
  v = member(body, "storeName", "store_name");
  if (v && !json_is_string(v)) return "invalid value for string field storeName";
  if (unlock) return NULL;
  v = member(body, "expiryInSeconds", "expiry_in_seconds");
  if (!v) return NULL;
  /* int32: a JSON number without a fraction, or a string holding one */
  double d;
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < INT32_MIN || i > INT32_MAX) return "invalid value for int32 field expiryInSeconds";
    r->expiry = (int32_t)i;
    return NULL;
  }
  if (json_is_real(v)) {
    d = json_real_value(v);
  } else if (json_is_string(v)) {
    const char *s = json_string_value(v);
    char *end;
    if (!*s || *s == ' ') return "invalid value for int32 field expiryInSeconds";
    d = strtod(s, &end);
    if (*end) return "invalid value for int32 field expiryInSeconds";
  } else {
    return "invalid value for int32 field expiryInSeconds";
  }
  if (d != (double)(int64_t)d || d < INT32_MIN || d > INT32_MAX) return "invalid value for int32 field expiryInSeconds";
  r->expiry = (int32_t)d;
  return NULL;
}

/* ---- the call to the store (transport-neutral, api/calls.h) ---- */

typedef struct lock_job {
  wgg_lock_entry *le;
  bool unlock;
  char *key, *owner;
  int32_t expiry;
  int rc, status;
  bool acquired;
  wgg_err err;
  wgg_lock_cb cb;
  void *user;
} lock_job;

static void job_free(lock_job *j) {
  free(j->key);
  free(j->owner);
  free(j);
}

static void lock_work(void *p) {
  lock_job *j = p;
  wgg_lock_store *s = j->le->store;
  j->err.msg[0] = '\0';
  if (j->unlock) j->rc = s->ops->unlock(s, j->key, j->owner, &j->status, &j->err);
  else j->rc = s->ops->try_lock(s, j->key, j->owner, j->expiry, &j->acquired, &j->err);
}

static void lock_done(void *p) {
  lock_job *j = p;
  if (j->rc) {
    wgg_api_status st;
    if (j->unlock) wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "ERR_UNLOCK", "failed to release lock: %s", j->err.msg);
    else wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "ERR_TRY_LOCK", "failed to try acquiring lock: %s", j->err.msg);
    st.plain = true;
    j->cb(j->user, &st, false, 3);
  } else {
    j->cb(j->user, NULL, j->acquired, j->status);
  }
  job_free(j);
}

/* daprd's GetModifiedLockKey. Returns the key (malloc'd) or NULL with
 * *illegal set when resource holds the separator (NULL alone: OOM). */
static char *modified_key(const wgg_api *api, const wgg_lock_entry *le, const char *resource, bool *illegal) {
  *illegal = strstr(resource, "||") != NULL;
  if (*illegal) return NULL;
  const char *app = api->opts->app_id ? api->opts->app_id : "";
  const char *mid = !strcmp(le->key_prefix, "none")    ? ""
                    : !strcmp(le->key_prefix, "name")  ? le->comp->name
                    : !strcmp(le->key_prefix, "appid") ? app
                                                       : le->key_prefix;
  size_t n = 6 + strlen(mid) + 2 + strlen(resource) + 1;
  char *k = malloc(n);
  if (!k) return NULL;
  if (*mid) snprintf(k, n, "lock||%s||%s", mid, resource);
  else snprintf(k, n, "lock||%s", resource);
  return k;
}

/* An APIError of daprd (no rich details). */
static int plain_fail(wgg_api_status *st, int http, int grpc, const char *code, const char *fmt, const char *arg) {
  wgg_api_fail(st, http, grpc, code, fmt, arg);
  st->plain = true;
  return -1;
}

int wgg_lock_call(wgg_api *api, uv_loop_t *loop, bool unlock, const char *store, const char *resource,
                  const char *owner, int32_t expiry, wgg_lock_cb cb, void *user, wgg_api_status *st) {
  if (!unlock && expiry <= 0)
    return plain_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST",
                      "ExpiryInSeconds is not positive in lock store %s", store);
  if (!api->n_locks)
    return plain_fail(st, 500, WGG_GRPC_FAILED_PRECONDITION, "ERR_LOCK_STORE_NOT_CONFIGURED",
                      "lock store is not configured%s", "");
  if (!*resource)
    return plain_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST", "ResourceId is empty in lock store %s",
                      store);
  if (!*owner)
    return plain_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST", "LockOwner is empty in lock store %s",
                      store);
  wgg_lock_entry *le = NULL;
  for (size_t i = 0; i < api->n_locks && !le; i++)
    if (!strcmp(api->locks[i].comp->name, store)) le = &api->locks[i];
  if (!le)
    return plain_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_LOCK_STORE_NOT_FOUND", "lock store %s not found", store);
  const char *code = unlock ? "ERR_UNLOCK" : "ERR_TRY_LOCK";
  const char *what = unlock ? "failed to release lock" : "failed to try acquiring lock";
  bool illegal = false;
  lock_job *j = calloc(1, sizeof *j);
  if (j) {
    j->key = modified_key(api, le, resource, &illegal);
    j->owner = strdup(owner);
  }
  if (j && illegal) {
    job_free(j);
    wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, code, "%s: input key/keyPrefix '%s' can't contain '||'", what, resource);
    st->plain = true;
    return -1;
  }
  if (!j || !j->key || !j->owner) {
    if (j) job_free(j);
    wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, code, "%s: out of memory", what);
    st->plain = true;
    return -1;
  }
  j->le = le;
  j->unlock = unlock;
  j->expiry = expiry;
  j->cb = cb;
  j->user = user;
  if (!le->store->blocking) {
    lock_work(j);
    lock_done(j);
  } else if (wgg_exec_submit(le->exec, loop, j, lock_work, lock_done)) {
    job_free(j);
    wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, code, "%s: out of memory", what);
    st->plain = true;
    return -1;
  }
  return 0;
}

/* ---- the HTTP routes ---- */

static void http_done(void *user, const wgg_api_status *st, bool acquired, int status) {
  wgg_http_req *req = ((void **)user)[0];
  bool unlock = ((void **)user)[1] != NULL;
  free(user);
  if (st) wgg_api_error_status(req, st);
  else if (unlock) wgg_api_json(req, 200, json_pack("{s:i}", "status", status));
  else wgg_api_json(req, 200, json_pack("{s:b}", "success", acquired));
}

void wgg_api_lock(wgg_api *api, wgg_http_req *req, bool unlock, char **seg, size_t n) {
  if (n != 1 || !*seg[0]) {
    wgg_api_not_found(req);
    return;
  }
  if (req->method != HTTP_POST) {
    wgg_api_method_not_allowed(req);
    return;
  }
  const char *store = seg[0];
  json_t *body = NULL;
  if (req->body_len) {
    json_error_t je;
    body = json_loadb(req->body, req->body_len, 0, &je);
    if (!body) {
      wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s", je.text);
      return;
    }
  }
  lock_req r;
  const char *bad = decode(body, unlock, &r);
  if (bad) {
    wgg_api_error(req, 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: %s", bad);
    json_decref(body);
    return;
  }
  void **ctx = malloc(2 * sizeof *ctx);
  wgg_api_status st;
  if (!ctx) {
    wgg_api_error(req, 500, unlock ? "ERR_UNLOCK" : "ERR_TRY_LOCK", "out of memory");
  } else {
    ctx[0] = req;
    ctx[1] = unlock ? (void *)req : NULL;
    if (wgg_lock_call(api, req->loop, unlock, store, r.resource, r.owner, r.expiry, http_done, ctx, &st)) {
      free(ctx);
      wgg_api_error_status(req, &st);
    }
  }
  json_decref(body);
}
