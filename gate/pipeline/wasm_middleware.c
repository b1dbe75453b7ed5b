/*
 * wasm_middleware.c: the middleware.http.wasm component (components-contrib
 * middleware/http/wasm/httpwasm.go; shared/reference/http-wasm-abi.md 2.1):
 * metadata, loading the guest from its url, the per-loop instance pools,
 * and reload. One compiled module is shared by every loop; each loop owns a
 * pool of instances (no lock on the request path), bounded by its share of
 * maxConcurrency. A request that finds the pool exhausted waits (FIFO, on a
 * timer) for at most poolTimeout, then gets 503.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "wasmhost/httpwasm.h"
#include "wasmhost/wasmhost.h"

typedef struct wgg_loop_pool {
  uv_loop_t *loop; /* claimed with a CAS by the first request on that loop */
  wgg_hw_instance **idle;
  size_t n_idle, cap;
  size_t live; /* idle + pinned instances of this loop */
  wgg_pool_wait *head, *tail;
  struct wgg_wasm_mw *mw;
} wgg_loop_pool;

struct wgg_wasm_mw {
  char *name, *url, *file;
  wgg_hw_settings settings; /* name and config owned here */
  wgg_hw_module *current;   /* atomic pointer; the middleware holds one reference */
  pthread_mutex_t mu;       /* taking a reference on current / swapping it */
  wgg_hw_instance *seed;    /* the instance made at load, taken by the first loop (atomic) */
  size_t per_loop;
  uint64_t pool_timeout_ms;
  wgg_loop_pool pools[WGG_WASM_MW_MAX_LOOPS];
};

static size_t g_loops = 1;

void wgg_pipeline_set_loops(size_t n_loops) { g_loops = n_loops ? n_loops : 1; }

/* ---- loading ---- */

/* Reads the guest named by url (Dapr GetInitMetadata rules). */
static int read_guest(const char *url, char **file, wgg_buf *out, wgg_err *err) {
  if (!url || !*url) return wgg_err_set(err, "wasm: failed to parse metadata: missing url");
  const char *colon = strchr(url, ':');
  if (!colon) return wgg_err_set(err, "wasm: failed to parse metadata: invalid URL: %s", url);
  size_t sl = (size_t)(colon - url);
  if (sl == 4 && !strncmp(url, "file", 4) && !strncmp(colon, "://", 3)) {
    const char *path = url + 7;
    if (file && !(*file = strdup(path))) return wgg_err_set(err, "out of memory");
    wgg_err e;
    if (wgg_buf_read_file(out, path, &e)) return wgg_err_set(err, "wasm: failed to parse metadata: %s", e.msg);
    return 0;
  }
  if (sl == 3 && !strncmp(url, "oci", 3)) return wgg_err_set(err, "wasm: failed to parse metadata: TODO oci");
  if ((sl == 4 && !strncmp(url, "http", 4)) || (sl == 5 && !strncmp(url, "https", 5))) {
    wgg_err e;
    if (wgg_wasm_fetch(url, out, &e)) return wgg_err_set(err, "wasm: failed to parse metadata: %s", e.msg);
    return 0;
  }
  return wgg_err_set(err, "wasm: failed to parse metadata: unsupported URL scheme: %.*s", (int)sl, url);
}

/* Compiles the guest and makes one instance of it (fail fast, as host-go's NewMiddleware). */
static wgg_hw_module *load(wgg_wasm_mw *mw, wgg_hw_instance **first, wgg_err *err) {
  wgg_buf bytes = {0};
  if (read_guest(mw->url, NULL, &bytes, err)) {
    wgg_buf_free(&bytes);
    return NULL;
  }
  wgg_hw_module *m = wgg_hw_module_new((const uint8_t *)bytes.data, bytes.len, &mw->settings, err);
  wgg_buf_free(&bytes);
  if (!m) return NULL;
  if (!(*first = wgg_hw_instance_new(m, err))) {
    wgg_hw_module_unref(m);
    return NULL;
  }
  return m;
}

static const char *meta(const wgg_component *c, const char *name) {
  const char *v = wgg_component_meta(c, name);
  return v && *v ? v : NULL;
}

wgg_wasm_mw *wgg_wasm_mw_new(const wgg_component *c, bool force_strict, wgg_err *err) {
  wgg_wasm_mw *mw = calloc(1, sizeof *mw);
  if (!mw) return wgg_err_set(err, "out of memory"), NULL;
  pthread_mutex_init(&mw->mu, NULL);
  size_t cfg_len = 0; /* guestConfig is bytes: NULs and all (get_config returns exactly these) */
  const char *url = meta(c, "url"), *cfg = wgg_component_meta_bytes(c, "guestConfig", &cfg_len),
             *strict = meta(c, "strictSandbox");
  mw->name = strdup(c->name);
  mw->url = strdup(url ? url : "");
  mw->settings.strict = force_strict || (strict && !strcmp(strict, "true"));
  mw->settings.deadline_ms = 100;
  mw->pool_timeout_ms = 1000;
  size_t max_total = g_loops * WGG_WASM_MW_PER_LOOP, mem = 64u << 20;
  const char *v;
  wgg_err e;
  if ((v = meta(c, "requestTimeout")) && wgg_parse_duration_ms(v, &mw->settings.deadline_ms, &e))
    goto bad_meta;
  if ((v = meta(c, "poolTimeout")) && wgg_parse_duration_ms(v, &mw->pool_timeout_ms, &e)) goto bad_meta;
  if ((v = meta(c, "maxMemory")) && wgg_parse_quantity(v, &mem, &e)) goto bad_meta;
  if ((v = meta(c, "maxConcurrency"))) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n <= 0) {
      wgg_err_set(&e, "maxConcurrency must be a positive integer, got %s", v);
      goto bad_meta;
    }
    max_total = (size_t)n;
  }
  mw->per_loop = (max_total + g_loops - 1) / g_loops;
  mw->settings.max_memory_pages = (uint32_t)((mem + 65535) / 65536);
  if (!mw->settings.max_memory_pages) mw->settings.max_memory_pages = 1;
  /* module name = URL base name minus .wasm (Dapr GuestName) */
  const char *base = strrchr(mw->url ? mw->url : "", '/');
  base = base ? base + 1 : mw->url ? mw->url : "";
  size_t bl = strlen(base);
  if (bl > 5 && !strcmp(base + bl - 5, ".wasm")) bl -= 5;
  char *gname = wgg_strndup(base, bl);
  mw->settings.name = gname;
  if (cfg_len) {
    mw->settings.config = (const uint8_t *)wgg_strndup(cfg, cfg_len);
    mw->settings.config_len = cfg_len;
  }
  if (!mw->name || !mw->url || !gname || (cfg_len && !mw->settings.config)) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  if (!strncmp(mw->url, "file://", 7) && !(mw->file = strdup(mw->url + 7))) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  for (size_t k = 0; k < WGG_WASM_MW_MAX_LOOPS; k++) mw->pools[k].mw = mw;
  if (!(mw->current = load(mw, &mw->seed, err))) goto fail;
  return mw;
bad_meta:
  wgg_err_set(err, "wasm: failed to parse metadata: %s", e.msg);
fail:
  wgg_wasm_mw_free(mw);
  return NULL;
}

int wgg_wasm_mw_reload(wgg_wasm_mw *mw, wgg_err *err) {
  wgg_hw_instance *first = NULL;
  wgg_hw_module *m = load(mw, &first, err);
  if (!m) return -1;
  wgg_hw_instance_free(first); /* it proved the module instantiates; pools make their own */
  pthread_mutex_lock(&mw->mu);
  wgg_hw_module *old = mw->current;
  __atomic_store_n(&mw->current, m, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&mw->mu);
  wgg_hw_module_unref(old); /* instances of it still hold references */
  return 0;
}

const char *wgg_wasm_mw_file(const wgg_wasm_mw *mw) { return mw->file; }

bool wgg_wasm_mw_touches_body(wgg_wasm_mw *mw) {
  pthread_mutex_lock(&mw->mu);
  bool t = !mw->current || wgg_hw_module_touches_body(mw->current);
  pthread_mutex_unlock(&mw->mu);
  return t;
}
const char *wgg_wasm_mw_name(const wgg_wasm_mw *mw) { return mw->name; }

void wgg_wasm_mw_free(wgg_wasm_mw *mw) {
  if (!mw) return;
  for (size_t k = 0; k < WGG_WASM_MW_MAX_LOOPS; k++) {
    wgg_loop_pool *p = &mw->pools[k];
    for (size_t j = 0; j < p->n_idle; j++) wgg_hw_instance_free(p->idle[j]);
    free(p->idle);
  }
  wgg_hw_instance_free(mw->seed);
  wgg_hw_module_unref(mw->current);
  pthread_mutex_destroy(&mw->mu);
  free((char *)mw->settings.name);
  free((void *)mw->settings.config);
  free(mw->name);
  free(mw->url);
  free(mw->file);
  free(mw);
}

/* ---- pools ---- */

static wgg_loop_pool *pool_for(wgg_wasm_mw *mw, uv_loop_t *loop) {
  for (size_t k = 0; k < WGG_WASM_MW_MAX_LOOPS; k++) {
    uv_loop_t *l = __atomic_load_n(&mw->pools[k].loop, __ATOMIC_ACQUIRE);
    if (l == loop) return &mw->pools[k];
    if (!l) {
      uv_loop_t *expected = NULL;
      if (__atomic_compare_exchange_n(&mw->pools[k].loop, &expected, loop, false, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE) ||
          expected == loop)
        return &mw->pools[k];
    }
  }
  return NULL;
}

static bool is_current(wgg_wasm_mw *mw, wgg_hw_instance *i) {
  return wgg_hw_instance_module(i) == __atomic_load_n(&mw->current, __ATOMIC_ACQUIRE);
}

/* A new instance of the current module (the rare path: takes the lock to pin the module). */
static wgg_hw_instance *make_instance(wgg_wasm_mw *mw, wgg_err *err) {
  pthread_mutex_lock(&mw->mu);
  wgg_hw_module *m = mw->current;
  wgg_hw_module_ref(m);
  pthread_mutex_unlock(&mw->mu);
  wgg_hw_instance *i = wgg_hw_instance_new(m, err);
  wgg_hw_module_unref(m);
  return i;
}

static void timer_closed(uv_handle_t *h) { free(h); }

static void on_wait_timer(uv_timer_t *t) {
  wgg_pool_wait *w = t->data;
  wgg_loop_pool *p = w->pool;
  uv_close((uv_handle_t *)t, timer_closed);
  w->timer = NULL;
  if (w->granted) {
    w->cb(w->user, w->granted, 0, NULL);
    return;
  }
  /* timed out: leave the queue */
  for (wgg_pool_wait **pp = &p->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next)
    if (*pp == w) {
      *pp = w->next;
      if (p->tail == w) p->tail = prev;
      break;
    }
  w->cb(w->user, NULL, 503, "wasm: no guest instance became free in time");
}

/* Queues wait on p for at most ms; cb runs when an instance is granted or on timeout. */
static int enqueue_wait(wgg_loop_pool *p, uv_loop_t *loop, wgg_pool_wait *wait, wgg_pool_cb cb, void *user,
                        uint64_t ms) {
  memset(wait, 0, sizeof *wait);
  wait->cb = cb;
  wait->user = user;
  wait->pool = p;
  if (!(wait->timer = malloc(sizeof *wait->timer))) return -1;
  uv_timer_init(loop, wait->timer);
  wait->timer->data = wait;
  uv_timer_start(wait->timer, on_wait_timer, ms, 0);
  if (p->tail) p->tail->next = wait;
  else p->head = wait;
  p->tail = wait;
  return 0;
}

static bool grant(wgg_loop_pool *p, wgg_hw_instance *inst);
static void give(wgg_loop_pool *p, wgg_hw_instance *inst);

/* ---- making instances off the loop ----
 * Instantiation runs the start section, _start and the first compilations:
 * guest code with no time slices (issue 18.9), so it runs on the libuv
 * thread pool, bounded by its own deadline (ten request budgets), and the
 * instance goes to the loop's first waiter when ready. */

typedef struct make_job {
  uv_work_t work;
  wgg_wasm_mw *mw;
  wgg_loop_pool *p;
  wgg_hw_instance *inst;
  wgg_err err;
} make_job;

static void make_work(uv_work_t *w) {
  make_job *j = w->data;
  j->inst = make_instance(j->mw, &j->err);
}

static void make_done(uv_work_t *w, int status) {
  make_job *j = w->data;
  wgg_loop_pool *p = j->p;
  (void)status;
  if (j->inst) {
    give(p, j->inst);
  } else {
    p->live--;
    wgg_warn("wasm: middleware %s: %s", j->mw->name, j->err.msg);
    wgg_pool_wait *wt = p->head; /* the first waiter learns why */
    if (wt) {
      p->head = wt->next;
      if (!p->head) p->tail = NULL;
      uv_close((uv_handle_t *)wt->timer, timer_closed);
      wt->timer = NULL;
      wt->cb(wt->user, NULL, 500, j->err.msg);
    }
  }
  free(j);
}

/* Starts making one instance for p (counted in live at once). Returns 0 or -1 (OOM). */
static int make_async(wgg_wasm_mw *mw, wgg_loop_pool *p, uv_loop_t *loop) {
  make_job *j = calloc(1, sizeof *j);
  if (!j) return -1;
  j->mw = mw;
  j->p = p;
  j->work.data = j;
  if (uv_queue_work(loop, &j->work, make_work, make_done)) {
    free(j);
    return -1;
  }
  p->live++;
  return 0;
}

/* How long a request may wait for an instance being made: its instantiation
 * budget (ten request deadlines, at least a second) plus poolTimeout. */
static uint64_t make_wait_ms(const wgg_wasm_mw *mw) {
  uint64_t d = mw->settings.deadline_ms ? mw->settings.deadline_ms * 10 : 10000;
  return (d < 1000 ? 1000 : d) + mw->pool_timeout_ms + 1000;
}

wgg_hw_instance *wgg_wasm_mw_acquire(wgg_wasm_mw *mw, uv_loop_t *loop, wgg_pool_wait *wait, wgg_pool_cb cb,
                                     void *user, wgg_err *err, int *status) {
  *status = 0;
  wgg_loop_pool *p = pool_for(mw, loop);
  if (!p) return *status = 500, wgg_err_set(err, "wasm: too many event loops"), NULL;
  while (p->n_idle) {
    wgg_hw_instance *i = p->idle[--p->n_idle];
    if (is_current(mw, i)) return i;
    wgg_hw_instance_free(i); /* made from a module that was reloaded since */
    p->live--;
  }
  wgg_hw_instance *seed = __atomic_exchange_n(&mw->seed, NULL, __ATOMIC_ACQ_REL);
  if (seed && is_current(mw, seed) && p->live < p->mw->per_loop) {
    p->live++;
    return seed;
  }
  wgg_hw_instance_free(seed);
  if (p->live < mw->per_loop) { /* a new one, made off the loop; this request waits for it */
    if (enqueue_wait(p, loop, wait, cb, user, make_wait_ms(mw)))
      return *status = 500, wgg_err_set(err, "out of memory"), NULL;
    if (make_async(mw, p, loop)) {
      p->tail = NULL; /* undo the wait: it is the only one not yet seen by anyone but us */
      for (wgg_pool_wait **pp = &p->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next)
        if (*pp == wait) {
          *pp = wait->next;
          p->tail = prev;
          break;
        }
      if (p->tail) /* find the real tail again */
        while (p->tail->next) p->tail = p->tail->next;
      uv_close((uv_handle_t *)wait->timer, timer_closed);
      wait->timer = NULL;
      return *status = 500, wgg_err_set(err, "out of memory"), NULL;
    }
    return NULL;
  }
  if (!mw->pool_timeout_ms) return *status = 503, wgg_err_set(err, "wasm: no guest instance free"), NULL;
  if (enqueue_wait(p, loop, wait, cb, user, mw->pool_timeout_ms))
    return *status = 500, wgg_err_set(err, "out of memory"), NULL;
  return NULL;
}

/* Hands inst to the first waiter (its callback runs on the next loop turn). */
static bool grant(wgg_loop_pool *p, wgg_hw_instance *inst) {
  wgg_pool_wait *w = p->head;
  if (!w) return false;
  p->head = w->next;
  if (!p->head) p->tail = NULL;
  w->granted = inst;
  uv_timer_stop(w->timer);
  uv_timer_start(w->timer, on_wait_timer, 0, 0);
  return true;
}

void wgg_wasm_mw_release(wgg_wasm_mw *mw, uv_loop_t *loop, wgg_hw_instance *inst, bool broken) {
  wgg_loop_pool *p = pool_for(mw, loop);
  wgg_hw_flush_output(inst);
  if (broken || !is_current(mw, inst)) {
    wgg_hw_instance_free(inst);
    p->live--;
    if (p->head && make_async(mw, p, loop)) /* a replacement for the waiters, made off the loop */
      wgg_warn("wasm: middleware %s: out of memory", mw->name); /* the waiter times out with 503 */
    return;
  }
  give(p, inst);
}

/* Hands inst to the first waiter, or keeps it idle. */
static void give(wgg_loop_pool *p, wgg_hw_instance *inst) {
  if (grant(p, inst)) return;
  if (p->n_idle == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    wgg_hw_instance **v = realloc(p->idle, cap * sizeof *v);
    if (!v) {
      wgg_hw_instance_free(inst);
      p->live--;
      return;
    }
    p->idle = v;
    p->cap = cap;
  }
  p->idle[p->n_idle++] = inst;
}
