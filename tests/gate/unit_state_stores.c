/*
 * unit_state_stores.c: one contract suite run against every state store
 * (components/state/store.h): ETags, first-write, atomic batches, TTL,
 * durability across reopen (sqlite).
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "components/state/store.h"
#include "util/uuid.h"

static wgg_state_op set_op(const char *key, const char *value, const char *etag) {
  wgg_state_op op = {.key = key, .value = value, .value_len = strlen(value), .etag = etag};
  return op;
}

static void contract(wgg_state_store *s, const char *name) {
  fprintf(stderr, "-- %s\n", name);
  wgg_err e;
  wgg_state_got g = {0};
  CHECK(s->ops->get(s, "app||missing", &g, &e) == WGG_ST_OK && !g.found);

  wgg_state_op op = set_op("app||k", "{\"a\":1}", NULL);
  CHECK(s->ops->apply(s, &op, 1, &e) == WGG_ST_OK);
  CHECK(s->ops->get(s, "app||k", &g, &e) == WGG_ST_OK && g.found);
  CHECK(g.value && g.value_len == 7 && !memcmp(g.value, "{\"a\":1}", 7));
  CHECK(g.etag && wgg_uuid_valid(g.etag) && g.expire_unix == 0);
  char etag1[64];
  snprintf(etag1, sizeof etag1, "%s", g.etag ? g.etag : "");
  wgg_state_got_free(&g);

  /* a matching ETag updates and changes the ETag; the old one then mismatches */
  op = set_op("app||k", "2", etag1);
  CHECK(s->ops->apply(s, &op, 1, &e) == WGG_ST_OK);
  CHECK(s->ops->apply(s, &op, 1, &e) == WGG_ST_ETAG_MISMATCH);
  op = set_op("app||k", "3", "not-a-uuid");
  CHECK(s->ops->apply(s, &op, 1, &e) == WGG_ST_ETAG_INVALID);
  CHECK(s->ops->get(s, "app||k", &g, &e) == WGG_ST_OK && g.found && g.value_len == 1 && g.value[0] == '2');
  CHECK(g.etag && strcmp(g.etag, etag1));
  char etag2[64];
  snprintf(etag2, sizeof etag2, "%s", g.etag ? g.etag : "");
  wgg_state_got_free(&g);

  /* an ETag on a key that does not exist is a mismatch */
  op = set_op("app||nokey", "1", etag2);
  CHECK(s->ops->apply(s, &op, 1, &e) == WGG_ST_ETAG_MISMATCH);

  /* first-write without ETag: only creates */
  op = set_op("app||k", "4", NULL);
  op.first_write = true;
  CHECK(s->ops->apply(s, &op, 1, &e) == WGG_ST_ETAG_MISMATCH);
  op.key = "app||fresh";
  CHECK(s->ops->apply(s, &op, 1, &e) == WGG_ST_OK);

  /* a batch with one failing op changes nothing */
  wgg_state_op batch[3] = {set_op("app||b1", "1", NULL), set_op("app||k", "5", NULL), set_op("app||k", "6", etag1)};
  CHECK(s->ops->apply(s, batch, 3, &e) == WGG_ST_ETAG_MISMATCH);
  CHECK(s->ops->get(s, "app||b1", &g, &e) == WGG_ST_OK && !g.found);
  CHECK(s->ops->get(s, "app||k", &g, &e) == WGG_ST_OK && g.found && g.value[0] == '2');
  wgg_state_got_free(&g);

  /* upsert + delete in one batch */
  wgg_state_op mix[2] = {set_op("app||b1", "7", NULL), {.is_delete = true, .key = "app||fresh"}};
  CHECK(s->ops->apply(s, mix, 2, &e) == WGG_ST_OK);
  CHECK(s->ops->get(s, "app||b1", &g, &e) == WGG_ST_OK && g.found);
  wgg_state_got_free(&g);
  CHECK(s->ops->get(s, "app||fresh", &g, &e) == WGG_ST_OK && !g.found);

  /* delete with ETag: mismatch, invalid, then match */
  wgg_state_op del = {.is_delete = true, .key = "app||k", .etag = etag1};
  CHECK(s->ops->apply(s, &del, 1, &e) == WGG_ST_ETAG_MISMATCH);
  del.etag = "zzz";
  CHECK(s->ops->apply(s, &del, 1, &e) == WGG_ST_ETAG_INVALID);
  del.etag = etag2;
  CHECK(s->ops->apply(s, &del, 1, &e) == WGG_ST_OK);
  CHECK(s->ops->get(s, "app||k", &g, &e) == WGG_ST_OK && !g.found);
  /* deleting an absent key without ETag succeeds */
  del.etag = NULL;
  CHECK(s->ops->apply(s, &del, 1, &e) == WGG_ST_OK);

  /* TTL: visible with an expiry time, then gone */
  op = set_op("app||ttl", "1", NULL);
  op.ttl_seconds = 1;
  CHECK(s->ops->apply(s, &op, 1, &e) == WGG_ST_OK);
  CHECK(s->ops->get(s, "app||ttl", &g, &e) == WGG_ST_OK && g.found && g.expire_unix > 0);
  wgg_state_got_free(&g);
  usleep(600 * 1000); /* a 1 s TTL lasts 1 s, not until the next full second */
  CHECK(s->ops->get(s, "app||ttl", &g, &e) == WGG_ST_OK && g.found);
  wgg_state_got_free(&g);
  usleep(1500 * 1000);
  CHECK(s->ops->get(s, "app||ttl", &g, &e) == WGG_ST_OK && !g.found);
  /* an expired key can be created with first-write again */
  op.first_write = true;
  op.ttl_seconds = 0;
  CHECK(s->ops->apply(s, &op, 1, &e) == WGG_ST_OK);
}

int main(void) {
  wgg_component mem = {.name = "m", .type = "state.in-memory", .version = ""};
  wgg_err e = {{0}};
  wgg_state_store *s = wgg_state_store_new(&mem, &e);
  CHECK(s != NULL);
  if (s) {
    contract(s, "state.in-memory");
    s->ops->destroy(s);
  }

  char dir[] = "/tmp/wgg-sqlite-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[128];
  snprintf(path, sizeof path, "%s/state.db", dir);
  wgg_meta_kv meta[] = {{.name = "connectionString", .value = path}, {.name = "tableName", .value = "mystate"}};
  wgg_component sq = {.name = "s", .type = "state.sqlite", .version = "v1", .meta = meta, .n_meta = 2};
  s = wgg_state_store_new(&sq, &e);
  CHECK(s != NULL);
  if (s) {
    CHECK(s->blocking);
    contract(s, "state.sqlite");
    s->ops->destroy(s);
  }
  /* reopen: the data is still there */
  s = wgg_state_store_new(&sq, &e);
  CHECK(s != NULL);
  if (s) {
    wgg_state_got g = {0};
    CHECK(s->ops->get(s, "app||b1", &g, &e) == WGG_ST_OK && g.found && g.value[0] == '7');
    wgg_state_got_free(&g);
    s->ops->destroy(s);
  }

  /* bad metadata and unknown types are errors, not crashes */
  wgg_component nocs = {.name = "s", .type = "state.sqlite", .version = "v1"};
  CHECK(wgg_state_store_new(&nocs, &e) == NULL && strstr(e.msg, "missing connection string"));
  wgg_meta_kv badt[] = {{.name = "connectionString", .value = path}, {.name = "tableName", .value = "x; drop"}};
  wgg_component bt = {.name = "s", .type = "state.sqlite", .version = "v1", .meta = badt, .n_meta = 2};
  CHECK(wgg_state_store_new(&bt, &e) == NULL && strstr(e.msg, "invalid table name"));
  wgg_component v2 = {.name = "s", .type = "state.in-memory", .version = "v2"};
  CHECK(wgg_state_store_new(&v2, &e) == NULL && strstr(e.msg, "couldn't find state store state.in-memory/v2"));
  wgg_component unk = {.name = "s", .type = "state.nope", .version = "v1"};
  CHECK(wgg_state_store_new(&unk, &e) == NULL);

  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  CHECK_DONE();
}
