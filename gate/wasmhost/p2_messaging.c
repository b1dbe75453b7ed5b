/*
 * p2_messaging.c: wasi:messaging@0.2.0-draft producer for components, on
 * Dapr pub/sub components (p2_cloud.h; docs/components.md "The cloud
 * interfaces"). From our transcription of WebAssembly/wasi-messaging's WIT
 * (commit 4ee59bb, package wasi:messaging@0.2.0-draft):
 *
 *   types:    resource client { connect: static func(name) -> result<client, error>;
 *                               disconnect: func() -> result<_, error> }
 *             variant error { timeout, connection(string), permission-denied(string), other(string) }
 *             resource message { constructor(data: list<u8>); topic, content-type,
 *                                set-content-type, data, set-data, metadata,
 *                                add-metadata, set-metadata, remove-metadata }
 *   producer: send: func(c: borrow<client>, topic: string, message: message) -> result<_, error>
 *
 * A client is a pub/sub component of the app by name (its rep: the index
 * + 1); send publishes exactly as POST /v1.0/publish/{pubsub}/{topic} does
 * (api/calls.h wgg_publish_call: scopes, the CloudEvent envelope with the
 * app ID as source, the message's content type, its metadata as Dapr's
 * publish metadata: rawPayload, ttlInSeconds, cloudevent.*), parked on
 * the pub/sub's answer where the guest can park (p2_cloud_internal.h). The exported incoming-handler (delivery to a component)
 * gets messages made by wgg_p2_messaging_incoming (their topic() is the
 * topic delivered on).
 *
 * Also wasmCloud's own wasmcloud:messaging@0.2.0 consumer (types:
 * record broker-message { subject: string, body: list<u8>, reply-to:
 * option<string> }): publish(msg) -> result<_, string> publishes the body
 * to topic `subject` of the app's pub/sub component named "pubsub" (Dapr's
 * default name), else of its only one; request(...) answers an error (Dapr
 * pub/sub has no replies).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/calls.h"
#include "wasmhost/p2_cloud.h"
#include "wasmhost/p2_cloud_internal.h"
#include "wasmhost/p2http.h"

#define MSG_V "@0.2.0-draft"
#define MSG_MAX 65536 /* live messages per linker */

typedef struct msg {
  bool used;
  char *data;
  size_t len;
  char *ctype;      /* NULL: none */
  char *topic;      /* a delivered message's (NULL: made by the guest) */
  char **meta;      /* key, value, key, value ... */
  size_t nmeta;     /* pairs */
  const void *owner; /* the instance whose guest holds it (wgg_p2_messaging_release), NULL: none known */
} msg;

typedef struct wgg_p2_msg_host {
  wgg_api *api;
  const wg_component_resource_type *client, *message;
  pthread_mutex_t mu; /* the message table: a linker may serve several threads */
  msg *msgs;
  uint32_t nmsgs;
} msg_host;

static wg_trap *oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

static wg_cval *box(wg_cval v) {
  wg_cval *p = wg_cval_array(1);
  if (p) *p = v;
  return p;
}

static wg_cval *str_(const char *s, size_t n) {
  wg_cval *v = wg_cval_array(1);
  if (v && !wg_cval_string(v, s, n)) {
    free(v);
    return NULL;
  }
  return v;
}

/* error cases */
enum { E_TIMEOUT, E_CONNECTION, E_PERMISSION, E_OTHER };

static wg_trap *err_(wg_cval *r, int kind, const char *m) {
  wg_cval *s = str_(m, strlen(m));
  wg_cval *e = s ? box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {(uint32_t)kind, s}}) : NULL;
  if (!e) {
    if (s) wg_cval_free(s);
    free(s);
    return oom();
  }
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, e}};
  return NULL;
}

static void msg_clear(msg *m) {
  free(m->data);
  free(m->ctype);
  free(m->topic);
  for (size_t i = 0; i < 2 * m->nmeta; i++) free(m->meta[i]);
  free(m->meta);
  memset(m, 0, sizeof *m);
}

static void msg_dtor(void *env, uint32_t rep) {
  msg_host *h = env;
  pthread_mutex_lock(&h->mu);
  if (rep && rep <= h->nmsgs) msg_clear(&h->msgs[rep - 1]);
  pthread_mutex_unlock(&h->mu);
}

/* The message of a handle, with h->mu held (unlock with done()); NULL: unknown. */
static msg *msg_get(msg_host *h, const wg_cval *v) {
  pthread_mutex_lock(&h->mu);
  uint32_t rep = v->of.handle.rep;
  if (v->of.handle.type == h->message && rep && rep <= h->nmsgs && h->msgs[rep - 1].used) return &h->msgs[rep - 1];
  pthread_mutex_unlock(&h->mu);
  return NULL;
}
static void done(msg_host *h) { pthread_mutex_unlock(&h->mu); }

/* Puts *m in a free slot of the table: its rep (index + 1), or 0 on OOM or (*full) a full table. */
static uint32_t msg_add(msg_host *h, const msg *m, bool *full) {
  pthread_mutex_lock(&h->mu);
  uint32_t i = 0;
  while (i < h->nmsgs && h->msgs[i].used) i++;
  if (i == h->nmsgs) {
    msg *nv = h->nmsgs < MSG_MAX ? realloc(h->msgs, (h->nmsgs + 1) * sizeof *nv) : NULL;
    if (!nv) {
      *full = h->nmsgs >= MSG_MAX;
      pthread_mutex_unlock(&h->mu);
      return 0;
    }
    h->msgs = nv;
    memset(&h->msgs[h->nmsgs++], 0, sizeof *nv);
  }
  h->msgs[i] = *m;
  pthread_mutex_unlock(&h->mu);
  return i + 1;
}
static wg_trap *unknown(void) { return wg_trap_new(WG_TRAP_HOST, "wasi:messaging: unknown message handle"); }

static char *dup_str(const wg_cval *s) {
  char *p = malloc(s->of.str.len + 1);
  if (p) {
    memcpy(p, s->of.str.ptr, s->of.str.len);
    p[s->of.str.len] = '\0';
  }
  return p;
}

/* ---------------------------------------------------------------- client */

/* [static]client.connect: func(name: string) -> result<client, error> */
static wg_trap *client_connect(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  msg_host *h = env;
  for (size_t i = 0; i < h->api->n_pubsubs; i++) {
    const char *name = h->api->pubsubs[i].comp->name;
    if (strlen(name) == a[0].of.str.len && !memcmp(name, a[0].of.str.ptr, a[0].of.str.len)) {
      wg_cval *c = box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {(uint32_t)i + 1, h->client}});
      if (!c) return oom();
      *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, c}};
      return NULL;
    }
  }
  char m[300];
  snprintf(m, sizeof m, "pubsub %.*s is not found", (int)(a[0].of.str.len > 200 ? 200 : a[0].of.str.len),
           a[0].of.str.ptr);
  return err_(r, E_CONNECTION, m);
}

/* [method]client.disconnect: func() -> result<_, error>: nothing to close */
static wg_trap *client_disconnect(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, NULL}};
  return NULL;
}

/* ---------------------------------------------------------------- message */

/* [constructor]message: func(data: list<u8>) -> message */
static wg_trap *msg_new(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  msg_host *h = env;
  size_t n;
  char *data = p2c_bytes_dup(&a[0], &n);
  if (!data) return oom();
  bool full = false;
  uint32_t rep = msg_add(h, &(msg){.used = true, .data = data, .len = n, .owner = wgg_p2h_current()}, &full);
  if (!rep) {
    free(data);
    return full ? wg_trap_new(WG_TRAP_HOST, "wasi:messaging: too many messages") : oom();
  }
  *r = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, h->message}};
  return NULL;
}

bool wgg_p2_messaging_incoming(wgg_p2_msg_host *h, const void *owner, const char *topic, const void *data, size_t len,
                               const char *ctype, const char *const *meta, size_t nmeta, wg_cval *v) {
  msg m = {.used = true, .owner = owner, .data = malloc(len ? len : 1), .len = len, .topic = strdup(topic),
           .ctype = ctype ? strdup(ctype) : NULL, .meta = nmeta ? calloc(2 * nmeta, sizeof(char *)) : NULL};
  if (m.meta) m.nmeta = nmeta; /* msg_clear frees the strings made so far */
  bool ok = m.data && m.topic && (!ctype || m.ctype) && m.nmeta == nmeta;
  if (ok && len) memcpy(m.data, data, len);
  for (size_t i = 0; ok && i < 2 * nmeta; i++) ok = (m.meta[i] = strdup(meta[i])) != NULL;
  bool full = false;
  uint32_t rep = ok ? msg_add(h, &m, &full) : 0;
  if (!rep) {
    msg_clear(&m);
    return false;
  }
  *v = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, h->message}};
  return true;
}

void wgg_p2_messaging_release(wgg_p2_msg_host *h, const void *owner) {
  if (!h || !owner) return;
  pthread_mutex_lock(&h->mu);
  for (uint32_t i = 0; i < h->nmsgs; i++)
    if (h->msgs[i].used && h->msgs[i].owner == owner) msg_clear(&h->msgs[i]);
  pthread_mutex_unlock(&h->mu);
}

size_t wgg_p2_messaging_live(wgg_p2_msg_host *h) {
  size_t n = 0;
  pthread_mutex_lock(&h->mu);
  for (uint32_t i = 0; i < h->nmsgs; i++) n += h->msgs[i].used;
  pthread_mutex_unlock(&h->mu);
  return n;
}

/* [method]message.topic: func() -> option<topic>: a delivered message's topic; none for one made here */
static wg_trap *msg_topic(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  msg *m = msg_get(env, &a[0]);
  if (!m) return unknown();
  wg_cval *s = m->topic ? str_(m->topic, strlen(m->topic)) : NULL;
  bool failed = m->topic && !s;
  done(env);
  if (failed) return oom();
  *r = (wg_cval){.kind = WG_CVAL_OPTION, .of.var = {s ? 1 : 0, s}};
  return NULL;
}

/* [method]message.content-type: func() -> option<string> */
static wg_trap *msg_ctype(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  msg *m = msg_get(env, &a[0]);
  if (!m) return unknown();
  wg_cval *s = m->ctype ? str_(m->ctype, strlen(m->ctype)) : NULL;
  bool failed = m->ctype && !s;
  done(env);
  if (failed) return oom();
  *r = (wg_cval){.kind = WG_CVAL_OPTION, .of.var = {s ? 1 : 0, s}};
  return NULL;
}

/* [method]message.set-content-type: func(content-type: string) */
static wg_trap *msg_set_ctype(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)r, (void)nr;
  char *s = dup_str(&a[1]);
  if (!s) return oom();
  msg *m = msg_get(env, &a[0]);
  if (!m) {
    free(s);
    return unknown();
  }
  free(m->ctype);
  m->ctype = s;
  done(env);
  return NULL;
}

/* [method]message.data: func() -> list<u8> */
static wg_trap *msg_data(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  msg *m = msg_get(env, &a[0]);
  if (!m) return unknown();
  wg_cval *l = wg_cval_array(m->len ? m->len : 1);
  if (l)
    for (size_t i = 0; i < m->len; i++) l[i] = (wg_cval){.kind = WG_CVAL_U8, .of.u = (uint8_t)m->data[i]};
  size_t n = m->len;
  done(env);
  if (!l) return oom();
  *r = (wg_cval){.kind = WG_CVAL_LIST, .of.seq = {l, n}};
  return NULL;
}

/* [method]message.set-data: func(data: list<u8>) */
static wg_trap *msg_set_data(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)r, (void)nr;
  size_t n;
  char *d = p2c_bytes_dup(&a[1], &n);
  if (!d) return oom();
  msg *m = msg_get(env, &a[0]);
  if (!m) {
    free(d);
    return unknown();
  }
  free(m->data);
  m->data = d;
  m->len = n;
  done(env);
  return NULL;
}

/* [method]message.metadata: func() -> option<metadata> (none when empty) */
static wg_trap *msg_metadata(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  msg *m = msg_get(env, &a[0]);
  if (!m) return unknown();
  wg_cval *list = NULL;
  bool ok = true;
  if (m->nmeta) {
    list = box((wg_cval){.kind = WG_CVAL_LIST});
    ok = list && (list->of.seq.ptr = wg_cval_array(m->nmeta));
    if (ok) list->of.seq.len = m->nmeta;
    for (size_t i = 0; ok && i < m->nmeta; i++) {
      wg_cval *t = &list->of.seq.ptr[i];
      t->kind = WG_CVAL_TUPLE;
      ok = (t->of.seq.ptr = wg_cval_array(2)) != NULL;
      if (ok) t->of.seq.len = 2;
      ok = ok && wg_cval_string(&t->of.seq.ptr[0], m->meta[2 * i], strlen(m->meta[2 * i])) &&
           wg_cval_string(&t->of.seq.ptr[1], m->meta[2 * i + 1], strlen(m->meta[2 * i + 1]));
    }
  }
  done(env);
  if (!ok) {
    if (list) wg_cval_free(list);
    free(list);
    return oom();
  }
  *r = (wg_cval){.kind = WG_CVAL_OPTION, .of.var = {list ? 1 : 0, list}};
  return NULL;
}

/* Removes key from m's metadata. */
static void meta_remove(msg *m, const char *k, size_t kl) {
  for (size_t i = 0; i < m->nmeta;) {
    if (strlen(m->meta[2 * i]) == kl && !memcmp(m->meta[2 * i], k, kl)) {
      free(m->meta[2 * i]);
      free(m->meta[2 * i + 1]);
      memmove(&m->meta[2 * i], &m->meta[2 * i + 2], 2 * (m->nmeta - i - 1) * sizeof *m->meta);
      m->nmeta--;
    } else {
      i++;
    }
  }
}

/* Sets key to value (replacing it). False on OOM. */
static bool meta_put(msg *m, const wg_cval *k, const wg_cval *v) {
  char *ks = dup_str(k), *vs = dup_str(v);
  char **nv = ks && vs ? realloc(m->meta, 2 * (m->nmeta + 1) * sizeof *nv) : NULL;
  if (!nv) {
    free(ks);
    free(vs);
    return false;
  }
  m->meta = nv;
  meta_remove(m, ks, strlen(ks));
  m->meta[2 * m->nmeta] = ks;
  m->meta[2 * m->nmeta + 1] = vs;
  m->nmeta++;
  return true;
}

/* [method]message.add-metadata: func(key: string, value: string) */
static wg_trap *msg_add_meta(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)r, (void)nr;
  msg *m = msg_get(env, &a[0]);
  if (!m) return unknown();
  bool ok = meta_put(m, &a[1], &a[2]);
  done(env);
  return ok ? NULL : oom();
}

/* [method]message.set-metadata: func(meta: metadata) */
static wg_trap *msg_set_meta(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)r, (void)nr;
  msg *m = msg_get(env, &a[0]);
  if (!m) return unknown();
  while (m->nmeta) meta_remove(m, m->meta[0], strlen(m->meta[0]));
  bool ok = true;
  for (size_t i = 0; ok && i < a[1].of.seq.len; i++)
    ok = meta_put(m, &a[1].of.seq.ptr[i].of.seq.ptr[0], &a[1].of.seq.ptr[i].of.seq.ptr[1]);
  done(env);
  return ok ? NULL : oom();
}

/* [method]message.remove-metadata: func(key: string) */
static wg_trap *msg_remove_meta(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)r, (void)nr;
  msg *m = msg_get(env, &a[0]);
  if (!m) return unknown();
  meta_remove(m, a[1].of.str.ptr, a[1].of.str.len);
  done(env);
  return NULL;
}

/* ---------------------------------------------------------------- producer */

/* One publish in flight (send, wasmcloud's publish): what it publishes, owned until the answer,
 * waited for by p2c_wait (parked where the guest can park). */
typedef struct pub_op {
  p2c_wait w;     /* first */
  bool wasmcloud; /* the answer is result<_, string> */
  char *topic;
  msg m;
  json_t *md;
  int http;       /* the failure's status, 0: published */
  char msg[1024];
} pub_op;

static void pub_free(p2c_wait *w) {
  pub_op *o = (pub_op *)w;
  free(o->topic);
  msg_clear(&o->m);
  json_decref(o->md);
  free(o);
}

static wg_trap *str_err(wg_cval *r, const char *m) {
  wg_cval *s = str_(m, strlen(m));
  if (!s) return oom();
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, s}};
  return NULL;
}

static wg_trap *pub_result(p2c_wait *w, wg_cval *r) {
  pub_op *o = (pub_op *)w;
  if (!o->http) {
    *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, NULL}};
    return NULL;
  }
  if (o->wasmcloud) return str_err(r, o->msg);
  return err_(r, o->http == 403 ? E_PERMISSION : E_OTHER, o->msg);
}

static void published(void *user, const wgg_api_status *st) {
  pub_op *o = user;
  if (st) {
    o->http = st->http;
    snprintf(o->msg, sizeof o->msg, "%s", st->msg);
  }
  p2c_wait_answer(&o->w);
}

/* Publishes o (taken) to o->topic of pub/sub ps as POST /v1.0/publish does. */
static wg_trap *pub_run(msg_host *h, const char *ps, pub_op *o, wg_cval *r) {
  p2c_wait_init(&o->w, pub_result, pub_free);
  wgg_publish_input in = {.pubsub = ps, .topic = o->topic, .data = o->m.data, .len = o->m.len,
                          .content_type = o->m.ctype, .metadata = o->md};
  wgg_api_status st;
  if (wgg_publish_call(h->api, o->w.loop, &in, published, o, &st)) { /* refused before publishing */
    o->http = st.http ? st.http : 500;
    snprintf(o->msg, sizeof o->msg, "%s", st.msg);
    p2c_wait_answer(&o->w);
  }
  return p2c_wait_end(&o->w, r);
}

/* send: func(c: borrow<client>, topic: topic, message: message) -> result<_, error>.
 * The message is the host's again (an own argument) and is freed. */
static wg_trap *producer_send(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  msg_host *h = env;
  uint32_t crep = a[0].of.handle.rep;
  if (a[0].of.handle.type != h->client || !crep || crep > h->api->n_pubsubs)
    return wg_trap_new(WG_TRAP_HOST, "wasi:messaging: unknown client handle");
  msg *mp = msg_get(h, &a[2]);
  if (!mp) return unknown();
  pub_op *o = calloc(1, sizeof *o);
  if (o) {
    o->m = *mp;
    memset(mp, 0, sizeof *mp);
  }
  done(h);
  if (!o) return oom();
  o->topic = dup_str(&a[1]);
  o->md = json_object();
  bool ok = o->topic && o->md;
  for (size_t i = 0; ok && i < o->m.nmeta; i++)
    ok = !json_object_set_new(o->md, o->m.meta[2 * i], json_string(o->m.meta[2 * i + 1]));
  if (!ok) {
    pub_free(&o->w);
    return oom();
  }
  return pub_run(h, h->api->pubsubs[crep - 1].comp->name, o, r);
}

/* ---------------------------------------------------------------- wasmcloud:messaging */

/* consumer.publish: func(msg: broker-message) -> result<_, string> */
static wg_trap *wc_publish(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  msg_host *h = env;
  const wgg_pubsub_entry *ps = NULL;
  for (size_t i = 0; i < h->api->n_pubsubs && !ps; i++)
    if (!strcmp(h->api->pubsubs[i].comp->name, "pubsub")) ps = &h->api->pubsubs[i];
  if (!ps && h->api->n_pubsubs == 1) ps = &h->api->pubsubs[0];
  if (!ps)
    return str_err(r, h->api->n_pubsubs ? "no pub/sub component named pubsub among several"
                                          : "no pub/sub component is loaded");
  const wg_cval *f = a[0].of.seq.ptr; /* subject, body, reply-to (not used: Dapr pub/sub has no replies) */
  pub_op *o = calloc(1, sizeof *o);
  if (!o) return oom();
  o->wasmcloud = true;
  o->m.used = true;
  if (!(o->topic = dup_str(&f[0])) || !(o->m.data = p2c_bytes_dup(&f[1], &o->m.len))) {
    pub_free(&o->w);
    return oom();
  }
  return pub_run(h, ps->comp->name, o, r);
}

/* consumer.request: func(subject: string, body: list<u8>, timeout-ms: u32) -> result<broker-message, string> */
static wg_trap *wc_request(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  return str_err(r, "request-reply is not supported: Dapr pub/sub has no replies");
}

/* ---------------------------------------------------------------- definitions */

#define TY "wasi:messaging/types" MSG_V "#"

/* Each function with its WIT type (wasi:messaging@0.2.0-draft, wasmcloud:messaging@0.2.0), checked
 * against the component's import at instantiation (a retyped import is refused there): the
 * functions rely on their arguments' kinds. iface NULL: wasmcloud:messaging/consumer. */
static const struct {
  const char *iface, *name;
  wg_component_host_fn fn;
  const char *type;
} fns[] = {
    {"types", "[static]client.connect", client_connect, "func(name: string) -> result<client, error>"},
    {"types", "[method]client.disconnect", client_disconnect, "func(self: borrow<client>) -> result<_, error>"},
    {"types", "[constructor]message", msg_new, "func(data: list<u8>) -> message"},
    {"types", "[method]message.topic", msg_topic, "func(self: borrow<message>) -> option<topic>"},
    {"types", "[method]message.content-type", msg_ctype, "func(self: borrow<message>) -> option<string>"},
    {"types", "[method]message.set-content-type", msg_set_ctype, "func(self: borrow<message>, content-type: string)"},
    {"types", "[method]message.data", msg_data, "func(self: borrow<message>) -> list<u8>"},
    {"types", "[method]message.set-data", msg_set_data, "func(self: borrow<message>, data: list<u8>)"},
    {"types", "[method]message.metadata", msg_metadata, "func(self: borrow<message>) -> option<metadata>"},
    {"types", "[method]message.add-metadata", msg_add_meta, "func(self: borrow<message>, key: string, value: string)"},
    {"types", "[method]message.set-metadata", msg_set_meta, "func(self: borrow<message>, meta: metadata)"},
    {"types", "[method]message.remove-metadata", msg_remove_meta, "func(self: borrow<message>, key: string)"},
    {"producer", "send", producer_send, "func(c: borrow<client>, topic: topic, message: message) -> result<_, error>"},
    {NULL, "publish", wc_publish, "func(msg: broker-message) -> result<_, string>"},
    {NULL, "request", wc_request,
     "func(subject: string, body: list<u8>, timeout-ms: u32) -> result<broker-message, string>"},
};

/* The named types (WIT `type`, `variant`, `record`, and `use` in other interfaces). */
static const struct {
  const char *iface, *name, *type;
} types[] = {
    {"wasi:messaging/types" MSG_V, "metadata", "list<tuple<string, string>>"},
    {"wasi:messaging/types" MSG_V, "topic", "string"},
    {"wasi:messaging/types" MSG_V, "error", "variant { timeout, connection(string), permission-denied(string), other(string) }"},
    {"wasi:messaging/producer" MSG_V, "client", TY "client"},
    {"wasi:messaging/producer" MSG_V, "message", TY "message"},
    {"wasi:messaging/producer" MSG_V, "error", TY "error"},
    {"wasi:messaging/producer" MSG_V, "topic", TY "topic"},
    {"wasmcloud:messaging/types@0.2.0", "broker-message", "record { subject: string, body: list<u8>, reply-to: option<string> }"},
    {"wasmcloud:messaging/consumer@0.2.0", "broker-message", "wasmcloud:messaging/types@0.2.0#broker-message"},
};

static void host_free(void *env) {
  msg_host *h = env;
  for (uint32_t i = 0; i < h->nmsgs; i++) msg_clear(&h->msgs[i]);
  free(h->msgs);
  pthread_mutex_destroy(&h->mu);
  free(h);
}

bool wgg_p2_messaging_define(wg_component_linker *l, wgg_api *api, wgg_err *err) {
  return wgg_p2_messaging_define_host(l, api, NULL, err);
}

bool wgg_p2_messaging_define_host(wg_component_linker *l, wgg_api *api, wgg_p2_msg_host **out, wgg_err *err) {
  msg_host *h = calloc(1, sizeof *h);
  if (!h) return wgg_err_set(err, "out of memory"), false;
  h->api = api;
  pthread_mutex_init(&h->mu, NULL);
  wg_error *e = NULL;
  char iface[64];
  /* the first definition owns h: host_free runs when the linker is deleted (types are resolved
   * at instantiation, so they may come after) */
  bool ok = wg_component_linker_define_func_typed(l, "wasi:messaging/types" MSG_V, fns[0].name, fns[0].type, fns[0].fn,
                                                  h, host_free, &e);
  if (!ok) host_free(h); /* not attached to the linker */
  ok = ok && wg_component_linker_define_resource(l, "wasi:messaging/types" MSG_V, "client", NULL, NULL, &h->client, &e) &&
       wg_component_linker_define_resource(l, "wasi:messaging/types" MSG_V, "message", msg_dtor, h, &h->message, &e);
  for (size_t i = 0; ok && i < sizeof types / sizeof *types; i++)
    ok = wg_component_linker_define_type(l, types[i].iface, types[i].name, types[i].type, &e);
  for (size_t i = 1; ok && i < sizeof fns / sizeof *fns; i++) {
    if (fns[i].iface) snprintf(iface, sizeof iface, "wasi:messaging/%s%s", fns[i].iface, MSG_V);
    else snprintf(iface, sizeof iface, "wasmcloud:messaging/consumer@0.2.0");
    ok = wg_component_linker_define_func_typed(l, iface, fns[i].name, fns[i].type, fns[i].fn, h, NULL, &e);
  }
  if (!ok) {
    wgg_err_set(err, "%s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
  } else if (out) {
    *out = h;
  }
  return ok;
}
