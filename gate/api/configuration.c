/*
 * configuration.c: the configuration API (docs reference/api/
 * configuration_api.md; dapr pkg/api/http/http.go onGetConfiguration,
 * onSubscribeConfiguration, onUnsubscribeConfiguration), on /v1.0 and
 * /v1.0-alpha1 alike, all GET:
 *   configuration/{store}?key=a&key=b    {"a":{"value":..,"version":..}} or 204
 *   configuration/{store}/subscribe?key= {"id":"<uuid>"}
 *   configuration/{store}/{id}/unsubscribe  {"ok":true} | 500 {"ok":false,"message":..}
 * A change of a subscribed key is posted to the app, as daprd does, at
 * POST /configuration/{store}/{key} with {"id":<subscription>,"items":{..}}
 * (one post per key of the event), from a delivery thread of our own that
 * goes through the app channel (api/appchannel.h).
 */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/api.h"
#include "api/appchannel.h"
#include "api/calls.h"
#include "api/executor.h"
#include "components/configuration/configuration.h"
#include "http/client.h"
#include "util/buf.h"
#include "util/log.h"

/* ---- delivery of change notifications to the app ---- */

typedef struct conf_note {
  struct conf_note *next;
  char *target; /* "/configuration/<store>/<key>" */
  char *body;   /* the UpdateEvent JSON */
} conf_note;

typedef struct wgg_conf_deliver {
  wgg_api *api;
  uv_loop_t loop;
  uv_async_t wake;
  uv_thread_t thread;
  wgg_http_client *client;
  pthread_mutex_t mu;
  conf_note *head, *tail; /* under mu */
  bool stopping;          /* under mu */
} wgg_conf_deliver;

static void note_free(conf_note *n) {
  free(n->target);
  free(n->body);
  free(n);
}

static void on_delivered(void *user, const wgg_http_response *resp, const char *errmsg) {
  conf_note *n = user;
  if (!resp) wgg_warn("error sending configuration item to the app: %s (%s)", errmsg ? errmsg : "failed", n->target);
  else if (resp->status != 200)
    wgg_warn("error sending configuration item to the app: error sending configuration item to application, "
             "status %d (%s)", resp->status, n->target);
  note_free(n);
}

static void on_wake(uv_async_t *a) {
  wgg_conf_deliver *d = a->data;
  pthread_mutex_lock(&d->mu);
  conf_note *n = d->head;
  d->head = d->tail = NULL;
  bool stopping = d->stopping;
  pthread_mutex_unlock(&d->mu);
  while (n) {
    conf_note *next = n->next;
    const char *why = NULL;
    static const wgg_http_header ct[] = {{"Content-Type", "application/json"}};
    if (stopping || !d->client ||
        wgg_app_call(d->api, d->client, "POST", n->target, ct, 1, n->body, strlen(n->body), NULL, 30000, on_delivered,
                     n, &why)) {
      if (!stopping) wgg_warn("error sending configuration item to the app: %s", why ? why : "out of memory");
      note_free(n);
    }
    n = next;
  }
  if (stopping) {
    uv_close((uv_handle_t *)&d->wake, NULL);
    if (d->client) wgg_http_client_close(d->client); /* calls in flight still complete */
    d->client = NULL;
    wgg_app_limit_thread_close(d->api->app_limit);
  }
}

static void deliver_main(void *p) {
  wgg_conf_deliver *d = p;
  if (wgg_app_limit_thread_init(d->api->app_limit, &d->loop))
    wgg_warn("out of memory: configuration notifications are not held to --app-max-concurrency");
  uv_run(&d->loop, UV_RUN_DEFAULT);
}

static wgg_conf_deliver *deliver_start(wgg_api *api) {
  wgg_conf_deliver *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->api = api;
  pthread_mutex_init(&d->mu, NULL);
  uv_loop_init(&d->loop);
  uv_async_init(&d->loop, &d->wake, on_wake);
  d->wake.data = d;
  d->client = wgg_http_client_new(&d->loop);
  if (!d->client || uv_thread_create(&d->thread, deliver_main, d)) {
    uv_close((uv_handle_t *)&d->wake, NULL);
    if (d->client) wgg_http_client_close(d->client);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    uv_loop_close(&d->loop);
    pthread_mutex_destroy(&d->mu);
    free(d);
    return NULL;
  }
  return d;
}

static void deliver_stop(wgg_conf_deliver *d) {
  if (!d) return;
  pthread_mutex_lock(&d->mu);
  d->stopping = true;
  uv_async_send(&d->wake);
  pthread_mutex_unlock(&d->mu);
  uv_thread_join(&d->thread);
  uv_loop_close(&d->loop);
  while (d->head) {
    conf_note *n = d->head->next;
    note_free(d->head);
    d->head = n;
  }
  pthread_mutex_destroy(&d->mu);
  free(d);
}

/* The segment of a path for key: bytes that would break the request target
 * are percent-encoded, the rest kept as daprd sends them. */
static void append_path(wgg_buf *b, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c <= 0x20 || c >= 0x7f || c == '%' || c == '?' || c == '#') {
      char e[4];
      snprintf(e, sizeof e, "%%%02X", c);
      wgg_buf_append(b, e, 3);
    } else {
      wgg_buf_append(b, s, 1);
    }
  }
}

static json_t *items_json(const wgg_conf_items *items) {
  json_t *o = json_object();
  for (size_t i = 0; o && i < items->n; i++) {
    json_t *it = json_object(); /* configuration.Item: value, version omitted when empty */
    if (*items->items[i].value) json_object_set_new(it, "value", json_string(items->items[i].value));
    if (*items->items[i].version) json_object_set_new(it, "version", json_string(items->items[i].version));
    json_object_set_new(o, items->items[i].key, it);
  }
  return o;
}

/* wgg_conf_notify_fn, on the store's watcher thread: queue one post per key. */
static void on_change(const char *sub_id, const wgg_conf_items *items, void *user) {
  wgg_config_entry *ce = user;
  wgg_conf_deliver *d = ce->api->conf_deliver;
  if (!d) return;
  json_t *ev = json_object();
  json_object_set_new(ev, "id", json_string(sub_id));
  json_object_set_new(ev, "items", items_json(items));
  char *body = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS | JSON_PRESERVE_ORDER);
  json_decref(ev);
  for (size_t i = 0; body && i < items->n; i++) {
    conf_note *n = calloc(1, sizeof *n);
    wgg_buf t = {0};
    wgg_buf_append(&t, "/configuration/", 15);
    append_path(&t, ce->comp->name);
    wgg_buf_append(&t, "/", 1);
    append_path(&t, items->items[i].key);
    wgg_buf_append(&t, "", 1);
    if (!n || !t.data || !(n->body = strdup(body))) {
      wgg_buf_free(&t);
      free(n);
      break;
    }
    n->target = t.data;
    pthread_mutex_lock(&d->mu);
    if (d->stopping) {
      note_free(n);
    } else {
      if (d->tail) d->tail->next = n;
      else d->head = n;
      d->tail = n;
      uv_async_send(&d->wake);
    }
    pthread_mutex_unlock(&d->mu);
  }
  free(body);
}

/* ---- loading ---- */

int wgg_api_configs_init(wgg_api *api, wgg_err *err) {
  size_t n = 0;
  for (size_t i = 0; i < api->components.n; i++)
    if (!api->components.items[i].endpoint && !strncmp(api->components.items[i].type, "configuration.", 14)) n++;
  if (!n) return 0;
  if (!(api->configs = calloc(n, sizeof *api->configs))) return wgg_err_set(err, "out of memory");
  for (size_t i = 0; i < api->components.n; i++) {
    const wgg_component *c = &api->components.items[i];
    if (c->endpoint || strncmp(c->type, "configuration.", 14)) continue;
    const char *ver = *c->version ? c->version : "v1";
    wgg_err e = {0};
    wgg_config_store *s = wgg_config_store_new(c, &e);
    if (!s) {
      if (!c->ignore_errors)
        return wgg_err_set(err, "%s:%d: component %s (%s/%s): init error: %s", c->file, c->line, c->name, c->type, ver,
                           e.msg);
      wgg_warn("component %s (%s:%d): %s; skipped (ignoreErrors)", c->name, c->file, c->line, e.msg);
      continue;
    }
    wgg_config_entry *ce = &api->configs[api->n_configs++];
    *ce = (wgg_config_entry){.comp = c, .store = s, .api = api};
    if (s->blocking && !(ce->exec = wgg_exec_new(c->name)))
      wgg_warn("component %s: no thread of its own; its calls use the libuv pool", c->name);
    wgg_info("component loaded: %s (%s/%s)", c->name, c->type, ver);
  }
  if (api->n_configs && wgg_options_has_app(api->opts) && !(api->conf_deliver = deliver_start(api)))
    return wgg_err_set(err, "cannot start the configuration notification thread");
  return 0;
}

void wgg_api_configs_free(wgg_api *api) {
  for (size_t i = 0; i < api->n_configs; i++) { /* no notification after this */
    wgg_exec_free(api->configs[i].exec);
    api->configs[i].store->ops->destroy(api->configs[i].store);
  }
  deliver_stop(api->conf_deliver);
  api->conf_deliver = NULL;
  free(api->configs);
  api->configs = NULL;
  api->n_configs = 0;
}

/* ---- the routes ---- */

/* Every value of query parameter `key`, decoded as Go's url.Query does. */
static char **query_keys(const char *query, size_t *n) {
  *n = 0;
  size_t cap = 0;
  char **keys = NULL;
  for (const char *p = query; p && *p;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t kl = eq ? (size_t)(eq - p) : len;
    char *k = wgg_url_decode(p, kl, true);
    if (k && !strcmp(k, "key")) {
      char *v = eq ? wgg_url_decode(eq + 1, len - kl - 1, true) : strdup("");
      if (v && *n == cap) {
        char **nk = realloc(keys, (cap = cap ? cap * 2 : 4) * sizeof *keys);
        if (!nk) free(v), v = NULL;
        else keys = nk;
      }
      if (v) keys[(*n)++] = v;
    }
    free(k);
    p = amp ? amp + 1 : NULL;
  }
  return keys;
}

static void keys_free(char **keys, size_t n) {
  for (size_t i = 0; i < n; i++) free(keys[i]);
  free(keys);
}

/* keys as Go's fmt prints a []string: "[a b]". */
static void go_list(char **keys, size_t n, wgg_buf *b) {
  wgg_buf_append(b, "[", 1);
  for (size_t i = 0; i < n; i++) {
    if (i) wgg_buf_append(b, " ", 1);
    wgg_buf_append(b, keys[i], strlen(keys[i]));
  }
  wgg_buf_append(b, "]", 2);
}

/* ---- transport-neutral calls (api/calls.h) ---- */

wgg_config_entry *wgg_config_lookup(wgg_api *api, const char *name, wgg_api_status *st) {
  if (!api->n_configs) {
    wgg_api_fail(st, 500, WGG_GRPC_FAILED_PRECONDITION, "ERR_CONFIGURATION_STORE_NOT_CONFIGURED",
                 "configuration stores not configured");
    return NULL;
  }
  for (size_t i = 0; i < api->n_configs; i++)
    if (!strcmp(api->configs[i].comp->name, name)) return &api->configs[i];
  wgg_api_fail(st, 400, WGG_GRPC_INVALID_ARGUMENT, "ERR_CONFIGURATION_STORE_NOT_FOUND",
               "configuration store %s not found", name);
  return NULL;
}

typedef struct get_job {
  wgg_config_entry *ce;
  char **keys;
  size_t n;
  wgg_conf_items items;
  int rc;
  wgg_err err;
  wgg_config_get_cb cb;
  void *user;
} get_job;

static void get_work(void *p) {
  get_job *j = p;
  j->err.msg[0] = '\0';
  j->rc = j->ce->store->ops->get(j->ce->store, (const char *const *)j->keys, j->n, &j->items, &j->err);
}

static void get_done(void *p) {
  get_job *j = p;
  if (j->rc) {
    wgg_buf b = {0};
    go_list(j->keys, j->n, &b);
    wgg_api_status st;
    wgg_api_fail(&st, 500, WGG_GRPC_INTERNAL, "ERR_CONFIGURATION_GET", "failed to get %s from Configuration store %s: %s",
                 b.data ? b.data : "[]", j->ce->comp->name, j->err.msg);
    wgg_buf_free(&b);
    j->cb(j->user, &st, NULL);
  } else {
    j->cb(j->user, NULL, &j->items);
  }
  wgg_conf_items_free(&j->items);
  keys_free(j->keys, j->n);
  free(j);
}

/* A copy of n keys (NULL on OOM; n 0 gives an empty array). */
static char **keys_copy(const char *const *keys, size_t n) {
  char **k = calloc(n ? n : 1, sizeof *k);
  for (size_t i = 0; k && i < n; i++)
    if (!(k[i] = strdup(keys[i]))) {
      keys_free(k, i);
      return NULL;
    }
  return k;
}

int wgg_config_get_call(wgg_api *api, uv_loop_t *loop, wgg_config_entry *ce, const char *const *keys, size_t n,
                        wgg_config_get_cb cb, void *user, wgg_api_status *st) {
  (void)api;
  get_job *j = calloc(1, sizeof *j);
  if (j) {
    j->ce = ce;
    j->n = n;
    j->cb = cb;
    j->user = user;
    j->keys = keys_copy(keys, n);
  }
  if (!j || !j->keys) {
    free(j);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_CONFIGURATION_GET", "out of memory");
  }
  if (!ce->store->blocking) {
    get_work(j);
    get_done(j);
  } else if (wgg_exec_submit(ce->exec, loop, j, get_work, get_done)) {
    keys_free(j->keys, j->n);
    free(j);
    return wgg_api_fail(st, 500, WGG_GRPC_INTERNAL, "ERR_CONFIGURATION_GET", "out of memory");
  }
  return 0;
}

static void new_uuid(char out[37]) {
  unsigned char r[16] = {0};
  if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
    for (size_t i = 0; i < sizeof r; i++) r[i] = (unsigned char)rand();
  }
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
           r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

int wgg_config_subscribe_call(wgg_api *api, wgg_config_entry *ce, const char *const *keys, size_t n,
                              wgg_config_notify_cb fn, void *user, char id[37], wgg_api_status *st) {
  (void)api;
  new_uuid(id);
  wgg_err err = {0};
  int rc = ce->store->ops->subscribe ? ce->store->ops->subscribe(ce->store, id, keys, n, fn, user, &err)
                                     : wgg_err_set(&err, "subscribe is not supported by %s", ce->comp->type);
  if (!rc) return 0;
  wgg_buf b = {0};
  go_list((char **)keys, n, &b);
  wgg_api_fail(st, 500, WGG_GRPC_INVALID_ARGUMENT, "ERR_CONFIGURATION_SUBSCRIBE",
               "failed to subscribe %s from Configuration store %s: %s", b.data ? b.data : "[]", ce->comp->name,
               err.msg);
  wgg_buf_free(&b);
  return -1;
}

int wgg_config_unsubscribe_call(wgg_config_entry *ce, const char *id, wgg_err *err) {
  return ce->store->ops->unsubscribe ? ce->store->ops->unsubscribe(ce->store, id, err)
                                     : wgg_err_set(err, "subscription with id %s does not exist", id);
}

/* ---- the HTTP routes ---- */

static void http_get_done(void *user, const wgg_api_status *st, const wgg_conf_items *items) {
  wgg_http_req *req = user;
  if (st) {
    wgg_api_error_status(req, st);
  } else if (!items->n) {
    wgg_api_empty(req); /* daprd: no items is 204 */
  } else {
    json_t *o = items_json(items);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL; /* Go sorts map keys */
    json_decref(o);
    if (!s) {
      wgg_api_error(req, 500, "ERR_CONFIGURATION_GET", "out of memory");
    } else {
      size_t l = strlen(s);
      char *nl = realloc(s, l + 2); /* json.Encoder ends the document with a newline */
      if (nl) s = nl, s[l++] = '\n', s[l] = '\0';
      wgg_http_respond(req, 200, "application/json", NULL, 0, s, l);
      free(s);
    }
  }
}

static void subscribe(wgg_api *api, wgg_http_req *req, wgg_config_entry *ce) {
  if (api->opts->app_port <= 0 || !api->conf_deliver) {
    wgg_api_error(req, 500, "ERR_APP_CHANNEL_NIL", "app channel is not initialized. cannot subscribe to configuration updates");
    return;
  }
  size_t n;
  char **keys = query_keys(req->query, &n);
  char id[37];
  wgg_api_status st;
  if (wgg_config_subscribe_call(api, ce, (const char *const *)keys, n, on_change, ce, id, &st)) {
    wgg_api_error_status(req, &st);
  } else {
    char body[64];
    int l = snprintf(body, sizeof body, "{\"id\":\"%s\"}\n", id);
    wgg_http_respond(req, 200, "application/json", NULL, 0, body, (size_t)l);
  }
  keys_free(keys, n);
}

static void unsubscribe(wgg_http_req *req, wgg_config_entry *ce, const char *id) {
  wgg_err err = {0};
  if (wgg_config_unsubscribe_call(ce, id, &err)) {
    char *msg = NULL;
    size_t ml = strlen(id) * 2 + strlen(err.msg) + 64;
    if ((msg = malloc(ml))) snprintf(msg, ml, "failed to unsubscribe to configuration request %s: %s", id, err.msg);
    json_t *j = json_pack("{s:b,s:s}", "ok", 0, "message", msg ? msg : "out of memory");
    free(msg);
    wgg_api_json(req, 500, j);
    return;
  }
  wgg_api_json(req, 200, json_pack("{s:b}", "ok", 1));
}

void wgg_api_configuration(wgg_api *api, wgg_http_req *req, char **seg, size_t n) {
  bool get = n == 1, sub = n == 2 && !strcmp(seg[1], "subscribe"), unsub = n == 3 && !strcmp(seg[2], "unsubscribe");
  if ((!get && !sub && !unsub) || !*seg[0] || (unsub && !*seg[1])) {
    wgg_api_not_found(req);
    return;
  }
  if (req->method != HTTP_GET) {
    wgg_api_method_not_allowed(req);
    return;
  }
  wgg_api_status st;
  wgg_config_entry *ce = wgg_config_lookup(api, seg[0], &st);
  if (!ce) {
    wgg_api_error_status(req, &st);
    return;
  }
  if (sub) {
    subscribe(api, req, ce);
    return;
  }
  if (unsub) {
    unsubscribe(req, ce, seg[1]);
    return;
  }
  size_t nk;
  char **keys = query_keys(req->query, &nk);
  if (wgg_config_get_call(api, req->loop, ce, (const char *const *)keys, nk, http_get_done, req, &st))
    wgg_api_error_status(req, &st);
  keys_free(keys, nk);
}
