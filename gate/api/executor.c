/* executor.c: see executor.h. */
#include "api/executor.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "util/log.h"
#include "util/loophooks.h"

typedef struct xjob xjob;
typedef struct xloop xloop;

struct xjob {
  xjob *next;
  xloop *home; /* the loop that gets done() */
  void *job;
  void (*work)(void *);
  void (*done)(void *);
};

/* A registered loop: finished jobs wait in `done` until its async runs. */
struct xloop {
  uv_async_t async;
  pthread_mutex_t mu;
  xjob *done_head, *done_tail; /* under mu */
  size_t outstanding;          /* submitted, done() not run yet (loop thread only) */
  bool closing;                /* loop thread only */
};

struct wgg_exec {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  xjob *head, *tail; /* under mu */
  bool stop;         /* under mu */
  char name[64];
};

static _Thread_local xloop *t_loop;

static void *exec_main(void *p) {
  wgg_exec *x = p;
  for (;;) {
    pthread_mutex_lock(&x->mu);
    while (!x->head && !x->stop) pthread_cond_wait(&x->cv, &x->mu);
    xjob *j = x->head;
    if (j) {
      x->head = j->next;
      if (!x->head) x->tail = NULL;
    }
    pthread_mutex_unlock(&x->mu);
    if (!j) return NULL; /* stop, queue empty */
    j->work(j->job);
    j->next = NULL;
    xloop *l = j->home;
    pthread_mutex_lock(&l->mu);
    if (l->done_tail) l->done_tail->next = j;
    else l->done_head = j;
    l->done_tail = j;
    uv_async_send(&l->async); /* under mu: the loop closes the handle only when nothing is outstanding */
    pthread_mutex_unlock(&l->mu);
  }
}

wgg_exec *wgg_exec_new(const char *name) {
  wgg_exec *x = calloc(1, sizeof *x);
  if (!x) return NULL;
  snprintf(x->name, sizeof x->name, "%s", name ? name : "");
  pthread_mutex_init(&x->mu, NULL);
  pthread_cond_init(&x->cv, NULL);
  if (pthread_create(&x->thread, NULL, exec_main, x)) {
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    free(x);
    return NULL;
  }
  return x;
}

void wgg_exec_free(wgg_exec *x) {
  if (!x) return;
  pthread_mutex_lock(&x->mu);
  x->stop = true;
  pthread_cond_signal(&x->cv);
  pthread_mutex_unlock(&x->mu);
  pthread_join(x->thread, NULL);
  pthread_mutex_destroy(&x->mu);
  pthread_cond_destroy(&x->cv);
  free(x);
}

static void xloop_closed(uv_handle_t *h) {
  xloop *l = h->data;
  pthread_mutex_destroy(&l->mu);
  free(l);
}

static void on_async(uv_async_t *a) {
  xloop *l = a->data;
  pthread_mutex_lock(&l->mu);
  xjob *j = l->done_head;
  l->done_head = l->done_tail = NULL;
  pthread_mutex_unlock(&l->mu);
  while (j) {
    xjob *next = j->next;
    j->done(j->job);
    free(j);
    l->outstanding--;
    j = next;
  }
  if (!l->outstanding) uv_unref((uv_handle_t *)&l->async);
  if (l->closing && !l->outstanding && !uv_is_closing((uv_handle_t *)&l->async))
    uv_close((uv_handle_t *)&l->async, xloop_closed);
}

int wgg_exec_thread_init(uv_loop_t *loop) {
  wgg_loop_hooks_init(loop);
  xloop *l = calloc(1, sizeof *l);
  if (!l) return -1;
  pthread_mutex_init(&l->mu, NULL);
  uv_async_init(loop, &l->async, on_async);
  l->async.data = l;
  uv_unref((uv_handle_t *)&l->async); /* only outstanding jobs keep the loop alive */
  t_loop = l;
  return 0;
}

void wgg_exec_thread_close(void) {
  wgg_loop_hooks_run(); /* per-loop connections (async stores) close; their calls in flight fail */
  xloop *l = t_loop;
  if (!l) return;
  t_loop = NULL;
  l->closing = true;
  if (!l->outstanding) uv_close((uv_handle_t *)&l->async, xloop_closed);
}

int wgg_exec_submit(wgg_exec *x, uv_loop_t *loop, void *job, void (*work)(void *), void (*done)(void *)) {
  xloop *l = t_loop;
  if (!x || !l || l->async.loop != loop) return wgg_api_submit(loop, true, job, work, done);
  xjob *j = calloc(1, sizeof *j);
  if (!j) return -1;
  *j = (xjob){.home = l, .job = job, .work = work, .done = done};
  if (!l->outstanding++) uv_ref((uv_handle_t *)&l->async);
  pthread_mutex_lock(&x->mu);
  if (x->tail) x->tail->next = j;
  else x->head = j;
  x->tail = j;
  pthread_cond_signal(&x->cv);
  pthread_mutex_unlock(&x->mu);
  return 0;
}
