/* unit_cron.c: bindings.cron schedules (6 and 5 fields, names, steps,
 * ranges, descriptors, @every) and next-activation times. */
#include <stdlib.h>

#include "check.h"
#include "components/bindings/cron.h"

static time_t at(int y, int mo, int d, int h, int mi, int s) {
  struct tm t = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s,
                 .tm_isdst = -1};
  return mktime(&t);
}

static time_t next(const char *spec, time_t from) {
  wgg_cron c;
  wgg_err e;
  if (wgg_cron_parse(spec, &c, &e)) {
    fprintf(stderr, "parse %s: %s\n", spec, e.msg);
    return -1;
  }
  return wgg_cron_next(&c, from);
}

int main(void) {
  setenv("TZ", "UTC", 1);
  tzset();
  time_t t0 = at(2024, 1, 31, 23, 59, 50); /* a Wednesday */
  CHECK(next("*/15 * * * * *", t0) == at(2024, 2, 1, 0, 0, 0));
  CHECK(next("15 * * * * *", t0) == at(2024, 2, 1, 0, 0, 15));
  CHECK(next("* * * * * *", t0) == t0 + 1);
  CHECK(next("0 30 * * * *", t0) == at(2024, 2, 1, 0, 30, 0));
  CHECK(next("30 * * * *", t0) == at(2024, 2, 1, 0, 30, 0)); /* 5 fields: minute first */
  CHECK(next("0 0 12 * * MON-FRI", t0) == at(2024, 2, 1, 12, 0, 0));
  CHECK(next("0 0 0 * * sun", t0) == at(2024, 2, 4, 0, 0, 0));
  CHECK(next("0 0 0 * * 7", t0) == at(2024, 2, 4, 0, 0, 0));
  CHECK(next("0 0 0 29 feb ?", t0) == at(2024, 2, 29, 0, 0, 0));
  CHECK(next("0 0 0 29 2 *", at(2024, 3, 1, 0, 0, 0)) == at(2028, 2, 29, 0, 0, 0));
  CHECK(next("0 0 0 30 2 *", t0) == 0); /* never */
  CHECK(next("0 0 0 1,15 * *", t0) == at(2024, 2, 1, 0, 0, 0));
  CHECK(next("0 0 0 10-20/5 * *", t0) == at(2024, 2, 10, 0, 0, 0));
  CHECK(next("0 5/20 * * * *", t0) == at(2024, 2, 1, 0, 5, 0));
  CHECK(next("0 0 0 13 * 5", t0) == at(2024, 2, 2, 0, 0, 0)); /* dom or dow when both are set */
  CHECK(next("@hourly", t0) == at(2024, 2, 1, 0, 0, 0));
  CHECK(next("@daily", at(2024, 2, 1, 0, 0, 0)) == at(2024, 2, 2, 0, 0, 0));
  CHECK(next("@midnight", t0) == at(2024, 2, 1, 0, 0, 0));
  CHECK(next("@weekly", t0) == at(2024, 2, 4, 0, 0, 0));
  CHECK(next("@monthly", t0) == at(2024, 2, 1, 0, 0, 0));
  CHECK(next("@yearly", t0) == at(2025, 1, 1, 0, 0, 0));
  CHECK(next("@annually", t0) == at(2025, 1, 1, 0, 0, 0));
  CHECK(next("@every 15s", t0) == t0 + 15);
  CHECK(next("@every 1m30s", t0) == t0 + 90);
  CHECK(next("0 59 23 31 12 *", t0) == at(2024, 12, 31, 23, 59, 0));

  wgg_cron c;
  wgg_err e;
  const char *bad[] = {"", "* * * *", "* * * * * * *", "60 * * * * *", "* * 24 * * *", "* * * 0 * *",
                       "* * * * 13 *", "* * * * * 8", "*/0 * * * * *", "5-1 * * * * *", "@every 500ms",
                       "@every soon", "@fortnightly", "TZ=Europe/Paris * * * * * *", "a * * * * *", "1,,2 * * * * *"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = wgg_cron_parse(bad[i], &c, &e);
    CHECK(rc == -1 && strstr(e.msg, "invalid schedule format"));
    if (rc == 0) fprintf(stderr, "accepted: '%s'\n", bad[i]);
  }
  CHECK_DONE();
}
