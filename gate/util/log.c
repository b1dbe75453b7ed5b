/* log.c: see log.h. */
#include "util/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int g_level = WGG_LOG_INFO;
static bool g_json = false;
static const char *const level_names[] = {"debug", "info", "warning", "error"};

void wgg_log_setup(int level, bool as_json) {
  g_level = level;
  g_json = as_json;
}

int wgg_log_get_level(void) { return g_level; }

void wgg_log(int level, const char *fmt, ...) {
  if (level < g_level || level < 0 || level > WGG_LOG_ERROR) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[64];
  snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

  char line[1400];
  int n;
  if (g_json) {
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "time", when, "level", level_names[level], "msg", msg,
                          "scope", "wasmgate");
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    n = snprintf(line, sizeof line, "%s\n", s ? s : "{}");
    free(s);
    json_decref(o);
  } else {
    n = snprintf(line, sizeof line, "time=\"%s\" level=%s msg=\"%s\"\n", when, level_names[level], msg);
  }
  if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}
