/*
 * redisasync.h: one asynchronous, pipelined hiredis connection on one libuv
 * loop (the async half of redisconn.h; same component metadata). Commands
 * are written as they come and their replies matched in order, so any
 * number of calls wait on one socket without a thread each (the Redis
 * protocol's pipelining; hiredis's async API, on a small libuv adapter of
 * our own: Debian's hiredis 0.14 adapter has no timeouts and cannot unref
 * its handle).
 *
 * Timeouts: every command must be answered within readTimeout (plus
 * dialTimeout while the connection is still being set up); when the oldest
 * pending command is late, the connection is declared hung and dropped, and
 * every command on it fails (a SIGSTOPped Redis costs one readTimeout, not
 * one per queued call). A lost or dropped connection is re-established by
 * the next command (AUTH and SELECT are pipelined in front of it).
 *
 * Threads: a connection belongs to its loop's thread; every function must be
 * called there, and callbacks run there.
 */
#ifndef WGG_COMPONENTS_REDISASYNC_H
#define WGG_COMPONENTS_REDISASYNC_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <uv.h>

#include "components/redisconn.h"

typedef struct wgg_redis_async wgg_redis_async;

/* A command's answer: reply (borrowed, valid during the call only; may be an
 * error reply), or reply NULL and err saying why (connection refused, lost,
 * "i/o timeout", shutting down). retryable is true for a connection that was
 * refused or lost (not hung): the command may or may not have run, so only a
 * read should be tried again (once: the next command reconnects). */
typedef void (*wgg_redis_async_cb)(void *user, redisReply *reply, const char *err, bool retryable);

/* Creates an unconnected connection on loop with cfg's address, credentials,
 * database and timeouts (copied; cfg->ctx is not used). Returns NULL on OOM. */
wgg_redis_async *wgg_redis_async_new(uv_loop_t *loop, const wgg_redisconn *cfg);

/* Sends argv (argc strings, lens NULL for NUL-terminated ones; copied at
 * once) and calls cb exactly once with the answer, possibly before this
 * returns (no connection could be started). Returns 0, or -1 when a is
 * closing (cb is not called). */
int wgg_redis_async_cmd(wgg_redis_async *a, int argc, const char **argv, const size_t *lens, wgg_redis_async_cb cb,
                        void *user);

/* Number of commands waiting for an answer. */
size_t wgg_redis_async_pending(const wgg_redis_async *a);

/* Closes a once its pending commands are answered (or time out), then frees
 * it; no command may follow. On a thread whose loop is aborting (shutdown's
 * hard close, util/loophooks.h) the pending commands fail at once instead,
 * their callbacks running with "shutting down". */
void wgg_redis_async_close(wgg_redis_async *a);

#endif
