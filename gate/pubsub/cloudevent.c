/*
 * cloudevent.c: see cloudevent.h.
 */
#include "pubsub/cloudevent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "util/err.h"
#include "util/uuid.h"

void wgg_ce_time(char out[40], int64_t add_seconds) {
  time_t t = time(NULL) + (time_t)add_seconds;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool wgg_ce_is_json_type(const char *ct) {
  if (!ct) return false;
  size_t n = strcspn(ct, ";");
  while (n && ct[n - 1] == ' ') n--;
  return (n >= 16 && !strncasecmp(ct, "application/json", 16)) || (n >= 5 && !strncasecmp(ct + n - 5, "+json", 5));
}

static bool is_binary_type(const char *ct) {
  return ct && !strncasecmp(ct, "application/octet-stream", 24);
}

static bool is_cloudevent_type(const char *ct) {
  return ct && !strncasecmp(ct, "application/cloudevents+json", 28);
}

char *wgg_base64(const char *p, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
  if (!out) return NULL;
  const unsigned char *s = (const unsigned char *)p;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    *o++ = tab[s[i] >> 2];
    *o++ = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
    *o++ = tab[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
    *o++ = tab[s[i + 2] & 63];
  }
  if (i < n) {
    *o++ = tab[s[i] >> 2];
    if (i + 1 < n) {
      *o++ = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
      *o++ = tab[(s[i + 1] & 15) << 2];
    } else {
      *o++ = tab[(s[i] & 3) << 4];
      *o++ = '=';
    }
    *o++ = '=';
  }
  *o = '\0';
  return out;
}

/* A new W3C traceparent for a request that came without one. */
static void new_traceparent(char out[64]) {
  unsigned char r[24];
  if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) memset(r, 0x5a, sizeof r);
  char *o = out + sprintf(out, "00-");
  for (int i = 0; i < 16; i++) o += sprintf(o, "%02x", r[i]);
  *o++ = '-';
  for (int i = 16; i < 24; i++) o += sprintf(o, "%02x", r[i]);
  sprintf(o, "-00");
}

static void set_if_missing(json_t *ce, const char *k, const char *v) {
  if (!json_object_get(ce, k)) json_object_set_new(ce, k, json_string(v ? v : ""));
}

json_t *wgg_ce_build(const wgg_ce_input *in, wgg_err *err) {
  char tp[64], now[40], id[37];
  const char *traceparent = in->traceparent && *in->traceparent ? in->traceparent : (new_traceparent(tp), tp);
  wgg_ce_time(now, 0);
  wgg_uuid_new(id);
  const char *ct = in->content_type && *in->content_type ? in->content_type : "text/plain";
  if (is_cloudevent_type(ct)) {
    json_error_t je;
    json_t *ce = json_loadb(in->data, in->len, 0, &je);
    if (!ce || !json_is_object(ce)) {
      json_decref(ce);
      return wgg_err_set(err, "cannot create cloudevent: the body is not a JSON object (%s)", ce ? "not an object" : je.text),
             NULL;
    }
    set_if_missing(ce, "id", id);
    set_if_missing(ce, "source", in->app_id);
    set_if_missing(ce, "type", "com.dapr.event.sent");
    set_if_missing(ce, "specversion", "1.0");
    set_if_missing(ce, "time", now);
    set_if_missing(ce, "traceid", traceparent);
    set_if_missing(ce, "traceparent", traceparent);
    set_if_missing(ce, "tracestate", in->tracestate);
    json_object_set_new(ce, "topic", json_string(in->topic));
    json_object_set_new(ce, "pubsubname", json_string(in->pubsub));
    return ce;
  }
  json_t *ce = json_object();
  json_object_set_new(ce, "id", json_string(id));
  json_object_set_new(ce, "source", json_string(in->app_id ? in->app_id : ""));
  json_object_set_new(ce, "type", json_string("com.dapr.event.sent"));
  json_object_set_new(ce, "specversion", json_string("1.0"));
  json_object_set_new(ce, "datacontenttype", json_string(ct));
  json_object_set_new(ce, "topic", json_string(in->topic));
  json_object_set_new(ce, "pubsubname", json_string(in->pubsub));
  json_object_set_new(ce, "traceid", json_string(traceparent));
  json_object_set_new(ce, "traceparent", json_string(traceparent));
  json_object_set_new(ce, "tracestate", json_string(in->tracestate ? in->tracestate : ""));
  json_object_set_new(ce, "time", json_string(now));
  json_t *data = NULL;
  if (wgg_ce_is_json_type(ct)) data = json_loadb(in->data, in->len, JSON_DECODE_ANY, NULL);
  if (!data && is_binary_type(ct)) {
    char *b = wgg_base64(in->data, in->len);
    json_object_set_new(ce, "data_base64", json_string(b ? b : ""));
    free(b);
    return ce;
  }
  if (!data) data = json_stringn_nocheck(in->data, in->len);
  json_object_set_new(ce, "data", data);
  return ce;
}

int wgg_ce_apply_metadata(json_t *ce, json_t *metadata, wgg_err *err) {
  const char *k;
  json_t *v;
  json_object_foreach(metadata, k, v) {
    if (!json_is_string(v)) continue;
    if (!strncmp(k, "cloudevent.", 11) && k[11]) json_object_set(ce, k + 11, v);
  }
  json_t *ttl = json_object_get(metadata, "ttlInSeconds");
  if (ttl && json_is_string(ttl) && *json_string_value(ttl)) {
    char *end;
    long long n = strtoll(json_string_value(ttl), &end, 10);
    if (*end || n < 0 || n > 100LL * 365 * 86400)
      return wgg_err_set(err, "failed deserializing metadata: invalid ttlInSeconds '%s'", json_string_value(ttl));
    char exp[40];
    wgg_ce_time(exp, n);
    json_object_set_new(ce, "expiration", json_string(exp));
  }
  return 0;
}

json_t *wgg_ce_from_raw(const char *pubsub, const char *topic, const char *data, size_t len) {
  char id[37], now[40];
  wgg_uuid_new(id);
  wgg_ce_time(now, 0);
  char *b = wgg_base64(data, len);
  json_t *ce = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "specversion", "1.0", "datacontenttype",
                         "application/octet-stream", "type", "com.dapr.event.sent", "topic", topic, "pubsubname", pubsub,
                         "time", now, "data_base64", b ? b : "");
  free(b);
  return ce;
}

bool wgg_ce_expired(json_t *ce) {
  const char *e = json_string_value(json_object_get(ce, "expiration"));
  if (!e) return false;
  struct tm tm = {0};
  const char *rest = strptime(e, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return false;
  time_t t = timegm(&tm);
  if (*rest == '.') /* fractional seconds */
    for (rest++; *rest >= '0' && *rest <= '9'; rest++) {}
  if (*rest == '+' || *rest == '-') { /* a numeric offset: local time = UTC + offset */
    int hh = 0, mm = 0;
    if (sscanf(rest + 1, "%d:%d", &hh, &mm) == 2) t -= (*rest == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
  }
  return t < time(NULL);
}
