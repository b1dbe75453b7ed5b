/* unit_pubsub.c: the CEL-subset matcher (pubsub/match.c), the CloudEvents
 * builder (pubsub/cloudevent.c) and subscription parsing (pubsub/subscription.c). */
#include <stdlib.h>

#include "check.h"
#include "pubsub/cloudevent.h"
#include "pubsub/match.h"
#include "pubsub/scopes.h"
#include "pubsub/subscription.h"

static json_t *event;

/* 1 true, 0 false, -1 compile error (msg in *why when given). */
static int eval(const char *expr, const char **why) {
  static wgg_err e;
  wgg_match *m = wgg_match_compile(expr, &e);
  if (!m) {
    if (why) *why = e.msg;
    return -1;
  }
  int r = wgg_match_eval(m, event);
  wgg_match_free(m);
  return r;
}

static void matcher(void) {
  event = json_pack("{s:s,s:s,s:{s:s,s:i,s:f,s:b,s:n,s:{s:s}}}", "type", "order.created", "source", "shop", "data",
                    "kind", "big", "n", 6, "price", 9.5, "vip", 1, "none", "nested", "deep", "x");
  CHECK(eval("event.type == \"order.created\"", NULL) == 1);
  CHECK(eval("event.type == 'order.created'", NULL) == 1);
  CHECK(eval("event.type != \"order.created\"", NULL) == 0);
  CHECK(eval("event.data.n > 5 && event.data.kind == \"big\"", NULL) == 1);
  CHECK(eval("event.data.n >= 7 || event.data.price < 10.0", NULL) == 1);
  CHECK(eval("event.data.n == 6.0", NULL) == 1); /* integers and decimals compare numerically */
  CHECK(eval("event.data.n <= -1", NULL) == 0);
  CHECK(eval("!(event.data.vip == true)", NULL) == 0);
  CHECK(eval("!event.data.vip", NULL) == 0);
  CHECK(eval("event.data.none == null", NULL) == 1);
  CHECK(eval("event.data.nested.deep == \"x\"", NULL) == 1);
  CHECK(eval("event.data[\"kind\"] == \"big\"", NULL) == 1);
  CHECK(eval("event.data.n == \"6\"", NULL) == 0);           /* different types are not equal */
  CHECK(eval("event.data.missing == 1", NULL) == 0);         /* a missing field: no match */
  CHECK(eval("event.data.missing == 1 || event.source == \"shop\"", NULL) == 1); /* CEL: error || true = true */
  CHECK(eval("event.data.missing == 1 && false", NULL) == 0);
  CHECK(eval("(event.type == \"a\" || event.type == \"order.created\") && !(event.data.n < 3)", NULL) == 1);
  CHECK(eval("true", NULL) == 1);
  CHECK(eval("event.data.kind", NULL) == 0); /* not a bool */
  const char *why = NULL;
  CHECK(eval("size(event.data) > 1", &why) == -1 && why && strstr(why, "function or macro 'size()'"));
  CHECK(eval("has(event.data.x)", &why) == -1 && why && strstr(why, "'has()'"));
  CHECK(eval("event.type.startsWith(\"o\")", &why) == -1 && why && strstr(why, "method 'startsWith()'"));
  CHECK(eval("event.data.n in [1, 2]", &why) == -1 && why && strstr(why, "operator 'in'"));
  CHECK(eval("event.data.n + 1 > 2", &why) == -1 && why && strstr(why, "arithmetic"));
  CHECK(eval("foo == 1", &why) == -1 && why && strstr(why, "identifier 'foo'"));
  CHECK(eval("event.type == \"x", &why) == -1 && why && strstr(why, "unterminated string"));
  CHECK(eval("event.type == \"x\\", &why) == -1 && why && strstr(why, "unterminated string")); /* found by fuzzing */
  CHECK(eval("(event.type == \"x\"", &why) == -1 && why && strstr(why, "expected ')'"));
  CHECK(eval("", &why) == -1 && why && strstr(why, "unexpected end"));
  CHECK(eval("event.type ==", &why) == -1 && why && strstr(why, "offset 13"));
  json_decref(event);
}

static void cloudevents(void) {
  wgg_err e;
  wgg_ce_input in = {.app_id = "app", .pubsub = "ps", .topic = "t", .content_type = "application/json",
                     .data = "{\"a\":1}", .len = 7, .traceparent = "00-aa-bb-01"};
  json_t *ce = wgg_ce_build(&in, &e);
  CHECK(ce && json_integer_value(json_object_get(json_object_get(ce, "data"), "a")) == 1);
  CHECK_STR(json_string_value(json_object_get(ce, "type")), "com.dapr.event.sent");
  CHECK_STR(json_string_value(json_object_get(ce, "traceid")), "00-aa-bb-01");
  CHECK_STR(json_string_value(json_object_get(ce, "source")), "app");
  json_t *md = json_pack("{s:s,s:s}", "cloudevent.id", "X", "ttlInSeconds", "30");
  CHECK(wgg_ce_apply_metadata(ce, md, &e) == 0);
  CHECK_STR(json_string_value(json_object_get(ce, "id")), "X");
  CHECK(json_object_get(ce, "expiration") && !wgg_ce_expired(ce));
  json_object_set_new(ce, "expiration", json_string("2001-01-01T00:00:00+02:00"));
  CHECK(wgg_ce_expired(ce));
  json_object_set_new(md, "ttlInSeconds", json_string("-3"));
  CHECK(wgg_ce_apply_metadata(ce, md, &e) == -1 && strstr(e.msg, "ttlInSeconds"));
  json_decref(md);
  json_decref(ce);
  in.content_type = "application/json";
  in.data = "not json";
  in.len = 8;
  ce = wgg_ce_build(&in, &e); /* invalid JSON under a JSON type: the text */
  CHECK(ce && json_is_string(json_object_get(ce, "data")));
  json_decref(ce);
  in.content_type = "application/octet-stream";
  in.data = "\x01\x02\x03\x04";
  in.len = 4;
  ce = wgg_ce_build(&in, &e);
  CHECK_STR(json_string_value(json_object_get(ce, "data_base64")), "AQIDBA==");
  json_decref(ce);
  in.content_type = "application/cloudevents+json";
  in.data = "[1]";
  in.len = 3;
  CHECK(wgg_ce_build(&in, &e) == NULL && strstr(e.msg, "not a JSON object"));
  CHECK(wgg_ce_is_json_type("application/json; charset=utf-8") && wgg_ce_is_json_type("application/vnd.x+json"));
  CHECK(!wgg_ce_is_json_type("text/plain"));
  char *b = wgg_base64("ab", 2);
  CHECK_STR(b, "YWI=");
  free(b);
}

static void subscriptions(void) {
  wgg_sub_spec s;
  wgg_err e;
  json_t *j = json_loads("{\"pubsubname\":\"p\",\"topic\":\"t\",\"routes\":{\"rules\":[{\"match\":\"event.type == "
                         "\\\"a\\\"\",\"path\":\"/a\"}],\"default\":\"/d\"},\"metadata\":{\"rawPayload\":true},"
                         "\"deadLetterTopic\":\"dl\",\"bulkSubscribe\":{\"enabled\":true,\"maxMessagesCount\":5}}",
                         0, NULL);
  CHECK(wgg_sub_parse(j, WGG_SUB_PROGRAMMATIC, NULL, &s, &e) == 0);
  CHECK(s.n_rules == 2 && s.raw && s.bulk && s.bulk_max == 5 && s.bulk_await_ms == 1000);
  CHECK_STR(s.dead_letter, "dl");
  json_t *ev = json_pack("{s:s}", "type", "a");
  CHECK_STR(wgg_sub_route(&s, ev), "/a");
  json_object_set_new(ev, "type", json_string("b"));
  CHECK_STR(wgg_sub_route(&s, ev), "/d");
  json_decref(ev);
  wgg_sub_free(&s);
  json_decref(j);
  j = json_pack("{s:s,s:s}", "pubsubname", "p", "topic", "t");
  CHECK(wgg_sub_parse(j, WGG_SUB_DECLARATIVE, "n", &s, &e) == -1 && strstr(e.msg, "no route"));
  json_decref(j);
  j = json_pack("{s:s,s:s}", "topic", "t", "route", "/x");
  CHECK(wgg_sub_parse(j, WGG_SUB_DECLARATIVE, "n", &s, &e) == -1 && strstr(e.msg, "pubsubname is required"));
  json_decref(j);
}

static void scopes(void) {
  wgg_meta_kv kv[] = {{.name = "publishingScopes", .value = "app1=t1, t2;app2=;app3=t3"},
                      {.name = "subscriptionScopes", .value = "app1=t1"},
                      {.name = "allowedTopics", .value = "t1,t2,open"},
                      {.name = "protectedTopics", .value = "secret"}};
  wgg_component c = {.name = "ps", .type = "pubsub.in-memory", .meta = kv, .n_meta = 4};
  CHECK(wgg_pubsub_topic_allowed(&c, "app1", "t1", true));
  CHECK(wgg_pubsub_topic_allowed(&c, "app1", "t2", true));
  CHECK(!wgg_pubsub_topic_allowed(&c, "app1", "open", true)); /* a scoped app: only its topics */
  CHECK(!wgg_pubsub_topic_allowed(&c, "app2", "t1", true));   /* "app2=": nothing */
  CHECK(wgg_pubsub_topic_allowed(&c, "app3", "t3", true));    /* outside allowedTopics, but in its scope */
  CHECK(wgg_pubsub_topic_allowed(&c, "other", "open", true));
  CHECK(!wgg_pubsub_topic_allowed(&c, "other", "t3", true));  /* not in allowedTopics */
  CHECK(!wgg_pubsub_topic_allowed(&c, "other", "secret", true));
  CHECK(!wgg_pubsub_topic_allowed(&c, "app1", "t2", false));  /* subscriptionScopes */
  CHECK(wgg_pubsub_topic_allowed(&c, "app2", "t1", false));
  wgg_component none = {.name = "ps", .type = "pubsub.in-memory"};
  CHECK(wgg_pubsub_topic_allowed(&none, "x", "anything", true));
}

int main(void) {
  scopes();
  matcher();
  cloudevents();
  subscriptions();
  CHECK_DONE();
}
