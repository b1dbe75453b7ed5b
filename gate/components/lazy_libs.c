/* lazy_libs.c: the tables of lazy_curl.h, lazy_mosquitto.h and state/pqload.h. */
#define WGG_LAZY_IMPL
#include "components/lazy_curl.h"
#include "components/lazy_mosquitto.h"
#include "components/state/pqload.h"
#include "util/lazylib.h"

wgg_curl_api wgg_curl;
wgg_mosquitto_api wgg_mosq;
wgg_pq_api wgg_pq;

#define WGG_LAZY_NAME(f) #f,

int wgg_curl_load(wgg_err *err) {
  static const char *const names[] = {WGG_CURL_FUNCS(WGG_LAZY_NAME)};
  static int state;
  _Static_assert(sizeof(wgg_curl_api) == sizeof names / sizeof names[0] * sizeof(void *), "one pointer per name");
  return wgg_lazylib_load("libcurl.so.4", "libcurl4", names, (void **)&wgg_curl, sizeof names / sizeof names[0],
                          &state, err);
}

int wgg_mosquitto_load(wgg_err *err) {
  static const char *const names[] = {WGG_MOSQ_FUNCS(WGG_LAZY_NAME)};
  static int state;
  _Static_assert(sizeof(wgg_mosquitto_api) == sizeof names / sizeof names[0] * sizeof(void *), "one pointer per name");
  return wgg_lazylib_load("libmosquitto.so.1", "libmosquitto1", names, (void **)&wgg_mosq,
                          sizeof names / sizeof names[0], &state, err);
}

int wgg_pq_load(wgg_err *err) {
  static const char *const names[] = {WGG_PQ_FUNCS(WGG_LAZY_NAME)};
  static int state;
  _Static_assert(sizeof(wgg_pq_api) == sizeof names / sizeof names[0] * sizeof(void *), "one pointer per name");
  return wgg_lazylib_load("libpq.so.5", "libpq5", names, (void **)&wgg_pq, sizeof names / sizeof names[0], &state, err);
}
