/*
 * memory.c: state.in-memory (docs reference/components-reference/
 * supported-state-stores/setup-inmemory.md). A hash table under one mutex;
 * data lives as long as the process. Not blocking: called on loop threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "components/state/query.h"
#include "components/state/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/uuid.h"

typedef struct entry {
  struct entry *next;
  char *key;
  char *value;
  size_t value_len;
  char etag[37];
  int64_t expire; /* unix milliseconds, 0 = never */
} entry;

typedef struct memstore {
  wgg_state_store base;
  pthread_mutex_t mu;
  entry **buckets;
  size_t nbuckets, count;
} memstore;

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void entry_free(entry *e) {
  free(e->key);
  free(e->value);
  free(e);
}

/* Finds key's live entry; an expired one is unlinked and freed. *pp gets the link to it. */
static entry *find(memstore *m, const char *key, entry ***pp) {
  entry **p = &m->buckets[hash(key) % m->nbuckets];
  for (; *p; p = &(*p)->next) {
    if (strcmp((*p)->key, key)) continue;
    if ((*p)->expire && (*p)->expire <= now_ms()) {
      entry *dead = *p;
      *p = dead->next;
      entry_free(dead);
      m->count--;
      break;
    }
    if (pp) *pp = p;
    return *p;
  }
  return NULL;
}

static int grow(memstore *m) {
  size_t nb = m->nbuckets * 2;
  entry **b = calloc(nb, sizeof *b);
  if (!b) return -1;
  for (size_t i = 0; i < m->nbuckets; i++)
    for (entry *e = m->buckets[i], *next; e; e = next) {
      next = e->next;
      size_t h = hash(e->key) % nb;
      e->next = b[h];
      b[h] = e;
    }
  free(m->buckets);
  m->buckets = b;
  m->nbuckets = nb;
  return 0;
}

static int mem_get(wgg_state_store *s, const char *key, wgg_state_got *out, wgg_err *err) {
  memstore *m = (memstore *)s;
  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&m->mu);
  entry *e = find(m, key, NULL);
  int rc = WGG_ST_OK;
  if (e) {
    out->value = wgg_strndup(e->value, e->value_len);
    out->etag = strdup(e->etag);
    out->value_len = e->value_len;
    out->expire_unix = e->expire ? (e->expire + 999) / 1000 : 0;
    out->found = true;
    if (!out->value || !out->etag) {
      wgg_state_got_free(out);
      rc = wgg_err_set(err, "out of memory");
    }
  }
  pthread_mutex_unlock(&m->mu);
  return rc;
}

/* Checks one op against the current data (no change). */
static int check(memstore *m, const wgg_state_op *op) {
  bool has_etag = op->etag && *op->etag;
  if (has_etag && !wgg_uuid_valid(op->etag)) return WGG_ST_ETAG_INVALID;
  entry *e = find(m, op->key, NULL);
  if (has_etag) return e && !strcmp(e->etag, op->etag) ? WGG_ST_OK : WGG_ST_ETAG_MISMATCH;
  if (!op->is_delete && op->first_write && e) return WGG_ST_ETAG_MISMATCH;
  return WGG_ST_OK;
}

static int mem_apply(wgg_state_store *s, const wgg_state_op *ops, size_t n, wgg_err *err) {
  memstore *m = (memstore *)s;
  pthread_mutex_lock(&m->mu);
  int rc = WGG_ST_OK;
  /* Validate everything first so the batch is all-or-nothing. A batch that
   * touches the same key twice is checked against the state before the batch,
   * except that an ETag only ever matches the state before the batch. */
  for (size_t i = 0; i < n && rc == WGG_ST_OK; i++) {
    rc = check(m, &ops[i]);
    if (rc == WGG_ST_ETAG_INVALID) wgg_err_set(err, "invalid etag value: %s", ops[i].etag);
    else if (rc == WGG_ST_ETAG_MISMATCH) wgg_err_set(err, "%s", wgg_state_mismatch_msg(&ops[i]));
  }
  /* Allocate every new entry before changing anything, so OOM cannot leave half a batch. */
  entry **fresh = rc == WGG_ST_OK ? calloc(n ? n : 1, sizeof *fresh) : NULL;
  if (rc == WGG_ST_OK && !fresh) rc = wgg_err_set(err, "out of memory");
  for (size_t i = 0; i < n && rc == WGG_ST_OK; i++) {
    if (ops[i].is_delete) continue;
    entry *e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(ops[i].key)) || !(e->value = wgg_strndup(ops[i].value, ops[i].value_len))) {
      if (e) entry_free(e);
      rc = wgg_err_set(err, "out of memory");
      break;
    }
    e->value_len = ops[i].value_len;
    wgg_uuid_new(e->etag);
    e->expire = ops[i].ttl_seconds > 0 ? now_ms() + ops[i].ttl_seconds * 1000 : 0;
    fresh[i] = e;
  }
  for (size_t i = 0; i < n && rc == WGG_ST_OK; i++) {
    entry **pp = NULL;
    entry *old = find(m, ops[i].key, &pp);
    if (old) {
      *pp = old->next;
      entry_free(old);
      m->count--;
    }
    if (fresh[i]) {
      size_t h = hash(fresh[i]->key) % m->nbuckets;
      fresh[i]->next = m->buckets[h];
      m->buckets[h] = fresh[i];
      fresh[i] = NULL;
      m->count++;
    }
  }
  if (rc == WGG_ST_OK && m->count > m->nbuckets * 2) grow(m); /* failure to grow only costs speed */
  if (fresh)
    for (size_t i = 0; i < n; i++)
      if (fresh[i]) entry_free(fresh[i]);
  free(fresh);
  pthread_mutex_unlock(&m->mu);
  return rc;
}

static void mem_destroy(wgg_state_store *s) {
  memstore *m = (memstore *)s;
  for (size_t i = 0; i < m->nbuckets; i++)
    for (entry *e = m->buckets[i], *next; e; e = next) {
      next = e->next;
      entry_free(e);
    }
  free(m->buckets);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

/* The query API: copies the live items under the lock, then evaluates the
 * query on the copies (query_eval.c) without holding it. */
static int mem_query(wgg_state_store *s, const wgg_query *q, wgg_qresult *out, wgg_err *err) {
  memstore *m = (memstore *)s;
  wgg_qresult all = {0};
  int rc = 0;
  pthread_mutex_lock(&m->mu);
  int64_t now = now_ms();
  for (size_t i = 0; i < m->nbuckets && !rc; i++)
    for (entry *e = m->buckets[i]; e && !rc; e = e->next)
      if (!e->expire || e->expire > now) rc = wgg_qresult_add(&all, e->key, e->value, e->value_len, e->etag);
  pthread_mutex_unlock(&m->mu);
  if (rc) {
    wgg_qresult_free(&all);
    return wgg_err_set(err, "out of memory"), WGG_ST_ERROR;
  }
  if (wgg_query_run_json(q, &all, out)) return wgg_err_set(err, "out of memory"), WGG_ST_ERROR;
  return WGG_ST_OK;
}

static const wgg_state_store_ops mem_ops = {mem_get, mem_apply, mem_destroy, mem_query, NULL};

wgg_state_store *wgg_state_memory_new(const wgg_component *c, wgg_err *err) {
  (void)c;
  memstore *m = calloc(1, sizeof *m);
  if (!m) return wgg_err_set(err, "out of memory"), NULL;
  m->nbuckets = 64;
  if (!(m->buckets = calloc(m->nbuckets, sizeof *m->buckets))) {
    free(m);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  pthread_mutex_init(&m->mu, NULL);
  m->base.ops = &mem_ops;
  m->base.features = WGG_FEAT_ETAG | WGG_FEAT_TRANSACTIONAL | WGG_FEAT_TTL | WGG_FEAT_QUERY;
  m->base.blocking = false;
  return &m->base;
}
