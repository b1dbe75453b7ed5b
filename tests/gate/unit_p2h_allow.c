/*
 * unit_p2h_allow.c: the allow-list of wasi:http outgoing-handler
 * (p2h_outbound_allowed; docs/wasm-apps.md "Outbound requests"): Spin's
 * allowed_outbound_hosts forms, exact and with wildcards, default ports.
 */
#include <stdio.h>

#include "wasmhost/p2http_internal.h"

static int fails;
static void want(const char *list, const char *scheme, const char *host, int port, bool expect) {
  bool got = p2h_outbound_allowed(list, scheme, host, port);
  if (got != expect) {
    fails++;
    printf("FAIL: %s %s://%s:%d -> %s, expected %s\n", list ? list : "(null)", scheme, host, port,
           got ? "allowed" : "denied", expect ? "allowed" : "denied");
  }
}

int main(void) {
  want(NULL, "http", "example.com", 80, false);
  want("", "http", "example.com", 80, false);
  want("http://example.com", "http", "example.com", 80, true);       /* no port: the scheme's default */
  want("http://example.com", "http", "example.com", 8080, false);
  want("https://example.com", "https", "example.com", 443, true);
  want("https://example.com", "http", "example.com", 443, false);    /* another scheme */
  want("http://example.com:8080", "http", "example.com", 8080, true);
  want("http://EXAMPLE.com:8080", "HTTP", "example.COM", 8080, true); /* case-insensitive */
  want("http://example.com:*", "http", "example.com", 1234, true);
  want("*://example.com:9000", "https", "example.com", 9000, true);
  want("http://*:*", "http", "anything.internal", 5, true);
  want("http://*.example.com", "http", "api.example.com", 80, true);
  want("http://*.example.com", "http", "a.b.example.com", 80, true);
  want("http://*.example.com", "http", "example.com", 80, false);   /* subdomains only */
  want("http://*.example.com", "http", "badexample.com", 80, false);
  want("http://a.com, http://b.com:81", "http", "b.com", 81, true);   /* commas and spaces */
  want("http://a.com,http://b.com:81", "http", "b.com", 80, false);
  want("http://a.com http://127.0.0.1:9", "http", "127.0.0.1", 9, true);
  want("example.com", "http", "example.com", 80, false);             /* no scheme: not an entry */
  want("http://[::1]:8080", "http", "[::1]", 8080, true);
  printf("unit_p2h_allow: %s\n", fails ? "FAILED" : "all checks passed");
  return fails ? 1 : 0;
}
