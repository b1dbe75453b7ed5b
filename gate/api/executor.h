/*
 * executor.h: one worker thread per blocking state store (sqlite, redis,
 * postgresql). Each of those stores works on one connection under a mutex, so
 * one thread is all it can use; with the stores on libuv's shared thread pool,
 * calls stuck on a hung backend (until its timeout) took every pool thread
 * and held up the other stores, and a larger pool made the threads queue on
 * the store's mutex (a third of Redis throughput lost on 2 cores). Here a
 * store's calls run in order on its own thread and complete on the loop that
 * submitted them (a uv_async_t per loop thread), so stores never wait for
 * each other.
 */
#ifndef WGG_API_EXECUTOR_H
#define WGG_API_EXECUTOR_H

#include <uv.h>

typedef struct wgg_exec wgg_exec;

/* Starts an executor thread named for logs by name. Returns NULL on failure
 * (out of memory, no thread): callers then use the libuv pool. */
wgg_exec *wgg_exec_new(const char *name);

/* Stops the thread after the queued jobs and frees x. No submit may follow. */
void wgg_exec_free(wgg_exec *x);

/* Registers the calling thread's loop (a loop thread, before its first
 * submit), also for util/loophooks.h. Returns 0 or -1 (OOM: submits from this thread use the pool). */
int wgg_exec_thread_init(uv_loop_t *loop);

/* Unregisters the calling thread's loop: runs its util/loophooks.h hooks
 * (async stores close their connections there), and its handle closes once every job it
 * submitted has completed (the loop keeps running until then). */
void wgg_exec_thread_close(void);

/* Runs work(job) on x's thread, then done(job) on the calling loop thread.
 * Without an executor (x NULL) or a registered loop, falls back to
 * uv_queue_work on loop. Returns 0, or -1 (out of memory; done not called). */
int wgg_exec_submit(wgg_exec *x, uv_loop_t *loop, void *job, void (*work)(void *), void (*done)(void *));

#endif
