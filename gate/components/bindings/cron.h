/*
 * cron.h: schedules as Dapr's bindings.cron reads them (contrib
 * bindings/cron with dapr/kit/cron, a fork of robfig/cron v3; docs
 * reference/components-reference/supported-bindings/cron.md):
 *   - 6 fields "sec min hour dom month dow", or 5 without seconds (seconds 0);
 *     each field: * or ?, a value, a-b, lists a,b, and steps R/n where R is
 *     * (every n-th), a-b, or a (from a to the end);
 *     months JAN-DEC and days SUN-SAT by name (case-insensitive); dow 7 = 0;
 *     when both day fields are restricted, either matching is enough;
 *   - descriptors @yearly (@annually), @monthly, @weekly, @daily (@midnight),
 *     @hourly, and @every <Go duration> (e.g. "@every 15s", at least 1s,
 *     rounded down to whole seconds, counted from when the binding starts).
 * Times are the machine's local time zone.
 */
#ifndef WGG_BINDINGS_CRON_H
#define WGG_BINDINGS_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "wggate.h"

typedef struct wgg_cron {
  uint64_t sec, min, hour, dom, month, dow; /* bit sets */
  bool dom_star, dow_star;                  /* the field was * or ? */
  uint64_t every_s;                         /* @every: period in seconds (0 = a calendar schedule) */
} wgg_cron;

/* Parses spec. 0, or -1 with err ("invalid schedule format '<spec>': <why>"). */
int wgg_cron_parse(const char *spec, wgg_cron *out, wgg_err *err);

/* The first activation strictly after `after` (local time), or 0 when none
 * within five years (e.g. "0 0 0 30 2 *"). For @every: after + period. */
time_t wgg_cron_next(const wgg_cron *c, time_t after);

#endif
