/*
 * redisconn.h: one synchronous hiredis connection with the Redis component
 * metadata Dapr's Redis components share (components-contrib
 * common/component/redis/metadata.go: redisHost, redisUsername,
 * redisPassword, redisDB, dialTimeout, readTimeout; enableTLS, redisType
 * cluster and failover are refused as unsupported). Used by lock.redis and
 * configuration.redis. Not thread-safe: callers serialise (their store's
 * mutex or executor). A lost connection is dropped and re-established by the
 * next wgg_redisconn_ensure, so a store recovers when Redis comes back.
 */
#ifndef WGG_COMPONENTS_REDISCONN_H
#define WGG_COMPONENTS_REDISCONN_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <sys/time.h>
#include <time.h>

#include "config/component.h"
#include "util/err.h"

typedef struct wgg_redisconn {
  redisContext *ctx; /* NULL while disconnected */
  char host[256];
  int port;
  char *password, *username; /* owned, NULL when absent */
  int db;
  struct timeval dial, rw;
  time_t last_used;
} wgg_redisconn;

/* Reads c's metadata into rc (what names the component type for messages,
 * e.g. "lock.redis"). Does not connect. Returns 0, or -1 with err
 * (redisHost missing or malformed, unsupported option, bad number or
 * duration). On -1, rc needs no wgg_redisconn_close. */
int wgg_redisconn_init(wgg_redisconn *rc, const wgg_component *c, const char *what, wgg_err *err);

/* Makes sure rc is connected (connect with dialTimeout, AUTH, SELECT; a
 * connection idle for a second or more is PINGed first, as the server may
 * have restarted). Returns 0 or -1 with err. */
int wgg_redisconn_ensure(wgg_redisconn *rc, wgg_err *err);

/* Sends one command (argv of argc strings, lens NULL for NUL-terminated
 * ones). Returns the reply (free with freeReplyObject), or NULL with err when
 * the connection failed (it is dropped). An error reply is returned as a
 * reply of type REDIS_REPLY_ERROR. */
redisReply *wgg_redisconn_cmd(wgg_redisconn *rc, int argc, const char **argv, const size_t *lens, wgg_err *err);

/* Drops the connection only (the next ensure reconnects). */
void wgg_redisconn_close_conn(wgg_redisconn *rc);

/* Disconnects and frees rc's strings (rc itself is the caller's). */
void wgg_redisconn_close(wgg_redisconn *rc);

#endif
