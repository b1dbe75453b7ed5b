/*
 * nameres.h: name resolution for sidecar-to-sidecar invocation (Dapr's
 * nameresolution building block, configured by the Configuration's
 * spec.nameResolution: {component, version, configuration}; docs
 * reference/components-reference/supported-name-resolution/).
 *
 * Two resolvers, both needing no server:
 *  - "sqlite" (the default, as Dapr's nr-sqlite.md): every sidecar registers
 *    app-id -> "host:port" of its HTTP API in a shared SQLite file and renews
 *    the row every updateInterval; rows older than updateInterval are
 *    ignored; the row is deleted at shutdown. Configuration keys:
 *    connectionString (file path; default $HOME/.wasmgate/nameresolution.db),
 *    updateInterval (5s), timeout (1s), tableName (hosts), busyTimeout
 *    (800ms), cleanupInterval (accepted; stale rows are deleted at each
 *    registration). The table has Dapr's layout (registration_id, address,
 *    app_id, namespace, last_update), so one file is readable by both.
 *  - "static" (wasmgate's own): configuration.apps maps app-id -> "host:port"
 *    or a list of them (one picked at random per call).
 *
 * Blocking calls (SQLite) are marked: run them on the thread pool. Every
 * function is thread-safe.
 */
#ifndef WGG_NAMERES_H
#define WGG_NAMERES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "wggate.h"

typedef struct wgg_nameres wgg_nameres;

/* Creates the resolver from spec (the Configuration's spec.nameResolution
 * object, borrowed; NULL = the default sqlite resolver). self_app_id and
 * self_addr ("host:port" of this sidecar's HTTP API) are registered by the
 * sqlite resolver when self_app_id is non-empty. Blocking (opens the file,
 * creates the table, registers). Errors (NULL + err): unknown component
 * ("mdns", "consul", ... are not implemented: the message says which are),
 * an invalid configuration value, a database that cannot be opened. */
wgg_nameres *wgg_nameres_new(json_t *spec, const char *self_app_id, const char *self_addr, wgg_err *err);

/* As wgg_nameres_new, also registering self_grpc ("host:port" of this
 * sidecar's gRPC API, NULL or "" for none) in the sqlite table's
 * wasmgate-only column grpc_address (added to an existing table). */
wgg_nameres *wgg_nameres_new_grpc(json_t *spec, const char *self_app_id, const char *self_addr, const char *self_grpc,
                                  wgg_err *err);

/* As wgg_nameres_new_grpc without writing the registration yet: a sidecar registers only once
 * its listeners accept connections (wgg_nameres_register), so that no caller finds an address
 * that refuses them. Until then renewals do nothing and nothing is deregistered. */
wgg_nameres *wgg_nameres_new_unregistered(json_t *spec, const char *self_app_id, const char *self_addr,
                                          const char *self_grpc, wgg_err *err);

/* Writes this sidecar's registration (blocking; sqlite with a self app ID only, else nothing).
 * 0, or -1 with err (the database's error). Idempotent. */
int wgg_nameres_register(wgg_nameres *nr, wgg_err *err);

/* Resolves app_id to the "host:port" of its sidecar's gRPC API (blocking,
 * not cached): 0, or -1 with err ("no host with a gRPC API found with the
 * given ID"; the static resolver knows HTTP addresses only). */
int wgg_nameres_resolve_grpc(wgg_nameres *nr, const char *app_id, char *addr, size_t n, wgg_err *err);

/* Deregisters (blocking) and frees. */
void wgg_nameres_free(wgg_nameres *nr);

/* "sqlite" or "static". */
const char *wgg_nameres_kind(const wgg_nameres *nr);

/* A cached answer for app_id (less than 1 s old), without blocking: 0 and
 * addr filled, or -1 when the cache has nothing (call wgg_nameres_resolve). */
int wgg_nameres_cached(wgg_nameres *nr, const char *app_id, char *addr, size_t n);

/* Resolves app_id to "host:port" (blocking for sqlite). 0, or -1 with err:
 * "no host found with the given ID" when no live registration exists, or
 * the database error. The answer is cached for 1 s. */
int wgg_nameres_resolve(wgg_nameres *nr, const char *app_id, char *addr, size_t n, wgg_err *err);

/* Drops app_id's cached answer (after a connection failure to it). */
void wgg_nameres_forget(wgg_nameres *nr, const char *app_id);

/* How often wgg_nameres_renew must run, in ms (0: never, e.g. static). */
uint64_t wgg_nameres_renew_interval_ms(const wgg_nameres *nr);

/* Renews this sidecar's registration (blocking). Re-registers when the row
 * was lost (for example deleted by a cleanup after a long pause). 0 or -1
 * with err. */
int wgg_nameres_renew(wgg_nameres *nr, wgg_err *err);

/* The address this sidecar registers: $DAPR_HOST_IP (as daprd) or, when the
 * listen address is one specific IP, that IP, else 127.0.0.1; with port.
 * Writes "host:port" into out. */
void wgg_nameres_self_addr(const char *listen_addresses, int port, char *out, size_t n);

#endif
