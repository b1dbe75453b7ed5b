/*
 * cron.c: schedule parsing and next-activation search (see cron.h). The
 * search walks forward field by field from the largest (month) to the
 * smallest (second), resetting the smaller fields when a larger one moves,
 * as robfig/cron's SpecSchedule.Next does.
 */
#include "components/bindings/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"

typedef struct field_def {
  int lo, hi;
  const char *const *names; /* names for lo.. (NULL: numbers only) */
} field_def;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const field_def defs[6] = {{0, 59, NULL}, {0, 59, NULL}, {0, 23, NULL},
                                  {1, 31, NULL}, {1, 12, month_names}, {0, 6, dow_names}};

/* A number or a name of field f. */
static int value(const char *s, size_t n, const field_def *f, int *out) {
  if (!n) return -1;
  if (f->names)
    for (int i = 0; f->names[i]; i++)
      if (n == strlen(f->names[i]) && !strncasecmp(s, f->names[i], n)) return *out = f->lo + i, 0;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]) || v > 1000) return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/* One comma-separated part: *, ?, a, a-b, with an optional /step. */
static int part(const char *s, size_t n, int fi, uint64_t *bits, bool *star, const char **why) {
  const field_def *f = &defs[fi];
  const char *slash = memchr(s, '/', n);
  size_t rn = slash ? (size_t)(slash - s) : n;
  int lo, hi, step = 1;
  bool range_star = false;
  if (rn == 1 && (*s == '*' || *s == '?')) {
    lo = f->lo;
    hi = f->hi;
    range_star = true;
  } else {
    const char *dash = memchr(s, '-', rn);
    if (value(s, dash ? (size_t)(dash - s) : rn, f, &lo)) return *why = "bad value", -1;
    hi = lo;
    if (dash && value(dash + 1, rn - (size_t)(dash + 1 - s), f, &hi)) return *why = "bad range end", -1;
  }
  if (slash) {
    if (value(slash + 1, n - rn - 1, &(field_def){0, 0, NULL}, &step) || step <= 0) return *why = "bad step", -1;
    if (!range_star && hi == lo && !memchr(s, '-', rn)) hi = f->hi; /* "a/n": from a to the end */
  }
  int max = fi == 5 ? 7 : f->hi; /* dow 7 is Sunday too */
  if (lo < f->lo || hi > max || lo > hi) return *why = "value out of range", -1;
  for (int v = lo; v <= hi; v += step) *bits |= 1ULL << (fi == 5 && v == 7 ? 0 : v);
  if (range_star && step == 1) *star = true;
  return 0;
}

static int field(const char *s, size_t n, int fi, uint64_t *bits, bool *star, const char **why) {
  *bits = 0;
  *star = false;
  const char *p = s, *end = s + n;
  while (p < end) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    size_t pn = comma ? (size_t)(comma - p) : (size_t)(end - p);
    if (part(p, pn, fi, bits, star, why)) return -1;
    p += pn + (comma ? 1 : 0);
  }
  return *bits ? 0 : (*why = "empty field", -1);
}

int wgg_cron_parse(const char *spec, wgg_cron *out, wgg_err *err) {
  memset(out, 0, sizeof *out);
  const char *why = NULL;
  while (isspace((unsigned char)*spec)) spec++;
  if (!strncasecmp(spec, "TZ=", 3) || !strncasecmp(spec, "CRON_TZ=", 8)) {
    why = "time zones (TZ=) are not supported: wasmgate uses the machine's local time";
    goto bad;
  }
  if (*spec == '@') {
    static const struct {
      const char *name, *spec;
    } d[] = {{"@yearly", "0 0 0 1 1 *"}, {"@annually", "0 0 0 1 1 *"}, {"@monthly", "0 0 0 1 * *"},
             {"@weekly", "0 0 0 * * 0"}, {"@daily", "0 0 0 * * *"},    {"@midnight", "0 0 0 * * *"},
             {"@hourly", "0 0 * * * *"}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
      if (!strcasecmp(spec, d[i].name)) return wgg_cron_parse(d[i].spec, out, err);
    if (!strncasecmp(spec, "@every ", 7)) {
      uint64_t ms;
      wgg_err e;
      const char *dur = spec + 7;
      while (*dur == ' ') dur++;
      if (wgg_parse_duration_ms(dur, &ms, &e) || ms < 1000) {
        why = "@every needs a duration of at least 1s, e.g. \"@every 15s\"";
        goto bad;
      }
      out->every_s = ms / 1000;
      return 0;
    }
    why = "unrecognized descriptor";
    goto bad;
  }
  const char *f[7];
  size_t fl[7], n = 0;
  for (const char *p = spec; *p && n < 7;) {
    while (isspace((unsigned char)*p)) p++;
    if (!*p) break;
    const char *q = p;
    while (*q && !isspace((unsigned char)*q)) q++;
    f[n] = p;
    fl[n++] = (size_t)(q - p);
    p = q;
  }
  if (n != 5 && n != 6) {
    why = "expected 5 to 6 fields";
    goto bad;
  }
  int off = n == 6 ? 0 : 1;
  bool star;
  if (off) out->sec = 1; /* second 0 */
  uint64_t *bits[6] = {&out->sec, &out->min, &out->hour, &out->dom, &out->month, &out->dow};
  for (int i = off; i < 6; i++) {
    if (field(f[i - off], fl[i - off], i, bits[i], &star, &why)) goto bad;
    if (i == 3) out->dom_star = star;
    if (i == 5) out->dow_star = star;
  }
  return 0;
bad:
  return wgg_err_set(err, "invalid schedule format '%s': %s", spec, why);
}

static bool day_matches(const wgg_cron *c, const struct tm *t) {
  bool dom = c->dom >> t->tm_mday & 1, dow = c->dow >> t->tm_wday & 1;
  if (c->dom_star || c->dow_star) return dom && dow;
  return dom || dow;
}

time_t wgg_cron_next(const wgg_cron *c, time_t after) {
  if (c->every_s) return after + (time_t)c->every_s;
  struct tm t;
  time_t start = after + 1;
  localtime_r(&start, &t);
  int year_limit = t.tm_year + 5;
  bool added = false; /* a field moved: the smaller ones restart at their minimum */
wrap:
  if (t.tm_year > year_limit) return 0;
  while (!(c->month >> (t.tm_mon + 1) & 1)) {
    if (!added) added = true, t.tm_mday = 1, t.tm_hour = t.tm_min = t.tm_sec = 0;
    t.tm_mon++;
    t.tm_isdst = -1;
    mktime(&t);
    if (t.tm_mon == 0) goto wrap;
  }
  while (!day_matches(c, &t)) {
    if (!added) added = true, t.tm_hour = t.tm_min = t.tm_sec = 0;
    t.tm_mday++;
    t.tm_hour = 0;
    t.tm_isdst = -1;
    mktime(&t);
    if (t.tm_mday == 1) goto wrap;
  }
  while (!(c->hour >> t.tm_hour & 1)) {
    if (!added) added = true, t.tm_min = t.tm_sec = 0;
    t.tm_hour++;
    t.tm_isdst = -1;
    mktime(&t);
    if (t.tm_hour == 0) goto wrap;
  }
  while (!(c->min >> t.tm_min & 1)) {
    if (!added) added = true, t.tm_sec = 0;
    t.tm_min++;
    t.tm_isdst = -1;
    mktime(&t);
    if (t.tm_min == 0) goto wrap;
  }
  while (!(c->sec >> t.tm_sec & 1)) {
    added = true;
    t.tm_sec++;
    t.tm_isdst = -1;
    mktime(&t);
    if (t.tm_sec == 0) goto wrap;
  }
  t.tm_isdst = -1;
  return mktime(&t);
}
