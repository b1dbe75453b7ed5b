/*
 * p2_blobstore.c: wasi:blobstore@0.2.0-draft for components, on
 * bindings.localstorage output bindings (p2_cloud.h; docs/components.md
 * "wasi:blobstore on bindings.localstorage"). From our transcription of the
 * draft's shapes (as wasmCloud serves them; tests/components/blob/deps):
 *
 *   types:     error = string; timestamp = u64;
 *              container-metadata { name, created-at }, object-metadata { name,
 *              container, created-at, size }, object-id { container, object };
 *              resource outgoing-value { [static] new-outgoing-value,
 *                outgoing-value-write-body -> result<output-stream>,
 *                [static] finish(this) -> result<_, error> }
 *              resource incoming-value { [static] incoming-value-consume-sync(this)
 *                -> result<list<u8>, error>, [static] incoming-value-consume-async(this)
 *                -> result<input-stream, error>, size -> u64 }
 *   container: resource container { name, info, get-data(name, start, end),
 *                write-data(name, borrow<outgoing-value>), list-objects, delete-object,
 *                delete-objects, has-object, object-info, clear }
 *              resource stream-object-names { read-stream-object-names(len)
 *                -> result<tuple<list<string>, bool>, error>, skip-stream-object-names(num)
 *                -> result<tuple<u64, bool>, error> }
 *   blobstore: create-container, get-container, delete-container, container-exists,
 *              copy-object, move-object
 *
 * A container is a bindings.localstorage component of the app by name (its
 * rep: the binding's index + 1), so component scopes decide which the app
 * reaches; containers are not created or deleted at run time (they are
 * components). Objects are the binding's files, read and written through
 * its operations exactly as POST /v1.0/bindings/{name} runs them
 * (wgg_binding_call: create with the bytes base64-encoded, so they are
 * stored as they are; get; delete; list), and stat'ed through the binding's
 * own path resolution (wgg_localstorage_join: no name leaves rootPath) for
 * has-object and object-info. Values move through wasi:io streams: an
 * outgoing value's output-stream collects the bytes and `finish` writes
 * them to the object `write-data` named (in either order); an incoming
 * value holds the requested bytes (start..end inclusive), consumed as one
 * list or read through an input-stream. Calls are synchronous (p2_cloud.h).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "api/calls.h"
#include "components/bindings/localstorage.h"
#include "config/component.h"
#include "pubsub/cloudevent.h"
#include "util/buf.h"
#include "wasmhost/p2_cloud.h"
#include "wasmhost/p2_cloud_internal.h"
#include "wgwasi.h"

#define BV "@0.2.0-draft"
#define OBJ_MAX 65536 /* live values and listings per linker */

enum { K_OUT = 1, K_IN, K_LIST };

typedef struct bobj {
  int kind;
  int refs;          /* the guest's handle + an open stream */
  wgg_buf data;      /* K_OUT: bytes written; K_IN: the value */
  size_t pos;        /* K_IN: read offset; K_LIST: next name */
  bool stream_taken; /* K_OUT: write-body was called */
  size_t target;     /* K_OUT: write-data's container (index + 1), 0 = none yet */
  char *name;        /* K_OUT: write-data's object name */
  char **names;      /* K_LIST */
  size_t n;
} bobj;

typedef struct blob_host {
  wgg_api *api;
  wg_wasi_p2 *(*p2_of)(wg_store *s);
  const wg_component_resource_type *container, *names, *outv, *inv;
  pthread_mutex_t mu;
  bobj **objs;
  uint32_t nobjs;
} blob_host;

static wg_trap *oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

static void obj_unref(bobj *o) {
  if (!o || --o->refs > 0) return;
  free(o->data.data);
  free(o->name);
  for (size_t i = 0; i < o->n; i++) free(o->names[i]);
  free(o->names);
  free(o);
}

/* Puts o in the table: its rep, or 0 (full or OOM). */
static uint32_t obj_add(blob_host *h, bobj *o) {
  pthread_mutex_lock(&h->mu);
  uint32_t i = 0;
  while (i < h->nobjs && h->objs[i]) i++;
  if (i == h->nobjs) {
    bobj **nv = h->nobjs < OBJ_MAX ? realloc(h->objs, (h->nobjs + 1) * sizeof *nv) : NULL;
    if (!nv) {
      pthread_mutex_unlock(&h->mu);
      return 0;
    }
    h->objs = nv;
    h->objs[h->nobjs++] = NULL;
  }
  h->objs[i] = o;
  pthread_mutex_unlock(&h->mu);
  return i + 1;
}

/* The object of handle v of kind k; with take, removed from the table (an own argument). */
static bobj *obj_get(blob_host *h, const wg_cval *v, const wg_component_resource_type *type, bool take) {
  uint32_t rep = v->of.handle.rep;
  bobj *o = NULL;
  pthread_mutex_lock(&h->mu);
  if (v->of.handle.type == type && rep && rep <= h->nobjs) {
    o = h->objs[rep - 1];
    if (take) h->objs[rep - 1] = NULL;
  }
  pthread_mutex_unlock(&h->mu);
  return o;
}

static void obj_dtor(void *env, uint32_t rep) {
  blob_host *h = env;
  bobj *o = NULL;
  pthread_mutex_lock(&h->mu);
  if (rep && rep <= h->nobjs) o = h->objs[rep - 1], h->objs[rep - 1] = NULL;
  pthread_mutex_unlock(&h->mu);
  obj_unref(o);
}

/* ---- results ---- */

static wg_cval *box(wg_cval v) {
  wg_cval *p = wg_cval_array(1);
  if (p) *p = v;
  return p;
}

static wg_trap *ok_(wg_cval *r, const wg_cval *v) {
  wg_cval *p = NULL;
  if (v && !(p = box(*v))) {
    wg_cval_free((wg_cval *)v);
    return oom();
  }
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {0, p}};
  return NULL;
}

static wg_trap *err_(wg_cval *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static wg_trap *err_(wg_cval *r, const char *fmt, ...) {
  char m[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, sizeof m, fmt, ap);
  va_end(ap);
  wg_cval s;
  if (!wg_cval_string(&s, m, strlen(m))) return oom();
  wg_cval *p = box(s);
  if (!p) {
    wg_cval_free(&s);
    return oom();
  }
  *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, p}};
  return NULL;
}

static bool str_val(wg_cval *v, const char *s) { return wg_cval_string(v, s, strlen(s)); }

static char *dup_str(const wg_cval *s) { return strndup(s->of.str.ptr, s->of.str.len); }

/* ---- containers and objects through the binding ---- */

/* The app's bindings.localstorage component named like s (len n): its index + 1, else 0. */
static size_t find_container(blob_host *h, const char *s, size_t n) {
  for (size_t i = 0; i < h->api->n_bindings; i++) {
    const wgg_component *c = h->api->bindings[i].comp;
    if (!strcmp(c->type, "bindings.localstorage") && strlen(c->name) == n && !memcmp(c->name, s, n)) return i + 1;
  }
  return 0;
}

static const char *cname(blob_host *h, size_t c) { return h->api->bindings[c - 1].comp->name; }

/* The container of a borrow<container> argument, else 0. */
static size_t container_of(blob_host *h, const wg_cval *v) {
  size_t c = v->of.handle.rep;
  return v->of.handle.type == h->container && c && c <= h->api->n_bindings ? c : 0;
}

typedef struct bres {
  bool done, failed;
  char msg[1024];
  wgg_buf data;
} bres;

static void on_bound(void *user, const wgg_api_status *st, const wgg_binding_result *res) {
  bres *b = user;
  b->done = true;
  if (st) {
    b->failed = true;
    snprintf(b->msg, sizeof b->msg, "%s", st->msg);
  } else if (res && res->len && wgg_buf_append(&b->data, res->data, res->len)) {
    b->failed = true;
    snprintf(b->msg, sizeof b->msg, "out of memory");
  }
}

/* Runs operation op of container c on object name (NULL: none) with data; 0 with b->data, or -1
 * with b->msg (daprd's text for the binding's error). */
static int bind_op(blob_host *h, size_t c, const char *op, const char *name, const char *data, size_t len, bres *b) {
  json_t *md = json_object();
  if (md && name) json_object_set_new(md, "fileName", json_string(name));
  wgg_api_status st;
  memset(b, 0, sizeof *b);
  if (!md) return snprintf(b->msg, sizeof b->msg, "out of memory"), -1;
  if (wgg_binding_call(h->api, NULL, cname(h, c), op, data ? data : "", len, md, on_bound, b, NULL, &st)) {
    snprintf(b->msg, sizeof b->msg, "%s", st.msg);
    return -1;
  }
  if (!b->done) return snprintf(b->msg, sizeof b->msg, "the binding did not complete"), -1;
  return b->failed ? -1 : 0;
}

/* Writes bytes verbatim (base64: the binding's create decodes it back) to object name. */
static int put_object(blob_host *h, size_t c, const char *name, const char *p, size_t n, bres *b) {
  char *enc = wgg_base64(p, n);
  if (!enc) return memset(b, 0, sizeof *b), snprintf(b->msg, sizeof b->msg, "out of memory"), -1;
  int rc = bind_op(h, c, "create", name, enc, strlen(enc), b);
  free(enc);
  free(b->data.data); /* {"fileName": ...} */
  b->data = (wgg_buf){0};
  return rc;
}

/* The container's root directory (malloc'd) or NULL with msg. */
static char *root_of(blob_host *h, size_t c, char *msg, size_t cap) {
  char *root = NULL;
  wgg_err e;
  const char *rp = wgg_component_meta(h->api->bindings[c - 1].comp, "rootPath");
  if (wgg_localstorage_root(rp ? rp : "", &root, &e)) snprintf(msg, cap, "%s", e.msg);
  return root;
}

/* stat of object name: 1 found, 0 absent, -1 with msg. */
static int stat_object(blob_host *h, size_t c, const char *name, struct stat *st, char *msg, size_t cap) {
  char *root = root_of(h, c, msg, cap), *abs = NULL, *rel = NULL;
  wgg_err e;
  int rc = -1;
  if (root && !wgg_localstorage_join(root, name, &abs, &rel, &e)) rc = !stat(abs, st) && S_ISREG(st->st_mode);
  else if (root) snprintf(msg, cap, "%s", e.msg);
  free(root), free(abs), free(rel);
  return rc;
}

/* The container's object names (relative to its root, in the binding's list order). */
static int list_names(blob_host *h, size_t c, char ***out, size_t *n, char *msg, size_t cap) {
  bres b;
  *out = NULL, *n = 0;
  if (bind_op(h, c, "list", NULL, NULL, 0, &b)) return snprintf(msg, cap, "%s", b.msg), -1;
  char *root = root_of(h, c, msg, cap);
  json_t *arr = root ? json_loadb(b.data.data ? b.data.data : "null", b.data.len ? b.data.len : 4, JSON_DECODE_ANY, NULL)
                     : NULL;
  free(b.data.data);
  int rc = root && (json_is_array(arr) || json_is_null(arr)) ? 0 : -1;
  if (rc && root) snprintf(msg, cap, "the binding's list is not a JSON array");
  size_t rl = root ? strlen(root) : 0, i;
  json_t *x;
  if (!rc && json_array_size(arr) && !(*out = calloc(json_array_size(arr), sizeof **out))) rc = -1;
  json_array_foreach(arr, i, x) {
    if (rc) break;
    const char *p = json_string_value(x);
    if (!p) continue;
    if (!strncmp(p, root, rl) && p[rl] == '/') p += rl + 1;
    if (!((*out)[(*n)++] = strdup(p))) rc = -1;
  }
  json_decref(arr);
  free(root);
  return rc;
}

/* ---- blobstore ---- */

static wg_trap *open_container(blob_host *h, const wg_cval *a, size_t na, wg_cval *r, const char *fn) {
  wg_trap *bad = p2c_args(a, na, "s", "wasi:blobstore", fn);
  if (bad) return bad;
  size_t c = find_container(h, a[0].of.str.ptr, a[0].of.str.len);
  if (!c)
    return err_(r, "container %.*s is not found: a container is a bindings.localstorage component of the app",
                (int)(a[0].of.str.len > 200 ? 200 : a[0].of.str.len), a[0].of.str.ptr);
  wg_cval v = {.kind = WG_CVAL_OWN, .of.handle = {(uint32_t)c, h->container}};
  return ok_(r, &v);
}

static wg_trap *bs_create(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  return open_container(env, a, na, r, "blobstore.create-container");
}

static wg_trap *bs_get(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  return open_container(env, a, na, r, "blobstore.get-container");
}

static wg_trap *bs_delete(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)nr;
  wg_trap *bad = p2c_args(a, na, "s", "wasi:blobstore", "blobstore.delete-container");
  if (bad) return bad;
  return err_(r, "container %.*s cannot be deleted: it is a Dapr component (clear empties it)",
              (int)(a[0].of.str.len > 200 ? 200 : a[0].of.str.len), a[0].of.str.ptr);
}

static wg_trap *bs_exists(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  wg_trap *bad = p2c_args(a, na, "s", "wasi:blobstore", "blobstore.container-exists");
  if (bad) return bad;
  wg_cval v = {.kind = WG_CVAL_BOOL, .of.b = find_container(env, a[0].of.str.ptr, a[0].of.str.len) != 0};
  return ok_(r, &v);
}

/* copy-object / move-object: object-id { container, object } twice */
static wg_trap *copy_move(blob_host *h, const wg_cval *a, size_t na, wg_cval *r, bool move) {
  bool shape = na == 2;
  for (size_t i = 0; shape && i < 2; i++)
    shape = a[i].kind == WG_CVAL_RECORD && a[i].of.seq.len == 2 && a[i].of.seq.ptr[0].kind == WG_CVAL_STRING &&
            a[i].of.seq.ptr[1].kind == WG_CVAL_STRING;
  if (!shape)
    return wg_trap_new(WG_TRAP_HOST, move ? "wasi:blobstore: `blobstore.move-object` is imported with the wrong type"
                                          : "wasi:blobstore: `blobstore.copy-object` is imported with the wrong type");
  const wg_cval *s = a[0].of.seq.ptr, *d = a[1].of.seq.ptr;
  size_t sc = find_container(h, s[0].of.str.ptr, s[0].of.str.len), dc = find_container(h, d[0].of.str.ptr, d[0].of.str.len);
  if (!sc || !dc) {
    const wg_cval *bad = sc ? &d[0] : &s[0];
    return err_(r, "container %.*s is not found", (int)(bad->of.str.len > 200 ? 200 : bad->of.str.len), bad->of.str.ptr);
  }
  char *sn = dup_str(&s[1]), *dn = dup_str(&d[1]);
  bres b = {0}, w;
  wg_trap *t = NULL;
  if (!sn || !dn) t = oom();
  else if (bind_op(h, sc, "get", sn, NULL, 0, &b)) t = err_(r, "%s", b.msg);
  else if (put_object(h, dc, dn, b.data.data, b.data.len, &w)) t = err_(r, "%s", w.msg);
  else if (move && (sc != dc || strcmp(sn, dn)) && bind_op(h, sc, "delete", sn, NULL, 0, &w)) t = err_(r, "%s", w.msg);
  else t = ok_(r, NULL);
  free(b.data.data), free(sn), free(dn);
  return t;
}

static wg_trap *bs_copy(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  return copy_move(env, a, na, r, false);
}

static wg_trap *bs_move(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  return copy_move(env, a, na, r, true);
}

/* ---- container ---- */

#define CONTAINER(sig, fn)                                                                  \
  blob_host *h = env;                                                                       \
  (void)nr;                                                                                 \
  wg_trap *bad_ = p2c_args(a, na, sig, "wasi:blobstore", "container.[method]container." fn); \
  if (bad_) return bad_;                                                                    \
  size_t c = container_of(h, &a[0]);                                                        \
  if (!c) return wg_trap_new(WG_TRAP_HOST, "wasi:blobstore: unknown container handle")

static wg_trap *c_name(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("h", "name");
  wg_cval v;
  if (!str_val(&v, cname(h, c))) return oom();
  return ok_(r, &v);
}

static wg_trap *c_info(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("h", "info");
  char msg[1024];
  char *root = root_of(h, c, msg, sizeof msg);
  if (!root) return err_(r, "%s", msg);
  struct stat st;
  uint64_t at = stat(root, &st) ? 0 : (uint64_t)st.st_mtime;
  free(root);
  wg_cval *f = wg_cval_array(2); /* container-metadata { name, created-at } */
  if (!f || !str_val(&f[0], cname(h, c))) {
    free(f);
    return oom();
  }
  f[1] = (wg_cval){.kind = WG_CVAL_U64, .of.u = at};
  wg_cval v = {.kind = WG_CVAL_RECORD, .of.seq = {f, 2}};
  return ok_(r, &v);
}

/* get-data(name, start, end): the bytes start..end (inclusive) as an incoming-value */
static wg_trap *c_get_data(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("hsuu", "get-data");
  char *name = dup_str(&a[1]);
  bres b;
  if (!name) return oom();
  int rc = bind_op(h, c, "get", name, NULL, 0, &b);
  free(name);
  if (rc) return err_(r, "%s", b.msg);
  uint64_t start = a[2].of.u, end = a[3].of.u, len = b.data.len;
  bobj *o = calloc(1, sizeof *o);
  if (!o) {
    free(b.data.data);
    return oom();
  }
  *o = (bobj){.kind = K_IN, .refs = 1, .data = b.data};
  if (start >= len || end < start) o->data.len = 0;
  else {
    uint64_t last = end >= len ? len - 1 : end;
    memmove(o->data.data, o->data.data + start, last - start + 1);
    o->data.len = last - start + 1;
  }
  uint32_t rep = obj_add(h, o);
  if (!rep) {
    obj_unref(o);
    return err_(r, "too many live values");
  }
  wg_cval v = {.kind = WG_CVAL_OWN, .of.handle = {rep, h->inv}};
  return ok_(r, &v);
}

/* write-data(name, borrow<outgoing-value>): names the object finish writes */
static wg_trap *c_write_data(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("hsh", "write-data");
  bobj *o = obj_get(h, &a[2], h->outv, false);
  if (!o) return wg_trap_new(WG_TRAP_HOST, "wasi:blobstore: unknown outgoing-value handle");
  char *name = dup_str(&a[1]);
  if (!name) return oom();
  free(o->name);
  o->name = name;
  o->target = c;
  return ok_(r, NULL);
}

static wg_trap *c_list(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("h", "list-objects");
  char msg[1024];
  bobj *o = calloc(1, sizeof *o);
  if (!o) return oom();
  o->kind = K_LIST, o->refs = 1;
  if (list_names(h, c, &o->names, &o->n, msg, sizeof msg)) {
    obj_unref(o);
    return err_(r, "%s", msg);
  }
  uint32_t rep = obj_add(h, o);
  if (!rep) {
    obj_unref(o);
    return err_(r, "too many live values");
  }
  wg_cval v = {.kind = WG_CVAL_OWN, .of.handle = {rep, h->names}};
  return ok_(r, &v);
}

static wg_trap *c_delete(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("hs", "delete-object");
  char *name = dup_str(&a[1]);
  bres b;
  if (!name) return oom();
  int rc = bind_op(h, c, "delete", name, NULL, 0, &b);
  free(name);
  free(b.data.data);
  return rc ? err_(r, "%s", b.msg) : ok_(r, NULL);
}

static wg_trap *c_delete_many(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("hS", "delete-objects");
  for (size_t i = 0; i < a[1].of.seq.len; i++) {
    char *name = dup_str(&a[1].of.seq.ptr[i]);
    bres b;
    if (!name) return oom();
    int rc = bind_op(h, c, "delete", name, NULL, 0, &b);
    free(name);
    free(b.data.data);
    if (rc) return err_(r, "%s", b.msg);
  }
  return ok_(r, NULL);
}

static wg_trap *c_has(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("hs", "has-object");
  char msg[1024], *name = dup_str(&a[1]);
  if (!name) return oom();
  struct stat st;
  int found = stat_object(h, c, name, &st, msg, sizeof msg);
  free(name);
  if (found < 0) return err_(r, "%s", msg);
  wg_cval v = {.kind = WG_CVAL_BOOL, .of.b = found == 1};
  return ok_(r, &v);
}

static wg_trap *c_info_obj(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("hs", "object-info");
  char msg[1024], *name = dup_str(&a[1]);
  if (!name) return oom();
  struct stat st;
  int found = stat_object(h, c, name, &st, msg, sizeof msg);
  wg_trap *t;
  wg_cval *f = found == 1 ? wg_cval_array(4) : NULL; /* object-metadata { name, container, created-at, size } */
  if (found < 0) t = err_(r, "%s", msg);
  else if (!found) t = err_(r, "object %s is not found in container %s", name, cname(h, c));
  else if (!f || !str_val(&f[0], name) || !str_val(&f[1], cname(h, c))) {
    if (f) wg_cval_free(&f[0]);
    free(f);
    t = oom();
  } else {
    f[2] = (wg_cval){.kind = WG_CVAL_U64, .of.u = (uint64_t)st.st_mtime};
    f[3] = (wg_cval){.kind = WG_CVAL_U64, .of.u = (uint64_t)st.st_size};
    wg_cval v = {.kind = WG_CVAL_RECORD, .of.seq = {f, 4}};
    t = ok_(r, &v);
  }
  free(name);
  return t;
}

static wg_trap *c_clear(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  CONTAINER("h", "clear");
  char msg[1024], **names;
  size_t n;
  if (list_names(h, c, &names, &n, msg, sizeof msg)) return err_(r, "%s", msg);
  wg_trap *t = NULL;
  for (size_t i = 0; i < n; i++) {
    bres b;
    if (!t && bind_op(h, c, "delete", names[i], NULL, 0, &b)) t = err_(r, "%s", b.msg);
    free(b.data.data);
    free(names[i]);
  }
  free(names);
  return t ? t : ok_(r, NULL);
}

/* ---- stream-object-names ---- */

static wg_trap *names_read(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  blob_host *h = env;
  wg_trap *bad = p2c_args(a, na, "hu", "wasi:blobstore", "container.[method]stream-object-names.read-stream-object-names");
  if (bad) return bad;
  bobj *o = obj_get(h, &a[0], h->names, false);
  if (!o) return wg_trap_new(WG_TRAP_HOST, "wasi:blobstore: unknown stream-object-names handle");
  size_t k = o->n - o->pos < a[1].of.u ? o->n - o->pos : (size_t)a[1].of.u;
  wg_cval *t = wg_cval_array(2), *l = k ? wg_cval_array(k) : NULL;
  bool ok = t && (!k || l);
  for (size_t i = 0; ok && i < k; i++) ok = str_val(&l[i], o->names[o->pos + i]);
  if (!ok) {
    for (size_t i = 0; l && i < k; i++) wg_cval_free(&l[i]);
    free(l), free(t);
    return oom();
  }
  o->pos += k;
  t[0] = (wg_cval){.kind = WG_CVAL_LIST, .of.seq = {l, k}};
  t[1] = (wg_cval){.kind = WG_CVAL_BOOL, .of.b = o->pos >= o->n};
  wg_cval v = {.kind = WG_CVAL_TUPLE, .of.seq = {t, 2}};
  return ok_(r, &v);
}

static wg_trap *names_skip(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  blob_host *h = env;
  wg_trap *bad = p2c_args(a, na, "hu", "wasi:blobstore", "container.[method]stream-object-names.skip-stream-object-names");
  if (bad) return bad;
  bobj *o = obj_get(h, &a[0], h->names, false);
  if (!o) return wg_trap_new(WG_TRAP_HOST, "wasi:blobstore: unknown stream-object-names handle");
  size_t k = o->n - o->pos < a[1].of.u ? o->n - o->pos : (size_t)a[1].of.u;
  o->pos += k;
  wg_cval *t = wg_cval_array(2);
  if (!t) return oom();
  t[0] = (wg_cval){.kind = WG_CVAL_U64, .of.u = k};
  t[1] = (wg_cval){.kind = WG_CVAL_BOOL, .of.b = o->pos >= o->n};
  wg_cval v = {.kind = WG_CVAL_TUPLE, .of.seq = {t, 2}};
  return ok_(r, &v);
}

/* ---- values and their streams ---- */

static int64_t ov_check(void *user) { return (void)user, 1 << 20; }
static int ov_write(void *user, const uint8_t *buf, size_t n) {
  return wgg_buf_append(&((bobj *)user)->data, (const char *)buf, n) ? -1 : 0;
}
static int64_t iv_read(void *user, uint8_t *buf, size_t n) {
  bobj *o = user;
  if (o->pos >= o->data.len) return -1;
  size_t k = o->data.len - o->pos < n ? o->data.len - o->pos : n;
  memcpy(buf, o->data.data + o->pos, k);
  o->pos += k;
  return (int64_t)k;
}
static void stream_drop(void *user) { obj_unref(user); }
static const wg_wasi_p2_stream_ops ov_ops = {.check_write = ov_check, .write = ov_write, .drop = stream_drop};
static const wg_wasi_p2_stream_ops iv_ops = {.read = iv_read, .drop = stream_drop};

static wg_trap *ov_new(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)nr;
  blob_host *h = env;
  wg_trap *bad = p2c_args(a, na, "", "wasi:blobstore", "types.[static]outgoing-value.new-outgoing-value");
  if (bad) return bad;
  bobj *o = calloc(1, sizeof *o);
  if (!o) return oom();
  o->kind = K_OUT, o->refs = 1;
  uint32_t rep = obj_add(h, o);
  if (!rep) {
    obj_unref(o);
    return wg_trap_new(WG_TRAP_HOST, "wasi:blobstore: too many live values");
  }
  *r = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, h->outv}};
  return NULL;
}

/* outgoing-value-write-body: func() -> result<output-stream> (at most once) */
static wg_trap *ov_body(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  blob_host *h = env;
  wg_trap *bad = p2c_args(a, na, "h", "wasi:blobstore", "types.[method]outgoing-value.outgoing-value-write-body");
  if (bad) return bad;
  bobj *o = obj_get(h, &a[0], h->outv, false);
  wg_wasi_p2 *p2 = h->p2_of ? h->p2_of(wg_component_host_store()) : NULL;
  if (!o) return wg_trap_new(WG_TRAP_HOST, "wasi:blobstore: unknown outgoing-value handle");
  if (o->stream_taken || !p2) {
    *r = (wg_cval){.kind = WG_CVAL_RESULT, .of.var = {1, NULL}};
    return NULL;
  }
  wg_cval v;
  if (!wg_wasi_p2_stream(p2, true, &ov_ops, o, &v)) return oom();
  o->stream_taken = true;
  o->refs++;
  return ok_(r, &v);
}

/* [static] finish(this: outgoing-value) -> result<_, error>: writes the bytes to write-data's object */
static wg_trap *ov_finish(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  blob_host *h = env;
  wg_trap *bad = p2c_args(a, na, "h", "wasi:blobstore", "types.[static]outgoing-value.finish");
  if (bad) return bad;
  bobj *o = obj_get(h, &a[0], h->outv, true);
  if (!o) return wg_trap_new(WG_TRAP_HOST, "wasi:blobstore: unknown outgoing-value handle");
  wg_trap *t;
  bres b;
  if (!o->target) t = err_(r, "the outgoing value was never given to container.write-data");
  else if (put_object(h, o->target, o->name, o->data.data ? o->data.data : "", o->data.len, &b)) t = err_(r, "%s", b.msg);
  else t = ok_(r, NULL);
  obj_unref(o);
  return t;
}

/* incoming-value-consume-sync / -async (this) */
static wg_trap *iv_consume(blob_host *h, const wg_cval *a, size_t na, wg_cval *r, bool async) {
  wg_trap *bad = p2c_args(a, na, "h", "wasi:blobstore",
                          async ? "types.[static]incoming-value.incoming-value-consume-async"
                                : "types.[static]incoming-value.incoming-value-consume-sync");
  if (bad) return bad;
  bobj *o = obj_get(h, &a[0], h->inv, true);
  if (!o) return wg_trap_new(WG_TRAP_HOST, "wasi:blobstore: unknown incoming-value handle");
  wg_cval v;
  wg_wasi_p2 *p2 = async && h->p2_of ? h->p2_of(wg_component_host_store()) : NULL;
  if (async && !p2) {
    obj_unref(o);
    return err_(r, "no wasi:io streams in this host");
  }
  bool made = async ? wg_wasi_p2_stream(p2, false, &iv_ops, o, &v)
                    : wg_cval_bytes(&v, (const uint8_t *)(o->data.data ? o->data.data : ""), o->data.len);
  if (!made || !async) obj_unref(o); /* the stream holds it from now on */
  return made ? ok_(r, &v) : oom();
}

static wg_trap *iv_sync(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  return iv_consume(env, a, na, r, false);
}

static wg_trap *iv_async(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  return iv_consume(env, a, na, r, true);
}

static wg_trap *iv_size(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)nr;
  blob_host *h = env;
  wg_trap *bad = p2c_args(a, na, "h", "wasi:blobstore", "types.[method]incoming-value.size");
  if (bad) return bad;
  bobj *o = obj_get(h, &a[0], h->inv, false);
  if (!o) return wg_trap_new(WG_TRAP_HOST, "wasi:blobstore: unknown incoming-value handle");
  *r = (wg_cval){.kind = WG_CVAL_U64, .of.u = o->data.len};
  return NULL;
}

/* ---- definitions ---- */

static const struct {
  const char *iface, *name;
  wg_component_host_fn fn;
} fns[] = {
    {"types", "[static]outgoing-value.new-outgoing-value", ov_new},
    {"types", "[method]outgoing-value.outgoing-value-write-body", ov_body},
    {"types", "[static]outgoing-value.finish", ov_finish},
    {"types", "[static]incoming-value.incoming-value-consume-sync", iv_sync},
    {"types", "[static]incoming-value.incoming-value-consume-async", iv_async},
    {"types", "[method]incoming-value.size", iv_size},
    {"container", "[method]container.name", c_name},
    {"container", "[method]container.info", c_info},
    {"container", "[method]container.get-data", c_get_data},
    {"container", "[method]container.write-data", c_write_data},
    {"container", "[method]container.list-objects", c_list},
    {"container", "[method]container.delete-object", c_delete},
    {"container", "[method]container.delete-objects", c_delete_many},
    {"container", "[method]container.has-object", c_has},
    {"container", "[method]container.object-info", c_info_obj},
    {"container", "[method]container.clear", c_clear},
    {"container", "[method]stream-object-names.read-stream-object-names", names_read},
    {"container", "[method]stream-object-names.skip-stream-object-names", names_skip},
    {"blobstore", "create-container", bs_create},
    {"blobstore", "get-container", bs_get},
    {"blobstore", "delete-container", bs_delete},
    {"blobstore", "container-exists", bs_exists},
    {"blobstore", "copy-object", bs_copy},
    {"blobstore", "move-object", bs_move},
};

static void host_free(void *env) {
  blob_host *h = env;
  for (uint32_t i = 0; i < h->nobjs; i++) obj_unref(h->objs[i]);
  free(h->objs);
  pthread_mutex_destroy(&h->mu);
  free(h);
}

bool wgg_p2_blobstore_define(wg_component_linker *l, wgg_api *api, wg_wasi_p2 *(*p2_of)(wg_store *s), wgg_err *err) {
  blob_host *h = calloc(1, sizeof *h);
  if (!h) return wgg_err_set(err, "out of memory"), false;
  h->api = api;
  h->p2_of = p2_of;
  pthread_mutex_init(&h->mu, NULL);
  wg_error *e = NULL;
  char iface[64];
  snprintf(iface, sizeof iface, "wasi:blobstore/%s" BV, fns[0].iface);
  bool ok = wg_component_linker_define_func(l, iface, fns[0].name, fns[0].fn, h, host_free, &e);
  if (!ok) host_free(h); /* not attached to the linker */
  ok = ok &&
       wg_component_linker_define_resource(l, "wasi:blobstore/types" BV, "outgoing-value", obj_dtor, h, &h->outv, &e) &&
       wg_component_linker_define_resource(l, "wasi:blobstore/types" BV, "incoming-value", obj_dtor, h, &h->inv, &e) &&
       wg_component_linker_define_resource(l, "wasi:blobstore/container" BV, "container", NULL, NULL, &h->container, &e) &&
       wg_component_linker_define_resource(l, "wasi:blobstore/container" BV, "stream-object-names", obj_dtor, h,
                                           &h->names, &e);
  for (size_t i = 1; ok && i < sizeof fns / sizeof *fns; i++) {
    snprintf(iface, sizeof iface, "wasi:blobstore/%s" BV, fns[i].iface);
    ok = wg_component_linker_define_func(l, iface, fns[i].name, fns[i].fn, h, NULL, &e);
  }
  if (!ok) {
    wgg_err_set(err, "%s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
  }
  return ok;
}
