/*
 * loophooks.h: resources that live on one event-loop thread (a component's
 * per-loop backend connection, say) and must be released on that thread
 * before its loop ends. A loop thread registers itself once
 * (wgg_loop_hooks_init, done by api/executor.c's wgg_exec_thread_init); code
 * running on it adds close hooks; the thread's drain (wgg_exec_thread_close)
 * runs them, newest first, while the loop still runs, so the hooks may
 * uv_close handles and fail calls still in flight.
 */
#ifndef WGG_UTIL_LOOPHOOKS_H
#define WGG_UTIL_LOOPHOOKS_H

#include <stdbool.h>
#include <uv.h>

/* Registers loop as the calling thread's loop. Returns 0 (never fails). */
int wgg_loop_hooks_init(uv_loop_t *loop);

/* True when loop is the calling thread's registered loop and its hooks have
 * not run yet: only then may per-loop resources be created on it. */
bool wgg_loop_hooks_active(const uv_loop_t *loop);

/* Adds fn(arg) to run when the calling thread's loop closes. Returns 0, or
 * -1 when loop is not the calling thread's active loop (see above) or out of
 * memory: the caller then must not keep resources on loop. */
int wgg_loop_hooks_add(uv_loop_t *loop, void (*fn)(void *arg), void *arg);

/* Runs and forgets the calling thread's hooks; later adds fail. */
void wgg_loop_hooks_run(void);

/* Shutdown's hard close on the calling thread (runtime/sidecar.c, when the grace is over): from
 * now on its hooks fail the calls still in flight at once instead of letting them complete
 * (wgg_loop_hooks_aborting tells them), so that the loop ends. */
void wgg_loop_hooks_abort(void);
bool wgg_loop_hooks_aborting(void);

#endif
