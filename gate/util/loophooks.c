/* loophooks.c: see loophooks.h. */
#include "util/loophooks.h"

#include <stdlib.h>

typedef struct hook {
  struct hook *next;
  void (*fn)(void *);
  void *arg;
} hook;

static _Thread_local uv_loop_t *t_loop;
static _Thread_local bool t_closed;
static _Thread_local hook *t_hooks;
static _Thread_local bool t_abort;

int wgg_loop_hooks_init(uv_loop_t *loop) {
  t_loop = loop;
  t_closed = false;
  t_abort = false;
  t_hooks = NULL;
  return 0;
}

bool wgg_loop_hooks_active(const uv_loop_t *loop) {
  return loop && t_loop == loop && !t_closed;
}

int wgg_loop_hooks_add(uv_loop_t *loop, void (*fn)(void *), void *arg) {
  if (!wgg_loop_hooks_active(loop)) return -1;
  hook *h = malloc(sizeof *h);
  if (!h) return -1;
  *h = (hook){.next = t_hooks, .fn = fn, .arg = arg};
  t_hooks = h;
  return 0;
}

void wgg_loop_hooks_run(void) {
  t_closed = true;
  while (t_hooks) {
    hook *h = t_hooks;
    t_hooks = h->next;
    h->fn(h->arg);
    free(h);
  }
}

void wgg_loop_hooks_abort(void) { t_abort = true; }

bool wgg_loop_hooks_aborting(void) { return t_abort; }
