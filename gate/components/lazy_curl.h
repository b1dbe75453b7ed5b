/*
 * lazy_curl.h: libcurl loaded on first use (util/lazylib.h). Include after
 * <curl/curl.h>; call wgg_curl_load before the first curl_* call.
 */
#ifndef WGG_COMPONENTS_LAZY_CURL_H
#define WGG_COMPONENTS_LAZY_CURL_H

#include <curl/curl.h>

#include "util/err.h"

#define WGG_CURL_FUNCS(X)                                                                              \
  X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_getinfo) X(curl_easy_perform) \
  X(curl_easy_reset) X(curl_easy_setopt) X(curl_easy_strerror) X(curl_slist_append) X(curl_slist_free_all)

#define WGG_LAZY_PTR(f) __typeof__(&f) f;
typedef struct wgg_curl_api {
  WGG_CURL_FUNCS(WGG_LAZY_PTR)
} wgg_curl_api;
#undef WGG_LAZY_PTR

extern wgg_curl_api wgg_curl;

/* Loads libcurl.so.4 once. Returns 0, or -1 with err (Debian package libcurl4). */
int wgg_curl_load(wgg_err *err);

#ifndef WGG_LAZY_IMPL
#undef curl_easy_setopt  /* curl's type-checking wrappers call the real symbol */
#undef curl_easy_getinfo
#define curl_global_init wgg_curl.curl_global_init
#define curl_easy_init wgg_curl.curl_easy_init
#define curl_easy_cleanup wgg_curl.curl_easy_cleanup
#define curl_easy_getinfo wgg_curl.curl_easy_getinfo
#define curl_easy_perform wgg_curl.curl_easy_perform
#define curl_easy_reset wgg_curl.curl_easy_reset
#define curl_easy_setopt wgg_curl.curl_easy_setopt
#define curl_easy_strerror wgg_curl.curl_easy_strerror
#define curl_slist_append wgg_curl.curl_slist_append
#define curl_slist_free_all wgg_curl.curl_slist_free_all
#endif

#endif
