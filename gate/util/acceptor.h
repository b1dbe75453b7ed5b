/*
 * acceptor.h: a listening TCP socket on a libuv loop that accepts by hand
 * (accept4 on a uv_poll_t) so that running out of descriptors pauses
 * accepting instead of spinning: libuv's own accept loop retries EMFILE at
 * once and never returns to the loop. Shared by the HTTP API (http/server.c)
 * and the gRPC API (grpc/server.c).
 *
 * On EMFILE, ENFILE, ENOBUFS or ENOMEM the acceptor stops polling for a pause
 * that starts at 5 ms and doubles up to 1 s (as Go's net/http Serve), so the
 * loop keeps serving the connections it has while the pending ones wait in
 * the kernel's backlog; a successful accept resets the pause. The failure is
 * logged as a warning at most once per 10 s, with the count since.
 */
#ifndef WGG_UTIL_ACCEPTOR_H
#define WGG_UTIL_ACCEPTOR_H

#include <uv.h>

#include "wggate.h"

typedef struct wgg_acceptor wgg_acceptor;

/* Called on the loop with each accepted descriptor (non-blocking,
 * close-on-exec; ownership moves to the callee, which must close it). */
typedef void (*wgg_acceptor_fn)(int fd, void *user);

/* Binds host:port (IPv4, or IPv6 with or without brackets; SO_REUSEADDR,
 * SO_REUSEPORT, IPV6_V6ONLY; the first bind of an address in the process
 * fails with "Address already in use" when another process listens there,
 * as daprd's does, instead of sharing the port), listens with a backlog of 1024 and starts
 * accepting up to 64 connections per readiness event into on_fd. label names
 * the server in errors and warnings ("http", "gRPC"). Returns the acceptor,
 * or NULL with err naming the address (invalid address, bind/listen failure,
 * OOM). */
wgg_acceptor *wgg_acceptor_listen(uv_loop_t *loop, const char *host, int port, const char *label,
                                  wgg_acceptor_fn on_fd, void *user, wgg_err *err);

/* Stops accepting and closes the socket (asynchronously, with the loop); the
 * acceptor is freed once its handles are closed. No on_fd call follows.
 * NULL is fine. */
void wgg_acceptor_close(wgg_acceptor *a);

#endif
