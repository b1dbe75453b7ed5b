/* state_call.c: wgg_state_call_start (api/api.h). */
#include <stdlib.h>

#include "api/api.h"

typedef struct sync_call {
  wgg_state_store *store;
  wgg_state_call *c;
} sync_call;

static void sync_work(void *p) {
  sync_call *k = p;
  wgg_state_call *c = k->c;
  c->status = c->got ? k->store->ops->get(k->store, c->key, c->got, c->err)
                     : k->store->ops->apply(k->store, c->ops, c->n, c->err);
}

static void sync_done(void *p) {
  sync_call *k = p;
  wgg_state_call *c = k->c;
  free(k);
  c->done(c);
}

int wgg_state_call_start(uv_loop_t *loop, const wgg_store_entry *se, wgg_state_call *c) {
  wgg_state_store *s = se->store;
  if (s->ops->start && s->ops->start(s, loop, c) != WGG_STATE_START_SYNC) return 0;
  sync_call *k = malloc(sizeof *k);
  if (!k) return -1;
  *k = (sync_call){.store = s, .c = c};
  if (wgg_api_submit_store(loop, se, k, sync_work, sync_done)) {
    free(k);
    return -1;
  }
  return 0;
}
