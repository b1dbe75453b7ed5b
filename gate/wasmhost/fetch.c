/*
 * fetch.c: downloading a guest from an http:// or https:// url at load time,
 * as Dapr's wasm components do (components-contrib common/wasm
 * GetInitMetadata: a GET with Go's default client, which follows redirects
 * and decodes gzip transparently; a non-200 answer fails with
 * `received <code> status code from "<url>"`). libcurl, blocking: call it at
 * start-up or from the main loop (reload), never on a worker loop.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "components/lazy_curl.h"
#include "util/buf.h"
#include "util/err.h"
#include "wasmhost/wasmhost.h"

enum { FETCH_TIMEOUT_MS = 30000, FETCH_MAX_BYTES = 256u << 20 };

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_data(char *p, size_t size, size_t n, void *user) {
  wgg_buf *out = user;
  size_t len = size * n;
  if (out->len + len > FETCH_MAX_BYTES || wgg_buf_append(out, p, len)) return 0; /* aborts the transfer */
  return len;
}

int wgg_wasm_fetch(const char *url, wgg_buf *out, wgg_err *err) {
  if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) return wgg_err_set(err, "invalid URL: %s", url);
  if (wgg_curl_load(err)) return -1; /* libcurl is loaded on first use (components/lazy_curl.h) */
  pthread_once(&curl_once, curl_init);
  CURL *c = curl_easy_init();
  if (!c) return wgg_err_set(err, "out of memory");
  char why[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L); /* Go's client follows up to 10 redirects */
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip and friends, decoded */
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)FETCH_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) {
    out->len = 0;
    if (rc == CURLE_WRITE_ERROR) return wgg_err_set(err, "cannot fetch %s: larger than %u MiB", url, FETCH_MAX_BYTES >> 20);
    return wgg_err_set(err, "Get \"%s\": %s", url, *why ? why : curl_easy_strerror(rc));
  }
  if (status != 200) {
    out->len = 0;
    return wgg_err_set(err, "received %ld status code from \"%s\"", status, url);
  }
  return 0;
}
