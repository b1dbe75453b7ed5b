/*
 * state.c: the state routes' dispatch, store lookup and key scheme, plus
 * GET and DELETE of one key (docs reference/api/state_api.md).
 */
#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/calls.h"
#include "api/state_internal.h"
#include "observe/metrics.h"
#include "util/err.h"

wgg_store_entry *wgg_state_lookup(wgg_api *api, const char *name, wgg_api_status *st) {
  if (!api->n_stores) {
    wgg_api_fail(st, 500, WGG_GRPC_FAILED_PRECONDITION, "ERR_STATE_STORE_NOT_CONFIGURED",
                 "state store %s is not configured", name);
    return NULL;
  }
  for (size_t i = 0; i < api->n_stores; i++)
    if (!strcmp(api->stores[i].comp->name, name)) return &api->stores[i];
  wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_STATE_STORE_NOT_FOUND", "state store %s is not found", name);
  return NULL;
}

wgg_store_entry *wgg_state_find(wgg_api *api, wgg_http_req *req, const char *name) {
  wgg_api_status st;
  wgg_store_entry *se = wgg_state_lookup(api, name, &st);
  if (!se) wgg_api_error_status(req, &st);
  return se;
}

size_t wgg_state_index(const wgg_store_entry *se) {
  return se->index;
}

bool wgg_state_key_check(const char *key, wgg_api_status *st) {
  if (!key || !*key) return wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST", "\"key\" is a required field"), false;
  if (strstr(key, "||"))
    return wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST",
                        "input key/keyPrefix '%s' can't contain '||'", key),
           false;
  return true;
}

bool wgg_state_key_ok(wgg_http_req *req, const char *key) {
  wgg_api_status st;
  if (wgg_state_key_check(key, &st)) return true;
  wgg_api_error_status(req, &st);
  return false;
}

char *wgg_state_prefixed(const wgg_api *api, const char *key) {
  const char *app = api->opts->app_id ? api->opts->app_id : "";
  if (!*app) return strdup(key);
  size_t na = strlen(app), nk = strlen(key);
  char *s = malloc(na + 2 + nk + 1);
  if (s) { /* "app||key" (no snprintf: every state call takes this path) */
    memcpy(s, app, na);
    memcpy(s + na, "||", 2);
    memcpy(s + na + 2, key, nk + 1);
  }
  return s;
}

int wgg_state_parse_ttl(const char *v, int64_t *ttl, wgg_err *msg) {
  *ttl = 0;
  if (!v) return 0;
  errno = 0;
  char *end;
  long long n = strtoll(v, &end, 10);
  if (!*v || *end || errno || n < -1 || n > 100LL * 365 * 24 * 3600)
    return wgg_err_set(msg, "incorrect value for metadata 'ttlInSeconds': '%s' (an integer of seconds, or -1)", v);
  *ttl = n > 0 ? n : 0;
  return 0;
}

/* ---- GET /v1.0/state/{store}/{key} ---- */

typedef struct get_job {
  wgg_state_get_cb cb;
  void *user;
  wgg_store_entry *se;
  char *key, *user_key;
  wgg_state_got got;
  int status;
  wgg_err err;
  wgg_state_call call;
} get_job;

static void get_done(wgg_state_call *c) {
  get_job *j = c->user;
  j->status = c->status;
  wgg_metrics_state(j->se->metrics, wgg_state_index(j->se), WGG_OP_GET, j->status == WGG_ST_OK);
  if (j->status != WGG_ST_OK) {
    wgg_api_status st;
    wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "ERR_STATE_GET", "fail to get %s from state store %s: %s", j->user_key,
                 j->se->comp->name, j->err.msg);
    j->cb(j->user, &st, NULL);
  } else {
    j->cb(j->user, NULL, &j->got);
  }
  wgg_state_got_free(&j->got);
  free(j->key);
  free(j->user_key);
  free(j);
}

int wgg_state_get_call(wgg_api *api, uv_loop_t *loop, wgg_store_entry *se, const char *key, wgg_state_get_cb cb,
                       void *user, wgg_api_status *st) {
  get_job *j = calloc(1, sizeof *j);
  if (j) {
    j->cb = cb;
    j->user = user;
    j->se = se;
    j->key = wgg_state_prefixed(api, key);
    j->user_key = strdup(key);
    j->call = (wgg_state_call){.key = j->key, .got = &j->got, .err = &j->err, .done = get_done, .user = j};
  }
  if (!j || !j->key || !j->user_key || wgg_state_call_start(loop, se, &j->call)) {
    if (j) {
      free(j->key);
      free(j->user_key);
      free(j);
    }
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_STATE_GET", "fail to get %s from state store %s: out of memory",
                        key, se->comp->name);
  }
  return 0;
}

static void http_get_done(void *user, const wgg_api_status *st, const wgg_state_got *got) {
  wgg_http_req *req = user;
  if (st) {
    wgg_api_error_status(req, st);
  } else if (!got->found) {
    wgg_api_empty(req);
  } else {
    wgg_http_header h[2] = {{"ETag", got->etag}};
    size_t nh = 1;
    char when[40];
    if (got->expire_unix > 0) {
      time_t t = (time_t)got->expire_unix;
      struct tm tm;
      gmtime_r(&t, &tm);
      strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
      h[nh].name = "metadata.ttlExpireTime";
      h[nh++].value = when;
    }
    wgg_http_respond(req, 200, "application/json", h, nh, got->value, got->value_len);
  }
}

void wgg_state_get(wgg_api *api, wgg_http_req *req, wgg_store_entry *se, const char *key) {
  if (!wgg_state_key_ok(req, key)) return;
  wgg_api_status st;
  if (wgg_state_get_call(api, req->loop, se, key, http_get_done, req, &st)) wgg_api_error_status(req, &st);
}

/* ---- DELETE /v1.0/state/{store}/{key} ---- */

typedef struct del_job {
  wgg_state_done_cb cb;
  void *user;
  wgg_store_entry *se;
  wgg_state_op op;
  char *key, *user_key, *etag;
  int status;
  wgg_err err;
  wgg_state_call call;
} del_job;

static void del_done(wgg_state_call *c) {
  del_job *j = c->user;
  j->status = c->status;
  wgg_metrics_state(j->se->metrics, wgg_state_index(j->se), WGG_OP_DELETE, j->status == WGG_ST_OK);
  wgg_api_status st;
  switch (j->status) {
    case WGG_ST_OK: break;
    case WGG_ST_ETAG_MISMATCH:
      wgg_api_fail(&st, 409, WGG_GRPC_ABORTED, "ERR_STATE_DELETE",
                   "failed deleting state with key %s: possible etag mismatch. error from state store: %s", j->user_key,
                   j->err.msg);
      break;
    case WGG_ST_ETAG_INVALID:
      wgg_api_fail(&st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_STATE_DELETE", "failed deleting state with key %s: %s",
                   j->user_key, j->err.msg);
      break;
    default:
      wgg_api_fail(&st, j->status == WGG_ST_BAD_REQUEST ? 400 : 500,
                   j->status == WGG_ST_BAD_REQUEST ? WGG_GRPC_INVALID_ARGUMENT : WGG_GRPC_INTERNAL, "ERR_STATE_DELETE",
                   "failed deleting state with key %s: %s", j->user_key, j->err.msg);
  }
  j->cb(j->user, j->status == WGG_ST_OK ? NULL : &st);
  free(j->key);
  free(j->user_key);
  free(j->etag);
  free(j);
}

int wgg_state_delete_call(wgg_api *api, uv_loop_t *loop, wgg_store_entry *se, const char *key, const char *etag,
                          bool first_write, wgg_state_done_cb cb, void *user, wgg_api_status *st) {
  del_job *j = calloc(1, sizeof *j);
  if (j) {
    j->cb = cb;
    j->user = user;
    j->se = se;
    j->key = wgg_state_prefixed(api, key);
    j->user_key = strdup(key);
    j->etag = etag ? strdup(etag) : NULL;
    j->op.is_delete = true;
    j->op.key = j->key;
    j->op.etag = j->etag;
    j->op.first_write = first_write;
    j->call = (wgg_state_call){.ops = &j->op, .n = 1, .err = &j->err, .done = del_done, .user = j};
  }
  if (!j || !j->key || !j->user_key || (etag && !j->etag) || wgg_state_call_start(loop, se, &j->call)) {
    if (j) {
      free(j->key);
      free(j->user_key);
      free(j->etag);
      free(j);
    }
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_STATE_DELETE",
                        "failed deleting state with key %s: out of memory", key);
  }
  return 0;
}

static void http_done(void *user, const wgg_api_status *st) {
  if (st) wgg_api_error_status(user, st);
  else wgg_api_empty(user);
}

void wgg_state_delete(wgg_api *api, wgg_http_req *req, wgg_store_entry *se, const char *key) {
  if (!wgg_state_key_ok(req, key)) return;
  char *conc = wgg_query_get(req->query, "concurrency");
  if (conc && strcmp(conc, "first-write") && strcmp(conc, "last-write") && *conc) {
    wgg_api_error(req, 400, "ERR_STATE_DELETE", "failed deleting state with key %s: unrecognized concurrency model '%s'",
                  key, conc);
    free(conc);
    return;
  }
  wgg_api_status st;
  bool first_write = conc && !strcmp(conc, "first-write");
  free(conc);
  if (wgg_state_delete_call(api, req->loop, se, key, wgg_http_req_header(req, "If-Match"), first_write, http_done, req,
                            &st))
    wgg_api_error_status(req, &st);
}

/* ---- routing ---- */

static void not_allowed(wgg_http_req *req) {
  wgg_api_method_not_allowed(req);
}

void wgg_api_state(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  if (n == 0 || n > 2 || !*seg[0]) {
    wgg_api_not_found(req);
    return;
  }
  bool post = req->method == HTTP_POST || req->method == HTTP_PUT;
  req->tag = n == 1                               ? WGG_R_STATE_SAVE
             : post && !strcmp(seg[1], "bulk")        ? WGG_R_STATE_BULK
             : post && !strcmp(seg[1], "transaction") ? WGG_R_STATE_TRANSACTION
             : req->method == HTTP_DELETE             ? WGG_R_STATE_DELETE
                                                      : WGG_R_STATE_GET;
  if (n == 1) {
    if (!post) {
      not_allowed(req);
      return;
    }
    wgg_store_entry *se = wgg_state_find(api, req, seg[0]);
    if (se) wgg_state_save(api, req, se);
    return;
  }
  if (post && !strcmp(seg[1], "bulk")) {
    wgg_store_entry *se = wgg_state_find(api, req, seg[0]);
    if (se) wgg_state_bulk(api, req, se);
    return;
  }
  if (post && !strcmp(seg[1], "transaction")) {
    wgg_store_entry *se = wgg_state_find(api, req, seg[0]);
    if (se) wgg_state_transaction(api, req, se);
    return;
  }
  if (req->method != HTTP_GET && req->method != HTTP_DELETE) {
      not_allowed(req);
      return;
    }
  wgg_store_entry *se = wgg_state_find(api, req, seg[0]);
  if (!se) return;
  if (req->method == HTTP_GET) wgg_state_get(api, req, se, seg[1]);
  else wgg_state_delete(api, req, se, seg[1]);
}
