/*
 * redisconn.c: see redisconn.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "components/redisconn.h"
#include "wggate.h"

static void drop(wgg_redisconn *rc) {
  if (rc->ctx) redisFree(rc->ctx);
  rc->ctx = NULL;
}

void wgg_redisconn_close_conn(wgg_redisconn *rc) {
  drop(rc);
}

void wgg_redisconn_close(wgg_redisconn *rc) {
  drop(rc);
  free(rc->password);
  free(rc->username);
  rc->password = rc->username = NULL;
}

static int duration_tv(const wgg_component *c, const char *what, const char *name, const char *def,
                       struct timeval *tv, wgg_err *err) {
  const char *v = wgg_component_meta(c, name);
  uint64_t ms;
  wgg_err e;
  if (wgg_parse_duration_ms(v && *v ? v : def, &ms, &e)) return wgg_err_set(err, "%s: %s: %s", what, name, e.msg);
  tv->tv_sec = (time_t)(ms / 1000);
  tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
  return 0;
}

int wgg_redisconn_init(wgg_redisconn *rc, const wgg_component *c, const char *what, wgg_err *err) {
  memset(rc, 0, sizeof *rc);
  const char *host = wgg_component_meta(c, "redisHost");
  if (!host || !*host) return wgg_err_set(err, "%s: metadata property redisHost is empty", what);
  const char *tls = wgg_component_meta(c, "enableTLS");
  if (tls && !strcasecmp(tls, "true")) return wgg_err_set(err, "%s: enableTLS is not supported yet", what);
  const char *type = wgg_component_meta(c, "redisType");
  if (type && *type && strcasecmp(type, "node"))
    return wgg_err_set(err, "%s: redisType %s is not supported (only node)", what, type);
  const char *fo = wgg_component_meta(c, "failover");
  if (fo && !strcasecmp(fo, "true")) return wgg_err_set(err, "%s: failover (sentinel) is not supported", what);
  const char *colon = strrchr(host, ':');
  char *end = NULL;
  long port = colon ? strtol(colon + 1, &end, 10) : 6379;
  size_t hl = colon ? (size_t)(colon - host) : strlen(host);
  if ((colon && (!*(colon + 1) || *end)) || port <= 0 || port > 65535 || hl == 0 || hl >= sizeof rc->host)
    return wgg_err_set(err, "%s: invalid redisHost '%s' (expected host:port)", what, host);
  memcpy(rc->host, host, hl);
  rc->host[hl] = '\0';
  rc->port = (int)port;
  const char *db = wgg_component_meta(c, "redisDB");
  if (db && *db) {
    long v = strtol(db, &end, 10);
    if (*end || v < 0 || v > 1000000) return wgg_err_set(err, "%s: invalid redisDB '%s'", what, db);
    rc->db = (int)v;
  }
  if (duration_tv(c, what, "dialTimeout", "5s", &rc->dial, err) || duration_tv(c, what, "readTimeout", "3s", &rc->rw, err))
    return -1;
  const char *pw = wgg_component_meta(c, "redisPassword"), *user = wgg_component_meta(c, "redisUsername");
  if ((pw && *pw && !(rc->password = strdup(pw))) || (user && *user && !(rc->username = strdup(user)))) {
    wgg_redisconn_close(rc);
    return wgg_err_set(err, "out of memory");
  }
  return 0;
}

redisReply *wgg_redisconn_cmd(wgg_redisconn *rc, int argc, const char **argv, const size_t *lens, wgg_err *err) {
  if (!rc->ctx) return wgg_err_set(err, "redis %s:%d: not connected", rc->host, rc->port), NULL;
  redisReply *r = redisCommandArgv(rc->ctx, argc, argv, lens);
  if (!r) {
    wgg_err_set(err, "redis %s:%d: %s", rc->host, rc->port, rc->ctx->errstr[0] ? rc->ctx->errstr : "connection lost");
    drop(rc);
  }
  return r;
}

/* Runs a command whose error reply fails the connection set-up. */
static int setup_cmd(wgg_redisconn *rc, int argc, const char **argv, const char *what, wgg_err *err) {
  redisReply *r = wgg_redisconn_cmd(rc, argc, argv, NULL, err);
  if (!r) return -1;
  int bad = r->type == REDIS_REPLY_ERROR;
  if (bad) wgg_err_set(err, "redis %s:%d: %s: %s", rc->host, rc->port, what, r->str);
  freeReplyObject(r);
  if (bad) drop(rc);
  return bad ? -1 : 0;
}

int wgg_redisconn_ensure(wgg_redisconn *rc, wgg_err *err) {
  time_t now = time(NULL);
  if (rc->ctx && now - rc->last_used >= 1) {
    const char *ping[] = {"PING"};
    wgg_err ignored;
    redisReply *r = wgg_redisconn_cmd(rc, 1, ping, NULL, &ignored);
    if (r) freeReplyObject(r);
  }
  rc->last_used = now;
  if (rc->ctx) return 0;
  rc->ctx = redisConnectWithTimeout(rc->host, rc->port, rc->dial);
  if (!rc->ctx || rc->ctx->err) {
    wgg_err_set(err, "redis %s:%d: cannot connect: %s", rc->host, rc->port, rc->ctx ? rc->ctx->errstr : "out of memory");
    drop(rc);
    return -1;
  }
  redisSetTimeout(rc->ctx, rc->rw);
  if (rc->password) {
    const char *a[] = {"AUTH", rc->username ? rc->username : rc->password, rc->password};
    if (setup_cmd(rc, rc->username ? 3 : 2, a, "AUTH", err)) return -1;
  }
  if (rc->db) {
    char dbs[16];
    snprintf(dbs, sizeof dbs, "%d", rc->db);
    const char *s[] = {"SELECT", dbs};
    if (setup_cmd(rc, 2, s, "SELECT", err)) return -1;
  }
  return 0;
}
