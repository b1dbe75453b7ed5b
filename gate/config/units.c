/*
 * units.c: quantities ("4Mi") and durations ("5s") as daprd's flags take them
 * (Kubernetes resource.Quantity and Go time.ParseDuration, the subset used).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "wggate.h"

int wgg_parse_quantity(const char *s, size_t *out, wgg_err *err) {
  if (!s || !*s) return wgg_err_set(err, "empty size");
  if (!isdigit((unsigned char)s[0])) return wgg_err_set(err, "invalid size '%s'", s);
  errno = 0;
  char *end;
  unsigned long long n = strtoull(s, &end, 10);
  if (errno) return wgg_err_set(err, "invalid size '%s'", s);
  static const struct {
    const char *suffix;
    unsigned long long mult;
  } units[] = {
      {"", 1ULL},           {"Ki", 1ULL << 10},   {"Mi", 1ULL << 20}, {"Gi", 1ULL << 30},
      {"Ti", 1ULL << 40},   {"k", 1000ULL},       {"K", 1000ULL},     {"M", 1000000ULL},
      {"G", 1000000000ULL}, {"T", 1000000000000ULL},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(end, units[i].suffix)) continue;
    if (n > SIZE_MAX / units[i].mult) return wgg_err_set(err, "size '%s' is too large", s);
    *out = (size_t)(n * units[i].mult);
    return 0;
  }
  return wgg_err_set(err, "invalid size '%s': unknown unit '%s' (use Ki, Mi, Gi or k, M, G)", s, end);
}

int wgg_parse_duration_ms(const char *s, uint64_t *out_ms, wgg_err *err) {
  if (!s || !*s) return wgg_err_set(err, "empty duration");
  const char *p = s;
  double total_us = 0;
  int parts = 0;
  while (*p) {
    if (!isdigit((unsigned char)*p) && *p != '.') return wgg_err_set(err, "invalid duration '%s'", s);
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (errno || end == p) return wgg_err_set(err, "invalid duration '%s'", s);
    p = end;
    static const struct {
      const char *unit;
      double us;
    } units[] = {{"ns", 0.001}, {"us", 1}, {"µs", 1}, {"ms", 1000}, {"s", 1e6}, {"m", 60e6}, {"h", 3600e6}};
    double mult = 0;
    size_t ulen = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
      size_t l = strlen(units[i].unit);
      if (!strncmp(p, units[i].unit, l) && l > ulen) {
        mult = units[i].us;
        ulen = l;
      }
    }
    if (!ulen) {
      if (*p == '\0' && parts == 0) mult = 1e6; /* bare number: seconds */
      else return wgg_err_set(err, "invalid duration '%s': missing unit", s);
    }
    p += ulen;
    total_us += v * mult;
    parts++;
  }
  if (total_us > 1e15) return wgg_err_set(err, "duration '%s' is too large", s);
  *out_ms = (uint64_t)(total_us / 1000.0);
  return 0;
}

int wgg_parse_log_level(const char *s) {
  if (!s) return -1;
  if (!strcasecmp(s, "debug")) return WGG_LOG_DEBUG;
  if (!strcasecmp(s, "info")) return WGG_LOG_INFO;
  if (!strcasecmp(s, "warn") || !strcasecmp(s, "warning")) return WGG_LOG_WARN;
  if (!strcasecmp(s, "error") || !strcasecmp(s, "fatal")) return WGG_LOG_ERROR;
  return -1;
}
