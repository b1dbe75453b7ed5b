/*
 * subscription.c: see subscription.h.
 */
#include "pubsub/subscription.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"

static char *str_field(json_t *j, const char *k) {
  const char *v = json_string_value(json_object_get(j, k));
  return v && *v ? strdup(v) : NULL;
}

static int add_rule(wgg_sub_spec *s, const char *match, const char *path, wgg_err *err) {
  wgg_sub_rule *r = realloc(s->rules, (s->n_rules + 1) * sizeof *r);
  if (!r) return wgg_err_set(err, "out of memory");
  s->rules = r;
  r = &s->rules[s->n_rules];
  memset(r, 0, sizeof *r);
  if (match && *match) {
    wgg_err e;
    if (!(r->expr = wgg_match_compile(match, &e)))
      return wgg_err_set(err, "subscription to topic %s: %s", s->topic, e.msg);
    r->match = strdup(match);
  }
  r->path = strdup(path);
  s->n_rules++;
  return 0;
}

static int int_field(json_t *j, const char *k, int def) {
  json_t *v = json_object_get(j, k);
  if (json_is_integer(v)) return (int)json_integer_value(v);
  if (json_is_string(v)) return atoi(json_string_value(v));
  return def;
}

int wgg_sub_parse(json_t *j, int kind, const char *name, wgg_sub_spec *out, wgg_err *err) {
  memset(out, 0, sizeof *out);
  out->kind = kind;
  if (!json_is_object(j)) return wgg_err_set(err, "a subscription must be an object");
  out->name = name ? strdup(name) : NULL;
  out->pubsub = str_field(j, "pubsubname");
  out->topic = str_field(j, "topic");
  out->dead_letter = str_field(j, "deadLetterTopic");
  out->metadata = json_object();
  if (!out->pubsub || !out->topic) {
    wgg_err_set(err, "subscription%s%s: %s is required", name ? " " : "", name ? name : "",
                out->pubsub ? "topic" : "pubsubname");
    goto fail;
  }
  json_t *md = json_object_get(j, "metadata");
  const char *k;
  json_t *v;
  json_object_foreach(md, k, v) {
    if (json_is_string(v)) json_object_set(out->metadata, k, v);
    else if (!json_is_null(v)) json_object_set_new(out->metadata, k, json_string(json_is_true(v) ? "true" : "false"));
  }
  const char *raw = json_string_value(json_object_get(out->metadata, "rawPayload"));
  out->raw = raw && !strcasecmp(raw, "true");
  json_t *routes = json_object_get(j, "routes");
  json_t *rules = json_object_get(routes, "rules");
  size_t i;
  json_t *rule;
  json_array_foreach(rules, i, rule) {
    const char *match = json_string_value(json_object_get(rule, "match"));
    const char *path = json_string_value(json_object_get(rule, "path"));
    if (!path || !*path) {
      wgg_err_set(err, "subscription to topic %s: rule %zu has no path", out->topic, i);
      goto fail;
    }
    if (add_rule(out, match, path, err)) goto fail;
  }
  const char *def = json_string_value(json_object_get(routes, "default"));
  if (!def || !*def) def = json_string_value(json_object_get(j, "route"));
  if (def && *def && add_rule(out, NULL, def, err)) goto fail;
  if (out->n_rules == 0) {
    wgg_err_set(err, "subscription to topic %s: no route (route, routes.rules or routes.default)", out->topic);
    goto fail;
  }
  json_t *bulk = json_object_get(j, "bulkSubscribe");
  out->bulk = json_is_true(json_object_get(bulk, "enabled"));
  out->bulk_max = int_field(bulk, "maxMessagesCount", 100);
  out->bulk_await_ms = int_field(bulk, "maxAwaitDurationMs", 1000);
  if (out->bulk_max <= 0) out->bulk_max = 100;
  if (out->bulk_await_ms < 0) out->bulk_await_ms = 1000;
  return 0;
fail:
  wgg_sub_free(out);
  return -1;
}

const char *wgg_sub_route(const wgg_sub_spec *s, json_t *event) {
  for (size_t i = 0; i < s->n_rules; i++)
    if (!s->rules[i].expr || wgg_match_eval(s->rules[i].expr, event)) return s->rules[i].path;
  return NULL;
}

json_t *wgg_sub_to_json(const wgg_sub_spec *s) {
  json_t *rules = json_array();
  for (size_t i = 0; i < s->n_rules; i++)
    json_array_append_new(rules, json_pack("{s:s,s:s}", "match", s->rules[i].match ? s->rules[i].match : "", "path",
                                           s->rules[i].path));
  json_t *j = json_pack("{s:s,s:s,s:s,s:O,s:o}", "type", s->kind == WGG_SUB_DECLARATIVE ? "DECLARATIVE" : s->kind == WGG_SUB_STREAMING ? "STREAMING" : "PROGRAMMATIC",
                        "pubsubname", s->pubsub, "topic", s->topic, "metadata", s->metadata, "rules", rules);
  if (j && s->dead_letter) json_object_set_new(j, "deadLetterTopic", json_string(s->dead_letter));
  return j;
}

void wgg_sub_free(wgg_sub_spec *s) {
  for (size_t i = 0; i < s->n_rules; i++) {
    free(s->rules[i].match);
    free(s->rules[i].path);
    wgg_match_free(s->rules[i].expr);
  }
  free(s->rules);
  free(s->name);
  free(s->pubsub);
  free(s->topic);
  free(s->dead_letter);
  json_decref(s->metadata);
  memset(s, 0, sizeof *s);
}
