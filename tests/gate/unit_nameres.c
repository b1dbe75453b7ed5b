/* unit_nameres.c: the sqlite name resolver (registration, lookup, staleness
 * by updateInterval, renewal after a lost row, deregistration, Dapr's table
 * layout, the gRPC address column, configuration errors) and the static table. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "components/nameres/nameres.h"

static json_t *cfg(const char *text) {
  return json_loads(text, 0, NULL);
}

static void sql(const char *db, const char *q) {
  sqlite3 *h;
  sqlite3_open(db, &h);
  sqlite3_exec(h, q, NULL, NULL, NULL);
  sqlite3_close(h);
}

int main(void) {
  char dir[] = "/tmp/wgg-nr-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char db[256], spec_text[512];
  snprintf(db, sizeof db, "%s/nr.db", dir);
  snprintf(spec_text, sizeof spec_text,
           "{\"component\":\"sqlite\",\"configuration\":{\"connectionString\":\"%s\",\"updateInterval\":\"3s\"}}", db);
  json_t *spec = cfg(spec_text);
  wgg_err e;
  wgg_nameres *a = wgg_nameres_new(spec, "a", "127.0.0.1:3500", &e);
  wgg_nameres *b = wgg_nameres_new(spec, "b", "127.0.0.1:3501", &e);
  CHECK(a && b);
  if (!a || !b) return 1;
  CHECK_STR(wgg_nameres_kind(a), "sqlite");
  /* a third of updateInterval, shorter than Dapr's updateInterval - timeout (2 s): last_update has
   * whole seconds, and a renewal late by a few ms at a second boundary made live rows look expired */
  CHECK(wgg_nameres_renew_interval_ms(a) == 1000);
  char addr[128];
  CHECK(wgg_nameres_resolve(a, "b", addr, sizeof addr, &e) == 0);
  CHECK_STR(addr, "127.0.0.1:3501");
  CHECK(wgg_nameres_cached(a, "b", addr, sizeof addr) == 0); /* cached for 1 s */
  wgg_nameres_forget(a, "b");
  CHECK(wgg_nameres_cached(a, "b", addr, sizeof addr) == -1);
  CHECK(wgg_nameres_resolve(b, "nope", addr, sizeof addr, &e) == -1);
  CHECK(strstr(e.msg, "no host found with the given ID") != NULL);

  /* a sidecar registers once its listeners are up: until wgg_nameres_register nobody finds it */
  wgg_nameres *u = wgg_nameres_new_unregistered(spec, "u", "127.0.0.1:3509", NULL, &e);
  CHECK(u != NULL);
  CHECK(wgg_nameres_resolve(a, "u", addr, sizeof addr, &e) == -1);
  CHECK(wgg_nameres_register(u, &e) == 0);
  CHECK(wgg_nameres_resolve(a, "u", addr, sizeof addr, &e) == 0);
  CHECK_STR(addr, "127.0.0.1:3509");
  wgg_nameres_free(u); /* deregisters */
  wgg_nameres_forget(a, "u");
  CHECK(wgg_nameres_resolve(a, "u", addr, sizeof addr, &e) == -1);

  /* a row older than updateInterval is ignored; renewing brings it back */
  sql(db, "UPDATE hosts SET last_update = last_update - 3 WHERE app_id = 'b'");
  CHECK(wgg_nameres_resolve(a, "b", addr, sizeof addr, &e) == -1);
  CHECK(wgg_nameres_renew(b, &e) == 0);
  CHECK(wgg_nameres_resolve(a, "b", addr, sizeof addr, &e) == 0);
  /* a lost row is registered again by the next renewal */
  sql(db, "DELETE FROM hosts WHERE app_id = 'b'");
  CHECK(wgg_nameres_resolve(a, "b", addr, sizeof addr, &e) == -1);
  CHECK(wgg_nameres_renew(b, &e) == 0);
  CHECK(wgg_nameres_resolve(a, "b", addr, sizeof addr, &e) == 0);
  /* Dapr's columns */
  sql(db, "INSERT INTO hosts (registration_id, address, app_id, namespace, last_update) "
          "VALUES ('x', '10.0.0.9:1', 'c', '', unixepoch(CURRENT_TIMESTAMP))");
  CHECK(wgg_nameres_resolve(a, "c", addr, sizeof addr, &e) == 0);
  CHECK_STR(addr, "10.0.0.9:1");
  /* the gRPC address (wasmgate's column): registered beside the HTTP one, kept by renewals */
  wgg_nameres *g = wgg_nameres_new_grpc(spec, "g", "127.0.0.1:3502", "127.0.0.1:50009", &e);
  CHECK(g != NULL);
  CHECK(wgg_nameres_resolve_grpc(a, "g", addr, sizeof addr, &e) == 0);
  CHECK_STR(addr, "127.0.0.1:50009");
  CHECK(wgg_nameres_resolve(a, "g", addr, sizeof addr, &e) == 0);
  CHECK_STR(addr, "127.0.0.1:3502");
  sql(db, "DELETE FROM hosts WHERE app_id = 'g'");
  CHECK(g && wgg_nameres_renew(g, &e) == 0);
  CHECK(wgg_nameres_resolve_grpc(a, "g", addr, sizeof addr, &e) == 0);
  CHECK_STR(addr, "127.0.0.1:50009");
  /* rows without one (another resolver's, a sidecar without gRPC API) are no gRPC answer */
  CHECK(wgg_nameres_resolve_grpc(a, "c", addr, sizeof addr, &e) == -1);
  CHECK(strstr(e.msg, "no host with a gRPC API found") != NULL);
  CHECK(wgg_nameres_resolve_grpc(a, "b", addr, sizeof addr, &e) == -1);
  wgg_nameres_free(g);
  /* freeing deregisters */
  wgg_nameres_free(b);
  CHECK(wgg_nameres_resolve(a, "b", addr, sizeof addr, &e) == -1);
  wgg_nameres_free(a);
  json_decref(spec);

  /* static */
  spec = cfg("{\"component\":\"static\",\"configuration\":{\"apps\":{\"x\":\"h:1\",\"y\":[\"h:2\",\"h:3\"]}}}");
  wgg_nameres *s = wgg_nameres_new(spec, "me", "127.0.0.1:1", &e);
  CHECK(s && wgg_nameres_renew_interval_ms(s) == 0);
  if (s) {
    CHECK(wgg_nameres_cached(s, "x", addr, sizeof addr) == 0);
    CHECK_STR(addr, "h:1");
    CHECK(wgg_nameres_resolve(s, "y", addr, sizeof addr, &e) == 0 && (!strcmp(addr, "h:2") || !strcmp(addr, "h:3")));
    CHECK(wgg_nameres_resolve(s, "z", addr, sizeof addr, &e) == -1);
    wgg_nameres_free(s);
  }
  json_decref(spec);

  /* configuration errors */
  const char *bad[] = {
      "{\"component\":\"mdns\"}",
      "{\"component\":\"static\",\"configuration\":{\"apps\":{\"x\":\"nocolon\"}}}",
      "{\"component\":\"static\"}",
      "{\"component\":\"sqlite\",\"configuration\":{\"connectionString\":\"/nonexistent/dir/x.db\"}}",
      "{\"component\":\"sqlite\",\"configuration\":{\"updateInterval\":\"1s\"}}",
      "{\"component\":\"sqlite\",\"configuration\":{\"tableName\":\"x; DROP\"}}",
  };
  const char *why[] = {"'mdns' is not supported", "want \"host:port\"", "configuration.apps", "cannot open",
                       "updateInterval", "tableName"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *j = cfg(bad[i]);
    wgg_nameres *r = wgg_nameres_new(j, "me", "127.0.0.1:1", &e);
    CHECK(!r && strstr(e.msg, why[i]));
    if (r || !strstr(e.msg, why[i])) fprintf(stderr, "case %zu: %s\n", i, r ? "(accepted)" : e.msg);
    wgg_nameres_free(r);
    json_decref(j);
  }
  char self[64];
  unsetenv("DAPR_HOST_IP");
  wgg_nameres_self_addr("0.0.0.0", 3500, self, sizeof self);
  CHECK_STR(self, "127.0.0.1:3500");
  wgg_nameres_self_addr("10.1.2.3", 3500, self, sizeof self);
  CHECK_STR(self, "10.1.2.3:3500");
  setenv("DAPR_HOST_IP", "::1", 1);
  wgg_nameres_self_addr("0.0.0.0", 3500, self, sizeof self);
  CHECK_STR(self, "[::1]:3500");
  unlink(db);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) fprintf(stderr, "cleanup failed\n");
  CHECK_DONE();
}
